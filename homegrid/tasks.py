"""The five task families, how tasks are sampled, rewarded and measured.

A task is sampled uniformly over families, then uniformly over what is present in the house
(invisible, carried and binned objects included), as in the reference.  That makes sampling
non-uniform over the 38 task strings.
"""

from __future__ import annotations

from homegrid.layout import BINS, ROOM_DISTANCE, ROOMS, TRASH
from homegrid.world import OPEN, World
from langstream.sampling import Uniform, choice

FAMILIES = ("find", "get", "put", "move", "open")
PARTIAL_REWARD = 0.5  # put/move: the first time the target object is carried


class Task:
    """One instruction: ``family`` with an object (or bin) name and, for put/move, a target."""

    __slots__ = ("family", "obj", "target", "text", "partial_paid")

    def __init__(self, family: str, obj: str, target: str = ""):
        self.family, self.obj, self.target = family, obj, target
        self.text = task_text(family, obj, target)
        self.partial_paid = False

    def reward(self, world: World) -> float:
        """1 when the task is done; 0.5 once for first carrying a put/move object; else 0."""
        family = self.family
        obj = world.by_name[self.obj]
        if family == "find":
            front = world.front_thing()
            return 1.0 if front is obj else 0.0
        if family == "get":
            return 1.0 if world.carrying is obj else 0.0
        if family == "open":
            return 1.0 if obj.state == OPEN else 0.0
        if world.carrying is obj:
            if self.partial_paid:
                return 0.0
            self.partial_paid = True
            return PARTIAL_REWARD
        if family == "put":
            return 1.0 if world.by_name[self.target].content is obj else 0.0
        return 1.0 if world.room_of(obj) == self.target else 0.0

    def goal_distance(self, world: World) -> int:
        """Manhattan distance from the agent to what it should reach next (for corrections)."""
        obj = world.by_name[self.obj]
        ax, ay = world.agent_x, world.agent_y
        if world.carrying is obj:
            if self.family == "move":
                return ROOM_DISTANCE[ROOMS.index(self.target)][ay][ax]
            if self.family == "put":
                obj = world.by_name[self.target]
        x, y = world.position_of(obj)
        return abs(ax - x) + abs(ay - y)

    def __repr__(self) -> str:
        return f"Task({self.text!r})"


def task_text(family: str, obj: str, target: str = "") -> str:
    """The instruction string, exactly as the reference words it."""
    if family == "find":
        return f"find the {obj}"
    if family == "get":
        return f"get the {obj}"
    if family == "open":
        return f"open the {obj}"
    if family == "put":
        return f"put the {obj} in the {target}"
    if family == "move":
        return f"move the {obj} to the {target}"
    raise ValueError(f"unknown task family {family!r}; valid: {FAMILIES}")


def all_task_texts() -> list[str]:
    """Every task string the environment can give (38)."""
    texts = [task_text("find", o) for o in TRASH + BINS]
    texts += [task_text("get", o) for o in TRASH]
    texts += [task_text("put", o, b) for o in TRASH for b in BINS]
    texts += [task_text("move", o, r) for o in TRASH for r in ROOMS]
    texts += [task_text("open", b) for b in BINS]
    return texts


def sample_task(world: World, rng: Uniform) -> Task:
    """Family uniformly, then arguments uniformly among the things present in the house."""
    family = choice(rng, FAMILIES)
    bins = [t.name for t in world.things if t.is_bin]
    trash = [t.name for t in world.things if not t.is_bin]
    if family == "find":
        return Task(family, choice(rng, bins + trash))
    if family == "open":
        return Task(family, choice(rng, bins))
    if family == "get":
        return Task(family, choice(rng, trash))
    if family == "put":
        return Task(family, choice(rng, trash), choice(rng, bins))
    return Task(family, choice(rng, trash), choice(rng, ROOMS))
