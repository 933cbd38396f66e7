"""Tests of the R2D2 baseline (agent/r2d2/).

- maths: value rescaling h and its inverse, n-step double-Q targets against hand-computed
  cases (termination, time limit and sequence end inside the window), sequence priorities,
  the actors' epsilon ladder;
- the prioritised sequence replay: sequences hold the right steps and start state even after
  the rings wrap, sampling frequencies follow p^0.9, priority updates, new sequences at the max
  priority, overwritten sequences keep theirs, and save/load reproduces the next sample;
- learning: the tiny agent learns a memory task (a token names the rewarded action at the first
  step only) far above a random policy, in a few thousand env steps;
- the trainer's checkpoint round trip (parameters, target, optimiser, replay) and the refusal of
  a different configuration.

CPU only; about 1 minute on 2 cores (mostly compiling; less with tests/conftest.py's persistent
JAX cache warm).
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import SyncVectorEnv

from agent.r2d2 import Config, Trainer, learner, maths
from agent.r2d2.replay import Sampled, SequenceReplay
from agent.runner import EnvConfig

# ============================================================================================
# 1. value rescaling


def test_value_rescaling_round_trip_and_monotone():
    x = np.concatenate([[0.0, 1e-3, -1e-3, 1e-6, -1e-6, 1.0, -1.0, 1e4, -1e4],
                        np.linspace(-1e4, 1e4, 2001), np.geomspace(1e-5, 1e4, 500)])
    x = np.concatenate([x, -x]).astype(np.float32)
    y = maths.value_rescale(x)
    back = np.asarray(maths.value_rescale_inv(y))
    np.testing.assert_allclose(back, x, rtol=2e-6, atol=1e-9)
    # h against its textbook form (float64), and strictly increasing.
    x64 = x.astype(np.float64)
    h64 = np.sign(x64) * (np.sqrt(np.abs(x64) + 1) - 1) + 1e-3 * x64
    np.testing.assert_allclose(np.asarray(y), h64, rtol=1e-6, atol=1e-9)
    order = np.argsort(x)
    assert np.all(np.diff(np.asarray(y)[order]) >= 0)
    grid = jnp.linspace(-100.0, 100.0, 10_001)
    assert bool(jnp.all(jnp.diff(maths.value_rescale(grid)) > 0))
    assert float(maths.value_rescale(0.0)) == 0.0 and float(maths.value_rescale_inv(0.0)) == 0.0


# ============================================================================================
# 2. n-step double-Q targets


def test_n_step_returns_hand_computed():
    """gamma = 0.5, n = 3, three sequences of T = 6 rows: a termination at row 2, a time limit
    at row 2, and no episode end (the window ends at the sequence's last row)."""
    reward = np.tile(np.arange(6.0)[:, None], (1, 3))  # reward[t] = t, received at row t
    value = np.tile(10.0 * np.arange(1, 7)[:, None], (1, 3))  # value[t] = 10 (t + 1)
    is_last = np.zeros((6, 3), bool)
    is_terminal = np.zeros((6, 3), bool)
    is_last[2, :2] = True
    is_terminal[2, 0] = True
    G, valid = maths.n_step_returns(reward, is_last, is_terminal, value, 0.5, 3)
    G, valid = np.asarray(G), np.asarray(valid)
    expected_valid = np.array([[1, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 1], [1, 1, 1],
                               [0, 0, 0]], bool)
    np.testing.assert_array_equal(valid, expected_valid)
    expected = np.array([
        # terminated at row 2: r1 + 0.5 r2, no bootstrap | r2
        # truncated at row 2: r1 + 0.5 r2 + 0.25 v2 | r2 + 0.5 v2
        # no end: r1 + 0.5 r2 + 0.25 r3 + 0.125 v3 | r2 + 0.5 r3 + 0.25 r4 + 0.125 v4 | ...
        [1 + 0.5 * 2, 1 + 0.5 * 2 + 0.25 * 30, 1 + 1 + 0.75 + 0.125 * 40],
        [2, 2 + 0.5 * 30, 2 + 1.5 + 1 + 0.125 * 50],
        [0, 0, 3 + 2 + 1.25 + 0.125 * 60],
        # rows 3 and 4: the window stops at the last row (5) and bootstraps there
        [4 + 0.5 * 5 + 0.25 * 60] * 3,
        [5 + 0.5 * 60] * 3,
        [0, 0, 0],
    ])
    np.testing.assert_allclose(np.where(valid, G, 0.0), expected, rtol=1e-6)


def test_double_q_targets_use_the_online_argmax():
    # The online network prefers action 0, the target network action 1.
    q_online = jnp.array([[[3.0, 1.0]], [[2.0, 0.5]], [[4.0, 0.0]]])  # (T=3, B=1, A=2)
    q_target = jnp.array([[[0.2, 5.0]], [[0.7, 9.0]], [[1.5, 6.0]]])
    np.testing.assert_allclose(maths.double_q_values(q_online, q_target), [[0.2], [0.7], [1.5]])
    reward = jnp.array([[0.0], [1.0], [2.0]])
    no = jnp.zeros((3, 1), bool)
    eps = 1e-3
    targets, valid = maths.n_step_double_q_targets(reward, no, no, q_online, q_target, 0.9, 2,
                                                   eps)
    h, h_inv = maths.value_rescale, maths.value_rescale_inv
    # row 0: r1 + 0.9 r2 + 0.81 h^-1(Q_target(s2, argmax Q_online(s2) = 0)); row 1: the last
    # row ends the window after one step.
    row0 = h(1.0 + 0.9 * 2.0 + 0.81 * h_inv(1.5, eps), eps)
    row1 = h(2.0 + 0.9 * h_inv(1.5, eps), eps)
    np.testing.assert_allclose(np.asarray(targets)[:2, 0], [row0, row1], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(valid)[:, 0], [True, True, False])
    # Plain Q-learning (the target's own max) would give a different target.
    greedy_target = h(1.0 + 0.9 * 2.0 + 0.81 * h_inv(6.0, eps), eps)
    assert abs(float(greedy_target) - float(row0)) > 0.5


# ============================================================================================
# 3. priorities and the prioritised sequence replay


def test_sequence_priorities():
    delta = jnp.array([[1.0, 0.5], [-3.0, 0.5], [2.0, -0.5], [100.0, 7.0]])  # (T=4, B=2)
    valid = jnp.array([[True, True], [True, True], [True, True], [False, False]])
    p = np.asarray(maths.sequence_priorities(delta, valid, 0.9))
    np.testing.assert_allclose(p, [0.9 * 3 + 0.1 * 2, 0.5], rtol=1e-6)


def _step(t: int, num_envs: int) -> dict[str, np.ndarray]:
    """Step t of every env, with values that name (env, t)."""
    env = np.arange(num_envs)
    return {"t": np.full(num_envs, t, np.int64), "env": env, "is_last": np.zeros(num_envs, bool),
            "image": np.full((num_envs, 2, 2, 1), t % 256, np.uint8) + env[:, None, None, None]}


def _fill(replay: SequenceReplay, start: int, stop: int) -> None:
    for t in range(start, stop):
        n = replay.num_envs
        state = {"c": np.stack([np.full(3, 1000 * e + t, np.float32) for e in range(n)]),
                 "prev_action": np.full(n, t, np.int32)}
        replay.add(_step(t, n), state if replay.wants_start else None)


def _uniform_sample(replay: SequenceReplay) -> Sampled:
    size = len(replay)
    return Sampled(np.arange(size), replay._serial[:size].copy(), np.full(size, 1.0 / size))


def test_sequences_hold_their_steps_and_start_state_after_wrapping():
    replay = SequenceReplay(capacity=6, num_envs=2, length=5, period=2, seed=0)
    assert replay.per_env == 5 + 3 * 2
    _fill(replay, 0, 4)
    assert len(replay) == 0  # no sequence is complete before its 5 steps are written
    with pytest.raises(ValueError, match="no complete sequence"):
        replay.sample(1)
    _fill(replay, 4, 97)  # the rings wrap many times
    assert len(replay) == 6
    batch, sampled = replay.sample(200)
    assert batch["t"].shape == (200, 5) and batch["image"].shape == (200, 5, 2, 2, 1)
    first = batch["t"][:, 0]
    np.testing.assert_array_equal(batch["t"], first[:, None] + np.arange(5))
    np.testing.assert_array_equal(batch["env"], np.repeat(sampled.slot[:, None] % 2, 5, 1))
    assert set(first.tolist()) == {88, 90, 92}  # each env's latest 3 complete (92 + 5 <= 97)
    np.testing.assert_array_equal(batch["prev_action"], first)
    np.testing.assert_array_equal(batch["c"][:, 0], 1000 * (sampled.slot % 2) + first)
    np.testing.assert_array_equal(batch["image"][:, :, 0, 0, 0],
                                  (batch["t"] % 256) + batch["env"])
    np.testing.assert_array_equal(batch["weight"], 1.0)
    # end_episodes marks each env's newest step as an episode end; sequence starts keep
    # their spacing.
    replay.end_episodes("is_last")
    _fill(replay, 97, 104)
    batch, _ = replay.sample(500)
    assert set(batch["t"][:, 0].tolist()) == {94, 96, 98}  # 98 + 5 <= 104
    np.testing.assert_array_equal(batch["is_last"], batch["t"] == 96)


def test_sampling_follows_priorities():
    replay = SequenceReplay(capacity=4, num_envs=1, length=2, period=1, seed=3,
                            priority_exponent=0.9)
    _fill(replay, 0, 5)
    assert len(replay) == 4
    np.testing.assert_array_equal(replay.priorities, 1.0)  # the max of an empty table is 1
    replay.update_priorities(_uniform_sample(replay), np.array([1.0, 2.0, 4.0, 8.0]))

    def frequencies(draws: int = 100_000) -> np.ndarray:
        index = np.concatenate([replay.sample(1000)[1].slot for _ in range(draws // 1000)])
        return np.bincount(index, minlength=4) / index.size

    expected = np.array([1.0, 2.0, 4.0, 8.0]) ** 0.9
    np.testing.assert_allclose(frequencies(), expected / expected.sum(), atol=0.01)
    # Raising one priority makes it the most likely.
    replay.update_priorities(_uniform_sample(replay), np.array([50.0, 2.0, 4.0, 8.0]))
    freq = frequencies(20_000)
    assert freq[0] > 0.6
    # A new sequence replaces the oldest slot (0) and gets the current max priority.
    replay.update_priorities(_uniform_sample(replay), np.array([1.0, 2.0, 4.0, 8.0]))
    _fill(replay, 5, 6)
    np.testing.assert_allclose(replay.priorities, [8.0, 2.0, 4.0, 8.0])
    # Priorities of a sample whose sequence has since been replaced are not written.
    _, sampled = replay.sample(64)
    _fill(replay, 6, 7)  # replaces slot 1
    replay.update_priorities(sampled, np.full(64, 0.25))
    assert replay.priorities[1] == 8.0
    assert replay.priorities[0] == 0.25 or 0 not in sampled.slot


def test_importance_weights_when_asked():
    replay = SequenceReplay(capacity=4, num_envs=1, length=2, period=1, seed=0,
                            importance_exponent=1.0)
    _fill(replay, 0, 5)
    replay.update_priorities(_uniform_sample(replay), np.array([1.0, 1.0, 1.0, 9.0]))
    batch, sampled = replay.sample(256)
    expected = (4 * sampled.probability) ** -1.0
    np.testing.assert_allclose(batch["weight"], expected / expected.max(), rtol=1e-6)
    assert batch["weight"].min() < batch["weight"].max() == 1.0


def test_replay_save_load_reproduces_the_next_sample(tmp_path):
    replay = SequenceReplay(capacity=6, num_envs=2, length=5, period=2, seed=1)
    _fill(replay, 0, 30)
    _, sampled = replay.sample(5)
    replay.update_priorities(sampled, np.linspace(0.1, 3.0, 5))
    path = tmp_path / "replay.npz"
    replay.save(path)
    loaded = SequenceReplay.load(path)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, no leftovers
    np.testing.assert_array_equal(loaded.priorities, replay.priorities)
    for round in range(2):
        (a, sa), (b, sb) = replay.sample(7), loaded.sample(7)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        np.testing.assert_array_equal(sa.slot, sb.slot)
        if round == 0:
            # Sequences in progress go on alike (their start states were saved).
            _fill(replay, 30, 34)
            _fill(loaded, 30, 34)
    assert len(loaded) == len(replay) and loaded.adds == replay.adds == 34
    # A replay that has not stored anything yet round-trips too.
    empty = SequenceReplay(capacity=4, num_envs=2, length=3, period=1)
    empty.save(tmp_path / "empty.npz")
    assert len(SequenceReplay.load(tmp_path / "empty.npz")) == 0


# ============================================================================================
# 4. the epsilon ladder


def test_actor_epsilons():
    np.testing.assert_allclose(maths.actor_epsilons(1), [0.4])
    eps = maths.actor_epsilons(8, 0.4, 7.0)
    np.testing.assert_allclose(eps, [0.4 ** (1 + 7 * i / 7) for i in range(8)], rtol=1e-6)
    assert eps[0] == pytest.approx(0.4) and eps[-1] == pytest.approx(0.4 ** 8)
    assert np.all(np.diff(eps) < 0)
    np.testing.assert_allclose(maths.actor_epsilons(3, 0.5, 2.0), [0.5, 0.25, 0.125])


# ============================================================================================
# 5. learning a memory task


class CueEnv(gym.Env):
    """The first token names the rewarded action (1 + a); later tokens are pad (0), so from
    the second step on the agent must remember it.  4 steps, reward 1 for the named action,
    then termination: random play earns 4 / n_actions, perfect play 4.  The image shows only
    the time step."""

    def __init__(self, n_actions: int = 3, length: int = 4):
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (8, 8, 3), np.uint8),
            "token": spaces.Discrete(n_actions + 1)})
        self.action_space = spaces.Discrete(n_actions)
        self.n_actions, self.length = n_actions, length
        self.t = self.target = 0

    def _obs(self) -> dict:
        image = np.zeros((8, 8, 3), np.uint8)
        image[0, self.t % 8] = 255
        return {"image": image, "token": 1 + self.target if self.t == 0 else 0}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.target = 0, int(self.np_random.integers(self.n_actions))
        return self._obs(), {}

    def step(self, action):
        reward = float(action == self.target)
        self.t += 1
        return self._obs(), reward, self.t >= self.length, False, {}


if "R2D2TestCue-v0" not in gym.registry:
    gym.register(id="R2D2TestCue-v0", entry_point=CueEnv)

CUE = EnvConfig("R2D2TestCue-v0")


def _mean_return(choose, episodes: int = 160, num_envs: int = 16, seed: int = 123) -> float:
    """Mean return of the first ``episodes`` episodes played with ``choose(obs) -> actions``."""
    adapter = CUE.adapter(num_envs, seed, env=SyncVectorEnv([CueEnv] * num_envs))
    obs = adapter.reset()
    returns: list[float] = []
    while len(returns) < episodes:
        obs = adapter.step(choose(obs))
        returns += [e["return"] for e in adapter.take_completed()]
    adapter.close()
    return float(np.mean(returns[:episodes]))


def test_tiny_agent_learns_a_memory_task(tmp_path):
    cfg = Config.preset("tiny")
    trainer = Trainer(cfg, CUE, tmp_path)
    while trainer.env_steps < 4000:
        trainer.act()
        trainer.train()
    assert trainer.updates > 300

    pol = learner.policy(cfg, trainer.spec)
    step = jax.jit(pol.step)
    state = {"carry": pol.initial(trainer.params, 16), "key": jax.random.PRNGKey(0)}

    def greedy(obs: dict) -> np.ndarray:
        state["key"], k = jax.random.split(state["key"])
        inputs = {key: obs[key] for key in ("image", "token", "reward", "is_first")}
        action, state["carry"], _ = step(trainer.params, inputs, state["carry"], k, True)
        return np.asarray(action)

    rng = np.random.default_rng(0)
    random_return = _mean_return(lambda obs: rng.integers(0, 3, obs["token"].shape[0]))
    greedy_return = _mean_return(greedy)
    print(f"\nR2D2 tiny on the cue task after {trainer.env_steps} env steps, "
          f"{trainer.updates} updates: greedy {greedy_return:.2f}, random {random_return:.2f}"
          f" (perfect 4)")
    assert random_return < 2.0
    assert greedy_return > 3.3 and greedy_return > random_return + 1.5


# ============================================================================================
# 6. checkpoints


def test_trainer_save_load_round_trip(tmp_path):
    cfg = Config.preset("tiny", target_period=3, min_replay=8, num_envs=4)
    trainer = Trainer(cfg, CUE, tmp_path)
    def target_is_online() -> bool:
        return all(jax.tree.leaves(jax.tree.map(lambda a, b: bool(jnp.all(a == b)),
                                                trainer.state.params, trainer.state.target)))

    # The target network is the online one right after every target_period-th update only.
    for updates in (6, 7):
        while trainer.updates < updates:
            trainer.act()
            trainer.train()
        assert trainer.updates == updates
        assert target_is_online() == (updates % 3 == 0)
    trainer.save()
    assert [p.name for p in tmp_path.glob("buffers-*/*")] == ["replay.npz"]

    resumed = Trainer(cfg, CUE, tmp_path)
    resumed.load()
    for name in ("params", "target", "opt", "updates"):
        for a, b in zip(jax.tree.leaves(getattr(trainer.state, name)),
                        jax.tree.leaves(getattr(resumed.state, name)), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
    np.testing.assert_array_equal(np.asarray(trainer.key), np.asarray(resumed.key))
    assert (resumed.env_steps, resumed.updates, resumed.update_credit) == (
        trainer.env_steps, trainer.updates, trainer.update_credit)
    np.testing.assert_array_equal(resumed.replay.priorities, trainer.replay.priorities)
    (a, sa), (b, sb) = trainer.replay.sample(5), resumed.replay.sample(5)
    np.testing.assert_array_equal(sa.slot, sb.slot)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # The resumed run goes on.
    for _ in range(3):
        resumed.act()
        resumed.train()

    other = Trainer(dataclasses.replace(cfg, lstm=32), CUE, tmp_path)
    with pytest.raises(ValueError, match="lstm"):
        other.load()
