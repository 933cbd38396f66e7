"""Data-parallel learning on several devices (``python -m agent.train --devices N``).

The learner's state (parameters, optimiser state) is replicated on N devices and each batch is
split across them along its batch axis, with ``jax.sharding``.  The update itself is the same
jitted function as on one device: XLA partitions it by the inputs' shardings and inserts the
all-reduce that sums the gradients, so the result equals the single-device update up to float
rounding (tested).  The batch axis must divide by N.

On a CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` makes N host devices (to test;
they share the cores).

Across hosts (not tested here: this project has one machine): start one training process per
host, each calling ``jax.distributed.initialize(coordinator_address, num_processes,
process_id)`` before anything else touches JAX.  ``jax.devices()`` then lists every host's
devices, the mesh spans them, and each process contributes the batch its own envs and replay
produce: :meth:`DataParallel.split` assembles the global batch from every process's local rows
(``jax.make_array_from_process_local_data``), so the global batch is the per-process batch
times the number of processes.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


class DataParallel:
    """Replicates the learner's state on the first ``n`` devices and splits batches across
    them."""

    def __init__(self, n: int):
        available = jax.devices()
        if not 1 <= n <= len(available):
            raise ValueError(
                f"--devices {n}: this process sees {len(available)} "
                f"{available[0].platform} device(s), so at most {len(available)} (on a CPU, "
                f"XLA_FLAGS=--xla_force_host_platform_device_count=N makes N)")
        self.n = n
        self.mesh = Mesh(np.array(available[:n]), ("data",))
        self._replicated = NamedSharding(self.mesh, P())

    def replicate(self, tree: Any) -> Any:
        """``tree`` on every device (a no-op for arrays placed so already)."""
        return jax.device_put(tree, self._replicated)

    def split(self, batch: dict[str, Any]) -> dict[str, Any]:
        """``batch`` with each array split across the devices along its leading (batch) axis:
        every agent's batch is batch-major."""
        def one(x: Any) -> Any:
            x = np.asarray(x) if not isinstance(x, jax.Array) else x
            if x.shape[0] % self.n:
                raise ValueError(f"a batch axis of {x.shape[0]} does not split across "
                                 f"{self.n} devices: choose a batch size (or number of "
                                 f"envs) that divides by {self.n}")
            sharding = NamedSharding(self.mesh, P("data", *[None] * (x.ndim - 1)))
            if jax.process_count() > 1:  # this process's rows of the global batch
                return jax.make_array_from_process_local_data(sharding, x)
            return jax.device_put(x, sharding)

        return jax.tree.map(one, batch)
