"""The Messenger keyboard play tool, driven headless with posted pygame key events."""

import os
import subprocess
import sys

import numpy as np
import pytest

pg = pytest.importorskip("pygame")

from langstream.play_ui import BG, PAD  # noqa: E402
from messenger_s2.entities import AVATAR, AVATAR_WITH_MESSAGE  # noqa: E402
from messenger_s2.play import LABEL_H, LINE_H, PlaySession, main  # noqa: E402


def press(session, *keys):
    for key in keys:
        pg.event.post(pg.event.Event(pg.KEYDOWN, key=key))
    session.process_events()


def avatar_cell(session):
    """The avatar's (row, col) as the agent's ``grid`` observation shows it."""
    grid = session.obs["grid"]
    cells = np.argwhere(grid[:, :, AVATAR] | grid[:, :, AVATAR_WITH_MESSAGE])
    assert len(cells) == 1
    return tuple(int(v) for v in cells[0])


def heard_ids(session):
    return [i for line in session.transcript.lines for i in line.ids]


def test_keys_move_the_avatar_once_the_manual_is_read():
    session = PlaySession(stage=2, seed=0)
    start = avatar_cell(session)
    press(session, pg.K_UP)  # still reading: turns the page, the avatar stays put
    assert avatar_cell(session) == start and session.game.t == 0
    session.read_manual()

    r, c = start
    press(session, pg.K_UP)
    assert avatar_cell(session) == (r - 1, c)
    assert tuple(session.game.avatar) == (2 * (r - 1), 2 * c)  # the game agrees, in half cells
    press(session, pg.K_LEFT)
    assert avatar_cell(session) == (r - 1, c - 1)
    press(session, pg.K_DOWN, pg.K_RIGHT)
    assert avatar_cell(session) == (r, c)
    press(session, pg.K_SPACE, pg.K_PERIOD)  # both stay
    assert avatar_cell(session) == (r, c) and session.game.t == 6
    press(session, pg.K_a)  # not a binding once playing
    assert session.game.t == 6


def test_any_key_turns_the_page_while_reading():
    session = PlaySession(stage=2, seed=1)
    n_tokens = len(session.game.ep.tokens)
    keys = [pg.K_SPACE, pg.K_a, pg.K_UP, pg.K_RETURN, pg.K_PERIOD]
    for i in range(1, n_tokens):
        assert session.env.unwrapped.reading
        assert session.status()[1].startswith("READING")
        press(session, keys[i % len(keys)])
        assert session.steps == i and session.game.t == 0
        assert heard_ids(session) == list(session.game.ep.tokens[:i + 1])
    # The last word is on screen and the next key is the first move of the game.
    assert not session.env.unwrapped.reading
    assert not session.status()[1].startswith("READING")
    press(session, pg.K_z)  # not a binding: ignored outside read steps
    assert session.game.t == 0
    press(session, pg.K_DOWN)
    assert session.game.t == 1


def test_tab_reads_the_whole_manual():
    session = PlaySession(stage=3, seed=2)
    press(session, pg.K_TAB)
    assert not session.env.unwrapped.reading
    assert session.steps == len(session.game.ep.tokens) - 1 and session.game.t == 0
    assert heard_ids(session) == list(session.game.ep.tokens)
    assert len(session.transcript.text_lines()) == len(session.info["manual"])
    press(session, pg.K_TAB)  # nothing left to read, and not a move
    assert session.steps == len(session.game.ep.tokens) - 1


def inked_manual_rows(session):
    """Which text rows of the manual panel hold any ink once the window is drawn."""
    screen = pg.display.set_mode(session.window_size())
    session.draw(screen)
    pixels = pg.surfarray.pixels3d(screen)  # indexed (x, y)
    top = PAD + LABEL_H + session.env.render().shape[0] + PAD + 2 * LINE_H + PAD + LABEL_H + 4
    inked = [bool((pixels[:, top + i * LINE_H:top + (i + 1) * LINE_H] != BG).any())
             for i in range(session.manual_rows)]
    del pixels  # unlocks the surface
    return inked


def test_the_panel_shows_the_streamed_manual_words():
    session = PlaySession(stage=2, seed=4)
    press(session, *([pg.K_SPACE] * 5))
    vocab, manual = session.vocab, session.info["manual"]
    first_words = vocab.decode(vocab.encode(manual[0])[:6])
    assert session.transcript.text_lines() == [first_words]
    assert inked_manual_rows(session) == [True] + [False] * (session.manual_rows - 1)

    session.read_manual()
    assert session.transcript.text_lines() == [vocab.decode(vocab.encode(s)) for s in manual]
    inked = inked_manual_rows(session)
    assert sum(inked) == len(manual) and all(inked[:len(manual)])  # one row per sentence


def test_escape_quits_and_backspace_or_enter_restarts():
    session = PlaySession(stage=1, seed=5)
    session.read_manual()
    press(session, pg.K_RETURN)  # not over yet: Enter does nothing
    assert session.game.t == 0 and not session.env.unwrapped.reading
    press(session, *([pg.K_SPACE] * 4))  # S1 ends within 4 play steps
    assert session.done and session.status()[1].startswith("EPISODE OVER")
    press(session, pg.K_UP)  # ignored once over
    assert session.game.t == 4
    press(session, pg.K_RETURN)
    assert not session.done and session.steps == 0 and session.env.unwrapped.reading
    assert len(session.transcript.lines) == 1

    press(session, pg.K_SPACE, pg.K_SPACE, pg.K_BACKSPACE)
    assert session.steps == 0 and heard_ids(session) == [session.game.ep.tokens[0]]
    press(session, pg.K_ESCAPE)
    assert session.quit
    session.quit = False
    press(session, pg.K_q)
    assert session.quit


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_cli_writes_a_screenshot(tmp_path, stage):
    out = tmp_path / "shot.png"
    main(["--stage", str(stage), "--split", "train", "--seed", "0", "--screenshot", str(out)])
    assert out.stat().st_size > 10_000


def test_cli_without_a_display_says_why_in_one_line():
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    out = subprocess.run([sys.executable, "-m", "messenger_s2.play", "--stage", "1"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1  # instead of running unseen, waiting for keys that never come
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("messenger-play: no window")
    assert "SDL_VIDEODRIVER=dummy" in out.stderr and "--screenshot" in out.stderr
