"""Symbols: the agent's 3 x 3 view as multi-hot channels per cell (the ``grid`` observation).

The grid shows the cells that the ``image`` shows (north-up, the agent in the centre cell), and
each cell holds the same things as the image, as 0/1 channels instead of pixels:

========  =================================================================================
indices   channels (:data:`GRID_CHANNELS`)
========  =================================================================================
0         ``wall``: a ``#`` cell, or anything past the map edge
1-3       the room whose floor the cell shows: ``kitchen``, ``living room``, ``dining room``
          (furniture stands on its room's floor, so a furniture cell has a room channel too)
4-17      furniture, one channel per kind of :data:`homegrid.layout.FURNITURE`
18-21     trash lying visible on the cell: ``bottle``, ``fruit``, ``papers``, ``plates``
22-24     a bin on the cell: ``recycling bin``, ``trash bin``, ``compost bin`` ...
25-27     ... and its state: ``bin open``, ``bin closed``, ``bin broken``
28-31     centre cell only, the agent's heading: ``agent facing right/down/left/up``
          (index ``28 + World.agent_dir``, the order of :data:`homegrid.world.DIR_VEC`)
32-35     centre cell only, what the agent carries: ``carrying bottle/fruit/papers/plates``
========  =================================================================================

Nothing the image does not show is in the grid: objects still hidden after a spawn, objects
inside bins, and how a bin opens are absent.  The map's ``outside`` never comes into view from
a walkable cell (checked when this module loads), so it has no channel.

Speed: the static channels (walls, floors, furniture) are computed once for the whole map and
cut into one contiguous 3 x 3 window per agent cell; drawing a step copies that window and sets
a handful of dynamic bits, about a microsecond in all.
"""

from __future__ import annotations

import numpy as np

from homegrid.layout import (
    BINS,
    FURNITURE,
    HEIGHT,
    ROOM_FLOOR,
    ROOMS,
    TRASH,
    WALKABLE,
    WIDTH,
    base_tile,
    furniture_at,
)
from homegrid.render import VIEW_CELLS
from homegrid.world import BROKEN, CLOSED, OPEN, World

#: Furniture kinds in the order of first appearance in ``FURNITURE`` (one sprite per kind).
FURNITURE_KINDS: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in FURNITURE.values()))
BIN_STATES: tuple[str, ...] = (OPEN, CLOSED, BROKEN)
#: Heading names indexed by ``World.agent_dir``.
HEADINGS: tuple[str, ...] = ("right", "down", "left", "up")

#: Channel names; channel ``i`` of a grid cell is 1 when ``GRID_CHANNELS[i]`` is there.
GRID_CHANNELS: tuple[str, ...] = (
    ("wall",) + ROOMS + FURNITURE_KINDS + TRASH + BINS
    + tuple(f"bin {state}" for state in BIN_STATES)
    + tuple(f"agent facing {heading}" for heading in HEADINGS)
    + tuple(f"carrying {name}" for name in TRASH)
)
#: Channel index of each name in :data:`GRID_CHANNELS`.
CHANNEL: dict[str, int] = {name: i for i, name in enumerate(GRID_CHANNELS)}
NUM_CHANNELS: int = len(GRID_CHANNELS)
GRID_SHAPE: tuple[int, int, int] = (VIEW_CELLS, VIEW_CELLS, NUM_CHANNELS)

WALL: int = CHANNEL["wall"]
#: First heading channel; the agent's is ``HEADING + World.agent_dir``.
HEADING: int = CHANNEL["agent facing right"]
#: Channel of a thing's name: trash kinds and bin kinds.
THING_CHANNEL: dict[str, int] = {name: CHANNEL[name] for name in TRASH + BINS}
#: Channel of a bin's state.
STATE_CHANNEL: dict[str, int] = {state: CHANNEL[f"bin {state}"] for state in BIN_STATES}
#: Channel of the object the agent carries.
CARRY_CHANNEL: dict[str, int] = {name: CHANNEL[f"carrying {name}"] for name in TRASH}
_FLOOR_CHANNEL = {floor: CHANNEL[room] for floor, room in zip(ROOM_FLOOR, ROOMS)}
_CENTRE = VIEW_CELLS // 2  # view index of the agent's cell


def _static_cell(x: int, y: int) -> np.ndarray:
    """Channels of what the image draws on cell (x, y) before any bin, object or agent."""
    cell = np.zeros(NUM_CHANNELS, np.uint8)
    # Read through the renderer's own layout helpers, so that grid and image cannot disagree.
    base = base_tile(x, y)
    if base == "wall":
        cell[WALL] = 1
    elif base in _FLOOR_CHANNEL:
        cell[_FLOOR_CHANNEL[base]] = 1
    furniture = furniture_at(x, y)
    if furniture is not None:
        cell[CHANNEL[furniture]] = 1
    return cell


def static_map() -> np.ndarray:
    """Static channels of the whole map padded by one ring of wall: ``(HEIGHT+2, WIDTH+2, C)``.

    Map cell (x, y) is at ``[y + 1, x + 1]``, so the view of an agent at (x, y) is
    ``[y:y + 3, x:x + 3]``.
    """
    return np.stack([np.stack([_static_cell(x, y) for x in range(-1, WIDTH + 1)])
                     for y in range(-1, HEIGHT + 1)])


def _outside_in_view() -> list[tuple[int, int]]:
    """Cells outside the house that some walkable cell's view reaches (none in this map)."""
    r = _CENTRE
    return sorted({(x + dx, y + dy) for y in range(HEIGHT) for x in range(WIDTH) if WALKABLE[y][x]
                   for dy in range(-r, r + 1) for dx in range(-r, r + 1)
                   if base_tile(x + dx, y + dy) == "outside"})


def _static_windows() -> list[list[np.ndarray]]:
    """``windows[y][x]``: the static 3 x 3 view of an agent at (x, y), contiguous and read-only.

    Copying a contiguous window costs a third of slicing the padded map on every step.
    """
    outside = _outside_in_view()
    if outside:  # the grid would show nothing where the image shows outside
        raise RuntimeError(f"outside cells {outside} come into view: add an outside channel")
    padded = static_map()
    windows = []
    for y in range(HEIGHT):
        row = []
        for x in range(WIDTH):
            window = np.ascontiguousarray(padded[y:y + VIEW_CELLS, x:x + VIEW_CELLS])
            window.flags.writeable = False
            row.append(window)
        windows.append(row)
    return windows


_WINDOWS = _static_windows()


def draw_grid(world: World, out: np.ndarray) -> np.ndarray:
    """Write the agent's view of ``world`` as symbols into ``out`` (``GRID_SHAPE``); return it."""
    ax, ay = world.agent_x, world.agent_y
    out[...] = _WINDOWS[ay][ax]
    for t in world.things:
        # Carried and binned things have x = y = -1, which always falls outside the view.
        kx, ky = t.x - ax + _CENTRE, t.y - ay + _CENTRE
        if 0 <= kx < VIEW_CELLS and 0 <= ky < VIEW_CELLS and t.hidden_for == 0:
            out[ky, kx, THING_CHANNEL[t.name]] = 1
            if t.is_bin:
                out[ky, kx, STATE_CHANNEL[t.state]] = 1
    out[_CENTRE, _CENTRE, HEADING + world.agent_dir] = 1
    if world.carrying is not None:
        out[_CENTRE, _CENTRE, CARRY_CHANNEL[world.carrying.name]] = 1
    return out


def describe_grid(grid: np.ndarray) -> list[list[list[str]]]:
    """The channel names set in each cell, ``[row][col]`` (for debugging and tests)."""
    return [[[GRID_CHANNELS[c] for c in np.flatnonzero(cell)] for cell in row] for row in grid]
