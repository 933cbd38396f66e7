"""What the natively batched envs of every suite share: Gymnasium's autoreset modes and partial
resets, with the observations and infos that ``SyncVectorEnv`` returns for them.

* ``NEXT_STEP`` (the default): the step after an episode ends resets that sub-env, ignores its
  action and returns the new episode's first observation with reward 0.
* ``SAME_STEP``: the step that ends an episode resets at once; it returns the new episode's
  first observation, and the last one in ``infos["final_obs"]`` (its info in
  ``infos["final_info"]``), each with its ``_final_obs`` / ``_final_info`` row mask.
* ``DISABLED``: the caller resets ended sub-envs with ``reset(options={"reset_mask": mask})``;
  stepping one before that is an error.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode

from langstream.checks import expand_seeds


def check_autoreset_mode(mode: Any) -> AutoresetMode:
    """An :class:`AutoresetMode` (or its value, e.g. ``"SameStep"``), or a ValueError that lists
    the valid ones."""
    if isinstance(mode, AutoresetMode):
        return mode
    try:
        return AutoresetMode(mode)
    except ValueError:
        valid = ", ".join(f"AutoresetMode.{m.name} ({m.value!r})" for m in AutoresetMode)
        raise ValueError(f"autoreset_mode must be one of {valid}, got {mode!r}") from None


def reset_rows(options: dict[str, Any] | None, num_envs: int) -> np.ndarray:
    """Which sub-envs ``reset(options=...)`` resets: ``options["reset_mask"]`` (a bool array of
    shape ``(num_envs,)`` with at least one True, as ``SyncVectorEnv`` requires), else all."""
    mask = (options or {}).get("reset_mask")
    if mask is None:
        return np.ones(num_envs, bool)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != (num_envs,):
        raise ValueError(f"options['reset_mask'] must be a bool array of shape ({num_envs},), "
                         f"got {mask!r}")
    if not mask.any():
        raise ValueError("options['reset_mask'] must select at least one sub-env")
    return mask


def refuse_ended_rows(ended: np.ndarray) -> None:
    """``DISABLED`` mode: a RuntimeError if any sub-env is stepped past the end of its episode."""
    if ended.any():
        rows = np.flatnonzero(ended).tolist()
        raise RuntimeError(f"sub-env(s) {rows} ended their episode and autoreset_mode is "
                           f"DISABLED: reset them with reset(options={{'reset_mask': mask}}) "
                           f"before the next step")


def refuse_partial_first_reset(started: bool, rows: np.ndarray) -> None:
    """A RuntimeError if the first reset leaves sub-envs without an episode."""
    if not started and not rows.all():
        raise RuntimeError("the first reset() must reset every sub-env (no reset_mask)")


def resets_asked(seed: int | Sequence[int | None] | None, options: dict[str, Any] | None,
                 num_envs: int, started: bool) -> tuple[list[int | None], list[int]]:
    """What ``reset(seed=..., options=...)`` asks of a batched env: each sub-env's seed, and the
    rows to reset (refusing a first reset that leaves some without an episode)."""
    seeds = expand_seeds(seed, num_envs)
    rows = reset_rows(options, num_envs)
    refuse_partial_first_reset(started, rows)
    return seeds, np.flatnonzero(rows).tolist()


def reseed(rngs: list[Any], row: int, seed: int | None) -> bool:
    """Give sub-env ``row`` of ``rngs`` (the generators, None for none yet) a new generator
    seeded ``seed`` when a seed is given or it has none yet; True if it got one.  Without a seed
    it goes on with its own draws, as a single env reset without a seed does."""
    if seed is None and rngs[row] is not None:
        return False
    rngs[row], _ = seeding.np_random(seed)
    return True
