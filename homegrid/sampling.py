"""Random choices built on single uniform draws from the environment's generator.

``Generator.random()`` is several times cheaper than ``Generator.integers()`` for scalars, and
drawing everything through it keeps the number of draws per decision fixed, so the batched and
the single environment replay identical episodes from identical seeds.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

import numpy as np

T = TypeVar("T")


def choice(rng: np.random.Generator, items: Sequence[T]) -> T:
    """One item, uniformly."""
    return items[int(rng.random() * len(items))]


def sample(rng: np.random.Generator, items: Sequence[T], k: int) -> list[T]:
    """``k`` distinct items in random order (partial Fisher-Yates)."""
    pool = list(items)
    for i in range(k):
        j = i + int(rng.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def shuffle(rng: np.random.Generator, items: Sequence[T]) -> list[T]:
    """All items in random order."""
    return sample(rng, items, len(items))
