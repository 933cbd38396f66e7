"""Robust statistics for the leaderboard, adapted from Agarwal et al. (NeurIPS 2021).

Where it differs from their method (and the ``rliable`` package): a row's IQM is over every
evaluation episode of every seed rather than over per-run scores (a row has few seeds, each
with many episodes), so its bootstrap has two levels; and the IQM weights the values that
straddle the quartiles by the share of them inside, where ``scipy.stats.trim_mean`` drops whole
values (the two agree when the count divides by 4).

A row's seeds each play the same fixed-seed evaluation episodes.  Its scores are

* the **mean** return over every evaluation episode of every seed, and
* the **interquartile mean** (IQM): the mean of the middle 50% of those returns, which a few
  outlying episodes or one lucky seed move far less than the mean;

each with a 95% confidence interval from a **two-level bootstrap**: resample the seeds with
replacement, then each drawn seed's episodes with replacement, and recompute the statistic;
the interval is the 2.5th to 97.5th percentile of 2,000 such draws.  Both levels matter: seeds
differ in what they learned, episodes in what they met.

Across envs, scores are first **normalised** (0 = the random policy, 1 = the paper's Dynalang
on that setting), then pooled over every (env, seed) and bootstrapped **stratified** by env:
seeds are resampled within each env, so every draw keeps each env's number of seeds (an env
weighs in by its seeds).

Everything is seeded, so the page renders the same from the same files.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

#: a statistic of the last axis of an array: (..., n) -> (...)
Statistic = Callable[[np.ndarray], np.ndarray]

#: bootstrap draws per interval
REPS = 2000
#: the interval's coverage
CONFIDENCE = 0.95


def iqm(values: np.ndarray) -> np.ndarray:
    """The interquartile mean of the last axis: the mean of the middle 50% of the values.  A
    value straddling the 25% or 75% boundary counts with the share of it inside, so that it is
    defined for any count (one value: itself; four: the mean of the middle two)."""
    x = np.sort(np.asarray(values, np.float64), axis=-1)
    n = x.shape[-1]
    if n == 0:
        raise ValueError("the IQM of no values is undefined")
    # Value i covers [i, i + 1) of [0, n); keep the part in [n / 4, 3n / 4).
    i = np.arange(n)
    cover = np.clip(np.minimum(i + 1, 3 * n / 4) - np.maximum(i, n / 4), 0, 1)
    return (x * cover).sum(-1) / cover.sum()


def mean(values: np.ndarray) -> np.ndarray:
    """The mean of the last axis."""
    return np.asarray(values, np.float64).mean(-1)


def _interval(draws: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_ci(runs: Sequence[np.ndarray], statistic: Statistic, *, reps: int = REPS,
                 seed: int = 0) -> tuple[float, float]:
    """The ``CONFIDENCE`` interval of ``statistic`` over all episodes of ``runs`` (one array of
    episode returns per seed), by the two-level bootstrap: seeds, then episodes within each."""
    rng = np.random.default_rng(seed)
    runs = [np.asarray(r, np.float64).ravel() for r in runs]
    if not runs or any(r.size == 0 for r in runs):
        raise ValueError("every run needs at least one episode")
    picked = rng.integers(0, len(runs), (reps, len(runs)))
    parts = []
    for slot in range(len(runs)):  # the slot-th seed of every draw
        sizes = np.array([runs[i].size for i in picked[:, slot]])
        width = sizes.max()
        episode = (rng.random((reps, width)) * sizes[:, None]).astype(np.int64)
        values = np.stack([runs[i][np.minimum(e, runs[i].size - 1)]
                           for i, e in zip(picked[:, slot], episode)])
        # Drawn seeds with fewer episodes than the widest keep only their own count.
        parts.append(np.where(np.arange(width) < sizes[:, None], values, np.nan))
    draws = np.concatenate(parts, axis=1)
    if np.isnan(draws).any():  # seeds with different episode counts: one draw at a time
        return _interval(np.array([statistic(row[~np.isnan(row)]) for row in draws]))
    return _interval(statistic(draws))


def normalised(score: float | np.ndarray, random: float, reference: float
               ) -> np.ndarray:
    """``score`` on the scale where the random policy is 0 and ``reference`` is 1."""
    if reference == random:
        raise ValueError(f"cannot normalise: the reference ({reference}) equals random")
    return (np.asarray(score, np.float64) - random) / (reference - random)


def stratified_ci(strata: Sequence[np.ndarray], statistic: Statistic, *, reps: int = REPS,
                  seed: int = 0) -> tuple[float, float]:
    """The ``CONFIDENCE`` interval of ``statistic`` over the per-seed scores of several envs
    (one array of seed scores per env), resampling seeds within each env."""
    rng = np.random.default_rng(seed)
    strata = [np.asarray(s, np.float64).ravel() for s in strata]
    if not strata or any(s.size == 0 for s in strata):
        raise ValueError("every env needs at least one seed")
    draws = np.concatenate([s[rng.integers(0, s.size, (reps, s.size))] for s in strata], 1)
    return _interval(statistic(draws))
