"""Text captions under rendered frames (``render_mode="rgb_array"`` shows the utterance)."""

from __future__ import annotations

from functools import lru_cache

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


def add_caption(img: np.ndarray, lines: list[str], font_size: int = 15) -> np.ndarray:
    """Return ``img`` with a white band below it holding ``lines`` of text."""
    width = img.shape[1]
    margin = np.full((4, width, 3), 255, np.uint8)
    bands = [_text_line(line, width, font_size) for line in lines]
    return np.concatenate([img, margin, *bands, margin], axis=0)
