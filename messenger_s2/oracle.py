"""A scripted greedy player that is told the roles (a sanity bound for learning agents).

It reads the roles from ``info["roles"]`` (not from the manual) and the board from the
``grid`` observation, then steps towards the message (or, once carrying it, the goal) along the
move that shortens the distance most among the moves that keep it out of reach of anything
deadly.  An entity can touch the avatar on the next step only if it now stands within one cell
of the avatar's new cell (it moves half a cell per step and footprints may overlap by less than
a cell), so "out of reach" means a Chebyshev distance of at least 2 cells.

S3's decoys share their symbol with the real message and goal, so the grid cannot tell them
apart; the greedy player is meant for S1 and S2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from messenger_s2.entities import ACTION_DELTAS, AVATAR, AVATAR_WITH_MESSAGE, ENTITY_ID, GRID_SIZE

STAY = 4


def greedy_action(grid: np.ndarray, roles: dict[str, str]) -> int:
    """The greedy action for one board (``grid`` observation, ``info["roles"]``)."""
    carrying = bool(grid[..., AVATAR_WITH_MESSAGE].any())
    avatar_cells = np.argwhere(grid[..., AVATAR_WITH_MESSAGE if carrying else AVATAR])
    if not len(avatar_cells):
        return STAY
    ar, ac = avatar_cells[0]
    target = np.argwhere(grid[..., ENTITY_ID[roles["goal" if carrying else "message"]]])
    deadly = [ENTITY_ID[roles["enemy"]]] + ([] if carrying else [ENTITY_ID[roles["goal"]]])
    threats = np.concatenate([np.argwhere(grid[..., s]) for s in deadly])

    best, best_key = STAY, None
    for action, (dr, dc) in enumerate(ACTION_DELTAS):
        r = min(max(ar + dr, 0), GRID_SIZE - 1)
        c = min(max(ac + dc, 0), GRID_SIZE - 1)
        reach = (np.abs(threats - (r, c)).max(1).min() if len(threats) else GRID_SIZE)
        distance = np.abs(target - (r, c)).sum(1).min() if len(target) else 0
        # Safety first, then progress; among equals prefer moving over staying.
        key = (min(reach, 2), -distance, action != STAY)
        if best_key is None or key > best_key:
            best, best_key = action, key
    return best


def play_greedy(env: Any, episodes: int, seed: int = 0) -> list[float]:
    """Returns of ``episodes`` greedy episodes on a (single) Messenger env."""
    returns = []
    for e in range(episodes):
        obs, info = env.reset(seed=seed + e)
        total, done = 0.0, False
        while not done:
            action = STAY if obs["is_read_step"] else greedy_action(obs["grid"], info["roles"])
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return returns
