"""The reward probe (benchmarks/reward_probe.py): its scripted data and its score."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from agent.dynalang.config import Config
from agent.runner import EnvConfig
from benchmarks import learning_check, reward_probe


def test_ranking_accuracy_is_the_chance_a_right_touch_ranks_above_a_wrong_one():
    assert reward_probe.ranking_accuracy(np.array([0.9, 0.8]), np.array([-1.0, 0.1])) == 1.0
    assert reward_probe.ranking_accuracy(np.array([-1.0]), np.array([0.5, 0.2])) == 0.0
    assert reward_probe.ranking_accuracy(np.array([0.3, 0.3]), np.array([0.3])) == 0.5
    assert reward_probe.ranking_accuracy(np.array([1.0, -1.0]), np.array([0.0])) == 0.5


def test_scripted_play_touches_a_random_entity_in_every_episode():
    """Without noise every episode ends in a touch of the entity picked at reset, and the pick
    ignores the manual: about one touch in three is the right one."""
    rows: list[dict[str, np.ndarray]] = []
    stats = reward_probe.play(EnvConfig(id=reward_probe.ENV), 8, 400, seed=0, noise=0.0,
                              sink=rows.append)
    assert stats["episodes"] > 50
    assert 0.2 < stats["won"] < 0.45, stats
    batch = reward_probe.held_out_episodes(EnvConfig(id=reward_probe.ENV), 60, seed=3,
                                           noise=0.0)
    episode, _, symbol = reward_probe.touches(batch)
    assert list(episode) == list(range(60))
    assert ((symbol >= 2) & (symbol <= 13)).all()


def test_probe_scores_touches_and_leaves_out_time_outs():
    """With random actions some episodes run out of time (-1 with nothing touched): those say
    nothing about the manual, so the probe leaves them out."""
    batch = reward_probe.held_out_episodes(EnvConfig(id=reward_probe.ENV), 200, seed=1,
                                           noise=0.5)
    episode, row, _ = reward_probe.touches(batch)
    timed_out = np.setdiff1d(np.arange(200), episode)
    assert 0 < len(timed_out) < 200
    assert (batch["reward"][timed_out].sum(1) == -1).all()
    assert (batch["reward"][episode, row] != 0).all()
    # A time-out comes with S1's 4th and last move: the 4th silent observation (the action
    # taken on the manual's last word is the first move).
    silent = np.cumsum(batch["token"] == 0, axis=1)
    last = np.argmax(batch["reward"] != 0, axis=1)
    assert (silent[timed_out, last[timed_out]] == 4).all()


def test_held_out_episodes_are_whole_and_start_at_is_first():
    batch = reward_probe.held_out_episodes(EnvConfig(id=reward_probe.ENV), 20, seed=5,
                                           noise=0.0)
    assert batch["token"].shape == (20, reward_probe.EPISODE_ROWS)
    assert batch["is_first"][:, 0].all() and not batch["is_first"][:, 1:].any()
    # One touch per episode, after the manual was read.
    assert ((batch["reward"] != 0).sum(1) == 1).all()
    assert (batch["token"][:, 0] != 0).all()


def test_blind_predictor_knows_the_training_odds_and_fails_the_test_games():
    """The reference line a reading world model must beat: the odds of each entity on the
    training games rank right touches well above chance there, and below it on the test
    games, where every entity has a role it never had in training."""
    evals = reward_probe.evaluation_episodes(EnvConfig(id=reward_probe.ENV), 150, seed=0,
                                             noise=0.0)
    blind = reward_probe.blind_ranking(evals, learning_check.BlindOdds(resets=20_000))
    assert blind["train"] > 0.7 and blind["test"] < 0.3, blind


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
    assert 0.2 < stats["won"] < 0.45
    assert set(stats["blind"]) == {"train", "test"}
    assert [row["updates"] for row in curve] == [1, 2]
    for row in curve:
        assert 0.0 <= row["train"] <= 1.0 and 0.0 <= row["test"] <= 1.0


def test_best_blind_policy_wins_training_games_by_the_odds_and_loses_every_test_game():
    """The learning check's bar for reading: on S1's training games the symbols alone make
    some entities likelier to be the one to touch (better than a random pick's -1/3); on the
    test games the same odds point away from the right entity every time."""
    odds = learning_check.BlindOdds(resets=20_000)
    train = learning_check.bayes_blind_returns(100, seed=10_000, split="train", odds=odds)
    test = learning_check.bayes_blind_returns(100, seed=10_000, split="test", odds=odds)
    assert train.mean() > 0.0 and (test == -1.0).all()


def test_a_stopped_probe_goes_on_exactly_where_it_was(tmp_path):
    """A long probe is resumed from its saved state: the same curve as a run never stopped."""
    cfg = Config.preset("tiny", batch_size=2, batch_length=64)
    base = dict(data_steps=200, noise=0.1, eval_episodes=20, eval_every=1)
    _, whole = reward_probe.world_model_probe(cfg, argparse.Namespace(**base, updates=3))
    state = str(tmp_path / "probe.pkl")
    reward_probe.world_model_probe(cfg, argparse.Namespace(**base, updates=2, state=state))
    _, resumed = reward_probe.world_model_probe(cfg, argparse.Namespace(**base, updates=3,
                                                                        state=state))
    keys = ("updates", "train", "test", "train_right_mean", "reward_loss")
    assert [[row[k] for k in keys] for row in resumed] == [[row[k] for k in keys]
                                                          for row in whole]


def test_bound_manual_names_each_entity_on_the_board_with_its_role():
    """The diagnostic's tokens: one per (entity, role) pair of the episode, each role once, read
    at the first three steps (``once``), at the last three read steps (``late``), cycling
    through every step (``repeat``) or on every word of its sentence (``sentence``)."""
    from messenger_s2.entities import AVATAR_WITH_MESSAGE, ENTITY_NAMES

    base = reward_probe.BOUND_BASE
    for mode in reward_probe.BOUND_MODES:
        batch = reward_probe.held_out_episodes(EnvConfig(id=reward_probe.ENV), 12, seed=2,
                                               noise=0.0, bound=mode)
        for n in range(12):
            tokens = batch["token"][n][:np.flatnonzero(batch["reward"][n])[0] + 1]
            said = tokens[tokens >= base] - base
            on_board = {s for s in ENTITY_NAMES if batch["image"][n, 0][..., s].any()}
            assert {int(e) + 2 for e in said // 3} == on_board
            assert sorted(set((said % 3).tolist())) == [0, 1, 2]
            # The roles are the true ones: touching the message (the goal when carrying it) wins.
            roles = {int(e) + 2: int(r) for e, r in zip(said // 3, said % 3)}
            episode, row, symbol = reward_probe.touches({k: v[n:n + 1] for k, v in batch.items()})
            if len(episode):
                carrying = batch["image"][n, 0][..., AVATAR_WITH_MESSAGE].any()
                wins = roles[int(symbol[0])] == (2 if carrying else 1)  # ROLES index
                assert wins == (batch["reward"][n, row[0]] > 0)
            if mode == "once":
                assert len(said) == 3 and (tokens[3:] == 0).all()
            elif mode == "late":
                last = np.flatnonzero(tokens)
                assert len(said) == 3 and len(last) == 3
                assert (np.diff(last) == 1).all() and (tokens[last[-1] + 1:] == 0).all()
                assert last[0] > 15  # S1's manual is 23 tokens or more
            elif mode == "repeat":
                assert (tokens >= base).all()
                np.testing.assert_array_equal(tokens[3:], tokens[:-3])  # a cycle of three
            else:  # each read step says its sentence's pair: three runs, one per sentence
                spoken = tokens[tokens > 0]
                assert (spoken >= base).all() and len(spoken) > 15
                runs = spoken[np.r_[True, spoken[1:] != spoken[:-1]]]
                assert len(runs) == 3 and len(set(runs.tolist())) == 3


def test_late_pair_tokens_come_on_the_last_three_read_steps():
    """``late`` says the pairs on the manual's last three read steps, counted from its text."""
    roles = {"enemy": np.array(["ship"]), "message": np.array(["airplane"]),
             "goal": np.array(["scientist"])}
    info = {"roles": roles, "manual": np.array([("a b.", "c.")], dtype=object)}
    manual = reward_probe.BoundManual(1, np.random.default_rng(0), "late")
    said = []
    for t in range(8):  # 5 read steps ("a", "b", ".", "c", "."), then play
        obs = {"is_first": np.array([t == 0]), "is_read_step": np.array([int(t < 5)]),
               "token": np.zeros(1, np.int64)}
        said.append(int(manual.tokens(obs, info)[0]))
    assert [t >= reward_probe.BOUND_BASE for t in said] == [False, False, True, True, True,
                                                            False, False, False]
    with pytest.raises(ValueError, match="modes"):
        reward_probe.BoundManual(1, np.random.default_rng(0), "twice")


def test_sentence_pair_tokens_last_exactly_as_long_as_their_sentences():
    """``sentence`` says each sentence's pair on each of its words, counted from its text."""
    roles = {"enemy": np.array(["ship"]), "message": np.array(["airplane"]),
             "goal": np.array(["scientist"])}
    info = {"roles": roles, "manual": np.array([("the plane is here.", "a ship.")],
                                               dtype=object)}
    manual = reward_probe.BoundManual(1, np.random.default_rng(0), "sentence")
    said = []
    for t in range(10):  # 8 read steps (5 + 3 words), then play
        obs = {"is_first": np.array([t == 0]), "is_read_step": np.array([int(t < 8)]),
               "token": np.zeros(1, np.int64)}
        said.append(int(manual.tokens(obs, info)[0]))
    base = reward_probe.BOUND_BASE
    from messenger_s2.entities import ENTITY_ID, ROLES

    plane = base + 3 * (ENTITY_ID["airplane"] - 2) + ROLES.index("message")
    ship = base + 3 * (ENTITY_ID["ship"] - 2) + ROLES.index("enemy")
    assert said == [plane] * 5 + [ship] * 3 + [0, 0]
    with pytest.raises(SystemExit):
        reward_probe.main(["--bound-manual", "once", "--sentence-context"])


def test_figure_labels_name_what_a_probe_changed_in_the_model(tmp_path):
    """Legend labels name the GRU settings a probe changed; results saved before a setting
    existed had its default and name nothing."""
    tiny = vars(Config.preset("tiny"))
    old = {k: v for k, v in tiny.items() if k not in ("gate_norm", "gru_reads_mode")}
    path = tmp_path / "reward_probe-x.json"
    args = {"bound_manual": "once"}
    assert reward_probe.probe_label(path, {"config": {**old, "reward_scale": 30.0},
                                           "args": args}) == (
        "x: reward loss x30, manual as 3 pair tokens")
    switched = {**tiny, "gate_norm": False, "gru_reads_mode": True, "gru_update_bias": -3.0}
    assert reward_probe.probe_label(path, {"config": switched, "args": {}}).endswith(
        "update-gate bias -3, gates unnormed, GRU reads z's mode")
    heads = {**tiny, "mlp_layers": 2, "mlp_units": 128}
    assert reward_probe.probe_label(path, {"config": heads, "args": {"bound_manual": "late"}}
                                    ) == "x: reward loss x1, 3 pair tokens just before play, " \
                                         "MLPs 2 x 128"
    assert reward_probe.probe_label(path, {"config": tiny, "args": {"sentence_context": True}}
                                    ) == "x: reward loss x1, words with their sentence's bag"
