"""Pixels: the agent's 3x3 north-up view and the full map, drawn from cached tiles.

Speed comes from caching everything that can be cached: the static part of the view (floors,
walls, furniture) is built once per agent cell, and each dynamic cell (a bin, an object, the
agent) is a pre-composited tile, so rendering a step is one 12 KB copy plus a few tile pastes.

The view is drawn at 32 px per cell (96 x 96) and resampled to ``image_size`` with
nearest-neighbour, exactly the preprocessing Dynalang applied to the reference's frames.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from homegrid.layout import HEIGHT, WIDTH, base_tile, furniture_at
from homegrid.sprites import TILE, over, sprite
from homegrid.world import World
from langstream.checks import check_image_size

VIEW_CELLS = 3  # the agent sees the 3 x 3 cells centred on itself
_VIEW_PX = VIEW_CELLS * TILE
MIN_IMAGE_SIZE = VIEW_CELLS  # one pixel per view cell; the largest is langstream's shared bound


@lru_cache(maxsize=None)
def cell_tile(x: int, y: int, layers: tuple[str, ...] = ()) -> np.ndarray:
    """A 32 px RGB tile of cell (x, y): floor or wall, furniture, then ``layers`` bottom-up."""
    img = sprite(base_tile(x, y))[..., :3]
    furniture = furniture_at(x, y)
    for name in ((furniture,) if furniture else ()) + layers:
        img = over(img, sprite(name))
    img = np.ascontiguousarray(img)
    img.flags.writeable = False
    return img


def dynamic_layers(world: World, x: int, y: int) -> tuple[str, ...]:
    """Sprites drawn over cell (x, y)'s furniture: a visible bin/object, then the agent."""
    thing = world.grid[y][x]
    layers: tuple[str, ...] = ((thing.sprite,) if thing is not None and thing.hidden_for == 0
                               else ())
    if x == world.agent_x and y == world.agent_y:
        if world.carrying is not None:
            layers += (world.carrying.name,)  # carried object beneath the robot
        layers += (f"robot_{world.agent_dir}",)
    return layers


class ViewRenderer:
    """Draws the agent's view at ``image_size`` x ``image_size`` pixels.

    Use :meth:`for_size`: renderers (and their caches) are shared by every env of a size.
    """

    _shared: dict[int, "ViewRenderer"] = {}

    @classmethod
    def for_size(cls, image_size: int) -> "ViewRenderer":
        if image_size not in cls._shared:
            cls._shared[image_size] = cls(image_size)
        return cls._shared[image_size]

    def __init__(self, image_size: int):
        self.image_size = s = check_image_size(image_size, MIN_IMAGE_SIZE)
        self.shape = (s, s, 3)
        src = np.arange(s) * _VIEW_PX // s  # nearest-neighbour source pixel of each output pixel
        self._src = src
        # The output pixels that fall in view cell k, and where they sample inside its tile.
        self._slots = []
        for k in range(VIEW_CELLS):
            (where,) = np.nonzero(src // TILE == k)
            self._slots.append((int(where[0]), int(where[-1]) + 1, src[where] - k * TILE))
        self._static: list[list[np.ndarray | None]] = [[None] * WIDTH for _ in range(HEIGHT)]
        self._tiles: dict[tuple, np.ndarray] = {}

    @property
    def cell_slots(self) -> list[tuple[int, int, np.ndarray]]:
        """Per view row (or column) k: the output pixels [start, stop) it covers and, for each,
        the source pixel inside the cell's 32 px tile."""
        return self._slots

    def _static_view(self, ax: int, ay: int) -> np.ndarray:
        view = self._static[ay][ax]
        if view is None:
            full = np.concatenate([
                np.concatenate([cell_tile(ax + dx, ay + dy) for dx in (-1, 0, 1)], axis=1)
                for dy in (-1, 0, 1)])
            view = self._static[ay][ax] = np.ascontiguousarray(full[self._src][:, self._src])
        return view

    def _slot_tile(self, x: int, y: int, ky: int, kx: int, layers: tuple[str, ...]) -> np.ndarray:
        rows, cols = self._slots[ky][2], self._slots[kx][2]
        return np.ascontiguousarray(cell_tile(x, y, layers)[rows][:, cols])

    def draw(self, world: World, out: np.ndarray) -> np.ndarray:
        """Write the agent's view of ``world`` into ``out`` (shape ``self.shape``) and return it."""
        ax, ay = world.agent_x, world.agent_y
        out[...] = self._static_view(ax, ay)
        slots, tiles = self._slots, self._tiles
        for t in world.things:
            kx, ky = t.x - ax + 1, t.y - ay + 1
            if 0 <= kx < VIEW_CELLS and 0 <= ky < VIEW_CELLS and t.hidden_for == 0 \
                    and (kx != 1 or ky != 1):
                # Keyed on plain attributes: building sprite names here would cost more.
                key: tuple[Any, ...] = (t.x, t.y, ky, kx, t.name, t.state)
                tile = tiles.get(key)
                if tile is None:
                    tile = tiles[key] = self._slot_tile(t.x, t.y, ky, kx, (t.sprite,))
                r0, r1, _ = slots[ky]
                c0, c1, _ = slots[kx]
                out[r0:r1, c0:c1] = tile
        carried, under = world.carrying, world.grid[ay][ax]
        key = (ax, ay, world.agent_dir, carried.name if carried is not None else None,
               (under.name, under.state) if under is not None and under.hidden_for == 0 else None)
        tile = tiles.get(key)
        if tile is None:
            tile = tiles[key] = self._slot_tile(ax, ay, 1, 1, dynamic_layers(world, ax, ay))
        r0, r1, _ = slots[1]
        out[r0:r1, r0:r1] = tile
        return out


@lru_cache(maxsize=1)
def _static_map() -> np.ndarray:
    return np.concatenate([
        np.concatenate([cell_tile(x, y) for x in range(WIDTH)], axis=1) for y in range(HEIGHT)])


HIGHLIGHT = np.array([255, 200, 0], np.uint8)


def draw_map(world: World, highlight_view: bool = True) -> np.ndarray:
    """The whole house at 32 px per cell (384 x 448), the agent's view outlined."""
    img = _static_map().copy()
    cells = {(t.x, t.y) for t in world.things if t.x >= 0} | {(world.agent_x, world.agent_y)}
    for x, y in cells:
        layers = dynamic_layers(world, x, y)
        if layers:
            img[y * TILE:(y + 1) * TILE, x * TILE:(x + 1) * TILE] = cell_tile(x, y, layers)
    if highlight_view:
        x0, y0 = (world.agent_x - 1) * TILE, (world.agent_y - 1) * TILE
        x1, y1 = x0 + _VIEW_PX, y0 + _VIEW_PX
        w = 3  # the agent never stands on the border, so the frame stays inside the map
        img[y0:y0 + w, x0:x1] = HIGHLIGHT
        img[y1 - w:y1, x0:x1] = HIGHLIGHT
        img[y0:y1, x0:x0 + w] = HIGHLIGHT
        img[y0:y1, x1 - w:x1] = HIGHLIGHT
    return img
