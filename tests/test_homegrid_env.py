"""HomeGrid's own side of the env contract (the shared part is tests/test_env_contract.py):
episode length, the vocabulary, arguments and their errors, image sizes, batching options."""

import gymnasium as gym
import numpy as np
import pytest

from homegrid import ENV_IDS, HomeGridEnv
from homegrid.vector import HomeGridVectorEnv

IDS = list(ENV_IDS)


@pytest.mark.parametrize("env_id", IDS)
def test_episodes_only_truncate_after_the_limit_plus_the_preread(env_id):
    """HomeGrid never terminates: an episode is max_steps play steps after its pre-read."""
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    for episode in range(3):
        env.reset(seed=episode)
        steps = 0
        while True:
            obs, reward, term, trunc, info = env.step(int(rng.integers(10)))
            steps += 1
            assert obs["grid"].shape == (3, 3, 36)
            assert not term
            if trunc:
                break
        assert steps == 100 + env.unwrapped.game.preread


def test_vocab_matches_the_token_space():
    env = gym.make("HomeGrid-v0")
    vocab = env.unwrapped.vocab
    assert env.observation_space["token"].n == len(vocab) == 36
    assert vocab.words[0] == "<pad>"


def test_vector_env_spaces_and_render():
    envs = HomeGridVectorEnv(3, ("future",), render_mode="rgb_array")
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
    envs = HomeGridVectorEnv(2)
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
