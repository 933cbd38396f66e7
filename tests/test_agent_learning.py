"""Slow learning checks (minutes on a 2-core CPU), left out of the default suite:

    python -m pytest -m slow
"""

from __future__ import annotations

import pytest

from agent import logger
from agent.train import main as train_main

pytestmark = pytest.mark.slow


def test_messenger_s1_imagined_returns_stay_within_the_real_ones(tmp_path):
    """Every real S1 return lies in [-1, 1].  When Messenger's time-outs were bootstrapped
    through, the world model learned that episodes never end: by 50,000 env steps the mean
    imagined return had drifted to -20 and the return scale (P95 - P5) to 22-32, which squashed
    the actor's advantages.  With time-outs terminal both stay within what the env can pay."""
    train_main(["--env", "Messenger-S1-v0", "--preset", "tiny", "--steps", "60000",
                "--num-envs", "16", "--batch-size", "8", "--model-lr", "2e-3", "--ac-lr", "3e-4",
                "--logdir", str(tmp_path), "--log-every", "5000", "--checkpoint-every", "60000",
                "--no-tensorboard", "--no-progress"])
    records = [r for r in logger.read(tmp_path) if r.get("imagined_return") is not None]
    assert len(records) >= 8
    for record in records:
        assert -1.1 <= record["imagined_return"] <= 1.1, record
        assert record["return_scale"] <= 2.2, record  # at least 1 by construction
