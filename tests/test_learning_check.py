"""The learning check's models: each result file is told back to the model that made it."""

from __future__ import annotations

import pytest

from agent.dynalang.config import Config
from benchmarks import learning_check


@pytest.mark.parametrize("model", sorted(learning_check.MODELS))
def test_every_model_is_recognised_from_its_config(model):
    flags = dict(learning_check.MODELS[model])
    preset = flags.pop("preset")
    cfg = Config.preset(preset, **{k.replace("-", "_"): v for k, v in flags.items()})
    assert learning_check.model_of(vars(cfg)) == model
