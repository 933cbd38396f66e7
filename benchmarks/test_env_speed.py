"""Speed of every registered environment, HomeGrid and Messenger (pytest-benchmark).

Run: ``python -m pytest benchmarks/test_env_speed.py -n 0 --benchmark-enable``
(add ``--benchmark-json=out.json`` to keep the numbers, ``-k Messenger`` for one suite).  Each
benchmark steps a uniformly random policy for a fixed number of env steps;
``extra_info["steps_per_s"]`` is the headline figure.  For HomeGrid's ratio against the
original implementation run ``benchmarks/compare_reference.py``; for Messenger's figures
against the targets, ``benchmarks/messenger_speed.py``.
"""

import gymnasium as gym
import numpy as np
import pytest

import homegrid  # noqa: F401  (registers its ids)
import messenger_s2  # noqa: F401
from langstream.registry import PROJECT_IDS

ENV_IDS = list(PROJECT_IDS)
SINGLE_STEPS = 20_000
BATCH, BATCH_STEPS = 64, 500  # 32,000 env steps per round


def _record(benchmark, env_steps):
    benchmark.extra_info["env_steps_per_round"] = env_steps
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["steps_per_s"] = round(env_steps / stats.stats.mean)


def random_actions(space, shape):
    return np.random.default_rng(0).integers(0, space.n, shape)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_env_steps(benchmark, env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    actions = random_actions(env.action_space, SINGLE_STEPS).tolist()

    def run():
        step, reset = env.step, env.reset
        for a in actions:
            _, _, terminated, truncated, _ = step(a)
            if terminated or truncated:
                reset()

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    _record(benchmark, SINGLE_STEPS)


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_batched_env_steps(benchmark, env_id, copy):
    envs = gym.make_vec(env_id, num_envs=BATCH, vectorization_mode="vector_entry_point",
                        copy=copy)
    envs.reset(seed=0)
    actions = random_actions(envs.single_action_space, (BATCH_STEPS, BATCH))

    def run():
        step = envs.step
        for a in actions:
            step(a)

    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    _record(benchmark, BATCH * BATCH_STEPS)


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "Messenger-S2-v0", "Messenger-S3-v0"])
def test_reset(benchmark, env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    for _ in range(1000):  # fill the per-cell view caches first: steady state is what counts
        env.reset()
    benchmark(env.reset)


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "Messenger-S2-v0"])
def test_full_map_render(benchmark, env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step_and_render():
        _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            env.reset()
        return env.render()

    benchmark.pedantic(step_and_render, rounds=2000, warmup_rounds=500)
