"""The Gymnasium contract every registered id keeps, HomeGrid and Messenger alike: the checker,
observations inside their space, seeding, pickling, every render mode, and the native vector
env replaying single envs.  Suite-specific rules are tested beside each suite."""

import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import homegrid  # noqa: F401  (registers its ids)
import messenger_s2  # noqa: F401
from langstream.registry import PROJECT_IDS
from messenger_s2.oracle import greedy_action

IDS = list(PROJECT_IDS)  # every id the suites registered; a new suite's join by themselves
SUITES: dict[str, str] = {}  # each suite's package -> its first id
for _id, _module in PROJECT_IDS.items():
    SUITES.setdefault(_module.split(".")[0], _id)
OBS_KEYS = ("image", "grid", "token", "is_read_step")


ACTIONS = {env_id: int(gym.make(env_id).action_space.n) for env_id in IDS}


def act(env_id: str, obs: dict, info: dict, rng: np.random.Generator) -> int:
    """Random actions, except that Messenger is played greedily most of the time, so that its
    rare outcomes (pickups, wins, deaths) happen in every test that replays episodes."""
    if env_id.startswith("Messenger") and rng.random() > 0.3:
        return greedy_action(obs["grid"], info["roles"])
    return int(rng.integers(ACTIONS[env_id]))


def record(obs: dict, info: dict, *step: object) -> tuple:
    """What an agent sees at one step (arrays copied), for comparing two runs."""
    return (*(np.array(obs[k], copy=True) for k in OBS_KEYS), info["text"], repr(info["events"]),
            *step)


def rollout(env: gym.Env, seed: int | None, steps: int, rng: np.random.Generator,
            env_id: str) -> list[tuple]:
    """Everything seen over ``steps`` steps (resetting after each episode) from ``seed``."""
    obs, info = env.reset(seed=seed)
    out = [record(obs, info)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(act(env_id, obs, info, rng))
        out.append(record(obs, info, reward, terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()
            out.append(record(obs, info))
    return out


def assert_same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array", "human"])
def test_check_env_in_every_render_mode(env_id, render_mode):
    if render_mode not in (None, *gym.make(env_id).metadata["render_modes"]):
        pytest.skip(f"{env_id} has no {render_mode} mode")
    if render_mode == "human":
        pytest.importorskip("pygame")
    env = gym.make(env_id, render_mode=render_mode).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env, skip_render_check=render_mode is None)
    if render_mode == "rgb_array":
        env.reset(seed=0)
        frame = env.render()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_observations_stay_in_space_for_whole_episodes(env_id):
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    ended = 0
    for _ in range(600):
        assert obs in env.observation_space
        assert obs["grid"].dtype == np.uint8 and set(np.unique(obs["grid"])) <= {0, 1}
        assert isinstance(obs["token"], int) and obs["is_read_step"] in (0, 1)
        assert {"text", "events", "success"} <= set(info)
        obs, reward, terminated, truncated, info = env.step(act(env_id, obs, info, rng))
        if terminated or truncated:
            ended += 1
            obs, info = env.reset()
    assert ended >= 2


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episodes_and_another_seed_differs(env_id):
    runs = [rollout(gym.make(env_id), seed, 250, np.random.default_rng(1), env_id)
            for seed in (123, 123, 124)]
    assert_same(runs[0], runs[1])
    first, other = runs[0][0], runs[2][0]
    assert not all(np.array_equal(u, v) for u, v in zip(first, other))


@pytest.mark.parametrize("env_id", IDS)
def test_reset_without_seed_continues_the_generator(env_id):
    env = gym.make(env_id)
    first = rollout(env, 5, 0, np.random.default_rng(0), env_id)
    second = rollout(env, None, 0, np.random.default_rng(0), env_id)
    assert not all(np.array_equal(u, v) for u, v in zip(first[0], second[0]))  # a new episode
    assert_same(rollout(env, 5, 0, np.random.default_rng(0), env_id), first)
    assert_same(rollout(env, None, 0, np.random.default_rng(0), env_id), second)


@pytest.mark.parametrize("env_id", IDS)
def test_pickled_env_continues_exactly_as_the_original(env_id):
    """A pickled env (for a process pool or a checkpoint) carries its whole state, generator
    included: both copies then play the same future."""
    env = gym.make(env_id)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(40):  # into an episode, past the read phase of most
        if any(env.step(int(rng.integers(ACTIONS[env_id])))[2:4]):
            env.reset()
    copy = pickle.loads(pickle.dumps(env))
    runs = []
    for e in (env, copy):
        rng, seen = np.random.default_rng(1), []
        for _ in range(150):
            obs, reward, terminated, truncated, info = e.step(int(rng.integers(ACTIONS[env_id])))
            seen.append(record(obs, info, reward, terminated, truncated))
            if terminated or truncated:
                obs, info = e.reset()
                seen.append(record(obs, info))
        runs.append(seen)
    assert_same(*runs)


@pytest.mark.parametrize("env_id", IDS)
def test_native_vector_env_replays_single_envs(env_id):
    """Sub-env i of the batched engine is the single env seeded s + i, step for step, across
    episode ends (next-step autoreset: the action on an ended episode only resets it)."""
    n, seed, steps = 4, 40, 300
    venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    assert not isinstance(venv, gym.vector.SyncVectorEnv)
    envs = [gym.make(env_id) for _ in range(n)]
    vobs, vinfo = venv.reset(seed=seed)
    obs, infos = map(list, zip(*(e.reset(seed=seed + i) for i, e in enumerate(envs))))
    rng = np.random.default_rng(3)
    needs_reset, ended, outcomes = [False] * n, 0, set()
    for _ in range(steps):
        actions = np.array([act(env_id, obs[i], infos[i], rng) for i in range(n)])
        vobs, vreward, vterminated, vtruncated, vinfo = venv.step(actions)
        for i, env in enumerate(envs):
            if needs_reset[i]:
                obs[i], infos[i] = env.reset()
                reward, terminated, truncated = 0.0, False, False
            else:
                obs[i], reward, terminated, truncated, infos[i] = env.step(int(actions[i]))
            needs_reset[i] = terminated or truncated
            ended += needs_reset[i]
            for key in OBS_KEYS:
                np.testing.assert_array_equal(vobs[key][i], obs[i][key])
            assert (vreward[i], vterminated[i], vtruncated[i]) == (reward, terminated, truncated)
            for key, value in infos[i].items():  # dicts are batched per key, as Gymnasium does
                batched = ({k: vinfo[key][k][i] for k in value} if isinstance(value, dict)
                           else vinfo[key][i])
                np.testing.assert_equal(batched, value, err_msg=key)
            outcomes.update(map(repr, infos[i]["events"]))
    assert ended >= n
    if env_id.startswith("Messenger"):  # the rare contact rules ran in both engines
        assert any("picked up the message" in o for o in outcomes)


@pytest.mark.parametrize("module,env_id", SUITES.items())
def test_make_works_without_importing_the_package(module, env_id):
    code = (f"import sys, gymnasium; env = gymnasium.make('{module}:{env_id}'); "
            f"env.reset(seed=0); assert '{module}' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("module,env_id", SUITES.items())
def test_environments_import_and_render_without_jax_or_pygame(module, env_id):
    code = ("import sys; sys.modules['pygame'] = None; sys.modules['jax'] = None\n"
            f"import gymnasium, {module}\n"
            f"e = gymnasium.make('{env_id}', render_mode='rgb_array'); e.reset(seed=0)\n"
            "print(e.render().shape[2])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
