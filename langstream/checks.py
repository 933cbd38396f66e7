"""Argument checks shared by every suite's envs, so that bad input reads the same everywhere."""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np


def reject_unknown_kwargs(cls: type, unknown: dict[str, Any]) -> None:
    """Raise a TypeError that lists the valid keyword arguments of ``cls``."""
    if unknown:
        valid = [p for p in inspect.signature(cls.__init__).parameters
                 if p not in ("self", "unknown")]
        raise TypeError(f"{cls.__name__} got unknown argument(s) {sorted(unknown)}; "
                        f"valid arguments: {valid}")


def check_render_mode(render_mode: str | None, modes: Sequence[str]) -> None:
    """Raise a ValueError unless ``render_mode`` is None or one of ``modes``."""
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be one of {list(modes)} or None, got {render_mode!r}")


def action_help(names: Sequence[str]) -> str:
    """``"0 up, 1 down, ..."``: the action list that error messages show."""
    return ", ".join(f"{i} {name}" for i, name in enumerate(names))


def check_action(action: Any, names: Sequence[str]) -> int:
    """An action as a Python int, or a ValueError that lists the valid actions ``names``."""
    n = len(names)
    if type(action) is not int:
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise ValueError(f"action must be an integer in [0, {n}), got {action!r} "
                             f"({type(action).__name__}); actions: {action_help(names)}")
        action = int(action)
    if not 0 <= action < n:
        raise ValueError(f"action {action} is outside the action space Discrete({n}); "
                         f"actions: {action_help(names)}")
    return action


def check_batch_actions(actions: Any, num_envs: int, names: Sequence[str]) -> np.ndarray:
    """``num_envs`` actions as an int64 array, or a ValueError that says what is wrong."""
    if (type(actions) is np.ndarray and actions.dtype == np.int64 and actions.shape == (num_envs,)
            and not (actions.view(np.uint64) >= len(names)).any()):
        return actions  # the common case, checked with one comparison (negatives wrap around)
    arr = np.asarray(actions)
    if arr.shape != (num_envs,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"actions must be {num_envs} integers (shape ({num_envs},)), "
                         f"got {arr.dtype} array of shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= len(names)):
        raise ValueError(f"actions must lie in [0, {len(names)}), got {arr.tolist()}; "
                         f"actions: {action_help(names)}")
    return arr.astype(np.int64, copy=False)


def expand_seeds(seed: int | Sequence[int | None] | None, num_envs: int) -> list[int | None]:
    """Per-env seeds of a vector env: ``s`` means ``s, s+1, ...``; a list is taken as is."""
    if seed is None or isinstance(seed, (int, np.integer)):
        return [None if seed is None else int(seed) + i for i in range(num_envs)]
    seeds = list(seed)
    if len(seeds) != num_envs:
        raise ValueError(f"got {len(seeds)} seeds for {num_envs} envs")
    return seeds


def check_num_envs(num_envs: Any) -> int:
    """A positive int, or a ValueError."""
    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
    return num_envs
