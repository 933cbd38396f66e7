"""The speed benchmark's command line: which models it measures."""

import pytest

from benchmarks import agent_speed


def test_a_preset_may_change_config_fields_each_of_its_type():
    assert agent_speed.preset_fields("tiny") == ("tiny", {})
    name, fields = agent_speed.preset_fields("tiny,deter=512,model_lr=2e-3,bf16=true")
    assert name == "tiny" and fields == {"deter": 512, "model_lr": 0.002, "bf16": True}
    assert type(fields["deter"]) is int


@pytest.mark.parametrize("text,said", [
    ("huge", "preset must be one of tiny, small, medium, xl, got 'huge'"),
    ("tiny,depth=3", "expected FIELD=VALUE with a Dynalang config field, got 'depth=3'"),
    ("tiny,deter", "expected FIELD=VALUE with a Dynalang config field, got 'deter'"),
    ("tiny,deter=5.5", "deter takes an integer, got '5.5'"),
    ("tiny,bf16=maybe", "bf16 takes true or false, got 'maybe'"),
])
def test_a_wrong_preset_is_refused_in_one_line(text, said, user_error):
    line = user_error(agent_speed.main, ["--presets", text])
    assert said in line, line
