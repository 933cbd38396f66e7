"""Checks shared by the JAX twins' tests."""

from __future__ import annotations

from typing import Any

import numpy as np


def rollout_stats(envs: Any, steps: int, seed: int) -> dict[str, float]:
    """Uniformly random play on a vector env: the mean and standard error, over the episodes
    that ended, of their return, length (read steps included) and steps with
    ``info["success"]`` (Messenger: won or not; HomeGrid: tasks done)."""
    n, actions = envs.num_envs, int(envs.single_action_space.n)
    envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    totals = np.zeros((3, n))  # return, length, successes of each row's episode so far
    ended_totals: list[np.ndarray] = []
    fresh = np.zeros(n, bool)  # the next step is an autoreset
    for _ in range(steps):
        _, reward, terminated, truncated, info = envs.step(rng.integers(0, actions, n))
        ended = np.asarray(terminated) | np.asarray(truncated)
        step = np.stack([np.asarray(reward), np.ones(n), np.asarray(info["success"])])
        totals = np.where(fresh, 0, totals) + step
        ended_totals.extend(totals[:, ended].T)
        fresh = ended
    done = np.array(ended_totals)
    out: dict[str, float] = {"episodes": len(done)}
    for i, key in enumerate(("return", "length", "successes")):
        out[key] = float(done[:, i].mean())
        out[f"{key}_se"] = float(done[:, i].std() / np.sqrt(len(done)))
    return out


def assert_same_statistics(a: dict[str, float], b: dict[str, float], min_episodes: int) -> None:
    """Two engines' random play agrees: mean return, length and successes per episode within
    4 standard errors of their difference."""
    assert a["episodes"] > min_episodes and b["episodes"] > min_episodes, (a, b)
    for key in ("return", "length", "successes"):
        se = np.hypot(a[f"{key}_se"], b[f"{key}_se"])
        assert abs(a[key] - b[key]) <= max(4 * se, 1e-9), (key, a, b)
