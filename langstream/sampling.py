"""Random choices built on uniform draws from the environment's seeded generator.

Every random decision of an episode is made from ``Uniform.random()`` draws, fetched from the
env's ``np_random`` in blocks by :class:`UniformStream` (one scalar ``Generator`` call costs
several times more than reading a buffered float, and the env draws a few per step).  Because
all draws come from the env's own generator in a fixed order, ``reset(seed=...)`` reproduces
whole episodes, and the batched env replays the single env exactly.
"""

from __future__ import annotations

from typing import Protocol, Sequence, TypeVar

import numpy as np

T = TypeVar("T")


class Uniform(Protocol):
    """Anything with ``random() -> float`` in [0, 1): a Generator or a :class:`UniformStream`."""

    def random(self) -> float: ...


class UniformStream:
    """Uniform floats from a ``numpy.random.Generator``, fetched ``block`` at a time."""

    __slots__ = ("_rng", "_block", "_buffer", "_next")

    def __init__(self, rng: np.random.Generator, block: int = 512):
        self._rng, self._block = rng, block
        self._buffer: list[float] = []
        self._next = 0

    def random(self) -> float:
        i = self._next
        if i == len(self._buffer):
            self._buffer, i = self._rng.random(self._block).tolist(), 0
        self._next = i + 1
        return self._buffer[i]


def choice(rng: Uniform, items: Sequence[T]) -> T:
    """One item, uniformly."""
    return items[int(rng.random() * len(items))]


def sample(rng: Uniform, items: Sequence[T], k: int) -> list[T]:
    """``k`` distinct items in random order (partial Fisher-Yates)."""
    pool = list(items)
    for i in range(k):
        j = i + int(rng.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def shuffle(rng: Uniform, items: Sequence[T]) -> list[T]:
    """All items in random order."""
    return sample(rng, items, len(items))
