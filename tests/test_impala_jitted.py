"""The jitted IMPALA: its rollouts keep the adapter's layout, and its command trains and
evaluates."""

from __future__ import annotations

import jax
import numpy as np

from agent.impala import jitted
from agent.impala.config import Config
from agent.runner import EnvConfig
from messenger_s2.jax_env import func_env


def test_rollout_rows_follow_the_adapter_layout() -> None:
    """On S1 (short episodes, each ending in a win or a loss): a new episode's first row has
    reward 0 and follows a terminal row, the previous action is the one taken on the row
    before, and the ended episodes' returns are what the rewards add up to."""
    cfg = Config.preset("tiny", num_envs=4, unroll_length=80)
    p = jitted.prepare(cfg, "Messenger-S1-v0", (0,))
    runner = jax.tree.map(lambda x: x[0], p.runner)
    adapter = EnvConfig("Messenger-S1-v0").adapter(1, 0)
    rollout = jitted.make_rollout(cfg, p.spec, func_env(1, pixels=False), adapter.image_key)
    adapter.close()
    _, batch, stats = jax.jit(rollout)(runner.train.params, runner)
    b = {k: np.asarray(v) for k, v in batch.items() if k != "state"}
    first, terminal, reward = b["is_first"], b["is_terminal"], b["reward"]
    assert b["image"].shape == (4, 81, *p.spec.image_shape) and b["action"].shape == (4, 80)
    assert first[:, 0].all() and (reward[first] == 0).all()
    starts = first[:, 1:]
    assert starts.any(), "no episode ended within the rollout"
    assert terminal[:, :-1][starts].all()
    playing = ~first[:, 1:-1]
    assert (b["prev_action"][:, 1:-1][playing] == b["action"][:, :-1][playing]).all()
    returns = []
    for i in range(4):
        total = 0.0
        for t in range(1, 81):
            total = 0.0 if first[i, t] else total + reward[i, t]
            if terminal[i, t] and not first[i, t]:
                returns.append(total)
    assert int(stats["episodes"]) == len(returns) > 0
    assert np.isclose(float(stats["return_sum"]), sum(returns))
    assert set(np.round(returns, 3)) <= {-1.0, 1.0}


def test_command_trains_and_evaluates(tmp_path) -> None:
    out = tmp_path / "r.json"
    result = jitted.main(["--env", "Messenger-S1-v0", "--preset", "tiny", "--steps", "640",
                          "--seeds", "0", "1", "--eval-episodes", "4", "--log-every", "320",
                          "--eval-splits", "test", "--json", str(out)])
    assert out.exists()
    assert [e["seed"] for e in result["evaluation"]] == [0, 1]
    assert len(result["curve"]) == 2 and len(result["curve"][0]["train_return"]) == 2
    assert result["env_steps_per_seed"] == 640 and result["env_steps_per_s"] > 0
    assert all(-1 <= e[k] <= 1 for e in result["evaluation"]
               for k in ("mean_return", "mean_return_test"))
