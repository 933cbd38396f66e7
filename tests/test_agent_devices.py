"""Data-parallel learning (``--devices N``): the update on two devices equals the update on
one, for every agent; tested on two host devices made by XLA (a subprocess, since the device
count is fixed when JAX starts)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys, tempfile
    import jax, numpy as np
    from agent.runner import EnvConfig
    from agent.registry import agent_package

    name, env_id = sys.argv[1], sys.argv[2]
    assert len(jax.devices()) == 2, jax.devices()
    overrides = {"dynalang": dict(batch_size=2, batch_length=16),
                 "impala": dict(unroll_length=8),
                 "r2d2": dict(batch_size=2, min_replay=2, burn_in=2, train_length=8,
                              seq_period=5)}
    package = agent_package(name)
    cfg = package.Config.preset("tiny", num_envs=2, **overrides[name])
    trainer = package.Trainer(cfg, EnvConfig(id=env_id), tempfile.mkdtemp())
    for _ in range(40):  # enough steps for one batch of each agent
        trainer.act()
        if name == "impala" and trainer.rollout.full:
            break
    if name == "dynalang":
        batch = trainer.replay.sample(cfg.batch_size, cfg.batch_length)
    elif name == "impala":
        batch = trainer.rollout.batch()
    else:
        batch, _ = trainer.replay.sample(cfg.batch_size)
    start = jax.device_get(trainer.state)  # the update donates the state it is given
    one = trainer.update(jax.device_put(start), batch)
    trainer.state = jax.device_put(start)
    trainer.use_devices(2)
    two = trainer.learn(batch)
    assert len(jax.tree.leaves(two[0].params)[0].devices()) == 2  # replicated on both
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(two)):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                   rtol=2e-4, atol=2e-5)
    print("equal", len(jax.tree.leaves(one)))
""")


@pytest.mark.parametrize("agent,env_id", [("dynalang", "Messenger-S1-v0"),
                                          ("impala", "HomeGrid-Task-v0"),
                                          ("r2d2", "Messenger-S1-v0")])
def test_update_on_two_devices_equals_the_update_on_one(agent, env_id):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, agent, env_id], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("equal")


def test_more_devices_than_there_are_is_a_clear_error():
    from agent.devices import DataParallel

    with pytest.raises(ValueError, match=r"--devices 99: this process sees \d+ \w+ device\(s\), "
                                         r"so at most \d+"):
        DataParallel(99)


def test_a_batch_that_does_not_split_says_what_divides():
    code = textwrap.dedent("""
        import numpy as np
        from agent.devices import DataParallel
        try:
            DataParallel(2).split({"image": np.zeros((3, 4))})
        except ValueError as error:
            print(error)
    """)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert "a batch axis of 3 does not split across 2 devices" in out.stdout, out.stderr
