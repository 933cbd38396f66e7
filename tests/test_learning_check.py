"""The learning check's models: each result file is told back to the model that made it."""

from __future__ import annotations

import pytest

from agent.dynalang.config import Config
from benchmarks import learning_check


@pytest.mark.parametrize("model", sorted(learning_check.MODELS))
def test_every_model_is_recognised_from_its_config(model):
    preset = learning_check.MODELS[model]["preset"]
    cfg = Config.preset(preset, **learning_check.model_fields(model))
    env = learning_check.model_env(model)
    assert learning_check.model_of(vars(cfg), env) == model
    # and not another model once a field it sets differs, or an env setting
    assert learning_check.model_of({**vars(cfg), "model_lr": 0.123}, env) is None
    flipped = {"sentence_context": str(env.get("sentence_context", "False") == "False")}
    partner = {"context": "reward30", "reward30": "context"}.get(model)
    assert learning_check.model_of(vars(cfg), flipped) == partner
