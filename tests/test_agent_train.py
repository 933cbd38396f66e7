"""The training CLI: a run killed with SIGKILL resumes from its last checkpoint with nothing
corrupted, a resumed trainer continues exactly, and a checkpoint from another configuration is
refused with a message naming what differs."""

from __future__ import annotations

import json
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


def test_sigkill_mid_run_then_resume_continues_from_the_last_checkpoint(tmp_path, capsys):
    logdir = tmp_path / "run"
    command = [sys.executable, "-m", "agent.train", *FLAGS, "--logdir", str(logdir),
               "--steps", "100000", "--checkpoint-every", "40"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        # Kill once a checkpoint exists and training has gone on past it.
        deadline = time.time() + 240
        while time.time() < deadline and process.poll() is None:
            if checkpoint.exists(logdir):
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

    # Resume in the README's form, only the logdir and a new budget: the configuration and the
    # run's intervals come from the checkpoint, and the run says which it kept.
    target = at_kill["env_steps"] + 100
    capsys.readouterr()
    main(["--logdir", str(logdir), "--resume", "--steps", str(target), "--no-progress",
          "--no-tensorboard"])
    said = capsys.readouterr().err
    assert "kept --checkpoint-every 40, --log-every 20" in said, said
    done = checkpoint.load(logdir)
    assert done["counters"]["env_steps"] == target
    assert done["counters"]["updates"] > at_kill["updates"]
    assert int(done["state"].updates) == done["counters"]["updates"]
    assert done["config"] == killed["config"]
    changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), killed["state"].params["wm"],
                           done["state"].params["wm"])
    assert any(jax.tree.leaves(changed)), "training did not continue"

    # The metrics read as one run: the killed run's records past its checkpoint were dropped,
    # and the resumed run logged and checkpointed at the first run's intervals.
    steps = [r["env_steps"] for r in logger.read(logdir)]
    assert steps == sorted(set(steps)) and steps[-1] == target
    assert all(s % 20 == 0 for s in steps), steps
    kept = [checkpoint._step_of(p) for p in checkpoint.candidates(logdir)]
    assert kept == [target, target - target % 40 if target % 40 else target - 40], kept
    lines = (logdir / logger.JSONL).read_text().splitlines()
    assert all(json.loads(line) for line in lines)

    # The replay kept what the killed run had stored and grew by the resumed steps.
    from agent.replay import Replay

    buffers = done["buffers"]
    assert sorted(p.name for p in logdir.glob("buffers-*")) == sorted(  # older ones removed
        f"buffers-{step:012d}" for step in kept)
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


def test_resume_refuses_a_different_configuration(tmp_path, user_error):
    logdir = tmp_path / "run"
    main([*FLAGS, "--logdir", str(logdir), "--steps", "8", "--checkpoint-every", "8"])
    resume = ["--logdir", str(logdir), "--resume"]
    assert "deter: checkpoint 64, asked 96" in user_error(main, [*resume, "--deter", "96"])
    assert "id: checkpoint 'Messenger-S1-v0'" in user_error(
        main, [*resume, "--env", "Messenger-S2-v0"])
    assert "already holds a run" in user_error(main, [*FLAGS, "--logdir", str(logdir)])

    other = Trainer(small_config(stoch=4), EnvConfig("Messenger-S1-v0"), logdir)
    with pytest.raises(ValueError, match="stoch: checkpoint 8, this run 4"):
        other.load()


def test_user_errors_are_one_line_with_exit_code_2(tmp_path):
    """What a user gets wrong ends the command at once with one line saying what is valid, exit
    code 2 and no traceback: here as the shell sees it."""
    done = subprocess.run([sys.executable, "-m", "agent.train", "--env", "Nope-v0", "--logdir",
                           str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("python -m agent.train: error: ") and "Messenger-S1-v0" in line


@pytest.mark.parametrize("argv, said", [
    (["--steps", "-5"], "--steps: must be an int >= 1, got '-5'"),
    (["--steps", "0"], "--steps: must be an int >= 1"),
    (["--train-ratio", "-1"], "--train-ratio: must be a number > 0"),
    (["--model-lr", "-1"], "--model-lr: must be a number > 0"),
    (["--batch-size", "0"], "--batch-size: must be an int >= 1"),
    (["--checkpoint-every", "0"], "--checkpoint-every: must be an int >= 1"),
    (["--log-every", "0"], "--log-every: must be an int >= 1"),
    (["--lam", "1.5"], "--lam: must be a number in [0, 1]"),
    (["--train-ratio", "inf"], "--train-ratio: must be a number > 0, got 'inf'"),
    (["--env-arg", "num_envs=3"], "--env-arg num_envs=... is set by the agent's env adapter"),
    (["--env", "Messenger-S1-v0", "--env-arg", "nosuch=1"], "unknown argument(s) ['nosuch']"),
    (["--env-arg", "split"], "--env-arg expects KEY=VALUE"),
    (["--env", "Messenger-S1-v0", "--env-arg", "split=nowhere"], "split"),
    (["--resume"], "--resume: no checkpoint in"),
])
def test_bad_flags_are_refused_before_any_work(argv, said, tmp_path, user_error):
    logdir = tmp_path / "run"
    assert said in user_error(main, [*argv, "--logdir", str(logdir), "--preset", "tiny"])
    assert not checkpoint.exists(logdir)


def test_an_unwritable_logdir_is_refused(tmp_path, user_error):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot write to --logdir" in user_error(main, ["--logdir", str(blocker / "run")])


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
    assert checkpoint.exists(tmp_path / "a")


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


def test_the_cli_trains_a_baseline_and_resumes_it_as_the_checkpoints_agent(tmp_path, user_error):
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
    assert "it is a 'impala' run" in user_error(
        main, ["--agent", "r2d2", "--logdir", logdir, "--resume", "--steps", "120"])


def test_agent_flags_are_checked(tmp_path, user_error):
    assert "unknown agent 'ppo'; agents: dynalang, impala, r2d2" in user_error(
        main, ["--agent", "ppo", "--logdir", str(tmp_path / "x")])
    assert "--init-wm loads a Dynalang world model" in user_error(  # Dynalang only
        main, ["--agent", "r2d2", "--init-wm", str(tmp_path), "--logdir", str(tmp_path / "y")])
    assert "--sentence-context is read by Dynalang's world model only" in user_error(
        main, ["--agent", "impala", "--sentence-context", "--logdir", str(tmp_path / "w")])
    assert "unrecognized arguments: --train-ratio" in user_error(  # another agent's field
        main, ["--agent", "impala", "--train-ratio", "8", "--logdir", str(tmp_path / "z")])


def test_hide_language_is_recorded_and_kept_on_resume(tmp_path, user_error):
    """``--hide-language`` trains on silenced tokens, is saved with the env settings (so
    ``agent.eval`` plays the same silent envs) and contradicting it on resume is refused."""
    logdir = str(tmp_path / "hidden")
    main([*FLAGS, "--steps", "40", "--logdir", logdir, "--hide-language"])
    blob = checkpoint.load(logdir)
    assert blob["env"]["hide_language"] is True
    from agent.replay import Replay

    replay = Replay.load(Path(logdir) / blob["buffers"] / "replay.npz")
    assert not replay._data["token"][:, :replay.steps_per_env].any()  # the agent heard nothing
    assert "hide_language: checkpoint True, asked False" in user_error(
        main, ["--logdir", logdir, "--resume", "--steps", "80", "--hide-language", "false"])
    main(["--logdir", logdir, "--resume", "--steps", "80", "--no-progress", "--no-tensorboard"])
    assert checkpoint.load(logdir)["env"]["hide_language"] is True


def test_sentence_context_is_stored_acted_on_and_kept_on_resume(tmp_path, user_error):
    """``--sentence-context`` gives Dynalang each word's sentence: the replay keeps the bags,
    the checkpoint's env settings and spec record it (so ``agent.eval`` makes the same envs),
    and contradicting it on resume is refused."""
    logdir = str(tmp_path / "context")
    main([*FLAGS, "--steps", "40", "--logdir", logdir, "--sentence-context"])
    blob = checkpoint.load(logdir)
    assert blob["env"]["sentence_context"] is True and blob["spec"].sentence_size > 0
    from agent.replay import Replay

    replay = Replay.load(Path(logdir) / blob["buffers"] / "replay.npz")
    bags = replay._data["sentence"][:, :replay.steps_per_env]
    tokens = replay._data["token"][:, :replay.steps_per_env]
    assert bags.any() and (bags.any(-1) == (tokens != 0)).all()
    assert "sentence_context: checkpoint True, asked False" in user_error(
        main, ["--logdir", logdir, "--resume", "--steps", "80", "--sentence-context", "false"])
    main(["--logdir", logdir, "--resume", "--steps", "80", "--no-progress", "--no-tensorboard"])
    assert checkpoint.load(logdir)["env"]["sentence_context"] is True
    from agent.eval import evaluate

    played = evaluate(logdir, episodes=2, num_envs=2)  # the same envs, bags and all
    assert played["episodes"] == 2 and len(played["returns"]) == 2


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


def _flip_bytes(path: Path, count: int = 50) -> None:
    data = bytearray(path.read_bytes())
    for k in np.random.default_rng(0).choice(len(data) - 200, count, replace=False) + 100:
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped checkpoint bytes", "truncated replay"])
def test_a_damaged_checkpoint_is_named_and_the_previous_one_used(damage, tmp_path, capsys,
                                                                 user_error):
    logdir = tmp_path / "run"
    main([*FLAGS, "--logdir", str(logdir), "--steps", "24", "--checkpoint-every", "8"])
    newest, previous = checkpoint.candidates(logdir)  # two kept: 24 and 16
    assert [checkpoint._step_of(p) for p in (newest, previous)] == [24, 16]
    if damage == "truncated replay":
        replay = logdir / checkpoint.load(logdir)["buffers"] / "replay.npz"
        replay.write_bytes(replay.read_bytes()[: replay.stat().st_size // 2])
    else:
        _flip_bytes(newest)
    capsys.readouterr()
    main(["--logdir", str(logdir), "--resume", "--steps", "32", "--no-progress"])
    said = capsys.readouterr().err
    assert "is damaged" in said and f"using the previous checkpoint, {previous}" in said, said
    assert newest.with_name(newest.name + ".damaged").exists()  # set aside, kept to look at
    # It trained from 16 to 32 (the damaged state was never used), checkpointing every 8.
    assert checkpoint.load(logdir)["counters"]["env_steps"] == 32
    assert [checkpoint._step_of(p) for p in checkpoint.candidates(logdir)] == [32, 24]
    # With every checkpoint damaged, the run stops with one line.
    for path in checkpoint.candidates(logdir):
        _flip_bytes(path)
    assert "no intact checkpoint in" in user_error(main, ["--logdir", str(logdir), "--resume"])


def test_env_arguments_are_recorded_and_evaluation_may_change_them(tmp_path, capsys,
                                                                   user_error):
    from agent import eval as agent_eval

    logdir = str(tmp_path / "run")
    main([*FLAGS, "--steps", "8", "--logdir", logdir, "--env-arg", "split=train-sc"])
    assert checkpoint.load(logdir)["env"]["kwargs"] == {"split": "train-sc"}
    assert "kwargs: checkpoint {'split': 'train-sc'}, asked {'split': 'val'}" in user_error(
        main, ["--logdir", logdir, "--resume", "--steps", "16", "--env-arg", "split=val"])
    main(["--logdir", logdir, "--resume", "--steps", "16", "--env-arg", "split=train-sc",
          "--no-progress"])  # an argument given again as it was is no change
    result = agent_eval.main(["--logdir", logdir, "--episodes", "2", "--no-progress",
                              "--env-arg", "split=val"])
    assert result["env_kwargs"] == {"split": "val"} and "split" in capsys.readouterr().out
    assert "split" in user_error(agent_eval.main, ["--logdir", logdir, "--env-arg",
                                                   "split=nowhere"])


def test_help_text_names_the_presets_values(capsys):
    from agent.train import parse

    with pytest.raises(SystemExit) as stop:
        parse(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text
    assert "[tiny 64, small 512, medium 1024, xl 4096]" in text  # --deter
    assert "(default: on --resume the checkpoint's, else 20,000)" in text  # --checkpoint-every


def test_a_checkpoint_of_another_version_is_not_called_damaged(tmp_path, monkeypatch):
    """Intact bytes that no longer unpickle (a class renamed since) are reported as another
    version's, and never set aside as damaged."""
    import types

    module = types.ModuleType("vanishing_module")
    exec("class Thing:\n    pass", module.__dict__)
    monkeypatch.setitem(sys.modules, "vanishing_module", module)
    checkpoint.save(tmp_path, {"agent": "dynalang", "thing": module.Thing()}, step=8)
    monkeypatch.delitem(sys.modules, "vanishing_module")
    with pytest.raises(ValueError, match="written by another version"):
        checkpoint.load(tmp_path, set_aside_damaged=True)
    assert checkpoint.exists(tmp_path) and not checkpoint.damaged(tmp_path)
