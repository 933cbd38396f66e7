"""Argument checks shared by every suite's envs, so that bad input reads the same everywhere."""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any, NamedTuple, Sequence

import numpy as np


class UnknownArgumentError(TypeError, ValueError):
    """An argument the env does not take: a TypeError as Python raises for unknown keywords,
    and a ValueError too, so that command lines report it as the user error it is."""


def reject_unknown_kwargs(cls: type, unknown: dict[str, Any]) -> None:
    """Raise an :class:`UnknownArgumentError` that lists the valid keyword arguments of
    ``cls``."""
    if unknown:
        valid = [p for p in inspect.signature(cls).parameters if p != "unknown"]
        raise UnknownArgumentError(f"{cls.__name__} got unknown argument(s) {sorted(unknown)}; "
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


def check_batch_actions(actions: Any, num_envs: int, names: Sequence[str] | int) -> np.ndarray:
    """``num_envs`` actions as an int64 array, or a ValueError that says what is wrong.
    ``names``: the actions' names (the error lists them), or just how many there are."""
    n = names if isinstance(names, int) else len(names)
    if (type(actions) is np.ndarray and actions.dtype == np.int64 and actions.shape == (num_envs,)
            and not (actions.view(np.uint64) >= n).any()):
        return actions  # the common case, checked with one comparison (negatives wrap around)
    arr = np.asarray(actions)
    if arr.shape != (num_envs,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"actions must be {num_envs} integers (shape ({num_envs},)), "
                         f"got {arr.dtype} array of shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        listed = "" if isinstance(names, int) else f"; actions: {action_help(names)}"
        raise ValueError(f"actions must lie in [0, {n}), got {arr.tolist()}{listed}")
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
    return check_int("num_envs", num_envs, 1)


#: Largest side of an image observation, in every suite.  Memory and time grow with its square
#: (Messenger at 10,000 px took 25 s and 2.7 GB to reset) and no agent needs more than this.
MAX_IMAGE_SIZE = 1024


def _got(value: Any, right_type: bool) -> str:
    """How an error message shows a bad value: its repr, and its type when that is the problem."""
    return repr(value) if right_type else f"{value!r} ({type(value).__name__})"


class Range(NamedTuple):
    """The values a numeric argument, flag or config field accepts: ``low`` to ``high``, each
    end open or closed.  Infinite and NaN values are never in a range."""

    low: float
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below and math.isfinite(value)

    def describe(self, kind: type) -> str:
        what = "an int" if kind is int else "a number"
        if self.high == math.inf:
            if kind is int:
                return f"{what} >= {math.floor(self.low) + (not self.low_closed)}"
            return f"{what} {'>=' if self.low_closed else '>'} {self.low:g}"
        left, right = "[" if self.low_closed else "(", "]" if self.high_closed else ")"
        return f"{what} in {left}{self.low:g}, {self.high:g}{right}"


POSITIVE = Range(0, low_closed=False)
NON_NEGATIVE = Range(0)
FRACTION = Range(0, 1)
FRACTION_BELOW_ONE = Range(0, 1, high_closed=False)


def check_number(name: str, value: Any, kind: type, bounds: Range = POSITIVE,
                 what: str = "") -> Any:
    """``value`` as a Python ``kind`` (int or float) within ``bounds``, or a one-line
    ValueError that names the argument, the value and what is valid (``what`` says what the
    number is, e.g. "a probability, ").  numpy numbers count; bools do not: True as a size or
    a count is a mistake, not a 1."""
    right_type = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                  and (kind is float or isinstance(value, numbers.Integral)))
    if not right_type or not bounds.contains(value):
        raise ValueError(f"{name} must be {what}{bounds.describe(kind)}, got "
                         f"{_got(value, right_type)}")
    return kind(value)


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as a Python int in ``[low, high]`` (no upper bound when ``high`` is None)."""
    return check_number(name, value, int, Range(low, math.inf if high is None else high))


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1]."""
    return check_number(name, value, float, FRACTION, what="a probability, ")


def check_image_size(image_size: Any, minimum: int) -> int:
    """The side of a square image observation: an int from ``minimum`` (the smallest size the
    suite's renderer draws) to :data:`MAX_IMAGE_SIZE`, or a ValueError that says so."""
    return check_int("image_size", image_size, minimum, MAX_IMAGE_SIZE)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a Python bool (numpy bools count; 0 and 1 do not), or a one-line
    ValueError."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {_got(value, False)}")
    return bool(value)
