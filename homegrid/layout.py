"""The fixed HomeGrid house: walls, rooms, furniture and the cells where things may be placed.

Coordinates are (x, y) with x to the right and y downward, as in MiniGrid.  Everything here is a
constant derived once from the map below; nothing in this module changes during an episode.
"""

from __future__ import annotations

WIDTH, HEIGHT = 14, 12

# Legend: " " outside the house, "#" wall, "." floor (room from ROOM_OF below), other letters are
# furniture (FURNITURE).  Every furniture cell is impassable.
MAP = (
    "      ########",
    "      #PSCS.B#",
    "      #s.....#",
    "      #s.[]..#",
    "      #......#",
    "########.....#",
    "#UUOOUF#.....#",
    "#............#",
    "#........htH.#",
    "#........htH.#",
    "#TTTTTT#.....#",
    "##############",
)

# Furniture letter -> (sprite name, can hold objects?).  Objects may be dropped on surfaces.
FURNITURE = {
    "P": ("plant", False),
    "S": ("sofa", True),
    "C": ("coffee_table", True),
    "B": ("cabinet", False),
    "s": ("sofa_side", True),
    "[": ("rug_left", True),
    "]": ("rug_right", True),
    "U": ("cupboard", True),
    "O": ("stove", True),
    "F": ("fridge", False),
    "T": ("countertop", True),
    "h": ("chair_left", True),
    "H": ("chair_right", True),
    "t": ("table", True),
}

ROOMS = ("kitchen", "living room", "dining room")
KITCHEN, LIVING, DINING = 0, 1, 2
ROOM_FLOOR = ("floor_tile", "floor_carpet", "floor_wood")

TRASH = ("bottle", "fruit", "papers", "plates")
BINS = ("recycling bin", "trash bin", "compost bin")
BIN_ACTIONS = ("pedal", "grasp", "lift")

# Placement cells of the reference.
OBJECT_CELLS = (
    (9, 1), (8, 2), (12, 2), (7, 4),  # living room: coffee table and floor
    (2, 6), (5, 6), (2, 10), (3, 10),  # kitchen: cupboards and countertop
    (10, 8), (10, 9),  # dining room: table
)
BIN_CELLS = ((11, 1), (1, 9), (12, 10))
_REFERENCE_AGENT_STARTS = (
    [(x, y) for y in range(2, 6) for x in range(8, 13)]
    + [(x, y) for y in (6, 7, 10) for x in range(8, 13)]
    + [(x, y) for y in (8, 9) for x in (8, 12)]
    + [(x, y) for y in range(7, 10) for x in range(1, 8)]
)


def _room_at(x: int, y: int) -> int | None:
    if 7 <= x <= 12 and 1 <= y <= 4 or 8 <= x <= 12 and y == 5:
        return LIVING
    if 8 <= x <= 12 and 6 <= y <= 10:
        return DINING
    if 1 <= x <= 6 and 6 <= y <= 10 or x == 7 and 7 <= y <= 9:
        return KITCHEN
    return None



#: ROOM_OF[y][x]: room index of a cell, or None for walls and outside.
ROOM_OF: tuple[tuple[int | None, ...], ...] = tuple(
    tuple(_room_at(x, y) if MAP[y][x] not in "# " else None for x in range(WIDTH))
    for y in range(HEIGHT)
)
#: ROOM_NAME[y][x]: the room's name as spoken ("living room"), or None.
ROOM_NAME: tuple[tuple[str | None, ...], ...] = tuple(
    tuple(ROOMS[r] if r is not None else None for r in row) for row in ROOM_OF
)


def room_name_at(x: int, y: int) -> str:
    """The name of the room cell (x, y) lies in; a ValueError for a wall."""
    room = ROOM_NAME[y][x]
    if room is None:
        raise ValueError(f"cell ({x}, {y}) lies in no room")
    return room


#: FURNITURE_AT[y][x]: sprite name of the furniture on a cell, or None.
FURNITURE_AT: tuple[tuple[str | None, ...], ...] = tuple(
    tuple(FURNITURE[c][0] if c in FURNITURE else None for c in row) for row in MAP
)
#: WALKABLE[y][x]: plain floor the agent may stand on.
WALKABLE: tuple[tuple[bool, ...], ...] = tuple(tuple(c == "." for c in row) for row in MAP)
#: DROPPABLE[y][x]: plain floor or a surface that can hold a dropped object.
DROPPABLE: tuple[tuple[bool, ...], ...] = tuple(
    tuple(c == "." or (c in FURNITURE and FURNITURE[c][1]) for c in row) for row in MAP
)
#: Agent starts: the reference's start cells that are walkable (the rug is not).
AGENT_START_CELLS = tuple(c for c in _REFERENCE_AGENT_STARTS if WALKABLE[c[1]][c[0]])

#: ROOM_CELLS[room]: every cell of a room, furniture included.
ROOM_CELLS = tuple(
    tuple((x, y) for y in range(HEIGHT) for x in range(WIDTH) if ROOM_OF[y][x] == r)
    for r in range(len(ROOMS))
)
#: ROOM_DISTANCE[room][y][x]: Manhattan distance from (x, y) to the nearest cell of the room.
ROOM_DISTANCE = tuple(
    tuple(
        tuple(min(abs(x - cx) + abs(y - cy) for cx, cy in cells) for x in range(WIDTH))
        for y in range(HEIGHT)
    )
    for cells in ROOM_CELLS
)


def base_tile(x: int, y: int) -> str:
    """Sprite name of what lies under everything else on a cell: floor, wall or outside."""
    if not (0 <= x < WIDTH and 0 <= y < HEIGHT) or MAP[y][x] == "#":
        return "wall"  # views that reach past the map edge see wall
    room = ROOM_OF[y][x]
    return "outside" if room is None else ROOM_FLOOR[room]


def furniture_at(x: int, y: int) -> str | None:
    """Sprite name of the furniture on a cell (None off the map)."""
    if 0 <= x < WIDTH and 0 <= y < HEIGHT:
        return FURNITURE_AT[y][x]
    return None
