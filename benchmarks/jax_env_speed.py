"""Speed of the JAX twins against the numpy batched engines: env steps per second.

Run ``python benchmarks/jax_env_speed.py [--sizes 1 64 1024 4096] [--json out.json]``.  For each
env (Messenger's stages, HomeGrid's task-only and all-hints settings) and batch size it steps a
uniformly random policy (episodes autoreset as they end, read steps included) through

* ``numpy``: the batched numpy env (``gym.make_vec(id, vectorization_mode="vector_entry_point",
  copy=False)``), which always draws both ``image`` and ``grid``;
* ``jax loop``: the twin's vector env (``gym.make_vec("jax/<id>")``), one jitted call per step
  from Python, actions made on the device, no host sync until the end;
* ``jax scan``: the same step inside one compiled ``lax.scan`` (what a jitted trainer runs);
  each step's observation is carried to the next, so the compiler cannot skip drawing it;

each twin with pixels and with the grid only (``pixels=False``).  A figure is the best of
``--repeats`` timed runs after a compiling warm-up; the table gives each twin's figure as a
multiple of the numpy engine's at the same size, measured in the same run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import homegrid  # noqa: F401, E402  (registers the ids)
import messenger_s2  # noqa: F401, E402
from benchmarks.messenger_speed import machine, write_json  # noqa: E402
from langstream.cli import Parser, positive_int  # noqa: E402
from langstream.jax_env import autoreset_step  # noqa: E402

ENVS = ["Messenger-S1-v0", "Messenger-S2-v0", "Messenger-S3-v0", "HomeGrid-Task-v0",
        "HomeGrid-v0"]


def best_rate(run: Callable[[], Any], steps: int, repeats: int) -> float:
    """Steps per second of ``run`` (which makes ``steps`` env steps), best of ``repeats``
    after one warm-up run."""
    jax.block_until_ready(run())
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        best = max(best, steps / (time.perf_counter() - start))
    return best


def numpy_rate(env_id: str, n: int, t: int, repeats: int) -> float:
    envs = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", copy=False)
    envs.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, envs.single_action_space.n, (t, n))

    def run() -> None:
        for a in actions:
            envs.step(a)
    return best_rate(run, t * n, repeats)


def jax_loop_rate(env_id: str, n: int, t: int, repeats: int, pixels: bool) -> float:
    envs = gym.make_vec(f"jax/{env_id}", num_envs=n, pixels=pixels)
    envs.reset(seed=0)
    actions = jax.random.randint(jax.random.PRNGKey(0), (t, n), 0, envs.single_action_space.n)

    def run() -> jax.Array:
        obs = None
        for a in actions:
            obs = envs.step(a)[0]
        return obs
    return best_rate(run, t * n, repeats)


def jax_scan_rate(env_id: str, n: int, t: int, repeats: int, pixels: bool) -> float:
    f = gym.make(f"jax/{env_id}", pixels=pixels).unwrapped.func_env
    n_actions = int(f.action_space.n)
    observe = jax.vmap(lambda s: f.observation(s, None))

    @jax.jit
    def rollout(carry: tuple[Any, ...]) -> tuple[Any, ...]:
        def body(carry: tuple[Any, ...], _: None) -> tuple[tuple[Any, ...], None]:
            state, key, _ = carry
            key, k_act, k_env = jax.random.split(key, 3)
            actions = jax.random.randint(k_act, (n,), 0, n_actions)
            state = autoreset_step(f, state, actions, k_env)
            # Carried, so each step's observation is made (only the last one is kept).
            return (state, key, observe(state)), None
        return jax.lax.scan(body, carry, None, t)[0]

    key, k_start = jax.random.split(jax.random.PRNGKey(0))
    state = jax.vmap(f.initial)(jax.random.split(k_start, n))
    carry = (state, key, observe(state))

    def run() -> jax.Array:
        nonlocal carry
        carry = rollout(carry)
        return carry[-1]
    return best_rate(run, t * n, repeats)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[1, 64, 1024, 4096],
                        help="batch sizes")
    parser.add_argument("--envs", nargs="+", default=ENVS, help="env ids (each has a twin)")
    parser.add_argument("--env-steps", type=positive_int, default=200_000,
                        help="env steps per timed run (batch size x steps)")
    parser.add_argument("--repeats", type=positive_int, default=2,
                        help="timed runs; the best counts")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    args = parser.parse_args()

    rows = []
    print(f"{'id':18s} {'envs':>5s} {'numpy':>10s} | {'jax loop':>10s} {'x':>5s} "
          f"{'jax scan':>10s} {'x':>5s} | {'grid loop':>10s} {'x':>5s} {'grid scan':>10s} "
          f"{'x':>5s}")
    for env_id in args.envs:
        for n in args.sizes:
            t = max(20, min(2_000, args.env_steps // n))
            row: dict[str, Any] = {"id": env_id, "num_envs": n, "steps_per_run": t,
                                   "numpy": numpy_rate(env_id, n, t, args.repeats)}
            for pixels, tag in ((True, "pixels"), (False, "grid")):
                row[f"jax_loop_{tag}"] = jax_loop_rate(env_id, n, t, args.repeats, pixels)
                row[f"jax_scan_{tag}"] = jax_scan_rate(env_id, n, t, args.repeats, pixels)
            base = row["numpy"]
            cells = [f"{row[k]:10,.0f} {row[k] / base:4.1f}x" for k in
                     ("jax_loop_pixels", "jax_scan_pixels", "jax_loop_grid", "jax_scan_grid")]
            print(f"{env_id:18s} {n:5d} {base:10,.0f} | {cells[0]} {cells[1]} | {cells[2]} "
                  f"{cells[3]}", flush=True)
            rows.append({k: round(v) if isinstance(v, float) else v for k, v in row.items()})
    write_json(args.json, {"machine": machine(device=jax.devices()[0].device_kind,
                                              jax=jax.__version__), "rows": rows})


if __name__ == "__main__":
    main()
