"""A minimal pygame window that shows RGB frames (for ``render_mode="human"``)."""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np


def import_pygame():
    """Import pygame or explain how to install it."""
    try:
        import pygame
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError("rendering to a window needs pygame: pip install 'langgrid[play]'") from e
    return pygame


class Window:
    """Shows frames at a fixed rate; the window is sized to the first frame."""

    def __init__(self, title: str, fps: int):
        self.pygame = import_pygame()
        # Only the display: pygame.init() also starts the sound mixer, which on a machine
        # without sound prints ALSA and XDG_RUNTIME_DIR errors for nothing.
        self.pygame.display.init()
        self.pygame.display.set_caption(title)
        self.fps = fps
        self.surface = None
        self.clock = self.pygame.time.Clock()

    def show(self, frame: np.ndarray) -> None:
        pg = self.pygame
        h, w = frame.shape[:2]
        if self.surface is None or self.surface.get_size() != (w, h):
            self.surface = pg.display.set_mode((w, h))
        pg.event.pump()  # keep the OS from flagging the window as unresponsive
        pg.surfarray.blit_array(self.surface, np.ascontiguousarray(frame.transpose(1, 0, 2)))
        pg.display.flip()
        self.clock.tick(self.fps)

    def close(self) -> None:
        self.pygame.display.quit()


class HumanView:
    """What ``render_mode="human"`` needs: a window opened on the first frame, closed on close."""

    def __init__(self, title: str, fps: int):
        self.title, self.fps = title, fps
        self.window: Window | None = None

    def render(self, render_mode: str | None, started: bool,
               draw: Callable[[], np.ndarray]) -> np.ndarray | None:
        """An env's ``render()``: the frame ``draw()`` makes, returned for ``"rgb_array"`` and
        shown in the window for ``"human"``; None (with Gymnasium's warning) without a render
        mode; a RuntimeError before the first reset."""
        if render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to make()")
            return None
        if not started:
            raise RuntimeError("call reset() before render()")
        frame = draw()
        if render_mode == "rgb_array":
            return frame
        self.show(frame)
        return None

    def show(self, frame: np.ndarray) -> None:
        if self.window is None:
            self.window = Window(self.title, self.fps)
        self.window.show(frame)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None
