"""The keyboard play tool, driven headless with posted pygame key events."""

import os
import subprocess
import sys

import pytest

pg = pytest.importorskip("pygame")

from homegrid.play import PlaySession, main  # noqa: E402


def press(session, *keys):
    for key in keys:
        pg.event.post(pg.event.Event(pg.KEYDOWN, key=key))
    session.process_events()


def test_keys_move_pick_up_and_the_panel_shows_streamed_words():
    session = PlaySession("HomeGrid-Task-v0", seed=0, p_teleport=0.0)
    world = session.env.unwrapped.game.world
    world.arrange((8, 4), agent_dir=0, trash={"bottle": (7, 4)})

    press(session, pg.K_DOWN)
    assert (world.agent_x, world.agent_y) == (8, 5)
    press(session, pg.K_UP)
    assert (world.agent_x, world.agent_y) == (8, 4)
    press(session, pg.K_LEFT, pg.K_k)  # turn toward the bottle (it blocks), pick it up
    assert world.carrying is not None and world.carrying.name == "bottle"
    assert session.steps == 4

    heard = " ".join(session.transcript.text_lines())
    task_words = session.vocab.decode(session.vocab.encode(session.info["task"]))
    assert heard and heard.split()[0] == task_words.split()[0]

    screen = pg.display.set_mode(session.window_size())
    session.draw(screen)  # draws without error, and text lands on the surface
    assert screen.get_at((5, 5))[:3] != (0, 0, 0)


def test_any_key_turns_the_page_while_reading():
    session = PlaySession("HomeGrid-Dynamics-v0", seed=1)
    preread = session.env.unwrapped.game.preread
    assert session.obs["is_read_step"] == 1
    press(session, *([pg.K_SPACE] * preread))
    assert session.obs["is_read_step"] == 1  # the last read step shows the task's first word
    assert not session.env.unwrapped.reading  # ... but the next action counts
    press(session, pg.K_SPACE)  # not a binding: ignored outside read steps
    assert session.steps == preread
    press(session, pg.K_d)
    assert session.obs["is_read_step"] == 0 and session.steps == preread + 1
    assert any("to open the" in line for line in session.transcript.text_lines())


def test_escape_quits_and_backspace_restarts():
    session = PlaySession("HomeGrid-Task-v0", seed=2)
    press(session, pg.K_DOWN, pg.K_BACKSPACE)
    assert session.steps == 0
    press(session, pg.K_ESCAPE)
    assert session.quit


def test_cli_writes_a_screenshot(tmp_path):
    out = tmp_path / "shot.png"
    main(["--env", "HomeGrid-v0", "--seed", "0", "--screenshot", str(out)])
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("display_env,why", [
    ({"SDL_VIDEODRIVER": "dummy"}, "SDL_VIDEODRIVER=dummy draws into memory only"),
    ({}, "there is no display"),  # Linux without DISPLAY or WAYLAND_DISPLAY
])
def test_cli_without_a_display_says_why_in_one_line(display_env, why):
    if not display_env and not sys.platform.startswith("linux"):
        pytest.skip("SDL finds no display this way only on Linux")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    out = subprocess.run([sys.executable, "-m", "homegrid.play", "--seed", "0"],
                         env={**env, **display_env}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1  # instead of running unseen, waiting for keys that never come
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("homegrid-play: no window")
    assert why in out.stderr and "--screenshot" in out.stderr
