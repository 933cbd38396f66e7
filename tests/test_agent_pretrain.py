"""Text-only pretraining of the Dynalang world model (``agent.pretrain_text``).

The learning test pretrains the tiny preset on Messenger-S2's generated manuals and asks that
held-out next-token accuracy beats the unigram baseline (always "the", about 16% of tokens) by a
wide margin.  Measured on a 2-core CPU (seeds 0-3, 1,200 updates of 8 x 16 tokens at lr 1e-3):
held-out accuracy 0.44-0.47 and perplexity 33-35, against 0.16 and 59 for the unigram
baseline; a bigram table fitted to the same corpus would reach 0.49.
"""

from __future__ import annotations

import json
import shutil

import jax
import numpy as np
import pytest

from agent import checkpoint
from agent import pretrain_text as pt
from agent.dynalang import Trainer
from agent.dynalang.config import Config
from agent.runner import EnvConfig

ENV = "Messenger-S2-v0"
UPDATES = 1200
CFG = Config.preset("tiny", model_lr=1e-3, batch_size=8)


@pytest.fixture(scope="module")
def vocab():
    adapter = EnvConfig(ENV).adapter(1, 0)
    try:
        return pt.env_vocab(adapter)
    finally:
        adapter.close()


# ------------------------------------------------------------------ tokeniser and sampler
def test_text_file_maps_to_env_vocabulary_with_unk(tmp_path, vocab):
    path = tmp_path / "story.txt"
    path.write_text("The Queen is the ENEMY, Dragon!\n  It never moves.\n\n", encoding="utf-8")
    tokens = pt.text_file_tokens(path, vocab)
    words = ["the", "queen", "is", "the", "enemy", ",", "dragon", "!", "it", "never", "moves",
             "."]
    assert "dragon" not in vocab and "!" not in vocab
    assert tokens.dtype == np.int32
    assert tokens.tolist() == [vocab.id(w) if w in vocab else pt.UNK_ID for w in words]
    assert [i for i, t in enumerate(tokens) if t == pt.UNK_ID] == [6, 7]
    assert vocab.decode(tokens) == "the queen is the enemy, <unk> <unk> it never moves."
    assert pt.text_file_tokens(path, vocab, max_tokens=5).tolist() == tokens[:5].tolist()


def test_heldout_is_the_contiguous_tail():
    tokens = np.arange(1000) % 150 + 2
    corpus = pt.split_corpus(tokens, 16, 158)
    assert corpus.heldout.size == 50 and corpus.train.size == 950  # 5%
    np.testing.assert_array_equal(np.concatenate([corpus.train, corpus.heldout]), tokens)
    assert corpus.tokens == 1000 and corpus.unk_rate == 0.0
    # A short corpus holds out one whole sequence rather than 5%.
    small = pt.split_corpus(np.arange(2, 42), 16, 158)
    assert small.heldout.size == 16 and small.train.size == 24


@pytest.mark.parametrize("n, batch_size, length", [(103, 5, 8), (8, 3, 8), (40, 4, 7)])
def test_sampler_batches_and_epochs(n, batch_size, length):
    tokens = np.arange(n, dtype=np.int32)  # token value = position in the stream
    image_shape = (16, 16, 17)
    sampler = pt.SequenceSampler(tokens, batch_size, length, image_shape, seed=3)
    covered = np.zeros(n, int)  # how often each position was served
    starts_seen = set()
    while sampler.epoch < 6:
        batch = sampler.sample()
        assert batch["image"].shape == (batch_size, length, *image_shape)
        assert batch["image"].dtype == np.uint8 and not batch["image"].any()
        assert batch["token"].dtype == np.int32 and batch["action"].dtype == np.int32
        assert batch["token"].shape == batch["is_first"].shape == (batch_size, length)
        assert batch["is_first"][:, 0].all() and not batch["is_first"][:, 1:].any()
        assert not batch["is_terminal"].any() and not batch["reward"].any()
        assert not batch["action"].any()
        # Every row is a contiguous stretch of the stream.
        assert (np.diff(batch["token"], axis=1) == 1).all()
        assert batch["token"].min() >= 0 and batch["token"].max() < n
        starts_seen.update(batch["token"][:, 0].tolist())
        for row in batch["token"]:
            covered[row] += 1
    # Five whole epochs were served, each covering every token.
    assert covered.min() >= 5
    if n - length >= length:  # random start offsets vary between epochs
        assert len(starts_seen) > (n - length) // length + 2


def test_sampler_epochs_cover_everything_exactly():
    # Epoch by epoch through the public starts(): each epoch's sequences cover every position.
    n, length = 61, 6
    sampler = pt.SequenceSampler(np.arange(n), 1, length, (4, 4, 1), seed=0)
    epochs: dict[int, list[int]] = {}
    while sampler.epoch <= 5:
        start = int(sampler.starts()[0])
        epochs.setdefault(sampler.epoch, []).append(start)
    for epoch in range(1, 6):
        starts = epochs[epoch]
        covered = np.zeros(n, bool)
        for s in starts:
            covered[s:s + length] = True
        assert covered.all() and len(starts) == len(set(starts))
        assert len(starts) <= n // length + 2
    assert len({tuple(sorted(epochs[e])) for e in range(1, 6)}) > 1  # the offset changes


# ------------------------------------------------------------------ errors
def test_corpus_errors(tmp_path, vocab):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        pt.text_file_tokens(tmp_path / "nope.txt", vocab)
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    with pytest.raises(pt.CorpusError, match="no words"):
        pt.text_file_tokens(empty, vocab)
    with pytest.raises(pt.CorpusError, match="empty"):
        pt.split_corpus([], 16, 158)
    with pytest.raises(pt.CorpusError, match="at least 32"):
        pt.split_corpus(np.full(31, 5), 16, 158)
    with pytest.raises(pt.CorpusError, match=r"\[0, 158\)"):
        pt.split_corpus(np.full(100, 200), 16, 158)
    with pytest.warns(pt.CorpusWarning, match="75% of the corpus"):
        pt.split_corpus(np.array([1, 1, 1, 5] * 25), 16, 158)


def test_cli_errors(tmp_path, user_error):
    assert "missing.txt" in user_error(pt.main, [
        "--text", str(tmp_path / "missing.txt"), "--logdir", str(tmp_path / "a"), "--preset",
        "tiny"])
    assert "--text FILE or --manuals" in user_error(pt.main, ["--logdir", str(tmp_path / "b")])
    assert "text pretraining streams bare tokens" in user_error(pt.main, [
        "--manuals", "--sentence-context", "--logdir", str(tmp_path / "c")])
    assert "no checkpoint" in user_error(pt.main, ["--logdir", str(tmp_path / "c"), "--resume"])
    assert "--updates: must be an int >= 1" in user_error(
        pt.main, ["--manuals", "--updates", "0", "--logdir", str(tmp_path / "d")])


# ------------------------------------------------------------------ learning
@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("pretrain")
    tokens = pt.manual_tokens(ENV, 20_000, seed=0)
    result = pt.pretrain(CFG, ENV, tokens, UPDATES, logdir,
                         source={"source": "manuals", "corpus_tokens": 20_000},
                         eval_every=UPDATES // 2, checkpoint_every=UPDATES // 2, log_every=100,
                         eval_sequences=64, tensorboard=False, progress=False, verbose=False)
    return logdir, result


def test_manual_corpus_is_the_env_language(vocab):
    tokens = pt.manual_tokens(ENV, 3_000, seed=0)
    assert tokens.size == 3_000 and not (tokens == pt.UNK_ID).any()
    assert not (tokens == pt.PAD_ID).any()
    text = vocab.decode(tokens)
    assert text.count(".") > 3_000 / 25  # whole sentences, each ending with a period
    np.testing.assert_array_equal(tokens, pt.manual_tokens(ENV, 3_000, seed=0))
    other = pt.manual_tokens(ENV, 3_000, seed=0, env_kwargs={"split": "test"})
    assert not np.array_equal(tokens, other)  # the env's arguments reach the manuals


def test_pretraining_learns_next_tokens(pretrained):
    logdir, result = pretrained
    assert result["updates"] == UPDATES
    assert 0.12 < result["unigram_accuracy"] < 0.2  # "the"
    # Learned: far better than always guessing "the", and a better model of the text than the
    # unigram distribution (measured: 0.44-0.47 accuracy, perplexity 33-35 against 59).
    assert result["eval_accuracy"] > result["unigram_accuracy"] + 0.15, result
    assert result["eval_perplexity"] < 0.8 * result["unigram_perplexity"], result
    assert len(result["sample_continuation"].split()) >= 5  # ten tokens, punctuation attached
    assert len(result["sample_prompt"].replace(",", " ,").replace(".", " .").split()) == 20

    records = [json.loads(line) for line in (logdir / "metrics.jsonl").read_text().splitlines()]
    assert [r["env_steps"] for r in records] == list(range(100, UPDATES + 1, 100))
    assert all(r["updates"] == r["env_steps"] for r in records)
    evals = [r for r in records if "eval_accuracy" in r]
    assert [r["updates"] for r in evals] == [UPDATES // 2, UPDATES]
    assert all(np.isfinite(r["token_loss"]) for r in records)


def test_checkpoint_layout(pretrained):
    logdir, result = pretrained
    blob = checkpoint.load(logdir)
    assert blob["agent"] == "dynalang" and blob["config"] == CFG
    assert blob["env"] == {"id": ENV, "image_key": "auto", "pad_to": "auto", "vector": "auto",
                          "hide_language": False, "sentence_context": False, "kwargs": {}}
    assert blob["spec"].image_shape == (16, 16, 17) and blob["spec"].vocab_size == 158
    assert blob["counters"] == {"env_steps": 0, "real_steps": 0, "updates": UPDATES,
                                "update_credit": 0.0}
    assert int(blob["state"].updates) == UPDATES
    info = blob["pretrain"]
    assert info["source"] == "manuals" and info["tokens"] == 20_000
    assert info["heldout_tokens"] == 1_000 and info["unk_rate"] == 0.0
    assert info["eval"]["eval_accuracy"] == pytest.approx(result["eval_accuracy"])


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return Trainer(CFG, EnvConfig(ENV), tmp_path_factory.mktemp("finetune"))


def test_pretrained_world_model_loads_into_trainer(pretrained, trainer):
    logdir, _ = pretrained
    fresh = jax.device_get(trainer.state.params)
    trainer.init_world_model(logdir)
    params = jax.device_get(trainer.state.params)
    saved = checkpoint.load(logdir)["state"].params
    equal = jax.tree.map(np.array_equal, params["wm"], saved["wm"])
    assert all(jax.tree.leaves(equal))
    for part in ("actor", "critic", "slow_critic"):  # fresh: untouched by the pretraining
        assert all(jax.tree.leaves(jax.tree.map(np.array_equal, params[part], fresh[part])))
    # Text-only: the CNN, image, reward and continue parts got no gradient, so they are still
    # exactly the fresh ones (which also shows the pretraining init equals the Trainer's).
    for part in ("image", "reward", "cont"):
        assert all(jax.tree.leaves(jax.tree.map(np.array_equal, params["wm"][part],
                                                fresh["wm"][part])))
    convs = {k: v for k, v in params["wm"]["encoder"]["params"].items() if "Conv" in k}
    assert convs and all(jax.tree.leaves(jax.tree.map(
        np.array_equal, convs, {k: fresh["wm"]["encoder"]["params"][k] for k in convs})))
    # The world model did change in pretraining (the token head, at least).
    assert not all(jax.tree.leaves(jax.tree.map(np.array_equal, params["wm"]["token"],
                                                fresh["wm"]["token"])))


def test_other_env_is_refused(tmp_path, trainer):
    # A HomeGrid world model (36 words, 64x64 images) does not fit the Messenger agent.  No
    # updates: the untrained model is evaluated and saved, which is all this test needs.
    env = "HomeGrid-Task-v0"
    cfg = Config.preset("tiny", batch_size=2, batch_length=8)
    tokens = pt.manual_tokens(env, 400, seed=0)  # HomeGrid's utterances as spoken
    assert tokens.size == 400 and not (tokens == pt.PAD_ID).any()
    assert not (tokens == pt.UNK_ID).any()
    result = pt.pretrain(cfg, env, tokens, 0, tmp_path, eval_sequences=2, tensorboard=False,
                         progress=False, verbose=False)
    assert result["updates"] == 0 and np.isfinite(result["eval_nll"])
    blob = checkpoint.load(tmp_path)
    assert blob["spec"].vocab_size == 36 and blob["counters"]["updates"] == 0
    with pytest.raises(ValueError, match="vocabulary must match"):
        trainer.init_world_model(tmp_path)


def test_resume(pretrained, tmp_path):
    logdir, _ = pretrained
    run = tmp_path / "run"
    shutil.copytree(logdir, run)
    tokens = pt.manual_tokens(ENV, 20_000, seed=0)
    before = checkpoint.load(run)["state"]
    # Resume continues the counters, the optimiser and the RNG (the same config and corpus
    # reuse the compiled functions, so this is quick).
    result = pt.pretrain(CFG, ENV, tokens, UPDATES + 5, run, eval_every=0, log_every=0,
                         eval_sequences=64, resume=True, tensorboard=False, progress=False,
                         verbose=False)
    blob = checkpoint.load(run)
    assert result["updates"] == UPDATES + 5 and blob["counters"]["updates"] == UPDATES + 5
    assert int(blob["state"].updates) == UPDATES + 5
    assert int(blob["state"].opt["wm"][1][0].count) == UPDATES + 5  # Adam's step count
    assert not np.array_equal(blob["state"].key, before.key)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["updates"] == UPDATES + 5 and "eval_accuracy" in records[-1]
    # Already there: nothing to do, nothing rewritten.
    again = pt.pretrain(CFG, ENV, tokens, UPDATES + 5, run, resume=True, tensorboard=False,
                        progress=False, verbose=False)
    assert again["eval_accuracy"] == pytest.approx(result["eval_accuracy"])
    with pytest.raises(ValueError, match="corpus"):
        pt.pretrain(CFG, ENV, tokens[::-1], UPDATES + 10, run, resume=True,
                    tensorboard=False, progress=False, verbose=False)
    with pytest.raises(ValueError, match="batch_size: checkpoint 8, this run 4"):
        pt.pretrain(Config.preset("tiny", model_lr=1e-3), ENV, tokens, UPDATES + 10, run,
                    resume=True, tensorboard=False, progress=False, verbose=False)
    with pytest.raises(FileExistsError, match="already holds a run"):
        pt.pretrain(CFG, ENV, tokens, UPDATES + 10, run, tensorboard=False, progress=False,
                    verbose=False)
