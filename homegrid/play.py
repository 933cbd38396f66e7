"""Play HomeGrid yourself: ``homegrid-play --env HomeGrid-v0`` (or ``python -m homegrid.play``).

The window shows what the agent sees (left), the whole house (right), and below them the words
as they stream in, one per step, the current task, the score and the key bindings.  Read steps
(the world is frozen while the agent listens) advance with any key.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym

import homegrid  # noqa: F401  (registers the ids)
from langstream import play_ui as ui
from langstream.caption import rendered
from langstream.cli import Parser

#: (key name, action, label) in the order shown on screen; the reference's manual-control keys.
BINDINGS = (
    ("left", 0, "move left"), ("right", 1, "move right"), ("up", 2, "move up"),
    ("down", 3, "move down"), ("k", 4, "pickup"), ("d", 5, "drop"), ("g", 6, "get from bin"),
    ("p", 7, "pedal"), ("r", 8, "grasp"), ("l", 9, "lift"),
)
READ_ACTION = 5  # sent for any key during read steps: the env ignores it there


class PlaySession(ui.PlaySessionBase):
    """An env plus everything the play window shows; drawing and input are separate methods
    so that tests can drive it without a screen."""

    def __init__(self, env_id: str = "HomeGrid-v0", seed: int | None = None, view_px: int = 256,
                 **env_kwargs: Any):
        self.env_id = env_id
        self.view_px = view_px
        super().__init__(gym.make(env_id, render_mode="rgb_array", **env_kwargs), seed, keep=5)
        bindings = ((name, action) for name, action, _ in BINDINGS)
        self.keymap = {code: action for (code,), action in ui.keys_to_action(bindings).items()}

    def handle_key(self, key: int) -> None:
        pg = self.pg
        if key in (pg.K_ESCAPE, pg.K_q):
            self.quit = True
        elif key in (pg.K_BACKSPACE, pg.K_RETURN) and (self.done or key == pg.K_BACKSPACE):
            self.reset()
        elif self.raw.reading:
            self.act(READ_ACTION)  # any key turns the page while reading
        elif key in self.keymap:
            self.act(self.keymap[key])

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: Any) -> None:
        pg = self.pg
        surface.fill(ui.BG)
        house = rendered(self.env)
        pad = ui.PAD  # short name: the layout arithmetic below uses it a lot
        ui.blit(pg, surface, ui.magnify(self.obs["image"], self.view_px), (pad, pad + 22))
        ui.blit(pg, surface, house, (2 * pad + self.view_px, pad + 22))
        big, small = ui.fonts(pg)
        surface.blit(big.render("agent view", True, ui.DIM), (pad, pad))
        surface.blit(big.render("house", True, ui.DIM), (2 * pad + self.view_px, pad))

        y = pad + 22 + max(self.view_px, house.shape[0]) + pad
        reading = self.raw.reading
        status = (f"{self.env_id}   agent step {self.steps}   score {self.score:g}"
                  + ("   READING: any key turns the page" if reading else "")
                  + ("   EPISODE OVER: Enter for a new one" if self.done else ""))
        color = ui.ACCENT if reading or self.done else ui.FG
        surface.blit(big.render(status, True, color), (pad, y))
        y += 28
        surface.blit(big.render(f"task: {self.info.get('task', '')}", True, ui.FG), (pad, y))
        y += 30
        surface.blit(small.render("heard (one word per step):", True, ui.DIM), (pad, y))
        y += 20
        width = surface.get_width() - 2 * pad - 10
        lines = [part for line in self.transcript.text_lines()
                 for part in ui.wrap(big, line, width)]
        for line in lines[-(self.transcript.keep or len(lines)):]:
            surface.blit(big.render(line, True, ui.FG), (pad + 10, y))
            y += 24
        keys = [f"{name}: {label}" for name, _, label in BINDINGS]
        keys += ["backspace: restart", "esc: quit"]
        for i, row in enumerate((keys[:6], keys[6:])):
            surface.blit(small.render("    ".join(row), True, ui.DIM),
                         (pad, surface.get_height() - 44 + 20 * i))

    def window_size(self) -> tuple[int, int]:
        house = rendered(self.env)
        return (3 * ui.PAD + self.view_px + house.shape[1],
                ui.PAD + 22 + max(self.view_px, house.shape[0]) + ui.PAD + 28 + 30 + 20
                + 5 * 24 + 56)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``homegrid-play`` command."""
    parser = Parser(prog="homegrid-play", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HomeGrid-v0", choices=sorted(homegrid.ENV_IDS),
                        help="environment id")
    args = ui.parse_play_args(parser, argv)
    ui.run(PlaySession(args.env, seed=args.seed), f"{args.env} - homegrid-play", args.screenshot)

if __name__ == "__main__":
    main()
