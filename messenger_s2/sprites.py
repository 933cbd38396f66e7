"""Procedural sprites for Messenger's twelve entities and the avatar, drawn with numpy alone.

Every sprite is designed once on a 32-unit square and painted on a
:class:`langstream.canvas.Canvas` of ``size x size`` pixels with every coordinate scaled by
``size / 32``, so one drawing serves every cell size from 4 px (thumbnails) to 128 px (the
human view).  Nothing is loaded from disk and nothing is copied from other projects.

The game's default observation is only **6 px per cell**, where no silhouette survives.  So the
art is colour-coded first and shaped second:

* each entity has its own dominant colour, spread over hue *and* brightness so that no two
  are close (see :data:`SYMBOL_COLOURS`): ten saturated hues, plus the thief's skin tone
  (with a black mask) and the sword's pale steel; outlines are a dark shade of the body
  colour, not black, so they do not wash the colour out when a sprite shrinks to a few pixels;
* every sprite covers about half to three quarters of its cell, so at 6 px the cell's mean
  colour is led by the sprite's;
* the floor (:data:`BACKGROUND`) is a dark neutral that no sprite comes near;
* the avatar is the only white sprite, and the avatar carrying the message holds a large
  magenta envelope - a hue no entity uses - so the two states differ at any size.

``tests/test_messenger_sprites.py`` holds the 15 tiles (14 symbols and the empty cell) at 6
and 8 px pairwise apart, both pixel by pixel and in mean colour.

Public API: :data:`BACKGROUND`, :data:`SYMBOL_COLOURS`, :func:`symbol_sprite` and
:func:`cell_tile`.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Callable, Iterable, Sequence

import numpy as np

from langstream.canvas import Canvas, Colour, over, shade
from messenger_s2.entities import AVATAR, AVATAR_WITH_MESSAGE, DRAWN_SYMBOLS, ENTITY_NAMES

__all__ = ["BACKGROUND", "MIN_SIZE", "SYMBOL_COLOURS", "cell_tile", "symbol_sprite"]

#: floor colour of an empty cell: a dark blue-grey, darker and greyer than every sprite
BACKGROUND: Colour = (30, 32, 40)
#: smallest cell size in pixels; below it even the colour coding turns to mush
MIN_SIZE = 4
_UNITS = 32.0  # side of the design square every sprite is drawn in

# Dominant colour per symbol.  Hues are spread round the wheel and the close ones are pushed
# apart in brightness (dark red ball vs bright orange fish vs light gold crown; deep blue ship
# vs light sky-blue airplane).  Magenta is deliberately left free for the message envelope.
_SKY, _VIOLET, _BROWN = (64, 184, 255), (140, 44, 230), (150, 82, 36)
_LIME, _ORANGE, _GREEN = (155, 228, 40), (255, 128, 16), (30, 172, 72)
_SKIN, _NAVY_BLUE, _RED = (242, 192, 150), (36, 64, 214), (218, 30, 44)
_TEAL, _GOLD, _STEEL = (0, 184, 176), (255, 208, 40), (205, 216, 236)
_WHITE, _MAGENTA = (246, 246, 242), (255, 40, 196)

#: symbol -> the colour that dominates its sprite (the avatar carrying the message: the accent)
SYMBOL_COLOURS: dict[int, Colour] = {
    2: _SKY, 3: _VIOLET, 4: _BROWN, 5: _LIME, 6: _ORANGE, 7: _GREEN, 8: _SKIN, 9: _NAVY_BLUE,
    10: _RED, 11: _TEAL, 12: _GOLD, 13: _STEEL, AVATAR: _WHITE, AVATAR_WITH_MESSAGE: _MAGENTA,
}

_INK = (22, 22, 28)  # eyes, masks, nostrils: near-black details
_OUTLINE = (24, 26, 36)  # the avatar's strong outline


def _edge(c: Colour) -> Colour:
    """Outline colour of a body of colour ``c``: the same hue, much darker."""
    return shade(c, 0.45)


class _Pen:
    """A :class:`Canvas` addressed in 32-unit design coordinates instead of pixels.

    Only the coordinates are scaled; shapes are still masks on the canvas's supersampled grid,
    so they combine with ``&``, ``|`` and ``~`` exactly as on the canvas itself.
    """

    def __init__(self, size: int):
        self.c = Canvas(size, size)
        self.k = size / _UNITS

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        k = self.k
        return self.c.rect(x0 * k, y0 * k, x1 * k, y1 * k)

    def rrect(self, x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
        k = self.k
        return self.c.rrect(x0 * k, y0 * k, x1 * k, y1 * k, r * k)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float,
                angle: float = 0.0) -> np.ndarray:
        k = self.k
        return self.c.ellipse(cx * k, cy * k, rx * k, ry * k, angle)

    def circle(self, cx: float, cy: float, r: float) -> np.ndarray:
        return self.ellipse(cx, cy, r, r)

    def polygon(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        k = self.k
        return self.c.polygon([(x * k, y * k) for x, y in points])

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float) -> np.ndarray:
        k = self.k
        return self.c.line(x0 * k, y0 * k, x1 * k, y1 * k, width * k)

    def grown(self, points: Sequence[tuple[float, float]], t: float) -> np.ndarray:
        """The polygon dilated by ``t`` units (its edges stroked 2t wide): an outline mask.

        Painting this in the edge colour and then the plain polygon on top gives an outline
        outside the shape, which works for any polygon without computing an inset.
        """
        mask = self.polygon(points)
        pts = list(points)
        for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
            mask |= self.line(x0, y0, x1, y1, 2 * t)
        return mask

    def fill(self, shape: np.ndarray, colour: Colour, opacity: float = 1.0) -> None:
        self.c.fill(shape, colour, opacity)

    def outlined(self, shape: np.ndarray, outline: np.ndarray, colour: Colour,
                 edge: Colour | None = None) -> None:
        """Paint ``outline`` in the edge colour, then ``shape`` (inside it) in ``colour``."""
        self.fill(outline, _edge(colour) if edge is None else edge)
        self.fill(shape, colour)

    def poly(self, points: Sequence[tuple[float, float]], colour: Colour, t: float = 1.5,
             edge: Colour | None = None) -> None:
        """A polygon with a ``t``-unit outline outside it."""
        self.outlined(self.polygon(points), self.grown(points, t), colour, edge)

    def oval(self, cx: float, cy: float, rx: float, ry: float, colour: Colour,
             t: float = 1.5, angle: float = 0.0, edge: Colour | None = None) -> None:
        """An ellipse with a ``t``-unit outline outside it."""
        self.outlined(self.ellipse(cx, cy, rx, ry, angle),
                      self.ellipse(cx, cy, rx + t, ry + t, angle), colour, edge)

    def rgba(self) -> np.ndarray:
        return self.c.rgba()


def _star(cx: float, cy: float, r: float, points: int = 5) -> list[tuple[float, float]]:
    """Vertices of a star polygon (outer radius r, inner r * 0.45), one tip straight up."""
    out = []
    for i in range(2 * points):
        rad = r if i % 2 == 0 else r * 0.45
        a = math.pi * i / points - math.pi / 2
        out.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return out


def _turned(points: Iterable[tuple[float, float]], cx: float, cy: float,
            degrees: float) -> list[tuple[float, float]]:
    """Points given as (along, across) offsets from (cx, cy), turned by ``degrees`` (y down)."""
    a = math.radians(degrees)
    ca, sa = math.cos(a), math.sin(a)
    return [(cx + u * ca - v * sa, cy + u * sa + v * ca) for u, v in points]


# --------------------------------------------------------------------------------------------
# The twelve entities.  Each is one big shape in its dominant colour plus a few details that
# only matter from about 16 px up.
# --------------------------------------------------------------------------------------------


def _airplane(p: _Pen) -> None:
    # Seen from above, nose up: the cross of fuselage and swept wings is the one silhouette
    # nothing else has.  Chunky wings so the blue still covers much of a 6 px cell.
    body, edge = _SKY, _edge(_SKY)
    wings = [(16, 7.5), (30.5, 15.5), (30.5, 21.5), (16, 19.5), (1.5, 21.5), (1.5, 15.5)]
    tail = [(16, 21.5), (24.5, 26.5), (24.5, 30.5), (16, 28.5), (7.5, 30.5), (7.5, 26.5)]
    hull = p.ellipse(16, 16, 3.8, 14.5)
    p.fill(p.grown(wings, 1.5) | p.grown(tail, 1.5) | p.ellipse(16, 16, 5.3, 16), edge)
    for x in (9.5, 22.5):  # engines under the wings
        p.oval(x, 17.5, 1.9, 3.2, shade(_SKY, 0.8), t=1.2)
    p.fill(p.polygon(wings) | p.polygon(tail), body)
    lead = p.polygon([(16, 9.5), (29, 16.5), (29, 17.5)]) | p.polygon(
        [(16, 9.5), (3, 16.5), (3, 17.5)])
    p.fill(lead, shade(_SKY, 1.3))  # light leading edges
    for x in (9.5, 22.5):
        p.fill(p.ellipse(x, 20, 1.6, 1.2), shade(_SKY, 0.6))  # engine exhausts
    p.fill(hull, shade(_SKY, 1.15))
    p.fill(p.ellipse(16, 6.5, 2.2, 3.2), (30, 52, 110))  # cockpit glass
    p.fill(p.ellipse(15.3, 5.8, 0.7, 1.2), (170, 210, 255))


def _mage(p: _Pen) -> None:
    # A tall pointed wizard's hat with a star over a bearded face, on robed shoulders: the hat
    # is the sign, the robe makes violet fill the cell at 6 px.
    face, beard = _SKIN, (214, 214, 226)
    p.poly([(0.5, 32), (3, 26.5), (9, 23.5), (23, 23.5), (29, 26.5), (31.5, 32)],
           _VIOLET, t=1.2)  # robe
    p.oval(16, 22, 7, 6.5, face, t=1.2)
    p.poly([(9.3, 24), (22.7, 24), (21, 28.5), (16, 31.8), (11, 28.5)], beard, t=1.2)
    for x in (13, 19):
        p.fill(p.circle(x, 22.2, 1.1), _INK)  # eyes just under the brim
    p.fill(p.ellipse(16, 24.6, 3.2, 1.3), shade(beard, 1.2))  # moustache
    cone = [(22, 0.5), (17, 3.5), (13.5, 7.5), (6.5, 16.5), (25.5, 16.5), (20, 6)]
    p.poly(cone, _VIOLET)
    p.oval(16, 16.4, 15, 3.2, _VIOLET, t=1.3)
    p.fill(p.polygon([(7.5, 14.6), (24.5, 14.6), (25.2, 16.1), (6.8, 16.1)]), _GOLD)  # band
    p.fill(p.polygon(_star(16, 10, 3.6)), _GOLD)
    p.fill(p.polygon([(18, 3.5), (14.5, 8), (16, 8.3)]), shade(_VIOLET, 1.35))  # sheen


def _dog(p: _Pen) -> None:
    # A round brown face with long dark floppy ears, a pale muzzle and a big black nose.
    ear = shade(_BROWN, 0.55)
    for cx, ang in ((5.5, 18), (26.5, -18)):
        p.oval(cx, 15.5, 4.2, 9.5, ear, t=1.2, angle=ang)
    p.oval(16, 15.5, 11.5, 11.5, _BROWN)
    p.fill(p.ellipse(16, 8.5, 4.5, 3.5), shade(_BROWN, 1.2))  # lighter forehead
    p.fill(p.ellipse(16, 22, 7, 5.6), (236, 200, 150))  # muzzle
    p.fill(p.ellipse(16, 27, 2.4, 2.6) & p.rect(0, 26, 32, 32), (232, 96, 118))  # tongue
    p.fill(p.ellipse(16, 19, 3.2, 2.3), _INK)  # nose
    p.fill(p.ellipse(15, 18.4, 1.1, 0.7), (120, 120, 130))
    p.fill(p.line(16, 20, 16, 23.5, 1.0) | p.line(16, 23.5, 13, 25, 1.0)
           | p.line(16, 23.5, 19, 25, 1.0), shade(_BROWN, 0.5))
    for x in (11, 21):
        p.fill(p.circle(x, 13, 2.0), _INK)
        p.fill(p.circle(x - 0.6, 12.4, 0.7), (255, 255, 255))


def _bird(p: _Pen) -> None:
    # A plump green songbird in profile, facing right: round head, beak, wing and tail fan.
    body = _LIME
    p.poly([(8, 16), (0.5, 11), (0.8, 18.5), (0.5, 26), (8, 23)], shade(body, 0.72),
           t=1.2)  # tail
    for x in (14, 18.5):  # legs
        p.fill(p.line(x, 25, x - 1, 30.5, 1.5) | p.line(x - 1, 30.5, x - 3.5, 31, 1.3),
               (216, 120, 30))
    p.fill(p.ellipse(15, 18.5, 12.5, 10, angle=-12) | p.circle(22, 10, 8.5), _edge(body))
    p.fill(p.ellipse(15, 18.5, 11, 8.5, angle=-12) | p.circle(22, 10, 7), body)
    p.fill(p.ellipse(17.5, 22.5, 7, 4.2, angle=-12), shade(body, 1.35))  # pale belly
    p.poly([(28, 7.5), (31.8, 10.5), (28, 13.5)], (255, 150, 20), t=0.9)  # beak
    p.outlined(p.ellipse(12, 17.5, 8, 4.8, angle=-18), p.ellipse(12, 17.5, 9, 5.8, angle=-18),
               shade(body, 0.78))  # wing
    p.fill(p.circle(24, 9, 1.8), _INK)
    p.fill(p.circle(23.4, 8.4, 0.65), (255, 255, 255))


def _fish(p: _Pen) -> None:
    # An orange goldfish in profile, facing left: oval body, forked tail, fins and a big eye.
    body, fin = _ORANGE, shade(_ORANGE, 0.8)
    p.poly([(21, 16), (31.5, 4.5), (28.5, 16), (31.5, 27.5)], fin)  # tail
    p.poly([(8, 8), (15, 2.5), (21.5, 8.5)], fin, t=1.2)  # dorsal fin
    p.poly([(11, 23), (17, 29.5), (19.5, 23)], fin, t=1.2)  # belly fin
    p.oval(14, 16, 13, 10, body)
    p.fill(p.ellipse(13, 21, 9, 4), shade(body, 1.35))  # pale belly
    gill = p.ellipse(11.5, 16, 5.5, 7.5) & ~p.ellipse(10.2, 16, 5.5, 7.7)
    p.fill(gill & p.ellipse(14, 16, 13, 10), shade(body, 0.6))
    for x in (16.5, 20.5):
        p.fill(p.ellipse(x, 15.5, 1.6, 5) & ~p.ellipse(x - 1.1, 15.5, 1.6, 5),
               shade(body, 0.7))  # scales
    p.fill(p.circle(6.5, 13.5, 3.1), (255, 255, 255))
    p.fill(p.circle(5.9, 13.7, 1.9), _INK)
    p.fill(p.line(1.5, 18.5, 4.5, 19, 1.0), shade(body, 0.5))  # mouth


def _scientist(p: _Pen) -> None:
    # The scientist's sign: a big conical lab flask bubbling with green liquid.
    glass, glass_edge = (200, 238, 214), shade(_GREEN, 0.42)
    flask = [(12, 10), (12, 3.5), (20, 3.5), (20, 10), (29.5, 26), (28, 30.5), (4, 30.5),
             (2.5, 26)]
    p.fill(p.grown(flask, 1.5) | p.rrect(9.5, 0.5, 22.5, 5, 1.5), glass_edge)
    p.fill(p.polygon(flask), glass)
    liquid = p.polygon(flask) & p.rect(0, 15, 32, 32)
    p.fill(liquid, _GREEN)
    p.fill(liquid & p.rect(0, 15, 32, 17), shade(_GREEN, 1.35))  # meniscus
    p.fill(p.rrect(10.5, 1.5, 21.5, 4, 1), glass)  # rim
    for cx, cy, r in ((12, 23, 2.0), (19, 26, 1.6), (17, 20, 1.2), (15.5, 11.5, 1.2),
                      (17, 7, 0.9)):
        p.fill(p.circle(cx, cy, r), shade(_GREEN, 1.5))  # bubbles
    p.fill(p.line(14, 5, 14, 9.5, 1.4) | p.line(13.5, 12.5, 7, 24, 1.4), (255, 255, 255))


def _thief(p: _Pen) -> None:
    # A burglar's face: black eye mask, black beanie and a stubbly sly grin.
    cap = (44, 44, 56)
    p.oval(16, 18, 13, 12.5, _SKIN, t=1.3, edge=shade(_SKIN, 0.45))
    p.fill(p.ellipse(16, 25, 9, 5.5) & p.rect(0, 22.5, 32, 32), shade(_SKIN, 0.85))  # stubble
    p.fill(p.line(11.5, 25.5, 19.5, 24.5, 1.3) | p.line(19.5, 24.5, 21, 23, 1.3),
           (120, 50, 40))  # sly grin
    p.fill(p.ellipse(16, 9, 12, 7.5) & p.rect(0, 0, 32, 9.5), cap)  # beanie crown
    p.fill(p.rrect(3, 7.5, 29, 11, 1.7), shade(cap, 1.5))  # turned-up brim
    p.fill(p.circle(16, 1.8, 2.0), shade(cap, 1.5))  # pompom
    mask = p.rrect(1.5, 13.5, 30.5, 19.5, 3) | p.polygon([(2, 15), (0, 13), (0.5, 18), (3, 18)])
    p.fill(mask, _INK)
    for x in (10, 22):
        p.fill(p.ellipse(x, 16.5, 3.2, 2.0), (255, 255, 255))
        p.fill(p.circle(x + 1, 16.7, 1.2), _INK)  # eyes glancing aside


def _ship(p: _Pen) -> None:
    # A sailing boat: deep blue hull, mast, two cream sails and a pennant.
    sail = (250, 238, 206)
    p.fill(p.rect(15, 1.5, 17, 19), (110, 70, 36))  # mast
    p.poly([(15, 6), (15, 16), (6, 16)], sail, t=1.2, edge=(120, 110, 90))  # jib
    p.poly([(17, 3), (17, 16), (27.5, 16)], sail, t=1.2, edge=(120, 110, 90))  # mainsail
    p.poly([(17, 1), (22.5, 2.7), (17, 4.4)], _RED, t=0.8)  # pennant
    # A deep hull: the blue must dominate the cell at 6 px, not the cream of the sails.
    hull = [(0.5, 17.5), (31.5, 17.5), (27, 30.5), (5, 30.5)]
    p.poly(hull, _NAVY_BLUE)
    p.fill(p.polygon(hull) & p.rect(0, 17.5, 32, 20), shade(_NAVY_BLUE, 1.45))  # gunwale
    for x in (9, 16, 23):
        p.fill(p.circle(x, 24.5, 1.6), (230, 236, 255))  # portholes


def _ball(p: _Pen) -> None:
    # A shiny red ball with curved seams; the highlight makes it a sphere, not a disc.
    p.oval(16, 16, 13.5, 13.5, _RED)
    seam = shade(_RED, 0.55)
    ball = p.circle(16, 16, 13.5)
    p.fill(ball & (p.circle(-6, 16, 19.5) & ~p.circle(-6, 16, 18.3)), seam)
    p.fill(ball & (p.circle(38, 16, 19.5) & ~p.circle(38, 16, 18.3)), seam)
    p.fill(ball & p.rect(2, 15.4, 30, 16.6), seam)
    p.fill(p.ellipse(10.5, 9.5, 4.2, 2.8, angle=-40), shade(_RED, 1.55))
    p.fill(p.circle(9.5, 9, 1.3), (255, 255, 255))


def _robot(p: _Pen) -> None:
    # A boxy teal robot head with an antenna, bolt ears, glowing eyes and a grille mouth.
    p.fill(p.line(16, 3, 16, 8, 1.6), shade(_TEAL, 0.5))
    p.oval(16, 3, 2.2, 2.2, _GOLD, t=1.0)
    for x0 in (1, 27):
        p.fill(p.rrect(x0, 12, x0 + 4, 23, 1.2), shade(_TEAL, 0.5))  # bolt ears
    p.fill(p.rrect(3, 6.5, 29, 29.5, 4.5), _edge(_TEAL))
    p.fill(p.rrect(4.5, 8, 27.5, 28, 3.5), _TEAL)
    p.fill(p.rrect(6, 9.5, 26, 11, 0.7), shade(_TEAL, 1.35))  # highlight
    for x in (11, 21):
        p.fill(p.circle(x, 16, 3.6), shade(_TEAL, 0.35))
        p.fill(p.circle(x, 16, 2.4), (235, 255, 140))  # lamp eyes
    p.fill(p.rrect(9, 21.5, 23, 26, 1.2), shade(_TEAL, 0.35))
    for x in (12, 15, 18, 21):
        p.fill(p.rect(x - 0.5, 22.5, x + 0.5, 25), shade(_TEAL, 1.3))  # grille


def _queen(p: _Pen) -> None:
    # The queen's crown: three gold points topped with pearls and a jewelled band.
    gold, edge = _GOLD, _edge(_GOLD)
    crown = [(2.5, 27), (2.5, 9), (9.5, 17), (16, 5), (22.5, 17), (29.5, 9), (29.5, 27)]
    pearls = ((2.5, 7, 2.6), (16, 3.2, 2.6), (29.5, 7, 2.6))
    p.fill(p.grown(crown, 1.5) | functools.reduce(
        operator.or_, (p.circle(x, y, r + 1.2) for x, y, r in pearls)), edge)
    p.fill(p.polygon(crown), gold)
    p.fill(p.polygon([(16, 8.5), (19.5, 15.5), (16, 19), (12.5, 15.5)]), shade(gold, 1.4))
    for x, y, r in pearls:
        p.fill(p.circle(x, y, r), (255, 250, 232))
    p.fill(p.rect(2.5, 21, 29.5, 27), shade(gold, 0.8))  # band
    p.fill(p.rect(2.5, 21, 29.5, 22.2), shade(gold, 1.3))
    for x, col in ((8.5, _RED), (16, (40, 110, 230)), (23.5, _RED)):
        p.fill(p.ellipse(x, 24.2, 2.4, 2.0), col)  # jewels
        p.fill(p.circle(x - 0.8, 23.5, 0.6), (255, 255, 255))


def _sword(p: _Pen) -> None:
    # A broadsword pointing up and to the right, corner to corner; the blade is wide so the
    # steel still covers a good part of a 6 px cell.
    cx, cy, ang = 11, 21, -45  # hilt centre and direction of the blade (screen degrees)
    blade = _turned([(1, -5.5), (21, -5.5), (27.5, 0), (21, 5.5), (1, 5.5)], cx, cy, ang)
    guard = _turned([(-2.2, -11), (2.2, -11), (2.2, 11), (-2.2, 11)], cx, cy, ang)
    grip = _turned([(-8.5, -2.3), (-2, -2.3), (-2, 2.3), (-8.5, 2.3)], cx, cy, ang)
    (px, py), = _turned([(-10, 0)], cx, cy, ang)
    steel_edge = shade(_STEEL, 0.4)
    p.fill(p.grown(blade, 1.3) | p.grown(guard, 1.3) | p.grown(grip, 1.3)
           | p.circle(px, py, 4.2), steel_edge)
    p.fill(p.polygon(grip), (126, 70, 34))  # leather grip
    p.fill(p.polygon(blade), _STEEL)
    ridge = _turned([(2, -1), (21.5, -1), (24.5, 0), (21.5, 1), (2, 1)], cx, cy, ang)
    p.fill(p.polygon(ridge), shade(_STEEL, 1.6))  # polished fuller
    shaded = _turned([(2, 2.8), (21.5, 2.8), (25.5, 0.6), (21.5, 4.4), (2, 4.4)], cx, cy, ang)
    p.fill(p.polygon(shaded), shade(_STEEL, 0.85))  # the shaded side of the blade
    p.fill(p.polygon(guard), shade(_STEEL, 0.8))
    p.fill(p.circle(px, py, 2.9), shade(_STEEL, 0.8))  # pommel


# --------------------------------------------------------------------------------------------
# The avatar: the only white figure, with a strong dark outline so it pops out of any
# neighbour; carrying the message it holds a big magenta envelope.
# --------------------------------------------------------------------------------------------


def _avatar_figure(p: _Pen) -> None:
    # A broad white bust so white fills most of the cell; the 2-unit outline keeps it crisp
    # against any neighbour and the floor.
    body = [(2.5, 32), (3.5, 22), (9, 16.5), (23, 16.5), (28.5, 22), (29.5, 32)]
    p.fill(p.grown(body, 2) | p.circle(16, 8.8, 8.6), _OUTLINE)
    p.fill(p.polygon(body), _WHITE)
    p.fill(p.circle(16, 8.8, 6.6), _WHITE)
    for x in (13.5, 18.5):
        p.fill(p.ellipse(x, 9, 1.0, 1.6), _OUTLINE)  # eyes: it is a character, not a pawn
    p.fill(p.rect(15.2, 21, 16.8, 32), shade(_WHITE, 0.8))  # a seam down the front


def _avatar(p: _Pen) -> None:
    _avatar_figure(p)


def _avatar_with_message(p: _Pen) -> None:
    _avatar_figure(p)
    # The figure holds a big magenta envelope in front of its body, so at 6 px almost half of
    # the cell turns magenta and the two avatar states cannot be confused.
    x0, y0, x1, y1 = 4, 17, 28, 31.5
    p.fill(p.rrect(x0 - 2, y0 - 2, x1 + 2, y1 + 2, 3), _OUTLINE)
    p.fill(p.rrect(x0, y0, x1, y1, 1.2), _MAGENTA)
    v = [(x0, y0), (x1, y0), ((x0 + x1) / 2, y0 + 7.5)]
    p.fill(p.grown(v, 0.8) & p.rect(x0, y0, x1, y1), shade(_MAGENTA, 0.5))
    p.fill(p.polygon(v), shade(_MAGENTA, 1.3))
    p.fill(p.circle((x0 + x1) / 2, y0 + 6, 2.0), (255, 224, 60))  # wax seal
    for x in (x0 - 0.5, x1 + 0.5):
        p.fill(p.circle(x, y0 + 7, 3.2), _OUTLINE)
        p.fill(p.circle(x, y0 + 7, 1.9), _WHITE)  # hands gripping the sides


_PAINTERS: dict[int, Callable[[_Pen], None]] = {
    2: _airplane, 3: _mage, 4: _dog, 5: _bird, 6: _fish, 7: _scientist, 8: _thief, 9: _ship,
    10: _ball, 11: _robot, 12: _queen, 13: _sword, AVATAR: _avatar,
    AVATAR_WITH_MESSAGE: _avatar_with_message,
}
assert tuple(sorted(_PAINTERS)) == tuple(sorted(DRAWN_SYMBOLS)), "a drawn symbol lacks art"

_NAMES: dict[int, str] = {**ENTITY_NAMES, AVATAR: "avatar", AVATAR_WITH_MESSAGE: "avatar+message"}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _check_size(size: object) -> int:
    if isinstance(size, bool):
        raise ValueError(f"cell size must be an integer >= {MIN_SIZE}, got {size!r}")
    try:
        n = operator.index(size)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"cell size must be an integer >= {MIN_SIZE}, got {size!r}") from None
    if n < MIN_SIZE:
        raise ValueError(f"cell size must be an integer >= {MIN_SIZE}, got {size!r}")
    return n


def _check_symbol(symbol: object) -> int:
    try:
        s = None if isinstance(symbol, bool) else operator.index(symbol)  # type: ignore[arg-type]
    except TypeError:
        s = None
    if s not in _PAINTERS:
        valid = ", ".join(f"{k} ({_NAMES[k]})" for k in DRAWN_SYMBOLS)
        raise ValueError(f"unknown Messenger symbol {symbol!r}; valid symbols: {valid}")
    return s  # type: ignore[return-value]


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.base is not None:
        arr = arr.copy()  # own the memory so nobody can write through a base array
    arr.flags.writeable = False
    return arr


@functools.lru_cache(maxsize=None)
def _sprite(symbol: int, size: int) -> np.ndarray:
    pen = _Pen(size)
    _PAINTERS[symbol](pen)
    return _frozen(pen.rgba())


def symbol_sprite(symbol: int, size: int) -> np.ndarray:
    """The sprite of ``symbol`` as a (size, size, 4) uint8 straight-alpha RGBA array.

    ``symbol`` is one of :data:`messenger_s2.entities.DRAWN_SYMBOLS` (2-13 entities, 15 the
    avatar, 16 the avatar carrying the message); ``size`` is the cell side in pixels, at least
    :data:`MIN_SIZE`.  Cached and returned read-only.  Raises ValueError for an unknown
    symbol (naming the valid ones) or a size below the minimum.
    """
    return _sprite(_check_symbol(symbol), _check_size(size))


@functools.lru_cache(maxsize=None)
def _tile(symbols: tuple[int, ...], size: int) -> np.ndarray:
    rgb = np.empty((size, size, 3), dtype=np.uint8)
    rgb[...] = BACKGROUND
    for s in symbols:
        rgb = over(rgb, _sprite(s, size))
    return _frozen(rgb)


def cell_tile(symbols: tuple[int, ...], size: int) -> np.ndarray:
    """One cell as a (size, size, 3) uint8 RGB array: the floor with ``symbols`` on it.

    The sprites are composited in the given order, later ones on top; ``()`` is an empty
    cell, uniformly :data:`BACKGROUND`.  Cached and returned read-only.  Raises ValueError
    like :func:`symbol_sprite`.
    """
    size = _check_size(size)
    return _tile(tuple(_check_symbol(s) for s in symbols), size)
