"""Procedural pixel-art sprites for HomeGrid, drawn with numpy alone.

Every sprite is a ``TILE x TILE`` RGBA image painted on a :class:`langstream.canvas.Canvas`
(anti-aliased geometric primitives, straight alpha).

The art has to survive the agent's view, which shows 3x3 tiles in 64x64 pixels: a nearest
neighbour resize that drops every third row and column.  So anything that carries meaning
(outlines, burners, the robot's heading, a bin's open mouth) is at least 2 px wide, and objects
that the agent must tell apart differ in colour as well as shape.

Public API: :data:`TILE`, :data:`SPRITE_NAMES`, :func:`sprite` and :func:`over`.
Run ``python -m homegrid.sprite_sheet [out.png]`` to write a contact sheet of every sprite.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from langstream.canvas import Canvas, Colour, over, shade

__all__ = ["SPRITE_NAMES", "TILE", "over", "sprite"]

TILE: int = 32

# --------------------------------------------------------------------------------------------
# Floors and walls (opaque)
# --------------------------------------------------------------------------------------------


def _floor_tile() -> np.ndarray:
    # Four 16 px ceramic tiles with 1 px of grout on each side, so neighbouring sprites meet
    # in a 2 px grout line just like the internal ones.
    c = Canvas(TILE, TILE)
    c.fill(c.rect(0, 0, TILE, TILE), (186, 190, 192))
    for i, (x, y) in enumerate(((0, 0), (16, 0), (0, 16), (16, 16))):
        face = (232, 234, 230) if i in (0, 3) else (220, 226, 228)
        c.fill(c.rect(x + 1, y + 1, x + 15, y + 15), face)
        c.fill(c.rect(x + 1, y + 1, x + 15, y + 2), shade(face, 1.35))
    return c.rgba()


def _floor_carpet() -> np.ndarray:
    c = Canvas(TILE, TILE)
    base = (206, 160, 148)
    c.fill(c.rect(0, 0, TILE, TILE), base)
    # A lattice of small diamonds with period 8 so the pattern tiles seamlessly.
    for gy in range(4):
        for gx in range(4):
            cx, cy = gx * 8 + 4, gy * 8 + 4
            c.fill(c.polygon([(cx, cy - 2.5), (cx + 2.5, cy), (cx, cy + 2.5), (cx - 2.5, cy)]),
                   shade(base, 0.92))
            c.fill(c.rect(gx * 8, gy * 8, gx * 8 + 1, gy * 8 + 1), shade(base, 1.12))
    return c.rgba()


def _floor_wood() -> np.ndarray:
    c = Canvas(TILE, TILE)
    seam = (142, 98, 60)
    c.fill(c.rect(0, 0, TILE, TILE), seam)
    planks = ((196, 144, 92), (184, 132, 84), (200, 150, 98), (188, 137, 88))
    joints = (21, 7, 27, 13)  # staggered butt joints, like a real plank floor
    for i, (face, jx) in enumerate(zip(planks, joints)):
        y0 = i * 8
        c.fill(c.rect(0, y0, TILE, y0 + 7), face)
        c.fill(c.rect(0, y0 + 3, TILE, y0 + 4), shade(face, 0.95))  # faint grain
        c.fill(c.rect(jx, y0, jx + 1, y0 + 7), seam)
    return c.rgba()


def _wall() -> np.ndarray:
    c = Canvas(TILE, TILE)
    mortar = (86, 86, 86)
    c.fill(c.rect(0, 0, TILE, TILE), mortar)
    for row in range(4):
        y0 = row * 8
        offset = 0 if row % 2 == 0 else -8
        for k in range(3):
            x0 = offset + k * 16
            c.fill(c.rect(x0 + 1, y0 + 1, x0 + 15, y0 + 7), (104, 104, 104))
            c.fill(c.rect(x0 + 1, y0 + 1, x0 + 15, y0 + 2), (114, 114, 114))
    return c.rgba()


def _outside() -> np.ndarray:
    c = Canvas(TILE, TILE)
    c.fill(c.rect(0, 0, TILE, TILE), (255, 255, 255))
    return c.rgba()


# --------------------------------------------------------------------------------------------
# Furniture (transparent background).  Mostly a 3/4 view: top surface plus a front face.
# --------------------------------------------------------------------------------------------

_LEAF, _LEAF_LIGHT, _LEAF_EDGE = (58, 140, 64), (104, 184, 82), (28, 84, 40)
_POT, _POT_EDGE = (198, 104, 60), (122, 58, 32)


def _plant() -> np.ndarray:
    c = Canvas(TILE, TILE)
    # Back leaves are darker than front ones so the fan reads as having depth.
    for ang, ln, col in ((-58, 10, _LEAF), (58, 10, _LEAF), (-28, 12, _LEAF), (28, 12, _LEAF),
                         (0, 13, _LEAF_LIGHT), (-80, 8, _LEAF_LIGHT), (80, 8, _LEAF_LIGHT)):
        s = math.sin(math.radians(ang))
        co = math.cos(math.radians(ang))
        cx, cy = 16 + s * ln * 0.62, 18 - co * ln * 0.62
        c.disc(cx, cy, 3.6, ln * 0.62, col, _LEAF_EDGE, t=1.5, angle=ang)
    c.fill(c.polygon([(8.5, 20), (23.5, 20), (21.5, 31), (10.5, 31)]), _POT_EDGE)
    c.fill(c.polygon([(10.5, 21), (21.5, 21), (19.8, 29), (12.2, 29)]), _POT)
    c.fill(c.rect(12, 23, 14, 28), shade(_POT, 1.25))
    c.boxed(7, 18, 25, 23, 1.5, shade(_POT, 1.12), _POT_EDGE)
    return c.rgba()


_SOFA, _SOFA_DARK, _SOFA_LIGHT = (124, 88, 172), (96, 64, 140), (156, 122, 202)
_SOFA_EDGE = (58, 38, 92)


def _sofa() -> np.ndarray:
    # Seen from above, backrest against the top wall, seat facing down into the room.
    c = Canvas(TILE, TILE)
    c.boxed(1, 3, 31, 30, 4, _SOFA_DARK, _SOFA_EDGE)
    c.boxed(1, 3, 31, 12, 4, _SOFA, _SOFA_EDGE)  # backrest
    for x0 in (6, 16):
        c.boxed(x0, 11, x0 + 10, 28, 2.5, _SOFA_LIGHT, _SOFA_EDGE)  # seat cushions
    for x0 in (1, 25):
        c.boxed(x0, 8, x0 + 6, 30, 3, _SOFA, _SOFA_EDGE)  # armrests
    return c.rgba()


def _sofa_side() -> np.ndarray:
    # The L-shaped sofa's other leg runs down the left wall: the same piece turned so its
    # backrest is on the left and it faces right into the room.
    return np.rot90(_sofa(), 1)


_WALNUT, _WALNUT_EDGE = (112, 72, 44), (62, 38, 22)


def _coffee_table() -> np.ndarray:
    # A low table in the same 3/4 view as the cabinet: wide top, a shallow front apron and
    # stubby legs.  Opaque wood (no glass) so it cannot be mistaken for a screen.
    c = Canvas(TILE, TILE)
    for x in (4, 24):
        c.boxed(x, 20, x + 4, 29, 1, shade(_WALNUT, 0.8), _WALNUT_EDGE, t=1.5)  # legs
    c.boxed(1, 7, 31, 24, 2.5, shade(_WALNUT, 0.85), _WALNUT_EDGE)  # apron
    c.boxed(1, 7, 31, 20, 2.5, (156, 104, 64), _WALNUT_EDGE)  # top
    for y, x0, x1 in ((10.5, 6, 18), (14.5, 12, 27)):
        c.fill(c.rect(x0, y, x1, y + 1.5), _WALNUT)  # grain
    return c.rgba()


_CABINET, _CABINET_EDGE, _BRASS = (176, 112, 56), (96, 56, 26), (240, 200, 90)


def _cabinet() -> np.ndarray:
    # A chest of drawers: three wide drawers and brass knobs set it apart from the two-door
    # kitchen cupboard.
    c = Canvas(TILE, TILE)
    c.boxed(3, 2, 29, 31, 2, _CABINET, _CABINET_EDGE)
    c.fill(c.rect(5, 4, 27, 8), shade(_CABINET, 1.25))  # top surface catching the light
    for y0 in (9, 16, 23):
        c.boxed(6, y0, 26, y0 + 6, 1, shade(_CABINET, 0.9), _CABINET_EDGE, t=1.5)
        c.fill(c.circle(16, y0 + 3, 1.8), _BRASS)
    return c.rgba()


_CUPBOARD, _CUPBOARD_EDGE = (232, 204, 120), (134, 102, 40)


def _cupboard() -> np.ndarray:
    # Kitchen cupboards stand side by side, so they fill the full width and meet neighbours.
    c = Canvas(TILE, TILE)
    c.boxed(0, 2, 32, 31, 1.5, _CUPBOARD, _CUPBOARD_EDGE)
    c.fill(c.rect(2, 4, 30, 9), shade(_CUPBOARD, 1.3))  # worktop seen from above
    c.fill(c.rect(2, 9, 30, 11), _CUPBOARD_EDGE)
    for x0 in (3, 17):
        c.boxed(x0, 12, x0 + 12, 29, 1, shade(_CUPBOARD, 0.93), _CUPBOARD_EDGE, t=1.5)
    for x in (12, 18):
        c.fill(c.rrect(x, 16, x + 2, 23, 1), (110, 70, 30))  # door handles
    return c.rgba()


_ENAMEL, _STEEL_EDGE, _BURNER = (238, 238, 234), (84, 86, 94), (46, 46, 52)


def _stove() -> np.ndarray:
    c = Canvas(TILE, TILE)
    c.boxed(0, 1, 32, 31, 1.5, _ENAMEL, _STEEL_EDGE)
    # Four burners: dark plates with a grey ring so they read as hobs, not holes.
    for cx in (9, 23):
        for cy in (7.5, 17):
            c.fill(c.circle(cx, cy, 4.6), _BURNER)
            c.fill(c.circle(cx, cy, 3.0) & ~c.circle(cx, cy, 1.6), (132, 132, 140))
    c.fill(c.rect(2, 23, 30, 25), _STEEL_EDGE)
    for cx in (7, 13, 19, 25):
        c.fill(c.circle(cx, 27.5, 1.7), (60, 60, 66))  # control knobs
    return c.rgba()


_FRIDGE, _FRIDGE_EDGE = (186, 204, 222), (62, 76, 96)


def _fridge() -> np.ndarray:
    c = Canvas(TILE, TILE)
    c.boxed(2, 0, 30, 31, 2.5, _FRIDGE, _FRIDGE_EDGE)
    c.fill(c.rect(4, 2, 28, 5), shade(_FRIDGE, 1.35))
    c.fill(c.rect(2, 11, 30, 13), _FRIDGE_EDGE)  # freezer / fridge door split
    c.fill(c.rrect(22, 5, 25, 10, 1), _FRIDGE_EDGE)
    c.fill(c.rrect(22, 15, 25, 25, 1), _FRIDGE_EDGE)
    c.fill(c.rect(6, 15, 8, 28), shade(_FRIDGE, 1.3))  # brushed-steel sheen
    return c.rgba()


_GRANITE, _GRANITE_EDGE = (78, 94, 116), (40, 48, 62)


def _countertop() -> np.ndarray:
    # Counters run along the kitchen's bottom wall: the room sees the top and the front lip on
    # the upper edge; the strip at the bottom is the backsplash.  Full width so a row joins up.
    c = Canvas(TILE, TILE)
    c.fill(c.rect(0, 3, 32, 30), _GRANITE_EDGE)
    c.fill(c.rect(0, 5, 32, 24), _GRANITE)
    c.fill(c.rect(0, 5, 32, 7), shade(_GRANITE, 1.35))  # rounded front lip
    rng = np.random.default_rng(7)  # fixed seed: speckles are texture, not randomness
    for x, y in rng.uniform((1, 8), (31, 23), size=(14, 2)):
        c.fill(c.circle(x, y, 0.9), shade(_GRANITE, 1.5))
    c.fill(c.rect(0, 25, 32, 30), (214, 206, 190))  # backsplash tiles
    for x in (0, 8, 16, 24):
        c.fill(c.rect(x, 25, x + 1, 30), (170, 162, 148))
    return c.rgba()


_CHAIR_WOOD, _CHAIR_EDGE, _CUSHION = (150, 92, 52), (78, 44, 20), (64, 150, 124)


def _chair_left() -> np.ndarray:
    # Stands left of the table and faces right, so its backrest is on the left.
    c = Canvas(TILE, TILE)
    c.boxed(6, 6, 27, 26, 3, _CHAIR_WOOD, _CHAIR_EDGE)
    c.fill(c.rrect(10, 9, 24, 23, 3), _CUSHION)
    c.fill(c.rrect(12, 11, 22, 14, 1.5), shade(_CUSHION, 1.3))
    c.boxed(3, 3, 10, 29, 2.5, shade(_CHAIR_WOOD, 0.85), _CHAIR_EDGE)  # backrest
    return c.rgba()


def _chair_right() -> np.ndarray:
    return np.ascontiguousarray(_chair_left()[:, ::-1])


_TABLE, _TABLE_EDGE = (132, 78, 46), (70, 38, 18)


def _table() -> np.ndarray:
    # The dining table is two tiles tall; each tile spans the full height so they join.
    c = Canvas(TILE, TILE)
    c.fill(c.rect(1, 0, 31, 32), _TABLE_EDGE)
    c.fill(c.rect(3, 0, 29, 32), _TABLE)
    for x in (11, 20):
        c.fill(c.rect(x, 0, x + 1, 32), shade(_TABLE, 0.8))  # plank seams
    c.fill(c.rect(4, 0, 6, 32), shade(_TABLE, 1.2))
    return c.rgba()


_RUG, _RUG_EDGE, _RUG_GOLD = (38, 112, 124), (22, 64, 74), (222, 178, 74)
_RUG_CREAM, _RUG_RED = (236, 218, 170), (176, 66, 58)


@functools.lru_cache(maxsize=None)
def _rug() -> np.ndarray:
    # Drawn once on a two-tile canvas and cut in half, so the pattern crosses the seam.
    c = Canvas(TILE, 2 * TILE)
    for y in range(6, 27, 3):
        c.fill(c.rect(0, y, 4, y + 1.5), _RUG_CREAM)  # fringe
        c.fill(c.rect(60, y, 64, y + 1.5), _RUG_CREAM)
    c.boxed(3, 4, 61, 28, 1.5, _RUG_GOLD, _RUG_EDGE)
    c.fill(c.rect(7, 8, 57, 24), _RUG_EDGE)
    c.fill(c.rect(8, 9, 56, 23), _RUG)
    c.fill(c.polygon([(32, 9.5), (45, 16), (32, 22.5), (19, 16)]), _RUG_CREAM)
    c.fill(c.polygon([(32, 12), (40, 16), (32, 20), (24, 16)]), _RUG_RED)
    for x in (13, 51):
        c.fill(c.polygon([(x, 12.5), (x + 3.5, 16), (x, 19.5), (x - 3.5, 16)]), _RUG_GOLD)
    return c.rgba()


def _rug_left() -> np.ndarray:
    return np.ascontiguousarray(_rug()[:, :TILE])


def _rug_right() -> np.ndarray:
    return np.ascontiguousarray(_rug()[:, TILE:])


# --------------------------------------------------------------------------------------------
# Trash objects: smaller than a tile, each with its own silhouette and hue.
# --------------------------------------------------------------------------------------------


def _bottle() -> np.ndarray:
    c = Canvas(TILE, TILE)
    glass, edge = (84, 190, 222), (24, 92, 130)
    body = c.rrect(10, 13, 22, 30, 3) | c.polygon([(10, 15), (14, 8), (18, 8), (22, 15)])
    neck = c.rect(13.5, 4, 18.5, 10)
    c.fill(body | neck, edge)
    inner = c.rrect(12, 15, 20, 28, 2) | c.polygon([(12, 15.5), (15.5, 10), (16.5, 10),
                                                      (20, 15.5)]) | c.rect(15.5, 6, 16.5, 10)
    c.fill(inner, glass)
    c.fill(c.rect(12, 19, 20, 24), (244, 244, 236))  # label
    c.fill(c.rect(13, 15, 15, 19) | c.rect(13, 24, 15, 27), (196, 238, 250))  # glint
    c.fill(c.rrect(13, 1.5, 19, 5.5, 1), (36, 52, 110))  # cap
    return c.rgba()


def _fruit() -> np.ndarray:
    # A banana: a fat crescent is the one silhouette no other object here has.  It is the
    # difference of two equal circles, the second shifted along a tilted axis, so the tips
    # point up and to the sides and the banana sits slightly askew.
    c = Canvas(TILE, TILE)
    yellow, edge, light = (252, 214, 56), (140, 96, 16), (255, 240, 150)
    ux, uy = math.sin(math.radians(-20)), -math.cos(math.radians(-20))  # opening direction
    r, shift = 12.5, 7.5
    ox, oy = 16 + ux * 4.5, 16.5 + uy * 4.5
    ix, iy = ox + ux * shift, oy + uy * shift
    c.fill(c.circle(ox, oy, r) & ~c.circle(ix, iy, r), edge)
    c.fill(c.circle(ox, oy, r - 2) & ~c.circle(ix, iy, r + 2), yellow)
    c.fill(c.circle(ox, oy, r - 4.5) & ~c.circle(ix, iy, r + 3), light)
    return c.rgba()


def _papers() -> np.ndarray:
    c = Canvas(TILE, TILE)
    sheet, edge, ink = (250, 250, 246), (104, 108, 124), (120, 148, 206)

    def page(cx: float, cy: float, ang: float, w: float = 8.5, h: float = 10.5) -> list:
        a = math.radians(ang)
        ca, sa = math.cos(a), math.sin(a)
        return [(cx + x * ca - y * sa, cy + x * sa + y * ca)
                for x, y in ((-w, -h), (w, -h), (w, h), (-w, h))]

    for ang, dx in ((-16, -1.5), (10, 1.5)):
        c.fill(c.polygon(page(16 + dx, 16.5, ang)), edge)
        c.fill(c.polygon(page(16 + dx, 16.5, ang, 6.8, 8.8)), (222, 222, 214))
    c.fill(c.polygon(page(16, 16, 0)), edge)
    c.fill(c.polygon(page(16, 16, 0, 6.5, 8.5)), sheet)
    for y in (10, 14, 18, 22):
        c.fill(c.rect(11, y, 21 if y != 22 else 17, y + 2), ink)  # lines of text
    return c.rgba()


def _plates() -> np.ndarray:
    # A stack seen from slightly above: the lower plates peek out as rims below the top one.
    c = Canvas(TILE, TILE)
    white, rim, edge = (244, 246, 252), (80, 122, 200), (40, 62, 120)
    for dy in (6, 3):
        c.disc(16, 13 + dy, 13, 9, shade(rim, 1.2), edge, t=1.5)
    c.disc(16, 13, 13, 9, rim, edge, t=1.5)
    c.fill(c.ellipse(16, 13, 9.5, 6.2), white)
    c.fill(c.ellipse(16, 13, 7, 4.4) & ~c.ellipse(16, 13, 5.5, 3.2), (206, 216, 236))
    return c.rgba()


# --------------------------------------------------------------------------------------------
# Bins: side view, three colours x (open, closed, broken = closed knocked over).
# --------------------------------------------------------------------------------------------

_BIN_STYLE: dict[str, dict[str, Colour]] = {
    "recycling": dict(body=(40, 104, 214), edge=(18, 44, 110), rim=(110, 164, 240),
                      mark=(236, 244, 255)),
    # Black bin: a very dark body would vanish on dark floors, hence the pale rim and lid edge.
    "trash": dict(body=(44, 44, 50), edge=(14, 14, 16), rim=(150, 150, 158),
                  mark=(96, 96, 104)),
    "compost": dict(body=(52, 150, 62), edge=(20, 72, 28), rim=(128, 206, 112),
                    mark=(226, 246, 200)),
}
_MOUTH = (18, 16, 14)


def _bin_body(c: Canvas, kind: str, st: dict[str, Colour]) -> None:
    c.fill(c.polygon([(6, 12), (26, 12), (24, 31), (8, 31)]), st["edge"])
    c.fill(c.polygon([(8, 13), (24, 13), (22.3, 29), (9.7, 29)]), st["body"])
    for x in (11.5, 19.5):  # moulded ribs
        c.fill(c.rect(x, 17, x + 1, 28), shade(st["body"], 0.8))
    mark = st["mark"]
    if kind == "recycling":
        tri = [(16, 15.5), (21, 24.5), (11, 24.5)]
        inner = [(16, 19), (18, 22.6), (14, 22.6)]
        c.fill(c.polygon(tri) & ~c.polygon(inner), mark)
    elif kind == "compost":
        c.fill(c.ellipse(16, 20.5, 2.8, 5, angle=35), mark)
        c.fill(c.line(16, 20.5, 13, 25, 1.2), shade(st["body"], 0.7))
    else:
        c.fill(c.rect(11, 19, 21, 21) | c.rect(11, 23, 21, 25), mark)  # vents


def _bin_closed(kind: str) -> np.ndarray:
    st = _BIN_STYLE[kind]
    c = Canvas(TILE, TILE)
    _bin_body(c, kind, st)
    c.boxed(4, 7, 28, 13.5, 2, st["rim"], st["edge"])  # lid
    c.boxed(12, 3.5, 20, 8.5, 1.5, st["rim"], st["edge"])  # handle
    return c.rgba()


def _bin_open(kind: str) -> np.ndarray:
    st = _BIN_STYLE[kind]
    c = Canvas(TILE, TILE)
    # Lid flipped up behind the bin; its underside is darker than the outside.
    c.fill(c.polygon([(9, 0.5), (27, 2.5), (26, 12), (8, 11)]), st["edge"])
    c.fill(c.polygon([(11, 2.5), (25, 4.2), (24.2, 10.5), (10.2, 9.5)]), shade(st["body"], 0.7))
    _bin_body(c, kind, st)
    # The opening: a pale rim around a near-black mouth, visible even on the black bin.
    c.fill(c.ellipse(16, 12.5, 11, 4), st["edge"])
    c.fill(c.ellipse(16, 12.5, 9.5, 3), st["rim"])
    c.fill(c.ellipse(16, 12.8, 7.5, 2.2), _MOUTH)
    return c.rgba()


# --------------------------------------------------------------------------------------------
# Robot
# --------------------------------------------------------------------------------------------

_HEADING = (255, 0, 0)


def _robot_right() -> np.ndarray:
    # Symmetric about the horizontal mid-line, so the other facings are exact rotations.  The
    # body stays inside a 4 px margin so a carried object beneath it peeks out at the corners.
    c = Canvas(TILE, TILE)
    body, edge, tread = (226, 230, 238), (44, 54, 80), (58, 62, 74)
    for y0 in (4, 23):
        c.boxed(9, y0, 23, y0 + 5, 2, (120, 126, 140), tread, t=1.5)  # wheels
    c.disc(16, 16, 10.5, 10.5, body, edge)
    c.fill(c.circle(16, 16, 6.8) & ~c.circle(16, 16, 5.2), (150, 180, 220))  # head plate
    c.fill(c.circle(9.5, 16, 1.8), (96, 200, 236))  # status light at the back
    c.fill(c.polygon([(26.5, 16), (15, 9), (15, 23)]), _HEADING)
    return c.rgba()


# --------------------------------------------------------------------------------------------
# Registry and public API
# --------------------------------------------------------------------------------------------

def _bin_broken(kind: str) -> np.ndarray:
    """Knocked over: the closed bin turned 90 degrees counter-clockwise, lid to the left."""
    return np.rot90(_bin_closed(kind), 1)


_BUILDERS: dict[str, Callable[[], np.ndarray]] = {
    "floor_tile": _floor_tile,
    "floor_carpet": _floor_carpet,
    "floor_wood": _floor_wood,
    "wall": _wall,
    "outside": _outside,
    "plant": _plant,
    "sofa": _sofa,
    "coffee_table": _coffee_table,
    "cabinet": _cabinet,
    "sofa_side": _sofa_side,
    "rug_left": _rug_left,
    "rug_right": _rug_right,
    "cupboard": _cupboard,
    "stove": _stove,
    "fridge": _fridge,
    "countertop": _countertop,
    "chair_left": _chair_left,
    "chair_right": _chair_right,
    "table": _table,
    "bottle": _bottle,
    "fruit": _fruit,
    "papers": _papers,
    "plates": _plates,
}
for _kind in ("recycling", "trash", "compost"):
    _BUILDERS[f"{_kind}_bin_open"] = functools.partial(_bin_open, _kind)
    _BUILDERS[f"{_kind}_bin_closed"] = functools.partial(_bin_closed, _kind)
    _BUILDERS[f"{_kind}_bin_broken"] = functools.partial(_bin_broken, _kind)
del _kind
# np.rot90 turns counter-clockwise on screen, so right -> up -> left -> down.
_BUILDERS["robot_0"] = _robot_right
_BUILDERS["robot_1"] = lambda: np.rot90(_robot_right(), -1)
_BUILDERS["robot_2"] = lambda: np.rot90(_robot_right(), 2)
_BUILDERS["robot_3"] = lambda: np.rot90(_robot_right(), 1)

SPRITE_NAMES: tuple[str, ...] = tuple(_BUILDERS)


@functools.lru_cache(maxsize=None)
def sprite(name: str) -> np.ndarray:
    """uint8 RGBA array of shape (TILE, TILE, 4), straight (non-premultiplied) alpha.

    Cached and returned read-only.  Raises ValueError naming the valid names for an unknown
    name.
    """
    try:
        build = _BUILDERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown sprite {name!r}; valid names: {', '.join(SPRITE_NAMES)}") from None
    arr = np.ascontiguousarray(build(), dtype=np.uint8)
    if arr.base is not None:
        arr = arr.copy()  # own the memory so nobody can write through a base array
    arr.flags.writeable = False
    return arr
