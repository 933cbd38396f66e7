"""What the keyboard play tools of every suite share: an env session, the main loop, drawing aids.

A suite's play tool subclasses :class:`PlaySessionBase`, adding ``handle_key`` (keys to
actions), ``draw`` and ``window_size``, and calls :func:`run`.  Drawing and input stay separate
methods so that tests can drive a session headless with posted pygame events.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Iterable, Sequence, cast

import gymnasium as gym
import numpy as np

from langstream.cli import Parser, non_negative_int
from langstream.transcript import Transcript
from langstream.window import import_pygame

BG, FG, DIM, ACCENT = (250, 250, 247), (25, 25, 25), (120, 120, 120), (200, 60, 30)
PAD = 12  # margin around and between the panels, in pixels


class PlaySessionBase:
    """An env, the words heard so far and the episode's score; subclasses map keys and draw.

    Args:
        env: the environment, made with ``render_mode="rgb_array"``; it must have a ``vocab``
            and emit ``token`` observations and ``info["text"]`` (the langstream interface).
        seed: seed of the first episode (later ones continue the env's generator).
        keep: how many transcript lines to keep (None: all).
    """

    def __init__(self, env: gym.Env, seed: int | None = None, keep: int | None = None):
        self.pg = import_pygame()
        self.pg.display.init()  # no pg.init(): the sound mixer is not needed and may be absent
        self.pg.font.init()
        self.env = env
        self.raw: Any = cast(Any, env.unwrapped)  # the project env: its vocab, reading flag, ...
        self.vocab = self.raw.vocab
        self.keep = keep
        self.seed = seed
        self.quit = False
        self.reset(seed)

    # ------------------------------------------------------------------ game
    def reset(self, seed: int | None = None) -> None:
        """Start a new episode with an empty transcript."""
        self.obs, self.info = self.env.reset(seed=seed)
        self.transcript = Transcript(self.vocab, keep=self.keep)
        self.score, self.steps, self.done = 0.0, 0, False
        self._hear(self.obs, self.info)

    def act(self, action: int) -> None:
        """Step the env once (read steps included); a finished episode ignores actions."""
        if self.done:
            return
        self.obs, reward, terminated, truncated, self.info = self.env.step(action)
        self.score += float(reward)
        self.steps += 1
        self.done = terminated or truncated
        self._hear(self.obs, self.info)

    def _hear(self, obs: dict[str, Any], info: dict[str, Any]) -> None:
        self.transcript.hear(int(obs["token"]), info.get("text", ""), self.steps)

    # ------------------------------------------------------------------ input
    def handle_key(self, key: int) -> None:
        """React to one key press (subclasses map keys to actions)."""
        raise NotImplementedError

    def process_events(self) -> None:
        """Handle every pending pygame event: key presses and closing the window."""
        for event in self.pg.event.get():
            if event.type == self.pg.QUIT:
                self.quit = True
            elif event.type == self.pg.KEYDOWN:
                self.handle_key(event.key)

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: Any) -> None:
        """Draw the whole window onto ``surface``."""
        raise NotImplementedError

    def window_size(self) -> tuple[int, int]:
        """(width, height) of the window in pixels."""
        raise NotImplementedError


#: SDL video drivers that draw into memory only: a window opened with them is never seen
HEADLESS_DRIVERS = ("dummy", "offscreen")


def no_window_reason() -> str | None:
    """Why a play window would not be seen, with how to get one; None if it can be.

    Read from the environment, before pygame starts: SDL probing for a display that is not
    there prints errors of its own.  On Linux without DISPLAY or WAYLAND_DISPLAY, SDL falls
    back to its "offscreen" driver (set SDL_VIDEODRIVER to pick another, e.g. kmsdrm).
    """
    asked = os.environ.get("SDL_VIDEODRIVER")
    if asked in HEADLESS_DRIVERS:
        why = f"SDL_VIDEODRIVER={asked} draws into memory only"
        fix = "unset SDL_VIDEODRIVER and run it in a desktop session"
    elif (not asked and sys.platform.startswith("linux")
          and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))):
        why = "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)"
        fix = "run it in a desktop session (or set DISPLAY, e.g. with ssh -X)"
    else:
        return None
    return f"no window can appear: {why}; {fix}, or pass --screenshot FILE to save it as a PNG"


def exit_without_window(tool: str) -> None:
    """End the ``tool`` command with one line on stderr when its window could not be seen: it
    would get no key presses either, and run unseen until killed."""
    reason = no_window_reason()
    if reason:
        print(f"{tool}: {reason}", file=sys.stderr)
        raise SystemExit(1)


def parse_play_args(parser: Parser, argv: Sequence[str] | None) -> Any:
    """Add the options every play tool has (``--seed``, ``--screenshot``) to the tool's own,
    parse ``argv``, and end the command at once when its window could not be seen."""
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help="seed of the first episode")
    parser.add_argument("--screenshot", default=None,
                        help="save the window to this PNG after the first frame and exit")
    args = parser.parse_args(argv)
    if not args.screenshot:  # a screenshot needs no visible window
        exit_without_window(parser.prog)
    return args


def run(session: PlaySessionBase, title: str, screenshot: str | None = None,
        fps: int = 30) -> None:
    """Open the window and play until the session quits.

    With ``screenshot``, save the first frame as a PNG there and return instead of playing.
    """
    pg = session.pg
    pg.display.set_caption(title)
    screen = pg.display.set_mode(session.window_size())
    clock = pg.time.Clock()
    while not session.quit:
        session.process_events()
        session.draw(screen)
        pg.display.flip()
        if screenshot:
            pg.image.save(screen, screenshot)
            break
        clock.tick(fps)  # the game only changes on key presses; no need to spin the CPU
    pg.quit()
    _FONTS.clear()  # fonts die with pygame's font module; a later session makes new ones


def key_code(pg: Any, name: str) -> int:
    """pygame's code of a key named as in the bindings ("left", "space", "k", "."), without
    ``pygame.key.key_code``, which warns unless pygame is initialised."""
    return ord(name) if len(name) == 1 else getattr(pg, f"K_{name.upper()}")


def keys_to_action(bindings: Iterable[tuple[str, int]]) -> dict[tuple[int, ...], int]:
    """(key name, action) pairs as ``gymnasium.utils.play.play`` takes them: one-key tuples of
    pygame key codes, mapped to actions."""
    pg = import_pygame()
    return {(key_code(pg, name),): action for name, action in bindings}


def wrap(font: Any, text: str, width: int) -> list[str]:
    """Split ``text`` at spaces into lines that fit ``width`` pixels (a longer word gets its
    own line)."""
    lines = [""]
    for word in text.split():
        candidate = f"{lines[-1]} {word}".strip()
        if font.size(candidate)[0] <= width or not lines[-1]:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def blit(pg: Any, surface: Any, image: np.ndarray, pos: tuple[int, int]) -> None:
    """Draw an (H, W, 3) uint8 array onto ``surface`` with its top left corner at ``pos``."""
    # pygame surfaces are indexed (x, y), arrays (row, col)
    surface.blit(pg.surfarray.make_surface(np.ascontiguousarray(image.transpose(1, 0, 2))), pos)


def magnify(image: np.ndarray, px: int) -> np.ndarray:
    """Scale an (H, W, 3) image up by whole factors (crisp pixels) to about ``px`` wide."""
    factor = max(1, px // image.shape[1])
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


_FONTS: dict[int, Any] = {}


def fonts(pg: Any, big: int = 26, small: int = 19) -> tuple[Any, Any]:
    """The (big, small) default fonts at these pixel sizes, made once: making fonts is slow."""
    for size in (big, small):
        if size not in _FONTS:
            _FONTS[size] = pg.font.Font(None, size)
    return _FONTS[big], _FONTS[small]
