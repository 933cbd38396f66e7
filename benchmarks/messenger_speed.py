"""Messenger speed: env steps per second, single and batched, and bytes per observation.

Run ``python benchmarks/messenger_speed.py [--json out.json]``.  Each figure steps a uniformly
random policy (episodes reset as they end, read steps included, as an agent sees them) and is
the best of ``--repeats`` timed runs after a warm-up.  The issue's targets are 50,000 steps/s for
one env and 500,000 for a batch of 64 on a 2-core machine; the table shows each figure as a
multiple of its target.  ``copy=False`` returns the batched env's own buffers (the caller must
copy what it keeps), ``copy=True`` fresh arrays each step.
"""

from __future__ import annotations

import json
import os
import platform
import time
from typing import Any

import gymnasium as gym
import numpy as np

import messenger_s2  # noqa: F401  (registers the ids)
from langstream.cli import Parser, positive_int

SINGLE_TARGET, BATCH_TARGET, BATCH = 50_000, 500_000, 64


def single_steps_per_s(env_id: str, steps: int, repeats: int) -> float:
    env = gym.make(env_id).unwrapped  # no wrappers: the env itself is what is measured
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 5, steps).tolist()
    best = 0.0
    for _ in range(repeats + 1):  # the first run warms caches up
        start = time.perf_counter()
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def batched_steps_per_s(env_id: str, steps: int, repeats: int, copy: bool) -> float:
    envs = gym.make_vec(env_id, num_envs=BATCH, vectorization_mode="vector_entry_point",
                        copy=copy)
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 5, (steps, BATCH))
    best = 0.0
    for _ in range(repeats + 1):
        start = time.perf_counter()
        for a in actions:
            envs.step(a)
        best = max(best, steps * BATCH / (time.perf_counter() - start))
    return best


def observation_bytes(env_id: str) -> dict[str, int]:
    obs, _ = gym.make(env_id).reset(seed=0)
    sizes = {key: int(np.asarray(value).nbytes) for key, value in obs.items()}
    sizes["total"] = sum(sizes.values())
    return sizes


def machine(**versions: str) -> dict[str, Any]:
    """The machine a result was measured on, with numpy's and any other ``versions``."""
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, **versions}


def write_json(path: str | None, result: dict[str, Any]) -> None:
    """Write ``result`` to ``path`` (if given) and say so."""
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {path}")


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=positive_int, default=30_000,
                        help="single-env steps per run")
    parser.add_argument("--batch-steps", type=positive_int, default=2_000,
                        help="batched steps per run")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="timed runs; the best counts")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args()

    rows = []
    print(f"{'id':18s} {'single':>10s} {'x target':>9s} {'batched':>10s} {'x target':>9s} "
          f"{'batched, copy':>14s} {'obs bytes':>10s}")
    for env_id in messenger_s2.ENV_IDS:
        single = single_steps_per_s(env_id, args.steps, args.repeats)
        fast = batched_steps_per_s(env_id, args.batch_steps, args.repeats, copy=False)
        copied = batched_steps_per_s(env_id, args.batch_steps, args.repeats, copy=True)
        size = observation_bytes(env_id)
        rows.append({"id": env_id, "single_steps_per_s": round(single),
                     "batched64_steps_per_s": round(fast),
                     "batched64_copy_steps_per_s": round(copied), "observation_bytes": size})
        print(f"{env_id:18s} {single:10,.0f} {single / SINGLE_TARGET:8.2f}x {fast:10,.0f} "
              f"{fast / BATCH_TARGET:8.2f}x {copied:14,.0f} {size['total']:10,d}")
    write_json(args.json, {"machine": machine(),
                           "targets": {"single": SINGLE_TARGET, "batched64": BATCH_TARGET},
                           "rows": rows})


if __name__ == "__main__":
    main()
