"""The reward probe (benchmarks/reward_probe.py): its scripted data and its score."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from agent.dynalang.config import Config
from agent.runner import EnvConfig
from benchmarks import reward_probe


def test_ranking_accuracy_is_the_chance_a_right_touch_ranks_above_a_wrong_one():
    assert reward_probe.ranking_accuracy(np.array([0.9, 0.8]), np.array([-1.0, 0.1])) == 1.0
    assert reward_probe.ranking_accuracy(np.array([-1.0]), np.array([0.5, 0.2])) == 0.0
    assert reward_probe.ranking_accuracy(np.array([0.3, 0.3]), np.array([0.3])) == 0.5
    assert reward_probe.ranking_accuracy(np.array([1.0, -1.0]), np.array([0.0])) == 0.5


def test_scripted_play_touches_a_random_entity_in_every_episode():
    """Every episode ends in a touch of the entity picked at reset, and the pick ignores the
    manual: about one touch in three is the right one."""
    rows: list[dict[str, np.ndarray]] = []
    stats = reward_probe.play(EnvConfig(id=reward_probe.ENV), 8, 400, seed=0, noise=0.0,
                              sink=rows.append)
    assert stats["episodes"] > 50
    assert stats["touched"] == 1.0
    rewards = np.concatenate([row["reward"] for row in rows])
    wins, losses = (rewards > 0).sum(), (rewards < 0).sum()
    assert 0.2 < wins / (wins + losses) < 0.45, (wins, losses)


def test_held_out_episodes_are_whole_and_start_at_is_first():
    batch = reward_probe.held_out_episodes(EnvConfig(id=reward_probe.ENV), 20, seed=5,
                                           noise=0.0)
    assert batch["token"].shape == (20, reward_probe.EPISODE_ROWS)
    assert batch["is_first"][:, 0].all() and not batch["is_first"][:, 1:].any()
    # One touch per episode, after the manual was read.
    assert ((batch["reward"] != 0).sum(1) == 1).all()
    assert (batch["token"][:, 0] != 0).all()


def test_reader_examples_mark_exactly_one_entity_to_touch():
    data = reward_probe.reader_examples(30, seed=0, split="train")
    assert (data["right"].sum(1) == 1).all()
    assert ((data["symbol"] >= 2) & (data["symbol"] <= 13)).all()
    assert (data["token"][:, 0] != 0).all()


def test_world_model_probe_scores_both_splits():
    cfg = Config.preset("tiny", batch_size=2, batch_length=64)
    args = argparse.Namespace(data_steps=200, noise=0.1, eval_episodes=40, updates=2,
                              eval_every=1)
    stats, curve = reward_probe.world_model_probe(cfg, args)
    assert stats["touched"] == pytest.approx(1.0, abs=0.1)
    assert [row["updates"] for row in curve] == [1, 2]
    for row in curve:
        assert 0.0 <= row["train"] <= 1.0 and 0.0 <= row["test"] <= 1.0
