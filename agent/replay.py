"""Uniform sequence replay: per-env ring buffers of steps, sampled as contiguous chunks.

Every :meth:`Replay.add` writes one step for every env at the same ring position, so each env's
row of a buffer is its own time line.  :meth:`Replay.sample` draws ``(env, start)`` pairs
uniformly among the chunks that lie entirely in written, time-contiguous storage and gathers only
those steps with one fancy-indexing read per key: nothing is copied per episode, and images stay
uint8 until the learner converts them.  Chunks may cross episode boundaries; ``is_first`` marks
where the recurrent state resets (the DreamerV3 layout).

No JAX here: the replay lives on the host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from agent.files import atomic_open, format_size
from langstream.checks import check_number

__all__ = ["Replay", "describe_storage", "read_meta", "ring_from_saved", "write_archive"]

_FORMAT = 1  # version of the file layout written by save()


def describe_storage(head: str, nbytes: int | None) -> str:
    """A replay's one line for the start of a run: ``head`` and the memory its storage takes,
    which is known only once the first add has allocated it (``nbytes`` None before)."""
    if nbytes is None:
        return f"{head}, size known after the first add"
    return f"{head}, {format_size(nbytes)}"


class Replay:
    """Uniform replay of fixed-length sequences over ``num_envs`` parallel time lines.

    Args:
        capacity: steps kept over all envs; each env keeps ``capacity // num_envs`` of its latest
            steps (the oldest are overwritten first).
        num_envs: envs stepped together; every :meth:`add` holds one step of each.
        seed: seed of the replay's own random generator (``np.random.default_rng``).

    Storage is allocated on the first :meth:`add` with ``np.empty``, so resident memory only grows
    as the ring fills (the OS maps pages when they are first written).
    """

    def __init__(self, capacity: int, num_envs: int, seed: int = 0):
        capacity = check_number("capacity", capacity, int)
        num_envs = check_number("num_envs", num_envs, int)
        if capacity < num_envs:
            raise ValueError(f"capacity ({capacity}) must be at least num_envs ({num_envs}): "
                             f"each env needs room for one step")
        self.num_envs = num_envs
        self.per_env = capacity // num_envs
        self.capacity = self.per_env * num_envs  # what is really kept
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._data: dict[str, np.ndarray] | None = None
        self._pos = 0  # ring index the next add writes to (the same for every env)
        self._adds = 0  # steps added per env since creation (never wraps)

    # ------------------------------------------------------------------ writing
    def add(self, step: dict[str, np.ndarray]) -> None:
        """Store one env step for every env: each value has shape ``(num_envs, ...)``.

        The first add fixes the keys, per-step shapes and dtypes; later adds must match them
        (values are cast to the stored dtype within the same kind, e.g. int64 into int32).
        """
        if not isinstance(step, dict) or not step:
            raise ValueError("add() expects a non-empty dict of arrays shaped (num_envs, ...)")
        values = {key: np.asarray(value) for key, value in step.items()}
        n = self.num_envs
        for key, value in values.items():
            if value.ndim == 0 or value.shape[0] != n:
                raise ValueError(f"replay value {key!r} must have shape ({n}, ...) (one row per "
                                 f"env), got {value.shape}")
        if self._data is None:
            # Lazily allocated: np.empty maps no memory until pages are written.
            self._data = {key: np.empty((n, self.per_env, *value.shape[1:]), value.dtype)
                          for key, value in values.items()}
        else:
            self._check_like_first(values)
        pos = self._pos
        for key, value in values.items():
            self._data[key][:, pos] = value
        self._pos = (pos + 1) % self.per_env
        self._adds += 1

    def _check_like_first(self, values: dict[str, np.ndarray]) -> None:
        data = self._data
        assert data is not None
        if values.keys() != data.keys():
            missing = sorted(data.keys() - values.keys())
            extra = sorted(values.keys() - data.keys())
            raise ValueError(f"replay step keys differ from the first step's {list(data)}: "
                             f"missing {missing}, unexpected {extra}")
        for key, value in values.items():
            stored = data[key]
            if value.shape[1:] != stored.shape[2:]:
                raise ValueError(f"replay value {key!r} has per-step shape {value.shape[1:]}, "
                                 f"but the first step had {stored.shape[2:]}")
            if not np.can_cast(value.dtype, stored.dtype, "same_kind"):
                raise ValueError(f"replay value {key!r} has dtype {value.dtype}, which does not "
                                 f"fit the stored {stored.dtype} (fixed by the first step)")

    # ------------------------------------------------------------------ reading
    def sample(self, batch_size: int, length: int) -> dict[str, np.ndarray]:
        """``batch_size`` chunks of ``length`` consecutive steps, each from one env.

        Returns a dict of arrays shaped ``(batch_size, length, ...)`` with the stored dtypes.
        Every ``(env, start)`` whose whole chunk is stored is equally likely; chunks never span
        the ring's write position, so they are always contiguous in time.
        """
        batch_size = check_number("batch_size", batch_size, int)
        length = check_number("length", length, int)
        if length > self.per_env:
            raise ValueError(f"a chunk of {length} steps does not fit the replay's "
                             f"{self.per_env:,} steps per env (capacity {self.capacity:,} over "
                             f"{self.num_envs} envs)")
        filled = self.steps_per_env
        if self._data is None or filled < length:
            raise ValueError(f"replay holds {filled} steps per env; a chunk needs {length}")
        # Time offset 0 is the oldest stored step: ring index 0 until the ring is full, then the
        # write position (the next step to be overwritten).  Offsets are taken in time order, so
        # a chunk of offsets [o, o + length) never straddles the newest->oldest seam.
        oldest = self._pos if self._adds >= self.per_env else 0
        envs = self._rng.integers(0, self.num_envs, batch_size)
        starts = self._rng.integers(0, filled - length + 1, batch_size)
        index = (oldest + starts[:, None] + np.arange(length)) % self.per_env
        rows = envs[:, None]
        return {key: value[rows, index] for key, value in self._data.items()}

    @property
    def steps_per_env(self) -> int:
        """Steps currently stored for each env."""
        return min(self._adds, self.per_env)

    @property
    def adds(self) -> int:
        """Steps added per env since creation (keeps counting after the ring wraps)."""
        return self._adds

    def __len__(self) -> int:
        """Steps stored, over all envs."""
        return self.steps_per_env * self.num_envs

    @property
    def nbytes(self) -> int:
        """Bytes of the storage (the full ring once allocated; 0 before the first add)."""
        return 0 if self._data is None else sum(v.nbytes for v in self._data.values())

    def describe(self) -> str:
        """One line for the start of a run: capacity, layout and memory."""
        return describe_storage(f"replay: {self.capacity:,} steps ({self.per_env:,} per env x "
                                f"{self.num_envs})", None if self._data is None else self.nbytes)

    def __repr__(self) -> str:
        return (f"Replay(capacity={self.capacity}, num_envs={self.num_envs}, "
                f"stored={len(self)}, keys={list(self._data or {})})")

    # ------------------------------------------------------------------ checkpoints
    @property
    def rng_state(self) -> dict[str, Any]:
        """The sampling generator's state: set it back to sample the same chunks again."""
        return dict(self._rng.bit_generator.state)

    @rng_state.setter
    def rng_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state

    def save(self, path: str | os.PathLike) -> None:
        """Write the replay to ``path`` (an ``.npz``), atomically: a temporary file beside it is
        renamed over ``path`` only once complete, so a crash never leaves a half-written file.

        Only the written part of the ring is saved; :meth:`load` restores contents, write
        position, step count and the sampling RNG, so sampling continues exactly.
        """
        path = Path(path)
        keys = list(self._data or {})
        meta = {"format": _FORMAT, "capacity": self.capacity, "num_envs": self.num_envs,
                "seed": self.seed, "pos": self._pos, "adds": self._adds, "keys": keys,
                "rng": self.rng_state}
        filled = self.steps_per_env
        # Numbered names: keys may hold any characters, and must not clash with "meta".
        write_archive(path, meta, {f"data_{i}": self._data[key][:, :filled]  # type: ignore[index]
                                   for i, key in enumerate(keys)})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Replay:
        """A replay exactly as :meth:`save` left it (contents, positions, RNG state)."""
        with np.load(path, allow_pickle=False) as archive:
            meta = read_meta(archive, path, _FORMAT)
            replay = cls(meta["capacity"], meta["num_envs"], meta["seed"])
            replay._pos, replay._adds = int(meta["pos"]), int(meta["adds"])
            replay.rng_state = meta["rng"]
            if meta["keys"]:
                replay._data = {key: ring_from_saved(archive[f"data_{i}"], replay.per_env)
                                for i, key in enumerate(meta["keys"])}
        return replay


def write_archive(path: str | os.PathLike, meta: dict[str, Any],
                  arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` and ``meta`` (JSON, with its ``format``) into one ``.npz``, written
    atomically: a replay file is whole or absent."""
    with atomic_open(Path(path)) as f:
        contents: dict[str, Any] = {"meta": np.array(json.dumps(meta)), **arrays}
        np.savez(f, **contents)


def read_meta(archive: Any, path: str | os.PathLike, file_format: int) -> dict[str, Any]:
    """The ``meta`` of an archive :func:`write_archive` wrote, refusing another format."""
    meta = json.loads(str(archive["meta"]))
    if meta.get("format") != file_format:
        raise ValueError(f"{path}: unknown replay file format {meta.get('format')!r}")
    return meta


def ring_from_saved(saved: np.ndarray, per_env: int) -> np.ndarray:
    """The per-env ring (num_envs, per_env, ...) of which ``saved`` is the filled part
    (num_envs, filled, ...): ``saved`` itself when the ring was full, which spares a copy."""
    if saved.shape[1] == per_env:
        return saved
    ring = np.empty((saved.shape[0], per_env, *saved.shape[2:]), saved.dtype)
    ring[:, :saved.shape[1]] = saved
    return ring
