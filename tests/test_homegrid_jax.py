"""HomeGrid's JAX twin against the numpy engine: fed the same stream of random draws, the same
episodes, observation for observation, in every hint setting."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

jax = pytest.importorskip("jax")

from twin_checks import assert_same_statistics, rollout_stats  # noqa: E402

from homegrid import jax_engine as twin  # noqa: E402
from homegrid.env import HomeGridEnv  # noqa: E402
from homegrid.oracle import Oracle  # noqa: E402
from homegrid.registration import ENV_IDS  # noqa: E402
from homegrid.symbols import GRID_SHAPE  # noqa: E402

GRID = 2048  # uniforms on a grid of 2**-11: both engines compare them with probabilities alike


class ScriptedGenerator:
    """Stands in for the numpy env's generator: ``random(n)`` hands out the test's uniforms."""

    def __init__(self, seed: int):
        self.uniforms = np.random.default_rng(seed).integers(0, GRID, 400_000) / GRID
        self.next = 0

    def random(self, n: int) -> np.ndarray:
        out = self.uniforms[self.next:self.next + n]
        self.next += n
        return out


def play_both(hints: tuple[str, ...], episodes: int, seed: int, **kwargs) -> dict[str, float]:
    env = HomeGridEnv(hints, **kwargs)
    game, oracle = env.game, Oracle()
    cfg = twin.Settings.of(frozenset(hints), **{k: v for k, v in kwargs.items()
                                                 if k != "image_size"})
    start = jax.jit(lambda u: twin.start(cfg, u))
    play = jax.jit(lambda s, a, u: twin.play(cfg, s, a, u))
    observe = jax.jit(lambda s: twin.observe(s, size))
    gen = ScriptedGenerator(seed)
    actions = np.random.default_rng(seed + 1)
    size = kwargs.get("image_size", 64)
    image = np.zeros((size, size, 3), np.uint8)
    grid = np.zeros(GRID_SHAPE, np.uint8)
    seen = {"reward": 0.0, "tasks": 0, "said": set()}
    for _ in range(episodes):
        first = gen.next
        token, is_read, info = game.reset(gen, image, grid)  # type: ignore[arg-type]
        state, used = start(gen.uniforms[first:first + twin.START_UNIFORMS].astype(np.float32))
        cursor = first + int(used)
        step = 0
        while True:
            obs = observe(state)
            where = f"episode from draw {first}, step {step}"
            assert int(obs["token"]) == token, where
            assert int(obs["is_read_step"]) == is_read, where
            np.testing.assert_array_equal(np.asarray(obs["grid"]), grid, err_msg=where)
            np.testing.assert_array_equal(np.asarray(obs["image"]), image, err_msg=where)
            if step and game.done:
                break
            # The oracle most of the time, so that tasks get done, objects carried and bins
            # opened or broken; random actions for the rest.
            action = (oracle.act(env.symbolic_state()) if actions.random() < 0.7
                      else int(actions.integers(10)))
            token, is_read, reward, _, truncated, info = game.step(action, image, grid)
            state, used = play(state, np.int32(action), gen.uniforms[
                cursor:cursor + twin.STEP_UNIFORMS].astype(np.float32))
            cursor += int(used)
            step += 1
            # The twin has read exactly the draws the numpy engine's stream has handed out.
            assert cursor == gen.next - len(game.rng._buffer) + game.rng._next, where
            assert float(state.reward) == reward, where
            assert bool(state.truncated) == truncated and bool(state.success) == info["success"]
            seen["reward"] += reward
            seen["tasks"] += info["success"]
            if info["text"]:
                seen["said"].add(info["text"].split()[0])
    return seen


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_same_draws_same_episodes_as_numpy(env_id: str) -> None:
    hints = ENV_IDS[env_id]
    seen = play_both(hints, episodes=6, seed=len(env_id))
    # The comparison must have covered what each setting says: tasks done and new ones given,
    # teleports and spawns foretold, how bins open, corrections.
    assert seen["tasks"] >= 6, seen
    expected = {"future": {"i", "there"}, "dynamics": {"pedal", "grasp", "lift"},
                "corrections": {"no,"}}
    for hint in hints:
        assert expected[hint] & seen["said"], (hint, seen)


def test_same_draws_same_episodes_with_other_arguments() -> None:
    """Another image size, a short pre-read cap, frequent teleports and task repeats, a short
    step limit."""
    seen = play_both(ENV_IDS["HomeGrid-v0"], episodes=6, seed=7, image_size=48, preread_max=5,
                     p_teleport=0.5, repeat_task_every=7, max_steps=40, p_language=0.6)
    assert seen["tasks"] >= 3 and "i" in seen["said"], seen  # tasks done, teleports told


def test_vector_env_plays_like_the_numpy_batch() -> None:
    """With its own JAX draws the twin's random play has the numpy engine's returns, episode
    lengths (read steps included) and tasks done, within sampling noise (all hints on)."""
    twin_envs = gym.make_vec("homegrid:jax/HomeGrid-v0", num_envs=128, pixels=False)
    numpy_envs = gym.make_vec("HomeGrid-v0", num_envs=128, vectorization_mode="vector_entry_point")
    assert_same_statistics(rollout_stats(twin_envs, 300, 0), rollout_stats(numpy_envs, 300, 0),
                           min_episodes=200)


def test_check_env_seeding_and_arguments() -> None:
    from gymnasium.utils.env_checker import check_env

    env = gym.make("homegrid:jax/HomeGrid-v0", render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=True)
    first = [env.reset(seed=4)[0]["token"]] + [env.step(1)[0]["token"] for _ in range(30)]
    assert env.render().shape == (64, 64, 3)
    again = [env.reset(seed=4)[0]["token"]] + [env.step(1)[0]["token"] for _ in range(30)]
    assert first == again
    with pytest.raises(ValueError, match="fixes hints"):
        gym.make("homegrid:jax/HomeGrid-Task-v0", hints=("future",))
    with pytest.raises(ValueError, match="max_steps"):
        gym.make("homegrid:jax/HomeGrid-v0", max_steps=0)
    with pytest.raises(ValueError, match="unknown argument"):
        gym.make_vec("homegrid:jax/HomeGrid-v0", num_envs=2, colour="red")
