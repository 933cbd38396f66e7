"""The agent contract of docs/agent-contract.md: every registered agent follows it, and the
page's worked example, built from its code blocks, trains, resumes and evaluates."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import agent
from agent import checkpoint, config_flags, registry, runner
from agent.envs import EnvAdapter

DOC = Path(__file__).resolve().parents[1] / "docs" / "agent-contract.md"
LEARNER_FUNCTIONS = ("build", "init_train_state", "make_update", "policy")


@pytest.mark.parametrize("name", list(registry.AGENTS))
def test_every_agent_exports_the_package_names_and_a_learner_of_the_contract(name):
    package = registry.agent_package(name)
    assert set(package.__all__) >= {"Config", "Trainer", "policy"}
    assert issubclass(package.Config, config_flags.AgentConfig)
    assert "small" in package.Config.presets
    assert issubclass(package.Trainer, runner.Trainer) and package.Trainer.name == name
    learner = package.Trainer.learner
    assert learner.__name__ == f"{package.__name__}.learner"
    for function in LEARNER_FUNCTIONS:
        parameters = list(inspect.signature(getattr(learner, function)).parameters)
        assert parameters[:2] == ["cfg", "spec"], (function, parameters)
    assert package.policy is learner.policy
    cfg = package.Config.preset("tiny")
    assert {"num_envs", "seed"} <= {f.name for f in dataclasses.fields(cfg)}


@pytest.mark.parametrize("name", list(registry.AGENTS))
def test_every_policy_step_takes_the_policy_inputs_and_returns_one_action_per_env(name):
    package = registry.agent_package(name)
    cfg = package.Config.preset("tiny")
    with EnvAdapter("Messenger-S1-v0", 3, seed=0) as env:
        obs, spec = env.reset(), env.spec
    learner = package.Trainer.learner
    params = learner.init_train_state(cfg, spec, jax.random.PRNGKey(0)).params
    policy = learner.policy(cfg, spec)
    inputs = {key: obs[key] for key in runner.POLICY_INPUTS}
    action, carry, aux = jax.jit(policy.step)(params, inputs, policy.initial(params, 3),
                                              jax.random.PRNGKey(1))
    assert action.shape == (3,) and np.all((0 <= action) & (action < spec.n_actions))
    assert isinstance(aux, dict)
    assert jax.tree.structure(carry) == jax.tree.structure(policy.initial(params, 3))


def code_blocks(text: str) -> dict[str, str]:
    """The page's Python blocks by the file their first line names (``# agent/x/y.py``)."""
    blocks = re.findall(r"```python\n# (\S+)\n(.*?)```", text, re.S)
    return {path: code for path, code in blocks}


@pytest.fixture
def uniform_agent(tmp_path, monkeypatch):
    """The worked example written out from the page, importable as ``agent.uniform`` and
    registered as "uniform" for this test only."""
    blocks = code_blocks(DOC.read_text())
    assert set(blocks) == {"agent/uniform/config.py", "agent/uniform/learner.py",
                           "agent/uniform/__init__.py"}
    for path, code in blocks.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    monkeypatch.setattr(agent, "__path__", [*agent.__path__, str(tmp_path / "agent")])
    monkeypatch.setitem(registry.AGENTS, "uniform", "agent.uniform")
    yield importlib.import_module("agent.uniform")
    for module in [m for m in sys.modules if m.startswith("agent.uniform")]:
        del sys.modules[module]


def test_the_worked_example_trains_resumes_and_evaluates(uniform_agent, tmp_path, capsys):
    from agent.eval import main as eval_main
    from agent.train import main as train_main

    logdir = tmp_path / "runs" / "uniform"
    common = ["--agent", "uniform", "--env", "Messenger-S1-v0", "--logdir", str(logdir),
              "--no-progress", "--no-tensorboard"]
    train_main([*common, "--steps", "400"])
    assert checkpoint.load(logdir)["counters"]["env_steps"] == 400
    train_main([*common, "--steps", "800", "--resume"])
    blob = checkpoint.load(logdir)
    assert blob["agent"] == "uniform" and blob["counters"]["env_steps"] == 800
    assert blob["counters"]["updates"] == 0
    out = tmp_path / "eval.json"
    eval_main(["--logdir", str(logdir), "--episodes", "6", "--json", str(out)])
    result = json.loads(out.read_text())
    assert len(result["returns"]) == 6
    # A uniform policy on S1 loses most games: it touches an enemy or runs out of time.
    assert np.mean(result["returns"]) < 0.5
