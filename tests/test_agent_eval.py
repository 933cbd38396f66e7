"""``python -m agent.eval``: fixed-seed returns, the JSON report, the subtitled GIF, errors.

The runs are tiny: a few env steps of ``agent.dynalang.Trainer`` (untrained parameters are enough
to check the evaluation itself), one per suite, shared by the module.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import jax
import numpy as np
import pytest
from PIL import Image

from agent import checkpoint
from agent import eval as agent_eval
from agent.dynalang import Trainer
from agent.dynalang import learner as dynalang
from agent.dynalang.config import Config
from agent.runner import EnvConfig

HOMEGRID, MESSENGER = "HomeGrid-Task-v0", "Messenger-S1-v0"


def _tiny_run(root: Path, env_id: str) -> Path:
    """A checkpoint after a few env steps of the tiny preset (no update: the replay holds less
    than one batch, which keeps the test quick)."""
    logdir = root / env_id
    logdir.mkdir(parents=True)  # Trainer.save writes the replay before making the directory
    cfg = Config.preset("tiny", num_envs=2, batch_size=2, batch_length=8, train_ratio=1)
    trainer = Trainer(cfg, EnvConfig(id=env_id), logdir)
    try:
        for _ in range(3):
            trainer.act()
            trainer.train()
        trainer.save()
    finally:
        trainer.env.close()
    return logdir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval_runs")
    return {env_id: _tiny_run(root, env_id) for env_id in (HOMEGRID, MESSENGER)}


@pytest.fixture(scope="module")
def agents(runs: dict[str, Path]) -> dict[str, agent_eval.Agent]:
    return {env_id: agent_eval.load_agent(run) for env_id, run in runs.items()}


def test_the_runs_see_the_right_images(agents: dict[str, agent_eval.Agent]) -> None:
    assert agents[HOMEGRID].spec.image_shape == (64, 64, 3)
    assert agents[MESSENGER].spec.image_shape == (16, 16, 17)  # 10x10x17 grid, padded to 16
    assert agents[MESSENGER].spec.binary_image


@pytest.mark.parametrize("env_id", [HOMEGRID, MESSENGER])
def test_evaluate_plays_exactly_the_episodes_asked_and_repeats(
        env_id: str, runs: dict[str, Path], agents: dict[str, agent_eval.Agent]) -> None:
    result = agent_eval.evaluate(runs[env_id], episodes=3, seed=7, num_envs=2)
    assert result["episodes"] == len(result["returns"]) == len(result["lengths"]) == 3
    assert result["seeds"] == [7, 8, 9]
    assert result["env"] == env_id and result["env_steps"] == 6 and not result["greedy"]
    assert result["mean_return"] == pytest.approx(np.mean(result["returns"]))
    assert result["min_return"] <= result["mean_return"] <= result["max_return"]
    assert all(real <= length for real, length in zip(result["real_lengths"],
                                                      result["lengths"]))
    assert 0.0 <= result["success_rate"] <= 1.0  # both suites report info["success"]
    # The same command gives the same numbers, from the path, a loaded checkpoint or an Agent.
    assert agent_eval.evaluate(checkpoint.load(runs[env_id]), episodes=3, seed=7,
                               num_envs=2) == result
    assert agent_eval.evaluate(agents[env_id], episodes=3, seed=7, num_envs=2) == result


def test_results_do_not_depend_on_the_number_of_envs(
        agents: dict[str, agent_eval.Agent]) -> None:
    # Batch sizes 1 and 2 only: each new one costs a compilation.
    agent = agents[MESSENGER]
    pairs = agent_eval.evaluate(agent, episodes=3, seed=3, num_envs=2)  # waves of 2, then 1 + 1
    alone = agent_eval.evaluate(agent, episodes=3, seed=3, num_envs=1)
    assert alone == pairs
    other_seed = agent_eval.evaluate(agent, episodes=3, seed=1003, num_envs=2)
    assert other_seed["lengths"] != pairs["lengths"]  # the seed does choose the episodes


def test_greedy_is_repeatable_and_reported(agents: dict[str, agent_eval.Agent]) -> None:
    agent = agents[MESSENGER]
    greedy = agent_eval.evaluate(agent, episodes=2, seed=7, num_envs=2, greedy=True)
    assert greedy["greedy"]
    assert agent_eval.evaluate(agent, episodes=2, seed=7, num_envs=2, greedy=True) == greedy


def test_the_step_computes_the_trainers_posterior(agents: dict[str, agent_eval.Agent]) -> None:
    """eval's jitted step runs ``dynalang.policy`` row by row (vmapped, a key per row): from the
    same observation its posterior logits must be the batched policy's."""
    agent = agents[MESSENGER]
    env = agent.env.adapter(2, 0)
    try:
        obs = env.reset()
    finally:
        env.close()
    inputs = {k: obs[k] for k in ("image", "token", "is_first")}
    policy = dynalang.policy(agent.cfg, agent.spec)
    _, theirs, _ = jax.jit(policy.step)(agent.params, inputs, agent.initial_carry(2),
                                        jax.random.PRNGKey(0))
    action, ours, ids, probs = agent.act(obs, agent.initial_carry(2), jax.random.PRNGKey(0),
                                         np.arange(2), np.zeros(2), greedy=False)
    np.testing.assert_allclose(ours.state["logits"], theirs.state["logits"], atol=1e-5)
    np.testing.assert_allclose(ours.state["deter"], theirs.state["deter"], atol=1e-5)
    assert action.shape == (2,) and ((0 <= action) & (action < agent.spec.n_actions)).all()
    assert ids.shape == probs.shape == (2, 3)
    assert (np.diff(probs, axis=1) <= 0).all() and (probs.sum(1) <= 1 + 1e-6).all()


def test_cli_prints_and_writes_the_json(runs: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "reports" / "eval.json"
    agent_eval.main(["--logdir", str(runs[MESSENGER]), "--episodes", "3", "--num-envs", "2",
                     "--seed", "7", "--json", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert "3 episodes" in printed and "return" in printed and "success" in printed
    report = json.loads(out.read_text())
    assert report["episodes"] == 3 and report["seeds"] == [7, 8, 9]
    assert report["env_steps"] == 6
    assert report == agent_eval.evaluate(runs[MESSENGER], episodes=3, seed=7, num_envs=2)
    assert [p.name for p in out.parent.iterdir()] == ["eval.json"]  # no temporary left


def test_gif_has_a_subtitled_frame_per_step(agents: dict[str, agent_eval.Agent],
                                            tmp_path: Path) -> None:
    agent = agents[MESSENGER]
    info = agent_eval.record_gif(agent, tmp_path / "episode.gif", seed=7)
    # The recorded episode is episode 0 of the evaluation with the same seed.
    episode = agent_eval.evaluate(agent, episodes=1, seed=7, num_envs=1)
    assert (info["length"], info["return"]) == (episode["lengths"][0], episode["returns"][0])
    assert info["frames"] == info["length"] + 1  # the reset, then one per env step

    gif = Image.open(info["path"])
    assert gif.n_frames == info["frames"]
    assert gif.info["loop"] == 0 and gif.info["duration"] == 250  # Messenger renders at 4 fps
    frames = []
    for i in range(2):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB")))
    env = gym.make(MESSENGER, render_mode="rgb_array")
    env.reset(seed=7)
    env_frame_height, env_frame_width = env.render().shape[:2]  # with the env's own caption
    env.close()
    width, height = gif.size
    assert width == env_frame_width
    assert height == env_frame_height + 4 + 2 * 21 + 4  # two lines of subtitles
    band = [f[env_frame_height:] for f in frames]
    assert not np.array_equal(band[0], band[1])  # the step number at least changes
    assert (band[0] < 128).any()  # there is text


def test_missing_logdir_names_the_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "no-such-run"
    with pytest.raises(SystemExit) as exc:
        agent_eval.main(["--logdir", str(missing)])
    assert exc.value.code == 2
    assert str(missing) in capsys.readouterr().err
    missing.mkdir()
    (missing / "checkpoint.pkl").write_bytes(b"not a pickle")
    with pytest.raises(SystemExit):
        agent_eval.main(["--logdir", str(missing)])
    assert "not a readable checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("episodes", ["0", "-3", "many"])
def test_episodes_must_be_positive(episodes: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        agent_eval.main(["--logdir", str(tmp_path), "--episodes", episodes])
    assert exc.value.code == 2
    assert "--episodes: must be an int >= 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="episodes must be a positive int"):
        agent_eval.evaluate(tmp_path, episodes=0)


def test_random_policy_plays_the_fixed_episodes_at_any_batch_size() -> None:
    """The leaderboard's floor: the same seeds as a trained agent, results independent of how
    many episodes run side by side, and the actions really vary."""
    one = agent_eval.evaluate_random(MESSENGER, episodes=6, seed=7, num_envs=1)
    three = agent_eval.evaluate_random(EnvConfig(MESSENGER), episodes=6, seed=7, num_envs=3)
    assert one == three
    assert one["seeds"] == list(range(7, 13)) and one["env_steps"] == 0
    assert len(set(one["lengths"])) > 1  # random moves end episodes at different times
    other = agent_eval.evaluate_random(MESSENGER, episodes=6, seed=100, num_envs=3)
    assert other["returns"] != one["returns"] or other["lengths"] != one["lengths"]


@pytest.mark.parametrize("name", ["impala", "r2d2"])
def test_baselines_are_evaluated_and_recorded_like_dynalang(name: str, tmp_path: Path) -> None:
    """A baseline's checkpoint evaluates through the same code (fixed seeds, any batch size)
    and records a GIF whose subtitles have no next-token line (baselines predict no tokens)."""
    from agent.registry import agent_package

    package = agent_package(name)
    trainer = package.Trainer(package.Config.preset("tiny", num_envs=2), EnvConfig(MESSENGER),
                              tmp_path)
    try:
        for _ in range(3):
            trainer.act()
        trainer.save()
    finally:
        trainer.env.close()
    agent = agent_eval.load_agent(tmp_path)
    assert agent.name == name
    result = agent_eval.evaluate(agent, episodes=3, seed=7, num_envs=3)
    assert result == agent_eval.evaluate(agent, episodes=3, seed=7, num_envs=1)
    assert agent_eval.evaluate(agent, episodes=3, seed=7, greedy=True)["greedy"]
    info = agent_eval.record_gif(agent, tmp_path / "episode.gif", seed=7)
    assert (info["length"], info["return"]) == (result["lengths"][0], result["returns"][0])
    env = gym.make(MESSENGER, render_mode="rgb_array")
    env.reset(seed=7)
    env_frame_height = env.render().shape[0]
    env.close()
    assert Image.open(info["path"]).size[1] == env_frame_height + 4 + 21 + 4  # one line
