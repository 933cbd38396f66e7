"""Play HomeGrid yourself: ``homegrid-play --env HomeGrid-v0`` (or ``python -m homegrid.play``).

The window shows what the agent sees (left), the whole house (right), and below them the words
as they stream in, one per step, the current task, the score and the key bindings.  Read steps
(the world is frozen while the agent listens) advance with any key.
"""

from __future__ import annotations

import argparse
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

import homegrid  # noqa: F401  (registers the ids)
from langstream import Transcript
from langstream.window import import_pygame

#: (key name, action, label) in the order shown on screen; the reference's manual-control keys.
BINDINGS = (
    ("left", 0, "move left"), ("right", 1, "move right"), ("up", 2, "move up"),
    ("down", 3, "move down"), ("k", 4, "pickup"), ("d", 5, "drop"), ("g", 6, "get from bin"),
    ("p", 7, "pedal"), ("r", 8, "grasp"), ("l", 9, "lift"),
)
READ_ACTION = 5  # sent for any key during read steps: the env ignores it there
BG, FG, DIM, ACCENT = (250, 250, 247), (25, 25, 25), (120, 120, 120), (200, 60, 30)


class PlaySession:
    """An env plus everything the play window shows; drawing and input are separate methods
    so that tests can drive it without a screen."""

    def __init__(self, env_id: str = "HomeGrid-v0", seed: int | None = None, view_px: int = 256,
                 **env_kwargs: Any):
        self.pg = import_pygame()
        self.pg.display.init()  # no pg.init(): the sound mixer is not needed and may be absent
        self.pg.font.init()
        self.env = gym.make(env_id, render_mode="rgb_array", **env_kwargs)
        self.env_id = env_id
        self.vocab = self.env.unwrapped.vocab
        self.view_px = view_px
        self.keymap = {self.pg.key.key_code(name): action for name, action, _ in BINDINGS}
        self.seed = seed
        self.quit = False
        self.reset(seed)

    # ------------------------------------------------------------------ game
    def reset(self, seed: int | None = None) -> None:
        self.obs, self.info = self.env.reset(seed=seed)
        self.transcript = Transcript(self.vocab, keep=5)
        self.score, self.steps, self.done = 0.0, 0, False
        self._hear(self.obs, self.info)

    def act(self, action: int) -> None:
        if self.done:
            return
        self.obs, reward, terminated, truncated, self.info = self.env.step(action)
        self.score += float(reward)
        self.steps += 1
        self.done = terminated or truncated
        self._hear(self.obs, self.info)

    def _hear(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self.transcript.hear(int(obs["token"]), info.get("text", ""), self.steps)

    def handle_key(self, key: int) -> None:
        pg = self.pg
        if key in (pg.K_ESCAPE, pg.K_q):
            self.quit = True
        elif key in (pg.K_BACKSPACE, pg.K_RETURN) and (self.done or key == pg.K_BACKSPACE):
            self.reset()
        elif self.env.unwrapped.reading:
            self.act(READ_ACTION)  # any key turns the page while reading
        elif key in self.keymap:
            self.act(self.keymap[key])

    def process_events(self) -> None:
        for event in self.pg.event.get():
            if event.type == self.pg.QUIT:
                self.quit = True
            elif event.type == self.pg.KEYDOWN:
                self.handle_key(event.key)

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: Any) -> None:
        pg = self.pg
        surface.fill(BG)
        view = np.repeat(np.repeat(self.obs["image"], self.view_px // self.obs["image"].shape[0],
                                   axis=0), self.view_px // self.obs["image"].shape[1], axis=1)
        house = self.env.render()
        pad = 12
        _blit(pg, surface, view, (pad, pad + 22))
        _blit(pg, surface, house, (2 * pad + self.view_px, pad + 22))
        big, small = _fonts(pg)
        surface.blit(big.render("agent view", True, DIM), (pad, pad))
        surface.blit(big.render("house", True, DIM), (2 * pad + self.view_px, pad))

        y = pad + 22 + max(self.view_px, house.shape[0]) + pad
        reading = self.env.unwrapped.reading
        status = (f"{self.env_id}   agent step {self.steps}   score {self.score:g}"
                  + ("   READING: any key turns the page" if reading else "")
                  + ("   EPISODE OVER: Enter for a new one" if self.done else ""))
        surface.blit(big.render(status, True, ACCENT if reading or self.done else FG), (pad, y))
        y += 28
        surface.blit(big.render(f"task: {self.info.get('task', '')}", True, FG), (pad, y))
        y += 30
        surface.blit(small.render("heard (one word per step):", True, DIM), (pad, y))
        y += 20
        width = surface.get_width() - 2 * pad - 10
        lines = [part for line in self.transcript.text_lines() for part in _wrap(big, line, width)]
        for line in lines[-self.transcript.keep:]:
            surface.blit(big.render(line, True, FG), (pad + 10, y))
            y += 24
        keys = [f"{name}: {label}" for name, _, label in BINDINGS]
        keys += ["backspace: restart", "esc: quit"]
        for i, line in enumerate((keys[:6], keys[6:])):
            surface.blit(small.render("    ".join(line), True, DIM),
                         (pad, surface.get_height() - 44 + 20 * i))

    def window_size(self) -> tuple[int, int]:
        house = self.env.render()
        return (3 * 12 + self.view_px + house.shape[1],
                12 + 22 + max(self.view_px, house.shape[0]) + 12 + 28 + 30 + 20 + 5 * 24 + 56)


def _wrap(font: Any, text: str, width: int) -> list[str]:
    """Split text into lines that fit ``width`` pixels."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if font.size(candidate)[0] <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def _blit(pg: Any, surface: Any, image: np.ndarray, pos: tuple[int, int]) -> None:
    surface.blit(pg.surfarray.make_surface(np.ascontiguousarray(image.transpose(1, 0, 2))), pos)


_FONTS: dict[int, Any] = {}


def _fonts(pg: Any) -> tuple[Any, Any]:
    if not _FONTS:
        _FONTS[0] = pg.font.Font(None, 26)
        _FONTS[1] = pg.font.Font(None, 19)
    return _FONTS[0], _FONTS[1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HomeGrid-v0", choices=sorted(homegrid.ENV_IDS),
                        help="environment id")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first episode")
    parser.add_argument("--screenshot", default=None,
                        help="save the window to this PNG after the first frame and exit")
    args = parser.parse_args(argv)

    session = PlaySession(args.env, seed=args.seed)
    pg = session.pg
    pg.display.set_caption(f"{args.env} - homegrid-play")
    screen = pg.display.set_mode(session.window_size())
    clock = pg.time.Clock()
    while not session.quit:
        session.process_events()
        session.draw(screen)
        pg.display.flip()
        if args.screenshot:
            pg.image.save(screen, args.screenshot)
            break
        clock.tick(30)
    pg.quit()


if __name__ == "__main__":
    main()
