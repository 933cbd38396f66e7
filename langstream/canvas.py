"""Anti-aliased procedural drawing with numpy alone, for the suites' pixel-art sprites.

A :class:`Canvas` is a float RGBA image; shapes (rectangles, rounded rectangles, ellipses,
polygons, thick lines) are boolean masks on a 4x4 grid of sample points per pixel, so they
combine exactly with ``&``, ``|`` and ``~`` before :meth:`Canvas.fill` averages them into
per-pixel coverage.  Colours are accumulated premultiplied and un-premultiplied once in
:meth:`Canvas.rgba`, so edge pixels keep the colour of their shape.  :func:`over` composites a
sprite onto an opaque background.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

_SS = 4  # supersampling factor per axis

Colour = tuple[int, int, int]


class Canvas:
    """A float RGBA canvas; shapes are boolean masks on the supersampled grid.

    Shapes are kept at sample resolution so they can be combined exactly with ``&``, ``|`` and
    ``~`` (rings, crescents, cut-outs) before being reduced to per-pixel coverage in ``fill``.
    """

    def __init__(self, height: int, width: int):
        self.h, self.w = height, width
        offs = (np.arange(_SS) + 0.5) / _SS
        ys = (np.arange(height)[:, None] + offs[None, :]).ravel()
        xs = (np.arange(width)[:, None] + offs[None, :]).ravel()
        self.X, self.Y = np.meshgrid(xs, ys)
        # Premultiplied colour so that repeated painting is a plain lerp and never needs a
        # division until the very end.
        self.rgb = np.zeros((height, width, 3))
        self.a = np.zeros((height, width))

    # -- primitives (all coordinates in pixels, pixel i spans [i, i+1)) --------------------

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        X, Y = self.X, self.Y
        return (X >= x0) & (X < x1) & (Y >= y0) & (Y < y1)

    def rrect(self, x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
        r = max(0.0, min(r, (x1 - x0) / 2, (y1 - y0) / 2))
        cx = np.clip(self.X, x0 + r, x1 - r)
        cy = np.clip(self.Y, y0 + r, y1 - r)
        corner = (self.X - cx) ** 2 + (self.Y - cy) ** 2 <= r * r
        return self.rect(x0, y0, x1, y1) & corner

    def ellipse(self, cx: float, cy: float, rx: float, ry: float,
                angle: float = 0.0) -> np.ndarray:
        dx, dy = self.X - cx, self.Y - cy
        if angle:
            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            dx, dy = dx * c + dy * s, -dx * s + dy * c
        return (dx / rx) ** 2 + (dy / ry) ** 2 <= 1.0

    def circle(self, cx: float, cy: float, r: float) -> np.ndarray:
        return self.ellipse(cx, cy, r, r)

    def polygon(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        # Even-odd crossing test, vectorised over samples, looping over the few edges.
        X, Y = self.X, self.Y
        inside = np.zeros(X.shape, dtype=bool)
        pts = list(points)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
            if y0 == y1:
                continue  # horizontal edges never cross a horizontal ray
            crosses = (y0 > Y) != (y1 > Y)
            x_at = x0 + (Y - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (X < x_at)
        return inside

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float) -> np.ndarray:
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t: float | np.ndarray
        if length2 == 0:
            t = 0.0
        else:
            t = np.clip(((self.X - x0) * dx + (self.Y - y0) * dy) / length2, 0.0, 1.0)
        d2 = (self.X - x0 - t * dx) ** 2 + (self.Y - y0 - t * dy) ** 2
        return d2 <= (width / 2) ** 2

    # -- painting -------------------------------------------------------------------------

    def coverage(self, shape: np.ndarray) -> np.ndarray:
        return shape.reshape(self.h, _SS, self.w, _SS).mean(axis=(1, 3))

    def fill(self, shape: np.ndarray, colour, opacity: float = 1.0) -> None:
        """Paint ``colour`` (an RGB triple or an (h, w, 3) array) where ``shape`` is set."""
        m = (self.coverage(shape) * opacity)[..., None]
        col = np.broadcast_to(np.asarray(colour, dtype=float), self.rgb.shape)
        self.rgb = col * m + self.rgb * (1.0 - m)
        self.a = m[..., 0] + self.a * (1.0 - m[..., 0])

    def boxed(self, x0: float, y0: float, x1: float, y1: float, r: float,
              fill, edge: Colour, t: float = 2.0) -> None:
        """Rounded rectangle with a ``t``-px outline (outline first, then the inset fill)."""
        self.fill(self.rrect(x0, y0, x1, y1, r), edge)
        self.fill(self.rrect(x0 + t, y0 + t, x1 - t, y1 - t, max(r - t, 0.5)), fill)

    def disc(self, cx: float, cy: float, rx: float, ry: float, fill, edge: Colour,
             t: float = 2.0, angle: float = 0.0) -> None:
        self.fill(self.ellipse(cx, cy, rx, ry, angle), edge)
        self.fill(self.ellipse(cx, cy, rx - t, ry - t, angle), fill)

    def rgba(self) -> np.ndarray:
        a = self.a
        rgb = np.where(a[..., None] > 0, self.rgb / np.maximum(a, 1e-12)[..., None], 0.0)
        out = np.empty((self.h, self.w, 4), dtype=np.uint8)
        out[..., :3] = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
        out[..., 3] = np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)
        return out


def shade(c: Colour, f: float) -> Colour:
    """Darken (f < 1) or lighten (f > 1, towards white) a colour."""
    if f <= 1:
        return tuple(int(round(v * f)) for v in c)  # type: ignore[return-value]
    return tuple(int(round(v + (255 - v) * (f - 1))) for v in c)  # type: ignore[return-value]


def over(bottom_rgb: np.ndarray, top_rgba: np.ndarray) -> np.ndarray:
    """Alpha-composite ``top_rgba`` over an opaque ``bottom_rgb``; returns new uint8 RGB.

    Straight-alpha blending ``top * a + bottom * (1 - a)``, rounded to nearest, so partially
    transparent edge pixels land between the two colours and never come out black.  Extra
    channels of ``bottom_rgb`` (an alpha channel) are ignored.
    """
    bottom = np.asarray(bottom_rgb)
    top = np.asarray(top_rgba)
    if bottom.shape[:2] != top.shape[:2] or bottom.shape[-1] < 3 or top.shape[-1] != 4:
        raise ValueError(
            f"over() wants (H, W, 3) under (H, W, 4); got {bottom.shape} and {top.shape}")
    # Integer arithmetic with +127 gives exact round-half-up of x / 255: the result is a true
    # convex combination and cannot undershoot the darker input.
    a = top[..., 3:4].astype(np.uint32)
    mixed = top[..., :3].astype(np.uint32) * a + bottom[..., :3].astype(np.uint32) * (255 - a)
    return ((mixed + 127) // 255).astype(np.uint8)
