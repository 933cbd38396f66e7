"""A scripted expert that solves HomeGrid tasks from the symbolic state.

It reads ``env.unwrapped.symbolic_state()`` (never the language), so it is an upper reference
for what a perfect listener could score, a sanity check that every task family is solvable, and
the policy of the demo.  It replans from scratch every step, so teleports do not confuse it.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from homegrid.layout import DROPPABLE, ROOM_OF, ROOMS, WALKABLE
from homegrid.world import ACTIONS, DIR_VEC, DROP, GET, MOVE_DIR, PEDAL, PICKUP

_MOVES = tuple(MOVE_DIR.items())  # (action, direction)


class Oracle:
    """``act(symbolic_state) -> action``; stateless."""

    def act(self, state: dict[str, Any]) -> int:
        self._read(state)
        task = state["task"]
        family, name, target = task["family"], task["object"], task["target"]
        if family == "open":
            return self._open(self.things[name])
        if family == "find":
            if self.carrying == name or self._bin_holding(name):
                return self._acquire(name) if self.carrying != name else self._drop_where(
                    lambda x, y: True)
            return self._face(self.things[name]["pos"], lambda: _noop(self))
        if family == "get":
            return self._acquire(name)
        if family == "put":
            return self._put(name, self.things[target])
        room = ROOMS.index(target)
        if self.carrying != name:
            return self._acquire(name)
        return self._drop_where(lambda x, y: ROOM_OF[y][x] == room)

    # --------------------------------------------------------------------- state
    def _read(self, state: dict[str, Any]) -> None:
        agent = state["agent"]
        self.pos, self.dir, self.carrying = agent["pos"], agent["dir"], agent["carrying"]
        self.things = {o["name"]: o for o in state["objects"]}
        self.occupied = {o["pos"]: o for o in state["objects"] if o["pos"][0] >= 0}
        self.blocking = {p for p, o in self.occupied.items() if not o["invisible"]}

    def _front(self) -> tuple[int, int]:
        dx, dy = DIR_VEC[self.dir]
        return self.pos[0] + dx, self.pos[1] + dy

    def _bin_holding(self, name: str) -> dict[str, Any] | None:
        for o in self.things.values():
            if o["type"] == "bin" and name in o["contains"]:
                return o
        return None

    # --------------------------------------------------------------------- skills
    def _search(self, goal: Callable[[int, int], bool]) -> int | None:
        """First move of a shortest path to a pose whose front cell satisfies ``goal``.

        None if the agent already faces such a cell (or no pose does).
        """
        start = (*self.pos, self.dir)
        if goal(*self._front()):
            return None
        seen = {start}
        queue: deque[tuple[tuple[int, int, int], int | None]] = deque([(start, None)])
        while queue:
            (x, y, _), first = queue.popleft()
            for action, d in _MOVES:
                fx, fy = x + DIR_VEC[d][0], y + DIR_VEC[d][1]
                if WALKABLE[fy][fx] and (fx, fy) not in self.blocking:
                    nxt = (fx, fy, d)
                    front = fx + DIR_VEC[d][0], fy + DIR_VEC[d][1]
                else:
                    nxt = (x, y, d)
                    front = fx, fy
                if nxt in seen:
                    continue
                seen.add(nxt)
                move = action if first is None else first
                if goal(*front):
                    return move
                queue.append((nxt, move))
        return None

    def _face(self, pos: tuple[int, int], then: Callable[[], int]) -> int:
        move = self._search(lambda x, y: (x, y) == tuple(pos))
        return then() if move is None else move

    def _drop_where(self, ok: Callable[[int, int], bool]) -> int:
        def free(x: int, y: int) -> bool:
            return DROPPABLE[y][x] and (x, y) not in self.occupied and ok(x, y)
        move = self._search(free)
        return DROP if move is None else move

    def _acquire(self, name: str) -> int:
        """Get ``name`` into the (single-slot) inventory."""
        if self.carrying == name:
            return _noop(self)
        if self.carrying is not None:
            return self._drop_where(lambda x, y: True)
        holder = self._bin_holding(name)
        if holder is not None:
            return self._face(holder["pos"], lambda: GET)
        return self._face(self.things[name]["pos"], lambda: PICKUP)

    def _open(self, bin_: dict[str, Any]) -> int:
        def use() -> int:
            if bin_["state"] == "closed":
                return ACTIONS.index(bin_["action"])
            return _noop(self)  # open already, or knocked over: wait for it to recover
        return self._face(bin_["pos"], use)

    def _put(self, name: str, bin_: dict[str, Any]) -> int:
        if bin_["contains"] and bin_["contains"][0] != name:
            # The bin holds one object at most: empty it first.
            if self.carrying is not None:
                return self._drop_where(lambda x, y: True)
            return self._face(bin_["pos"], lambda: GET)
        if self.carrying != name:
            return self._acquire(name)
        if bin_["state"] != "open":
            return self._open(bin_)
        return self._face(bin_["pos"], lambda: DROP)


def _noop(oracle: Oracle) -> int:
    """An action that changes nothing here: drop at a closed bin, otherwise pedal."""
    front = oracle.occupied.get(oracle._front())
    if front is not None and front["type"] == "bin" and front["state"] == "closed":
        return DROP
    return PEDAL
