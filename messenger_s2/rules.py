"""Messenger's rules, shared by the single env's engine (``game.py``) and the batched one
(``batch.py``): NPC movement, contact, the outcome of a play step, the time limit and the read
phase.  Each is a plain function of the state it is given, so both engines run the very same
rules; ``batch.py`` builds its lookup tables from these functions rather than restating them.

A play step, in the reference's tick order:

1. every NPC picks a move against the avatar's position from *before* its move: a chaser one of
   its unit moves that strictly shorten the Manhattan distance (in half cells), a fleeing NPC
   one that strictly lengthens it, uniformly, or any of the four when none does; a move off the
   board is undone;
2. the avatar moves one cell (two units), off-board moves undone;
3. contacts: entities touch when their 2 x 2-unit squares overlap; one outcome per step in the
   reference's rule order (enemy or decoy, goal without the message, the message, the goal
   with the message);
4. the time limit: a step that reaches it without a win pays -1.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from messenger_s2.entities import MOVEMENTS, UNITS_PER_CELL

MOTION_BLOCK = 480  # draws fetched at once; a multiple of 3 and 5 so no draw is ever skipped
# A movement draw is an int in [0, 12): 12 is divisible by every option count (1 to 4), so
# option q * count // 12 is exactly uniform, and draws are small ints the batch can index with.
DRAW_LEVELS = 12
CHASER, FLEEING, IMMOVABLE = range(3)
MOVE_CODE = {name: i for i, name in enumerate(MOVEMENTS)}
UNIT_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # an NPC's moves: up, down, left, right

# Outcomes of a play step: (reward, terminated, success, event)
DEATH_ENEMY = (-1.0, True, False, "killed by the enemy")
DEATH_DECOY = (-1.0, True, False, "killed by a decoy")
DEATH_GOAL = (-1.0, True, False, "reached the goal without the message")
DEATH_REPICK = (-1.0, True, False, "touched the message while carrying it")
PICKUP = (0.5, False, False, "picked up the message")
PICKUP_WIN = (1.0, True, True, "picked up the message")
WIN = (1.0, True, True, "delivered the message")
NOTHING = (0.0, False, False, "")
TIMEOUT_EVENT = "out of time"


def npc_options(dr: int, dc: int, movement: int) -> tuple[tuple[int, int], ...]:
    """The unit moves an NPC that is (dr, dc) units from the avatar chooses among, uniformly."""
    if movement == IMMOVABLE:
        return ((0, 0),)
    if movement == CHASER:  # moves that strictly shorten |dr| + |dc|
        ok = (dr > 0, dr < 0, dc > 0, dc < 0)
    else:  # fleeing: moves that strictly lengthen it
        ok = (dr <= 0, dr >= 0, dc <= 0, dc >= 0)
    return tuple(m for m, good in zip(UNIT_STEPS, ok) if good) or UNIT_STEPS


def npc_move(dr: int, dc: int, movement: int, draw: int) -> tuple[int, int]:
    """The move picked by ``draw``, uniform in [0, DRAW_LEVELS)."""
    options = npc_options(dr, dc, movement)
    return options[draw * len(options) // DRAW_LEVELS]


def motion_block(rng: np.random.Generator) -> np.ndarray:
    """The next :data:`MOTION_BLOCK` movement draws of an env."""
    return rng.integers(0, DRAW_LEVELS, MOTION_BLOCK, np.int8)


def touching(a: tuple[int, int] | list[int], b: tuple[int, int] | list[int]) -> bool:
    """Whether two 2 x 2-unit squares overlap with positive area."""
    return abs(a[0] - b[0]) < UNITS_PER_CELL and abs(a[1] - b[1]) < UNITS_PER_CELL


Outcome = tuple[float, bool, bool, str]


def resolve_contact(touch: Sequence[bool], carrying: bool, pickup_wins: bool) -> Outcome:
    """The one outcome of a step from which NPC slots touch the avatar (the reference's rule
    order: enemy, decoys, the goal without the message, the message, the goal)."""
    if touch[0]:
        return DEATH_ENEMY
    if any(touch[3:]):
        return DEATH_DECOY
    if touch[2] and not carrying:
        return DEATH_GOAL
    if touch[1]:
        if carrying:  # S1 only: in S2/S3 the message is gone once picked up
            return DEATH_REPICK
        return PICKUP_WIN if pickup_wins else PICKUP
    if touch[2]:
        return WIN
    return NOTHING


def apply_time_limit(outcome: Outcome, t: int, max_steps: int
                     ) -> tuple[float, bool, bool, bool, str]:
    """(reward, terminated, truncated, success, event) after play step ``t`` of ``max_steps``.

    A step that reaches the limit without a win pays -1 (replacing a pickup's +0.5); it ends
    the episode as a truncation unless the avatar died on it.
    """
    reward, terminated, success, event = outcome
    truncated = False
    if t >= max_steps and not success:
        reward = -1.0
        truncated = not terminated
        if truncated:
            event = f"{event}; {TIMEOUT_EVENT}" if event else TIMEOUT_EVENT
    return reward, terminated, truncated, success, event


def still_reading(shown: Any, n_tokens: Any) -> Any:
    """Whether the next action is ignored: more of the manual is still to come after the token
    at index ``shown``.  The observation that shows the manual's last token is still a read step
    (its flag is 1 and the board is frozen) but the action taken on it counts, as in Dynalang's
    reading phase."""
    return shown < n_tokens - 1


def is_read_step(shown: Any, n_tokens: Any) -> Any:
    """The observation's ``is_read_step`` flag: a token of the manual is on show.  (These two
    take ints, or numpy or JAX arrays of them, and return the same kind.)"""
    return shown < n_tokens
