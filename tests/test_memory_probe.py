"""The memory probe: its cue episodes and its result file."""

import json

import numpy as np
import pytest

from benchmarks import memory_probe


@pytest.mark.parametrize("phase", [False, True])
def test_cue_episodes_reward_the_first_cue_after_the_delay(phase):
    delay, cues = 4, 3
    rows = memory_probe.cue_rows(5, 40, delay, cues, np.random.default_rng(0), phase=phase)
    for line in range(5):
        starts = np.flatnonzero(rows["is_first"][:, line])
        if not phase:
            assert starts[0] == 0
        for s in starts:
            if s + delay + 2 > 40:
                continue
            tokens = rows["token"][s:s + delay + 2, line]
            assert 1 <= tokens[0] <= cues and not tokens[1:].any()
            rewards = rows["reward"][s:s + delay + 2, line]
            assert rewards[-1] == (1.0 if tokens[0] == 1 else -1.0) and not rewards[:-1].any()
            assert rows["is_terminal"][s + delay + 1, line]
            assert not rows["is_terminal"][s:s + delay + 1, line].any()
            flag = rows["image"][s:s + delay + 2, line, 0, 0, 0]
            assert flag[:-1].all() and not flag[-1]  # read phase, then the rewarded step
    assert set(np.unique(rows["token"][rows["is_first"]])) == {1, 2, 3}


def test_probe_writes_a_curve_per_delay(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_probe, "RESULTS", tmp_path)
    memory_probe.main(["--delays", "0,2", "--updates", "2", "--eval-every", "1",
                       "--eval-episodes", "20", "--batch-size", "2", "--batch-length", "16",
                       "--name", "t"])
    result = json.loads((tmp_path / "memory_probe-t.json").read_text())
    assert list(result["curves"]) == ["0", "2"]
    assert result["config"]["reward_scale"] == 30.0 and result["config"]["deter"] == 64
    for curve in result["curves"].values():
        assert [row["updates"] for row in curve] == [1, 2]
        assert all(0.0 <= row["ranking"] <= 1.0 for row in curve)
    # The figure draws every result file; in the last panel the seeds of a variant share a row.
    result["config"]["seed"] = 1
    (tmp_path / "memory_probe-t-seed1.json").write_text(json.dumps(result))
    monkeypatch.setattr(memory_probe, "FIGURE", tmp_path / "probe.png")
    assert memory_probe.figure().stat().st_size > 10_000
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    runs = {"t": json.loads((tmp_path / "memory_probe-t.json").read_text()), "t-seed1": result}
    memory_probe._ends_by_variant(ax, runs, 2)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["t"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["seed 0", "seed 1"]
    plt.close(fig)


def test_variants_are_result_names_without_their_seed():
    assert memory_probe.variant_of("deter512-seed2") == "deter512"
    assert memory_probe.variant_of("mode-bias-3") == "mode-bias-3"
    assert memory_probe.variant_of("seed1") == "default"


@pytest.mark.parametrize("bad", ["", "3,x", "-1"])
def test_delays_must_be_whole_numbers(bad, capsys):
    with pytest.raises(SystemExit):
        memory_probe.build_parser().parse_args(["--delays", bad])
    assert "--delays" in capsys.readouterr().err


def test_the_plain_gru_control_carries_the_cue_across_the_delay():
    """The probe's reference: the task is learnable from its rows (a cue that did not decide
    the reward, or a reward on the wrong row, would leave the control at 0.5)."""
    args = memory_probe.build_parser().parse_args([])
    curve = memory_probe.gru_control(memory_probe.model_config(args), delay=8, cues=3,
                                     updates=300, eval_every=300, eval_episodes=100)
    assert curve[-1]["ranking"] == 1.0
    assert curve[-1]["right_mean"] > 0.5 > -0.5 > curve[-1]["wrong_mean"]
