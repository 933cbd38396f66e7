"""The state of one HomeGrid house and the rules that change it.

A :class:`World` knows where the agent, the bins and the trash are, applies the agent's action,
advances timers and runs the random events (teleport, spawn).  It knows nothing about tasks,
language or pixels; those read the world (``tasks``, ``language``, ``render``).

Every random draw goes through a :class:`langstream.sampling.Uniform` fed by the environment's
seeded generator, so an episode is reproducible from its seed.
"""

from __future__ import annotations

from typing import Any

from homegrid.layout import (
    AGENT_START_CELLS,
    BIN_ACTIONS,
    BIN_CELLS,
    BINS,
    DROPPABLE,
    OBJECT_CELLS,
    ROOM_NAME,
    ROOM_OF,
    TRASH,
    WALKABLE,
    room_name_at,
)
from langstream.sampling import Uniform, choice, sample

ACTIONS = ("left", "right", "up", "down", "pickup", "drop", "get", "pedal", "grasp", "lift")
LEFT, RIGHT, UP, DOWN, PICKUP, DROP, GET, PEDAL, GRASP, LIFT = range(len(ACTIONS))
#: Facing directions: 0 right, 1 down, 2 left, 3 up.
DIR_VEC = ((1, 0), (0, 1), (-1, 0), (0, -1))
#: The four moves are absolute: they set the facing, then step if the cell is free.
MOVE_DIR = {LEFT: 2, RIGHT: 0, UP: 3, DOWN: 1}

OPEN, CLOSED, BROKEN = "open", "closed", "broken"
HIDDEN_STEPS = 5  # a spawned object stays invisible this many steps
BIN_RECOVERY = (200, 5)  # steps until the first / second bin recovers from broken
SPAWN_RATE = 0.1  # per missing trash type, per step


class Thing:
    """A trash object or a bin.  ``x, y`` are -1 while carried or inside a bin."""

    __slots__ = ("name", "is_bin", "x", "y", "hidden_for", "state", "action", "recover_after",
                 "broken_for", "content")

    def __init__(self, name: str, x: int, y: int, is_bin: bool = False):
        self.name = name
        self.is_bin = is_bin
        self.x, self.y = x, y
        self.hidden_for = 0  # trash: steps until visible (0 = visible)
        self.state = CLOSED  # bins only
        self.action = ""  # bins only: the action that opens it
        self.recover_after = 0  # bins only
        self.broken_for = 0  # bins only
        self.content: Thing | None = None  # bins only

    @property
    def sprite(self) -> str:
        """Sprite name for drawing this thing."""
        if self.is_bin:
            return f"{self.name.replace(' ', '_')}_{self.state}"
        return self.name

    def __repr__(self) -> str:
        extra = f" {self.state}/{self.action}" if self.is_bin else (
            f" hidden {self.hidden_for}" if self.hidden_for else "")
        return f"Thing({self.name!r} at ({self.x}, {self.y}){extra})"


class World:
    """One house: agent, bins, trash, timers.  Call :meth:`reset` before anything else."""

    def __init__(self, num_bins: int = 2, num_trash: int = 2, p_teleport: float = 0.05):
        self.num_bins = num_bins
        self.num_trash = num_trash
        self.p_teleport = p_teleport

    # ----------------------------------------------------------------------------- setup
    def reset(self, rng: Uniform) -> None:
        """Place 2 of the 3 bins, 2 of the 4 trash types and the agent at random."""
        bins = {name: (cell, OPEN if rng.random() < 0.5 else CLOSED, choice(rng, BIN_ACTIONS))
                for name, cell in zip(sample(rng, BINS, self.num_bins),
                                      sample(rng, BIN_CELLS, self.num_bins))}
        self._place(bins, dict(zip(sample(rng, TRASH, self.num_trash),
                                   sample(rng, OBJECT_CELLS, self.num_trash))))
        starts = [c for c in AGENT_START_CELLS if self.grid[c[1]][c[0]] is None]
        self.agent_x, self.agent_y = choice(rng, starts)
        self.agent_dir = int(rng.random() * 4)

    def arrange(self, agent: tuple[int, int], agent_dir: int = 0,
                bins: dict[str, tuple[tuple[int, int], str, str]] | None = None,
                trash: dict[str, tuple[int, int]] | None = None) -> None:
        """Set up a chosen house instead of a random one (for tests and scripted scenarios).

        ``bins`` maps a bin name to (cell, state, opening action); the first bin recovers from
        broken after 200 steps, the others after 5, as at random resets.  ``trash`` maps an
        object name to its cell.
        """
        bins, trash = bins or {}, trash or {}
        for name, (_, state, action) in bins.items():
            if name not in BINS or state not in (OPEN, CLOSED, BROKEN) or action not in BIN_ACTIONS:
                raise ValueError(f"bad bin {name!r}: names {BINS}, states open/closed/broken, "
                                 f"actions {BIN_ACTIONS}")
        for name in trash:
            if name not in TRASH:
                raise ValueError(f"bad trash {name!r}: names {TRASH}")
        x, y = agent
        if not (0 <= x < len(WALKABLE[0]) and 0 <= y < len(WALKABLE)) or not WALKABLE[y][x]:
            raise ValueError(f"the agent cannot stand on {agent}: not walkable floor")
        self._place(bins, trash)
        self.agent_x, self.agent_y, self.agent_dir = x, y, agent_dir

    def _place(self, bins: dict[str, tuple[tuple[int, int], str, str]],
               trash: dict[str, tuple[int, int]]) -> None:
        self.steps = 0
        self.carrying: Thing | None = None
        self.grid: list[list[Thing | None]] = [[None] * len(row) for row in ROOM_OF]
        self.things: list[Thing] = []
        self.by_name: dict[str, Thing] = {}
        self.num_trash_present = 0  # trash types in the episode (carried and binned included)
        self._timed: list[Thing] = []  # broken bins and hidden trash, ticked every step
        for i, (name, ((x, y), state, action)) in enumerate(bins.items()):
            b = self._add(Thing(name, x, y, is_bin=True))
            b.state, b.action = state, action
            b.recover_after = BIN_RECOVERY[min(i, len(BIN_RECOVERY) - 1)]
            if state == BROKEN:
                self._timed.append(b)
        for name, (x, y) in trash.items():
            self._add(Thing(name, x, y))

    def _add(self, thing: Thing) -> Thing:
        if self.grid[thing.y][thing.x] is not None:
            occupant = self.grid[thing.y][thing.x]
            raise ValueError(f"cell ({thing.x}, {thing.y}) already holds {occupant!r}")
        self.things.append(thing)
        self.by_name[thing.name] = thing
        self.num_trash_present += not thing.is_bin
        self.grid[thing.y][thing.x] = thing
        return thing

    # ----------------------------------------------------------------------------- queries
    @property
    def front(self) -> tuple[int, int]:
        dx, dy = DIR_VEC[self.agent_dir]
        return self.agent_x + dx, self.agent_y + dy

    def front_thing(self) -> Thing | None:
        """The bin or object (visible or not) in the cell the agent faces."""
        dx, dy = DIR_VEC[self.agent_dir]
        return self.grid[self.agent_y + dy][self.agent_x + dx]

    def position_of(self, thing: Thing) -> tuple[int, int]:
        """Where a thing effectively is: its cell, the bin holding it, or the agent carrying it."""
        if thing.x >= 0:
            return thing.x, thing.y
        if thing is self.carrying:
            return self.agent_x, self.agent_y
        for b in self.things:
            if b.content is thing:
                return b.x, b.y
        raise RuntimeError(f"{thing!r} is nowhere")  # unreachable while the rules hold

    def room_of(self, thing: Thing) -> str | None:
        """Room name of a thing lying on the grid; None when carried or in a bin."""
        return ROOM_NAME[thing.y][thing.x] if thing.x >= 0 else None

    def symbolic_state(self) -> dict[str, Any]:
        """Everything about the house as plain Python data (for scripted agents and analysis)."""
        front = self.front_thing()
        return {
            "step": self.steps,
            "agent": {
                "pos": (self.agent_x, self.agent_y),
                "room": ROOM_NAME[self.agent_y][self.agent_x],
                "dir": self.agent_dir,
                "carrying": self.carrying.name if self.carrying else None,
            },
            "objects": [
                {
                    "name": t.name,
                    "type": "bin" if t.is_bin else "trash",
                    "pos": (t.x, t.y),
                    "room": self.room_of(t),
                    "state": t.state if t.is_bin else None,
                    "action": t.action if t.is_bin else None,
                    "invisible": t.hidden_for > 0,
                    "contains": ([t.content.name] if t.content else []) if t.is_bin else None,
                }
                for t in self.things
            ],
            "front_obj": front.name if front else None,
        }

    # ----------------------------------------------------------------------------- dynamics
    def tick(self) -> None:
        """Advance timers: broken bins recover, hidden objects appear."""
        if not self._timed:
            return
        for t in list(self._timed):
            if t.is_bin:
                t.broken_for += 1
                if t.broken_for >= t.recover_after:
                    t.state = CLOSED
                    self._timed.remove(t)
            else:
                t.hidden_for -= 1
                if t.hidden_for <= 0:
                    self._timed.remove(t)

    def act(self, action: int) -> None:
        """Apply one of the 10 actions (see ``ACTIONS``); impossible actions do nothing."""
        if action < 4:
            self.agent_dir = d = MOVE_DIR[action]
            x, y = self.agent_x + DIR_VEC[d][0], self.agent_y + DIR_VEC[d][1]
            occupant = self.grid[y][x]
            if WALKABLE[y][x] and (occupant is None or occupant.hidden_for > 0):
                self.agent_x, self.agent_y = x, y
            return
        x, y = self.front
        target = self.grid[y][x]
        carrying = self.carrying
        if action == PICKUP:
            if carrying is None and target is not None and not target.is_bin:
                self.carrying = target
                self.grid[y][x] = None
                target.x = target.y = -1
        elif action == DROP:
            if carrying is None:
                return
            if target is None:
                if DROPPABLE[y][x]:
                    self.grid[y][x] = carrying
                    carrying.x, carrying.y = x, y
                    self.carrying = None
            elif target.is_bin and target.state == OPEN and target.content is None:
                target.content = carrying
                self.carrying = None
        elif action == GET:
            if carrying is None and target is not None and target.is_bin \
                    and target.state == OPEN and target.content is not None:
                self.carrying, target.content = target.content, None
        elif target is not None and target.is_bin and target.state == CLOSED:
            # pedal / grasp / lift: the right one opens the bin, a wrong one knocks it over
            if ACTIONS[action] == target.action:
                target.state = OPEN
            else:
                target.state = BROKEN
                target.broken_for = 0
                self._timed.append(target)

    def random_events(self, rng: Uniform) -> list[dict[str, Any]]:
        """Maybe teleport one object, maybe spawn a missing trash type; return the events."""
        events = []
        if rng.random() < self.p_teleport:
            movable = [t for t in self.things if not t.is_bin and t.x >= 0 and t.hidden_for == 0]
            if movable:
                obj = choice(rng, movable)
                x, y = choice(rng, self._free_object_cells())
                self.grid[obj.y][obj.x] = None
                self.grid[y][x] = obj
                obj.x, obj.y = x, y
                room = room_name_at(x, y)
                events.append(_event("teleport", obj.name, room,
                                     f"i moved the {obj.name} to the {room}"))
        n_missing = len(TRASH) - self.num_trash_present
        if n_missing and rng.random() < SPAWN_RATE * n_missing:
            name = choice(rng, [name for name in TRASH if name not in self.by_name])
            x, y = choice(rng, self._free_object_cells())
            obj = self._add(Thing(name, x, y))
            obj.hidden_for = HIDDEN_STEPS
            self._timed.append(obj)
            room = room_name_at(x, y)
            events.append(_event("spawn", name, room,
                                 f"there will be {name} in the {room} later"))
        return events

    def _free_object_cells(self) -> list[tuple[int, int]]:
        grid, ax, ay = self.grid, self.agent_x, self.agent_y
        return [(x, y) for x, y in OBJECT_CELLS if grid[y][x] is None and (x, y) != (ax, ay)]


def _event(kind: str, obj: str, room: str, description: str) -> dict[str, Any]:
    # Both events foretell what the agent will see: the "future" hint kind.
    return {"type": "future", "kind": kind, "object": obj, "room": room,
            "description": description}
