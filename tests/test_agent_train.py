"""The training CLI: a run killed with SIGKILL resumes from its last checkpoint with nothing
corrupted, a resumed trainer continues exactly, and a checkpoint from another configuration is
refused with a message naming what differs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from agent import checkpoint, logger
from agent.dynalang import Trainer
from agent.dynalang.config import Config
from agent.runner import EnvConfig
from agent.train import main

ROOT = Path(__file__).resolve().parents[1]
#: a run that updates every few env steps on the cheapest env (Messenger-S1's 16x16 grid)
FLAGS = ["--env", "Messenger-S1-v0", "--preset", "tiny", "--num-envs", "2", "--batch-size", "2",
         "--batch-length", "8", "--train-ratio", "4", "--replay-capacity", "2000",
         "--log-every", "20", "--no-progress", "--no-tensorboard"]


def small_config(**overrides) -> Config:
    return Config.preset("tiny", **{**dict(num_envs=2, batch_size=2, batch_length=8,
                                           train_ratio=4.0, replay_capacity=2000), **overrides})


def test_sigkill_mid_run_then_resume_continues_from_the_last_checkpoint(tmp_path):
    logdir = tmp_path / "run"
    command = [sys.executable, "-m", "agent.train", *FLAGS, "--logdir", str(logdir),
               "--steps", "100000", "--checkpoint-every", "40"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        # Kill once a checkpoint exists and training has gone on past it.
        deadline = time.time() + 240
        while time.time() < deadline and process.poll() is None:
            if checkpoint.path_of(logdir).exists():
                steps = checkpoint.load(logdir)["counters"]["env_steps"]
                records = logger.read(logdir) if (logdir / logger.JSONL).exists() else []
                if steps >= 80 and records and records[-1]["env_steps"] > steps:
                    break
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    killed = checkpoint.load(logdir)
    at_kill = killed["counters"]
    assert at_kill["updates"] > 0

    # Resume with only the logdir and a new budget: the configuration comes from the checkpoint.
    target = at_kill["env_steps"] + 60
    main(["--logdir", str(logdir), "--resume", "--steps", str(target), "--no-progress",
          "--no-tensorboard", "--log-every", "20"])
    done = checkpoint.load(logdir)
    assert done["counters"]["env_steps"] == target
    assert done["counters"]["updates"] > at_kill["updates"]
    assert int(done["state"].updates) == done["counters"]["updates"]
    assert done["config"] == killed["config"]
    changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), killed["state"].params["wm"],
                           done["state"].params["wm"])
    assert any(jax.tree.leaves(changed)), "training did not continue"

    # The metrics read as one run: the killed run's records past its checkpoint were dropped.
    steps = [r["env_steps"] for r in logger.read(logdir)]
    assert steps == sorted(set(steps)) and steps[-1] == target
    lines = (logdir / logger.JSONL).read_text().splitlines()
    assert all(json.loads(line) for line in lines)

    # The replay kept what the killed run had stored and grew by the resumed steps.
    from agent.replay import Replay

    buffers = done["buffers"]
    assert [p.name for p in logdir.glob("buffers-*")] == [buffers]  # older ones were removed
    replay = Replay.load(logdir / buffers / "replay.npz")
    assert replay.adds == target // 2
    batch = replay.sample(2, 8)
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (2, 8, 16, 16, 17)


def test_resumed_trainer_makes_exactly_the_same_update(tmp_path):
    cfg = small_config()
    first = Trainer(cfg, EnvConfig("Messenger-S1-v0"), tmp_path)
    for _ in range(12):
        first.act()
        first.train()
    assert first.updates > 0
    first.save()

    second = Trainer(cfg, EnvConfig("Messenger-S1-v0"), tmp_path)
    second.load()
    assert (second.env_steps, second.updates) == (first.env_steps, first.updates)
    outcomes = []
    for trainer in (first, second):
        batch = trainer.replay.sample(cfg.batch_size, cfg.batch_length)
        trainer.state, metrics = trainer.update(trainer.state, batch)
        outcomes.append((batch, jax.device_get(trainer.state), float(metrics["model_loss"])))
    (batch_a, state_a, loss_a), (batch_b, state_b, loss_b) = outcomes
    for key in batch_a:
        np.testing.assert_array_equal(batch_a[key], batch_b[key])  # replay and its RNG
    assert loss_a == loss_b
    same = jax.tree.map(np.array_equal, state_a, state_b)  # params, optimisers, carry, key
    assert all(jax.tree.leaves(same))


def test_resume_refuses_a_different_configuration(tmp_path, capsys):
    logdir = tmp_path / "run"
    main([*FLAGS, "--logdir", str(logdir), "--steps", "8", "--checkpoint-every", "8"])
    with pytest.raises(SystemExit, match="deter: checkpoint 64, asked 96"):
        main(["--logdir", str(logdir), "--resume", "--steps", "16", "--deter", "96"])
    with pytest.raises(SystemExit, match="id: checkpoint 'Messenger-S1-v0'"):
        main(["--logdir", str(logdir), "--resume", "--env", "Messenger-S2-v0"])
    with pytest.raises(SystemExit, match="already holds a run"):
        main([*FLAGS, "--logdir", str(logdir), "--steps", "16"])

    other = Trainer(small_config(stoch=4), EnvConfig("Messenger-S1-v0"), logdir)
    with pytest.raises(ValueError, match="stoch: checkpoint 8, this run 4"):
        other.load()


def test_resume_without_a_checkpoint_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        main(["--logdir", str(tmp_path / "nothing"), "--resume"])


def test_world_model_initialisation_needs_matching_sizes(tmp_path):
    source = Trainer(small_config(), EnvConfig("Messenger-S1-v0"), tmp_path / "a")
    source.save()
    target = Trainer(small_config(seed=1), EnvConfig("Messenger-S1-v0"), tmp_path / "b")
    target.init_world_model(tmp_path / "a")
    same = jax.tree.map(np.array_equal, jax.device_get(source.state.params["wm"]),
                        jax.device_get(target.state.params["wm"]))
    assert all(jax.tree.leaves(same))
    mismatch = Trainer(small_config(deter=32), EnvConfig("Messenger-S1-v0"), tmp_path / "c")
    with pytest.raises(ValueError, match="does not fit"):
        mismatch.init_world_model(tmp_path / "a")
    assert os.path.exists(checkpoint.path_of(tmp_path / "a"))


def test_a_save_cut_short_keeps_the_last_checkpoint_with_its_own_replay(tmp_path, monkeypatch):
    """Killed after the new replay is written but before the checkpoint is: the previous
    checkpoint still names the replay of its own moment, not the newer one."""
    from agent.replay import Replay

    trainer = Trainer(small_config(), EnvConfig("Messenger-S1-v0"), tmp_path)
    try:
        for _ in range(5):
            trainer.act()
        trainer.save()
        saved = checkpoint.load(tmp_path)
        for _ in range(3):
            trainer.act()

        def killed(*args, **kwargs):
            raise KeyboardInterrupt("killed while saving")

        monkeypatch.setattr(checkpoint, "save", killed)
        with pytest.raises(KeyboardInterrupt):
            trainer.save()
    finally:
        trainer.env.close()
    blob = checkpoint.load(tmp_path)
    assert blob["counters"] == saved["counters"] and blob["counters"]["env_steps"] == 10
    assert Replay.load(tmp_path / blob["buffers"] / "replay.npz").adds == 5


BASELINE_FLAGS = ["--env", "Messenger-S1-v0", "--preset", "tiny", "--num-envs", "2",
                  "--log-every", "20", "--no-progress", "--no-tensorboard"]


def test_the_cli_trains_a_baseline_and_resumes_it_as_the_checkpoints_agent(tmp_path):
    """``--agent impala`` trains through the same loop; ``--resume`` without ``--agent`` takes
    the agent from the checkpoint, and asking for another agent is refused."""
    logdir = str(tmp_path / "impala")
    main(["--agent", "impala", *BASELINE_FLAGS, "--unroll-length", "5", "--steps", "40",
          "--logdir", logdir])
    first = checkpoint.load(logdir)
    assert first["agent"] == "impala" and first["counters"]["updates"] == 4  # 40 / (2 x 5)
    main(["--logdir", logdir, "--resume", "--steps", "80", "--no-progress", "--no-tensorboard"])
    resumed = checkpoint.load(logdir)
    assert resumed["agent"] == "impala" and resumed["config"] == first["config"]
    assert resumed["counters"]["env_steps"] == 80 and resumed["counters"]["updates"] == 8
    with pytest.raises(SystemExit, match="it is a 'impala' run"):
        main(["--agent", "r2d2", "--logdir", logdir, "--resume", "--steps", "120",
              "--no-progress"])


def test_agent_flags_are_checked(tmp_path, capsys):
    with pytest.raises(SystemExit, match="unknown agent 'ppo'; agents: dynalang, impala, r2d2"):
        main(["--agent", "ppo", "--logdir", str(tmp_path / "x")])
    with pytest.raises(SystemExit):  # --init-wm loads a Dynalang world model only
        main(["--agent", "r2d2", "--init-wm", str(tmp_path), "--logdir", str(tmp_path / "y")])
    assert "--init-wm loads a Dynalang world model" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a field of another agent's config
        main(["--agent", "impala", "--train-ratio", "8", "--logdir", str(tmp_path / "z")])
    assert "unrecognized arguments: --train-ratio" in capsys.readouterr().err


def test_hide_language_is_recorded_and_kept_on_resume(tmp_path):
    """``--hide-language`` trains on silenced tokens, is saved with the env settings (so
    ``agent.eval`` plays the same silent envs) and contradicting it on resume is refused."""
    logdir = str(tmp_path / "hidden")
    main([*FLAGS, "--steps", "40", "--logdir", logdir, "--hide-language"])
    blob = checkpoint.load(logdir)
    assert blob["env"]["hide_language"] is True
    from agent.replay import Replay

    replay = Replay.load(Path(logdir) / blob["buffers"] / "replay.npz")
    assert not replay._data["token"][:, :replay.steps_per_env].any()  # the agent heard nothing
    with pytest.raises(SystemExit, match="hide_language: checkpoint True, asked False"):
        main(["--logdir", logdir, "--resume", "--steps", "80", "--hide-language", "false",
              "--no-progress", "--no-tensorboard"])
    main(["--logdir", logdir, "--resume", "--steps", "80", "--no-progress", "--no-tensorboard"])
    assert checkpoint.load(logdir)["env"]["hide_language"] is True


def test_resume_with_the_same_flags_keeps_the_recipe(tmp_path):
    """Resuming with the very flags that began the run (a preset named again, as the
    leaderboard and the learning check do) continues it: the env's recipe applies again."""
    logdir = str(tmp_path / "recipe")
    flags = ["--env", "Messenger-S1-v0", "--preset", "tiny", "--num-envs", "2",
             "--batch-size", "1", "--train-ratio", "2", "--replay-capacity", "2000",
             "--no-progress", "--no-tensorboard", "--logdir", logdir]
    main([*flags, "--steps", "130"])
    assert checkpoint.load(logdir)["config"].batch_length == 128  # the S1 recipe
    main([*flags, "--steps", "260", "--resume"])
    assert checkpoint.load(logdir)["counters"]["env_steps"] >= 260
