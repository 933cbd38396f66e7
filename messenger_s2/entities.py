"""The symbols, roles, movement types and actions of Messenger (ids as in the reference).

Symbols are the ids written into the ``grid`` observation: 2-13 are the twelve entities, 15 is
the avatar and 16 the avatar carrying the message.  0 (background), 1 (dirt) and 14 (wall) exist
in the reference's id space but never appear in a level.
"""

from __future__ import annotations

#: entity symbol -> canonical name
ENTITY_NAMES: dict[int, str] = {
    2: "airplane", 3: "mage", 4: "dog", 5: "bird", 6: "fish", 7: "scientist",
    8: "thief", 9: "ship", 10: "ball", 11: "robot", 12: "queen", 13: "sword",
}
ENTITIES: tuple[str, ...] = tuple(ENTITY_NAMES.values())
ENTITY_ID: dict[str, int] = {name: symbol for symbol, name in ENTITY_NAMES.items()}
AVATAR = 15
AVATAR_WITH_MESSAGE = 16
N_SYMBOLS = 17  # channels of the multi-hot grid; channel 0 stays empty
#: every symbol that can be drawn: the twelve entities and the avatar's two states
DRAWN_SYMBOLS: tuple[int, ...] = (*ENTITY_NAMES, AVATAR, AVATAR_WITH_MESSAGE)

ROLES: tuple[str, ...] = ("enemy", "message", "goal")
MOVEMENTS: tuple[str, ...] = ("chaser", "fleeing", "immovable")
#: the movement type of manual sentences that say nothing about movement
UNKNOWN = "unknown"
TEXT_MOVEMENTS: tuple[str, ...] = (*MOVEMENTS, UNKNOWN)
TEXT_SPLITS: tuple[str, ...] = ("train", "val", "test")

ACTIONS: tuple[str, ...] = ("up", "down", "left", "right", "stay")
#: (row, col) step of each action
ACTION_DELTAS: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1), (0, 0))

GRID_SIZE = 10  # cells per side
UNITS_PER_CELL = 2  # positions are kept in half cells: NPCs move one unit, the avatar two
MAX_UNIT = (GRID_SIZE - 1) * UNITS_PER_CELL
