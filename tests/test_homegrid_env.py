"""The Gymnasium contract of every HomeGrid id: spaces, seeding, batching, errors."""

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import homegrid
from homegrid import ENV_IDS, HomeGridEnv

IDS = list(ENV_IDS)


def rollout(env, seed, actions):
    """Everything an agent sees in one episode driven by a fixed action list."""
    obs, info = env.reset(seed=seed)
    out = [(obs["image"].copy(), obs["grid"].copy(), obs["token"], obs["is_read_step"],
            info["text"], info["task"])]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out.append((obs["image"].copy(), obs["grid"].copy(), obs["token"], obs["is_read_step"],
                    r, term, trunc, info["text"], info["task"],
                    [e["description"] for e in info["events"]]))
        if term or trunc:
            break
    return out


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert len(x) == len(y)
        for u, v in zip(x, y):
            if isinstance(u, np.ndarray):
                np.testing.assert_array_equal(u, v)
            else:
                assert u == v


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array", "human"])
def test_check_env(env_id, render_mode):
    if render_mode == "human":
        pytest.importorskip("pygame")
    env = gym.make(env_id, render_mode=render_mode).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env, skip_render_check=False)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_observations_stay_in_space_for_whole_episodes(env_id):
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    for episode in range(3):
        obs, info = env.reset(seed=episode)
        assert obs in env.observation_space
        steps = 0
        while True:
            obs, reward, term, trunc, info = env.step(int(rng.integers(10)))
            steps += 1
            assert obs in env.observation_space
            assert isinstance(obs["token"], int) and obs["image"].dtype == np.uint8
            assert obs["grid"].dtype == np.uint8 and obs["grid"].shape == (3, 3, 36)
            assert set(np.unique(obs["grid"]).tolist()) <= {0, 1}
            assert set(info) >= {"text", "task", "events", "success"}
            assert not term  # HomeGrid only ever truncates
            if trunc:
                break
        assert steps == 100 + env.unwrapped.game.preread


def test_make_works_without_importing_the_package():
    code = ("import sys, gymnasium; env = gymnasium.make('homegrid:HomeGrid-Task-v0'); "
            "env.reset(seed=0); assert 'homegrid' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_environments_import_without_jax_or_pygame():
    code = ("import sys; sys.modules['pygame'] = None; sys.modules['jax'] = None; "
            "import gymnasium, homegrid; gymnasium.make('HomeGrid-v0').reset(seed=0); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_vocab_matches_the_token_space():
    env = gym.make("HomeGrid-v0")
    vocab = env.unwrapped.vocab
    assert env.observation_space["token"].n == len(vocab) == 36
    assert vocab.words[0] == "<pad>"


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episode(env_id):
    actions = np.random.default_rng(1).integers(0, 10, 200).tolist()
    a = rollout(gym.make(env_id), 123, actions)
    b = rollout(gym.make(env_id), 123, actions)
    assert_same(a, b)
    c = rollout(gym.make(env_id), 124, actions)
    assert any(not np.array_equal(x[0], y[0]) for x, y in zip(a, c))
    assert any(not np.array_equal(x[1], y[1]) for x, y in zip(a, c))  # grids differ too


def test_reset_without_seed_continues_the_generator():
    env = gym.make("HomeGrid-v0")
    env.reset(seed=5)
    first = env.unwrapped.symbolic_state()
    env.reset()
    second = env.unwrapped.symbolic_state()
    env.reset(seed=5)
    assert env.unwrapped.symbolic_state() == first
    assert second != first


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "HomeGrid-Task-v0"])
def test_vector_env_replays_single_envs(env_id):
    n, seed, steps = 4, 10, 260  # long enough to cross an episode boundary (autoreset)
    rng = np.random.default_rng(2)
    actions = rng.integers(0, 10, (steps, n))
    envs = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    assert isinstance(envs.unwrapped, homegrid.vector.HomeGridVectorEnv)
    obs, info = envs.reset(seed=seed)
    batched = [obs]
    records = [[] for _ in range(n)]
    for t in range(steps):
        obs, rew, term, trunc, info = envs.step(actions[t])
        batched.append(obs)
        for i in range(n):
            records[i].append((rew[i], trunc[i], info["text"][i]))
    for i in range(n):
        env = gym.make(env_id)
        o, inf = env.reset(seed=seed + i)
        np.testing.assert_array_equal(o["image"], batched[0]["image"][i])
        np.testing.assert_array_equal(o["grid"], batched[0]["grid"][i])
        done = False
        for t in range(steps):
            if done:  # next-step autoreset: the vector env resets and ignores the action
                o, inf = env.reset()
                r, tr = 0.0, False
                done = False
            else:
                o, r, te, tr, inf = env.step(int(actions[t, i]))
                done = tr
            assert o["token"] == batched[t + 1]["token"][i]
            assert o["is_read_step"] == batched[t + 1]["is_read_step"][i]
            np.testing.assert_array_equal(o["image"], batched[t + 1]["image"][i])
            np.testing.assert_array_equal(o["grid"], batched[t + 1]["grid"][i])
            assert (r, tr, inf["text"]) == records[i][t]
    assert any(done for done in [rec[1] for r in records for rec in r])


def test_vector_env_spaces_and_render():
    envs = homegrid.vector.HomeGridVectorEnv(3, ("future",), render_mode="rgb_array")
    obs, info = envs.reset(seed=0)
    assert obs in envs.observation_space
    assert info["text"].shape == (3,) and info["_text"].all()
    frames = envs.render()
    assert len(frames) == 3 and frames[0].ndim == 3


# ----------------------------------------------------------------------------- bad input
def test_bad_actions_name_the_valid_ones():
    env = gym.make("HomeGrid-v0").unwrapped
    env.reset(seed=0)
    for bad in (10, -1, 2.5, "up", None, True):
        with pytest.raises(ValueError, match="0 left"):
            env.step(bad)
    env.step(np.int64(3))
    env.step(np.array(4))


def test_step_before_reset_and_after_the_end():
    env = HomeGridEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env = HomeGridEnv(hints=(), max_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_unknown_hint_kind_and_keyword_name_what_is_valid():
    with pytest.raises(ValueError, match="corrections"):
        gym.make("HomeGrid-v0", hints=("future", "weather"))
    with pytest.raises(TypeError, match="image_size"):
        gym.make("HomeGrid-v0", img_size=64)
    with pytest.raises(TypeError, match="image_size"):
        gym.make_vec("HomeGrid-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     colour=True)
    with pytest.raises(ValueError, match="render_mode"):
        HomeGridEnv(render_mode="ascii")
    with pytest.raises(ValueError, match="image_size"):
        HomeGridEnv(image_size=0)
    with pytest.raises(ValueError, match="probability"):
        HomeGridEnv(p_teleport=2.0)
    with pytest.raises(ValueError, match="preread_max"):
        HomeGridEnv(preread_max=-1)
    with pytest.raises(ValueError, match="max_steps"):
        HomeGridEnv(max_steps=0)


@pytest.mark.parametrize("name,value,valid", [
    ("p_language", "0.5", r"a probability, a number in \[0, 1\]"),
    ("p_teleport", float("nan"), r"a probability, a number in \[0, 1\]"),
    ("max_steps", 10.0, "an int >= 1"),
    ("preread_max", True, "an int >= 0"),
    ("repeat_task_every", "20", "an int >= 1"),
    ("image_size", 10000, r"an int in \[3, 1024\]"),
    ("image_size", 64.0, r"an int in \[3, 1024\]"),
])
def test_numeric_arguments_are_checked_by_type_and_range(name, value, valid,
                                                         argument_refused):
    """A one-line error naming the argument, the value and what is valid, single or batched."""
    argument_refused("HomeGrid-v0", name, value, valid)


def test_numeric_arguments_accept_numpy_numbers_and_the_size_bounds():
    env = gym.make("HomeGrid-Task-v0", max_steps=np.int64(3), p_teleport=np.float32(0.0),
                   image_size=np.int64(1024))
    obs, _ = env.reset(seed=0)
    assert obs["image"].shape == (1024, 1024, 3)
    assert gym.make("HomeGrid-Task-v0", image_size=3).reset(seed=0)[0]["image"].shape[0] == 3
    with pytest.raises(ValueError, match=r"^num_envs must be an int >= 1, got 2.0 \(float\)$"):
        gym.make_vec("HomeGrid-v0", num_envs=2.0, vectorization_mode="vector_entry_point")


def test_arguments_that_contradict_the_id_are_refused():
    with pytest.raises(ValueError, match=r"^HomeGrid-Task-v0 fixes hints=\(\), got "
                       r"hints=\('future',\); use the id 'HomeGrid-Future-v0' instead$"):
        gym.make("HomeGrid-Task-v0", hints=("future",))
    with pytest.raises(ValueError, match=r"^HomeGrid-v0 fixes hints=.* no id has that: build "
                       r"homegrid.vector.HomeGridVectorEnv\(hints=\('future', 'dynamics'\)\)"):
        gym.make_vec("HomeGrid-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     hints=("future", "dynamics"))
    with pytest.raises(ValueError, match="HomeGrid-Corrections-v0 fixes hints"):
        gym.make_vec("HomeGrid-Corrections-v0", num_envs=2, vectorization_mode="sync", hints=())
    # The same hints said differently are no contradiction.
    env = gym.make("HomeGrid-v0", hints=["corrections", "task", "future", "dynamics"])
    assert env.unwrapped.hints == frozenset(ENV_IDS["HomeGrid-v0"])
    assert gym.spec("HomeGrid-v0").to_json()  # the checked entry points are still strings


def test_vector_env_rejects_bad_actions():
    envs = homegrid.vector.HomeGridVectorEnv(2)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step([0, 0])
    envs.reset(seed=0)
    for bad in ([0], [0, 10], [0.5, 1.0], [[0, 1]]):
        with pytest.raises(ValueError, match="actions"):
            envs.step(bad)


@pytest.mark.parametrize("size", [64, 96, 48])
def test_image_size(size):
    env = gym.make("HomeGrid-Task-v0", image_size=size)
    obs, _ = env.reset(seed=0)
    assert obs["image"].shape == (size, size, 3)
