"""Play Messenger yourself: ``messenger-play --stage 2`` (or ``python -m messenger_s2.play``).

The window shows what the agent sees (left, magnified) and the whole board (right); below them
the status, the manual as heard so far (one word per step, one line per sentence) and, left, the
key bindings.  The manual streams before play while the board stays frozen: any key turns the
page (one word), tab reads the rest at once.  Then the arrows move the avatar.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym

import messenger_s2  # noqa: F401  (registers the ids)
from langstream import play_ui as ui
from langstream.caption import rendered
from langstream.cli import Parser
from messenger_s2.entities import ACTIONS

STAY = ACTIONS.index("stay")
#: key name -> action; "." is the roguelike wait key
MOVE_KEYS = {"up": ACTIONS.index("up"), "down": ACTIONS.index("down"),
             "left": ACTIONS.index("left"), "right": ACTIONS.index("right"),
             "space": STAY, ".": STAY}
#: (keys, what they do) as listed on screen
HELP = (
    ("arrows", "move"),
    ("space  .", "stay"),
    ("any key", "next word (reading)"),
    ("tab", "read the rest"),
    ("enter", "new episode (at end)"),
    ("backspace", "new episode"),
    ("esc  q", "quit"),
)
LABEL_H, LINE_H, SMALL_LINE_H = 22, 26, 22  # row heights of labels and text, in pixels
SMALL_FONT = 21  # the default font's "i" looks like "l" at HomeGrid's 19


class PlaySession(ui.PlaySessionBase):
    """A Messenger env plus everything the play window shows; tests drive it headless.

    Args:
        stage: 1, 2 or 3.
        split: the env's split ("train", "val", "test", ...).
        seed: seed of the first episode.
        texts: None for the generated manuals, or a messenger-emma texts directory.
        view_px: width of the magnified agent view.
    """

    def __init__(self, stage: int = 2, split: str = "train", seed: int | None = None,
                 texts: str | None = None, view_px: int = 256):
        self.view_px = view_px
        self.last_event = ""  # e.g. "picked up the message (play step 9)"
        env = gym.make(f"Messenger-S{stage}-v0", split=split, texts=texts,
                       render_mode="rgb_array")
        super().__init__(env, seed)  # keep every manual line: the player needs all of them
        self.game = self.raw.game
        self.keymap = {code: action
                       for (code,), action in ui.keys_to_action(MOVE_KEYS.items()).items()}
        # Room for the first manual (wrapped) plus spare rows: later manuals vary in length.
        big, _ = ui.fonts(self.pg, small=SMALL_FONT)
        wrapped = sum(len(ui.wrap(big, s, self._text_width())) for s in self.info["manual"])
        self.manual_rows = max(wrapped, len(self.info["manual"])) + 1

    # ------------------------------------------------------------------ game
    def reset(self, seed: int | None = None) -> None:
        """Start a new episode (its manual streams first)."""
        super().reset(seed)
        self.last_event = ""

    def act(self, action: int) -> None:
        """Step once, remembering the last thing that happened for the status line."""
        super().act(action)
        if self.info["events"]:
            self.last_event = f"{self.info['events'][-1]} (play step {self.game.t})"

    def read_manual(self) -> None:
        """Read the rest of the manual at once (the env ignores actions while reading)."""
        while self.raw.reading and not self.done:
            self.act(STAY)

    def handle_key(self, key: int) -> None:
        """Quit, restart, turn the page while reading, or move."""
        pg = self.pg
        if key in (pg.K_ESCAPE, pg.K_q):
            self.quit = True
        elif key == pg.K_BACKSPACE or (key == pg.K_RETURN and self.done):
            self.reset()
        elif self.raw.reading:
            if key == pg.K_TAB:
                self.read_manual()
            else:
                self.act(STAY)  # any key turns the page; the action itself is ignored
        elif key in self.keymap:
            self.act(self.keymap[key])

    # ------------------------------------------------------------------ drawing
    def status(self) -> tuple[str, str]:
        """The two status lines: where the game stands, and what to do or what just happened."""
        stage = self.game.stage
        line = (f"Messenger {stage.name} ({self.game.split})   play step {self.game.t}"
                f"/{stage.max_steps}   score {self.score:g}")
        if self.game.carrying:
            line += "   carrying the message"
        if self.done:
            what = f"{self.last_event}.  " if self.last_event else ""
            return line, f"EPISODE OVER: {what}Enter for a new one"
        if self.raw.reading:
            return line, "READING: any key turns the page (tab reads the rest of the manual)"
        return line, f"last event: {self.last_event}" if self.last_event else "your move"

    def draw(self, surface: Any) -> None:
        """Draw the window: the two boards, the key list, the status and the manual."""
        pg = self.pg
        big, small = ui.fonts(pg, small=SMALL_FONT)
        surface.fill(ui.BG)
        board = rendered(self.env)
        top = ui.PAD + LABEL_H
        board_x = 2 * ui.PAD + self.view_px
        surface.blit(big.render("agent view", True, ui.DIM), (ui.PAD, ui.PAD))
        surface.blit(big.render("board", True, ui.DIM), (board_x, ui.PAD))
        view = ui.magnify(self.obs["image"], self.view_px)
        ui.blit(pg, surface, view, (ui.PAD, top))
        ui.blit(pg, surface, board, (board_x, top))

        # The key list fills the left column under the agent view, which is shorter than the
        # board, so the text below can use the full width.
        y = top + view.shape[0] + 2 * ui.PAD
        surface.blit(big.render("keys", True, ui.DIM), (ui.PAD, y))
        y += LABEL_H + 4
        for keys, does in HELP:
            surface.blit(small.render(keys, True, ui.FG), (ui.PAD, y))
            surface.blit(small.render(does, True, ui.DIM), (ui.PAD + 90, y))
            y += SMALL_LINE_H

        y = top + max(view.shape[0], board.shape[0]) + ui.PAD
        first, second = self.status()
        urgent = self.done or self.raw.reading
        surface.blit(big.render(first, True, ui.FG), (ui.PAD, y))
        surface.blit(big.render(second, True, ui.ACCENT if urgent else ui.FG), (ui.PAD, y + LINE_H))
        y += 2 * LINE_H + ui.PAD
        surface.blit(big.render("manual, as heard so far (one word per step)", True, ui.DIM),
                     (ui.PAD, y))
        y += LABEL_H + 4
        lines = [part for line in self.transcript.text_lines()
                 for part in ui.wrap(big, line, self._text_width())]
        for line in lines[-self.manual_rows:]:  # a long manual loses its oldest lines
            surface.blit(big.render(line, True, ui.FG), (2 * ui.PAD, y))
            y += LINE_H

    def _text_width(self) -> int:
        """Width of the manual's lines: the window's, less the margins and the indent."""
        return self.view_px + rendered(self.env).shape[1]

    def window_size(self) -> tuple[int, int]:
        board_h, board_w = rendered(self.env).shape[:2]
        return (3 * ui.PAD + self.view_px + board_w,
                ui.PAD + LABEL_H + max(self.view_px, board_h) + ui.PAD + 2 * LINE_H + ui.PAD
                + LABEL_H + 4 + self.manual_rows * LINE_H + ui.PAD)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``messenger-play`` command."""
    parser = Parser(prog="messenger-play", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=int, default=2, choices=(1, 2, 3), help="S1, S2 or S3")
    parser.add_argument("--split", default="train",
                        help="train, train-mc, train-sc, val, test (S2 also test-se)")
    parser.add_argument("--texts", default=None,
                        help="messenger-emma texts directory (default: generated manuals)")
    args = ui.parse_play_args(parser, argv)
    try:
        session = PlaySession(args.stage, args.split, seed=args.seed, texts=args.texts)
    except (ValueError, OSError) as e:  # a bad split or texts directory: say so, no traceback
        parser.error(str(e))
    ui.run(session, f"Messenger S{args.stage} ({args.split}) - messenger-play", args.screenshot)


if __name__ == "__main__":
    main()
