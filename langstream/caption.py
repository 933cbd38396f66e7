"""Text captions under rendered frames (``render_mode="rgb_array"`` shows the utterance)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@lru_cache(maxsize=2048)
def _text_line(text: str, width: int, font_size: int) -> np.ndarray:
    # Drawing text is the slowest part of a frame, and captions repeat: cache each line.
    from PIL import Image, ImageDraw

    line = Image.new("RGB", (width, font_size + 6), (255, 255, 255))
    ImageDraw.Draw(line).text((6, 2), text, fill=(20, 20, 20), font=_font(font_size))
    band = np.asarray(line)
    band.flags.writeable = False
    return band


@lru_cache(maxsize=2048)
def _fit(text: str, width: int, font_size: int, rows: int) -> tuple[str, ...]:
    """``text`` wrapped into exactly ``rows`` rows that fit ``width`` (the rest cut with ...)."""
    font, limit = _font(font_size), width - 12
    out = [""]
    for word in text.split():
        candidate = f"{out[-1]} {word}".strip()
        if font.getlength(candidate) <= limit or not out[-1]:
            out[-1] = candidate
        elif len(out) < rows:
            out.append(word)
        else:
            while out[-1] and font.getlength(out[-1] + " ...") > limit:
                out[-1] = out[-1].rsplit(" ", 1)[0] if " " in out[-1] else ""
            out[-1] += " ..."
            break
    return tuple(out) + ("",) * (rows - len(out))


def add_caption(img: np.ndarray, lines: list[str], font_size: int = 15,
                rows: list[int] | None = None) -> np.ndarray:
    """Return ``img`` with a white band below it holding ``lines`` of text.

    Line ``i`` is wrapped into ``rows[i]`` rows (default 1); the band's height depends only on
    ``rows``, so every frame of an episode has the same size (videos need that).
    """
    width = img.shape[1]
    margin = np.full((4, width, 3), 255, np.uint8)
    rows = rows or [1] * len(lines)
    bands = [_text_line(row, width, font_size)
             for line, n in zip(lines, rows) for row in _fit(line, width, font_size, n)]
    return np.concatenate([img, margin, *bands, margin], axis=0)


def rendered(env: Any) -> np.ndarray:
    """``env.render()`` of an env made with ``render_mode="rgb_array"``: one RGB frame."""
    frame = env.render()
    if not isinstance(frame, np.ndarray):
        raise RuntimeError(f"render() gave {type(frame).__name__}, not a frame: make the env "
                           f"with render_mode='rgb_array'")
    return frame
