"""The natively batched envs of both suites follow Gymnasium's autoreset modes exactly as
SyncVectorEnv does: same observations, rewards, ends and infos, episode end after episode end."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import homegrid  # noqa: F401  (registers the ids)
import messenger_s2  # noqa: F401

# id, extra env arguments (short HomeGrid episodes, so that many end), steps
CASES = [("HomeGrid-v0", {"max_steps": 6}, 160), ("Messenger-S1-v0", {}, 160),
         ("Messenger-S2-v0", {}, 300)]


def assert_same(native, sync, where="out"):
    """Equal values, dtypes and keys, through dicts and object arrays (infos, final_obs)."""
    if isinstance(sync, dict):
        assert native.keys() == sync.keys(), where
        for key in sync:
            assert_same(native[key], sync[key], f"{where}[{key!r}]")
    elif isinstance(sync, np.ndarray) and sync.dtype == object:
        assert isinstance(native, np.ndarray) and native.shape == sync.shape, where
        for i, (a, b) in enumerate(zip(native, sync)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(sync, tuple) and isinstance(native, tuple):  # what reset and step return
        assert len(native) == len(sync), where
        for i, (a, b) in enumerate(zip(native, sync)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(sync, np.ndarray):
        assert isinstance(native, np.ndarray) and native.dtype == sync.dtype, where
        np.testing.assert_array_equal(native, sync, err_msg=where)
    else:
        assert native == sync, where


def make_pair(env_id, kwargs, mode, n):
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point",
                          autoreset_mode=mode, **kwargs)
    sync = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, **kwargs)
    assert type(native.unwrapped).__module__.endswith(".vector")
    return native, sync


@pytest.mark.parametrize("mode", list(AutoresetMode))
@pytest.mark.parametrize("env_id,kwargs,steps", CASES)
def test_native_vector_env_matches_sync_vector_env(env_id, kwargs, steps, mode):
    n = 3
    native, sync = make_pair(env_id, kwargs, mode, n)
    assert native.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"] == mode
    assert_same(native.reset(seed=7), sync.reset(seed=7))
    actions = np.random.default_rng(0).integers(0, native.single_action_space.n, (steps, n))
    ends = 0
    for t in range(steps):
        out = native.step(actions[t])
        assert_same(out, sync.step(actions[t]), f"step {t}")
        ended = out[2] | out[3]
        ends += int(ended.sum())
        if mode == AutoresetMode.SAME_STEP:
            assert (out[4].get("_final_obs", np.zeros(n, bool)) == ended).all()
        if mode == AutoresetMode.DISABLED and ended.any():
            # The caller resets; SyncVectorEnv pops the mask, so each gets its own options.
            assert_same(native.reset(options={"reset_mask": ended.copy()}),
                        sync.reset(options={"reset_mask": ended.copy()}), f"reset {t}")
    assert ends >= 4  # several episode ends, in several sub-envs
    native.close()
    sync.close()


@pytest.mark.parametrize("env_id", ["HomeGrid-Task-v0", "Messenger-S1-v0"])
def test_disabled_mode_refuses_to_step_an_ended_episode(env_id):
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point",
                        autoreset_mode="Disabled", **({"max_steps": 2} if "Home" in env_id else {}))
    envs.reset(seed=0)
    with pytest.raises(RuntimeError, match="reset_mask"):
        for _ in range(200):
            envs.step(np.zeros(2, np.int64))
    with pytest.raises(RuntimeError, match="first reset"):
        type(envs.unwrapped)(2, autoreset_mode=AutoresetMode.DISABLED).reset(
            options={"reset_mask": np.array([True, False])})


def test_bad_autoreset_mode_and_reset_mask_say_what_is_valid():
    with pytest.raises(ValueError, match=r"autoreset_mode must be one of .*SAME_STEP"):
        gym.make_vec("Messenger-S2-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     autoreset_mode="same")
    envs = gym.make_vec("HomeGrid-v0", num_envs=2, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"bool array of shape \(2,\)"):
        envs.reset(options={"reset_mask": [True, False]})
    with pytest.raises(ValueError, match="at least one"):
        envs.reset(options={"reset_mask": np.zeros(2, bool)})
