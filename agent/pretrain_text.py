"""Pretrain Dynalang's world model on text alone, then fine-tune it in an env (hypothesis D).

    python -m agent.pretrain_text --env Messenger-S2-v0 --manuals --updates 20000 --logdir runs/pt
    python -m agent.pretrain_text --env Messenger-S2-v0 --text stories.txt --preset small \\
        --updates 100000 --logdir runs/pt-stories
    python -m agent.pretrain_text --logdir runs/pt --updates 40000 --resume   # continue
    python -m agent.train --env Messenger-S2-v0 --logdir runs/s2 --init-wm runs/pt  # fine-tune

The world model is built for the env's spaces exactly as :class:`agent.dynalang.Trainer` builds it
(same config, image shape, vocabulary and action count), so its checkpoint loads into
``agent.train --init-wm`` for the same env and config; the actor and critic start fresh there.

**Data.**  ``--text FILE``: any plain-text file, lower-cased and split into words and
punctuation by :func:`langstream.tokenize` (the env vocabulary's own tokeniser); words outside
the env's vocabulary become ``<unk>`` (a corpus that is more than half ``<unk>`` is warned
about).  ``--manuals``: the env's own language, generated until ``--corpus-tokens`` tokens
(Messenger: the sentences of ``info["manual"]`` over resets with seeds ``seed, seed+1, ...``,
each ending with a period as the env streams it; other envs: the non-pad tokens the env says
while played with random actions, e.g. HomeGrid's utterances).  The last 5% of the token stream
(at least one sequence) is held out for evaluation.  Training sequences are ``batch_length``
tokens cut from the rest: each epoch draws a random offset, cuts the stream into consecutive
sequences from there (plus one at each end, so every token is in some sequence each epoch) and
serves them in a fresh random order; batches run on across epochs.

**Model inputs**: the token stream, with zero images (the CNN is bypassed and
gets no gradient), reward 0, ``is_terminal`` False and action 0; ``is_first`` is True at the
first step of every sequence, so each sequence starts from the RSSM's initial state.  The loss
is the token decoder's plus the two KL terms (``world_model_loss(..., text_only=True)``).

**Evaluation** every ``--eval-every`` updates, on up to ``--eval-sequences`` held-out sequences:
the negative log-likelihood of each next token (nats), its perplexity and the next-token
accuracy, where the prediction of token t+1 is the token head applied to one prior step from
the posterior at t (:func:`agent.dynalang.learner.next_token_logits`), beside the unigram baseline
(always the corpus's most frequent token; its perplexity from add-one smoothed frequencies).
A sampled continuation is printed: the posterior over a held-out prompt, then the prior rolled
forward with action 0, one token decoded (sampled) from each imagined latent.  The imagined
latent is not re-conditioned on the decoded token: that is how Dynalang generates.

**Logging.**  ``LOGDIR/metrics.jsonl`` and TensorBoard, one record per ``--log-every``
updates and per evaluation.  :class:`agent.logger.Logger` keys records by ``env_steps``; here
that key holds the *update count* (no env is stepped), repeated as ``updates``.

**Checkpoints** (``LOGDIR/checkpoint-<updates>.pkl``, checksummed, the last two kept) have the
layout of ``agent.train``'s (agent, config, spec, env, state, key, counters with env_steps =
real_steps = 0 and update_credit = 0) plus a ``pretrain`` entry describing the corpus and the
latest held-out metrics; written every ``--checkpoint-every`` updates and at the end.
``--resume`` continues from it (parameters, optimiser, RNG and counters; the data sampler is
re-seeded from seed + updates) and needs the same corpus: leave ``--text``/``--manuals`` out
to rebuild the checkpoint's.
"""

from __future__ import annotations

import argparse
import array
import dataclasses
import functools
import hashlib
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from agent import checkpoint, cli, nets
from agent.dynalang import config as config_lib
from agent.dynalang import learner as dynalang
from agent.envs import EnvAdapter, registered_spec
from agent.logger import Logger
from agent.runner import EnvConfig, config_differences
from agent.train import add_env_arguments

PROG = "python -m agent.pretrain_text"
DEFAULT_ENV = "Messenger-S2-v0"
HELDOUT_FRACTION = 0.05
UNK_WARN_RATE = 0.5
DEFAULT_CORPUS_TOKENS = 200_000
PROMPT_TOKENS = 20  # held-out prompt of the sampled continuation
NEW_TOKENS = 10  # tokens generated after it
PAD_ID, UNK_ID = 0, 1  # the project's vocabularies (langstream.vocab)


class CorpusError(ValueError):
    """A corpus that cannot be trained on: the message says why and what to do."""


class CorpusWarning(UserWarning):
    """A corpus that can be trained on but probably should not be (mostly unknown words)."""


# ------------------------------------------------------------------ the env's language
def env_vocab(adapter: EnvAdapter) -> Any:
    """The env's vocabulary object (``env.unwrapped.vocab``: ``encode``, ``decode``, ``words``)."""
    vec = adapter.env
    vocab = getattr(vec.unwrapped, "vocab", None)
    if vocab is None and hasattr(vec, "get_attr"):
        try:
            vocab = vec.get_attr("vocab")[0]
        except AttributeError:
            vocab = None
    if vocab is None or not hasattr(vocab, "encode"):
        raise CorpusError(f"the env {adapter!r} exposes no vocabulary (env.unwrapped.vocab with "
                          f"encode/decode), so text cannot be mapped to its token ids")
    if len(vocab) != adapter.vocab_size:
        raise CorpusError(f"the env's vocabulary has {len(vocab)} words but its token space "
                          f"has {adapter.vocab_size} ids")
    return vocab


def encode_lines(lines: Iterable[str], vocab: Any, max_tokens: int | None = None) -> np.ndarray:
    """Token ids of a text, line by line, with the vocabulary's tokeniser (lower-cased words
    and punctuation; unknown words become ``<unk>``); stops after ``max_tokens``."""
    out = array.array("i")  # 4 bytes a token, so large files fit in memory
    for line in lines:
        out.extend(vocab.encode(line))
        if max_tokens is not None and len(out) >= max_tokens:
            break
    return np.frombuffer(out, np.int32)[:max_tokens].copy()


def text_file_tokens(path: str | Path, vocab: Any, max_tokens: int | None = None) -> np.ndarray:
    """A plain-text file as token ids of ``vocab`` (read line by line, so large files stream;
    undecodable bytes are replaced)."""
    path = Path(path).expanduser()
    if max_tokens is not None and max_tokens < 1:
        raise CorpusError(f"the number of tokens to read must be positive, got {max_tokens}")
    if not path.is_file():
        raise FileNotFoundError(f"text file {str(path)!r} does not exist (or is not a file); "
                                f"--text needs a plain-text file")
    with open(path, encoding="utf-8", errors="replace") as f:
        tokens = encode_lines(f, vocab, max_tokens)
    if tokens.size == 0:
        raise CorpusError(f"text file {str(path)!r} holds no words: nothing to pretrain on")
    return tokens


def manual_tokens(env_id: str, n_tokens: int, seed: int = 0,
                  env_kwargs: dict[str, Any] | None = None) -> np.ndarray:
    """``n_tokens`` of the env's own language (the env made with ``env_kwargs``, e.g. a split
    or a directory of human-written texts).

    Envs that report their manual (Messenger's ``info["manual"]``): the manual sentences of
    resets with seeds ``seed, seed + 1, ...``, encoded as the env streams them (the text
    source's ``encode``, which ends each sentence with a period).  Other envs (HomeGrid): the
    non-pad tokens observed while playing with random actions, i.e. the utterances as spoken.
    """
    if n_tokens < 1:
        raise CorpusError(f"corpus_tokens must be positive, got {n_tokens}")
    if ":" not in env_id:
        registered_spec(env_id)  # imports the project suite that registers the id
    env = gym.make(env_id, **(env_kwargs or {}))
    try:
        unwrapped = env.unwrapped
        texts = getattr(unwrapped, "texts", None)
        encode = texts.encode if texts is not None else getattr(unwrapped, "vocab").encode
        out: list[int] = []
        episode = 0
        obs, info = env.reset(seed=seed)
        if "manual" in info:
            while len(out) < n_tokens:
                if episode:
                    _, info = env.reset(seed=seed + episode)
                for sentence in info["manual"]:
                    out.extend(encode(sentence))
                episode += 1
        else:
            env.action_space.seed(seed)
            steps = 0
            while len(out) < n_tokens:
                token = int(obs["token"])
                if token != PAD_ID:
                    out.append(token)
                obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
                steps += 1
                if terminated or truncated:
                    episode += 1
                    obs, _ = env.reset(seed=seed + episode)
                if steps > 200 * n_tokens + 10_000:
                    raise CorpusError(f"{env_id} said only {len(out)} tokens in {steps} "
                                      f"steps: use --text instead of --manuals")
    finally:
        env.close()
    return np.asarray(out[:n_tokens], np.int32)


# ------------------------------------------------------------------ corpus and sampler
@dataclasses.dataclass
class Corpus:
    """A token stream split by position into training tokens and the held-out tail."""

    train: np.ndarray
    heldout: np.ndarray
    unk_rate: float
    sha1: str

    @property
    def tokens(self) -> int:
        return int(self.train.size + self.heldout.size)


def split_corpus(tokens: Sequence[int] | np.ndarray, batch_length: int, vocab_size: int,
                 heldout_fraction: float = HELDOUT_FRACTION) -> Corpus:
    """Hold out the last ``heldout_fraction`` of the stream (at least one sequence), with
    clear errors for corpora too short to train on and a warning when most words are unknown."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or not (tokens.size == 0 or np.issubdtype(tokens.dtype, np.integer)):
        raise CorpusError(f"a corpus is a 1-D sequence of token ids, got an array of dtype "
                          f"{tokens.dtype} and shape {tokens.shape}")
    tokens = tokens.astype(np.int32)
    n = int(tokens.size)
    if n == 0:
        raise CorpusError("the corpus is empty: no tokens to pretrain on")
    if tokens.min() < 0 or tokens.max() >= vocab_size:
        raise CorpusError(f"token ids must lie in [0, {vocab_size}) (the env's vocabulary), "
                          f"got ids from {tokens.min()} to {tokens.max()}")
    held = max(int(math.ceil(heldout_fraction * n)), batch_length)
    if n - held < batch_length:
        raise CorpusError(f"the corpus has {n} tokens, too few for sequences of batch_length "
                          f"{batch_length}: it needs at least {2 * batch_length} (one sequence "
                          f"to train on and one held out, which is {heldout_fraction:.0%} of the "
                          f"stream or one sequence, whichever is more)")
    unk_rate = float(np.mean(tokens == UNK_ID))
    if unk_rate > UNK_WARN_RATE:
        warnings.warn(f"{unk_rate:.0%} of the corpus's {n} tokens are <unk> (words outside the "
                      f"env's vocabulary of {vocab_size}): the model will mostly learn to "
                      f"predict <unk>. Use text in the env's language, e.g. --manuals.",
                      CorpusWarning, stacklevel=2)
    return Corpus(tokens[:n - held], tokens[n - held:], unk_rate,
                  hashlib.sha1(tokens.tobytes()).hexdigest())


def text_batch(tokens: np.ndarray, image_shape: Sequence[int]) -> dict[str, np.ndarray]:
    """A replay-style batch for token sequences (B, T): zero images (a broadcast view, no
    memory), reward 0, action 0, ``is_terminal`` False and ``is_first`` only at position 0."""
    b, t = tokens.shape
    is_first = np.zeros((b, t), bool)
    is_first[:, 0] = True
    return {"image": np.broadcast_to(np.zeros((), np.uint8), (b, t, *image_shape)),
            "token": np.asarray(tokens, np.int32), "reward": np.zeros((b, t), np.float32),
            "is_first": is_first, "is_terminal": np.zeros((b, t), bool),
            "action": np.zeros((b, t), np.int32)}


class SequenceSampler:
    """Batches of ``length``-token sequences from a token stream, epoch after epoch.

    Each epoch draws a random offset in ``[0, length)``, cuts the stream into consecutive
    sequences starting there, adds the sequences at the very start and end of the stream (so
    every token is covered every epoch) and shuffles their order.  A batch that runs past the
    end of an epoch continues with the next, freshly reshuffled one.
    """

    def __init__(self, tokens: np.ndarray, batch_size: int, length: int,
                 image_shape: Sequence[int], seed: int | Sequence[int] = 0):
        tokens = np.asarray(tokens, np.int32)
        if tokens.size < length:
            raise CorpusError(f"{tokens.size} tokens are fewer than one sequence of {length}")
        self.tokens, self.batch_size, self.length = tokens, batch_size, length
        self.image_shape = tuple(image_shape)
        self.rng = np.random.default_rng(seed)
        self.epoch = 0  # epochs started
        self._order = np.zeros(0, np.int64)
        self._next = 0

    def _new_epoch(self) -> None:
        n, length = self.tokens.size, self.length
        offset = int(self.rng.integers(length))
        starts = set(range(offset, n - length + 1, length)) | {0, n - length}
        self._order = self.rng.permutation(np.fromiter(sorted(starts), np.int64))
        self._next = 0
        self.epoch += 1

    def starts(self) -> np.ndarray:
        """The start positions of the next batch's sequences."""
        out = []
        while len(out) < self.batch_size:
            if self._next >= self._order.size:
                self._new_epoch()
            take = min(self.batch_size - len(out), self._order.size - self._next)
            out.extend(self._order[self._next:self._next + take])
            self._next += take
        return np.asarray(out, np.int64)

    def sample(self) -> dict[str, np.ndarray]:
        """The next batch (see :func:`text_batch`)."""
        index = self.starts()[:, None] + np.arange(self.length)
        return text_batch(self.tokens[index], self.image_shape)


def heldout_sequences(heldout: np.ndarray, length: int, limit: int) -> np.ndarray:
    """Up to ``limit`` consecutive non-overlapping sequences from the held-out stream."""
    n = min(heldout.size // length, limit)
    return heldout[:n * length].reshape(n, length)


# ------------------------------------------------------------------ jitted functions
def _device_batch(batch: dict[str, jnp.ndarray], spec: dynalang.Spec) -> dict[str, jnp.ndarray]:
    """The batch with its zero image made inside the jit (text-only never reads it, so XLA
    never allocates it)."""
    b, t = batch["token"].shape
    return {**batch, "image": jnp.zeros((b, t, *spec.image_shape), jnp.uint8)}


def make_train_step(net: dynalang.Networks, cfg: config_lib.Config, spec: dynalang.Spec):
    """``step(train_state, batch) -> (train_state, metrics)``: the world model's text-only
    update (:func:`agent.dynalang.learner.make_model_update`), with only the tokens and flags
    sent to the device."""
    model_update = dynalang.make_model_update(cfg, spec, text_only=True)

    @functools.partial(jax.jit, donate_argnums=0)
    def update(ts: dynalang.TrainState, batch: dict[str, jnp.ndarray]):
        return model_update(ts, _device_batch(batch, spec))

    def step(ts: dynalang.TrainState, batch: dict[str, np.ndarray]):
        return update(ts, {k: v for k, v in batch.items() if k != "image"})

    return step


def make_eval(net: dynalang.Networks, spec: dynalang.Spec):
    """``evaluate(params, tokens (B, T), weights (B,), key) -> (nll_sum, correct_sum, count)``
    of the next-token predictions for tokens 1..T-1 of each weighted sequence."""

    @jax.jit
    def evaluate(params: dynalang.Params, tokens: jnp.ndarray, weights: jnp.ndarray,
                 key: jax.Array):
        b, t = tokens.shape
        batch = _device_batch({"token": tokens, "reward": jnp.zeros((b, t)),
                               "is_first": jnp.zeros((b, t), bool).at[:, 0].set(True),
                               "is_terminal": jnp.zeros((b, t), bool),
                               "action": jnp.zeros((b, t), jnp.int32)}, spec)
        logits = dynalang.next_token_logits(net, params, spec, batch, key, text_only=True)
        targets = tokens[:, 1:]
        nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], -1)[..., 0]
        correct = (logits.argmax(-1) == targets).astype(jnp.float32)
        w = jnp.broadcast_to(weights[:, None], targets.shape)
        return (nll * w).sum(), (correct * w).sum(), w.sum()

    return evaluate


def make_generate(net: dynalang.Networks, spec: dynalang.Spec, n_new: int):
    """``generate(params, prompt (P,), key) -> (sampled (n_new,), greedy (n_new,))``: the
    posterior over the prompt, then ``n_new`` prior steps with action 0, a token decoded from
    each imagined latent (never fed back: Dynalang generates in latent space)."""

    @jax.jit
    def generate(params: dynalang.Params, prompt: jnp.ndarray, key: jax.Array):
        wm = params["wm"]
        t = prompt.shape[0]
        batch = _device_batch({"token": prompt[None], "reward": jnp.zeros((1, t)),
                               "is_first": jnp.zeros((1, t), bool).at[:, 0].set(True),
                               "is_terminal": jnp.zeros((1, t), bool),
                               "action": jnp.zeros((1, t), jnp.int32)}, spec)
        k_obs, k_gen = jax.random.split(key)
        posts, _ = dynalang.observe(net, wm, batch, spec.n_actions, k_obs, text_only=True)
        state = jax.tree.map(lambda x: x[:, -1], posts)
        action = jax.nn.one_hot(jnp.zeros((1,), jnp.int32), spec.n_actions)

        def step(state: nets.State, k: jax.Array):
            k_dyn, k_tok = jax.random.split(k)
            nxt = net.rssm.apply(wm["rssm"], state, action, k_dyn, method=nets.RSSM.img_step)
            logits = net.token.apply(wm["token"], nets.feat(nxt))[0]
            return nxt, (jax.random.categorical(k_tok, logits), logits.argmax())

        _, (sampled, greedy) = jax.lax.scan(step, state, jax.random.split(k_gen, n_new))
        return sampled, greedy

    return generate


@functools.lru_cache(maxsize=4)
def _functions(cfg: config_lib.Config, spec: dynalang.Spec) -> tuple[Any, ...]:
    """The networks and jitted functions of a (config, spec), made once per process so that a
    resumed or repeated run in the same process compiles nothing again."""
    net = dynalang.build(cfg, spec)
    init = functools.partial(dynalang.init_train_state, cfg, spec)
    return (net, init, make_train_step(net, cfg, spec), make_eval(net, spec),
            make_generate(net, spec, NEW_TOKENS))


# ------------------------------------------------------------------ evaluation
def unigram_baseline(train: np.ndarray, targets: np.ndarray, vocab_size: int) -> dict[str, float]:
    """Always predicting the training stream's most frequent token (accuracy), and the
    add-one smoothed unigram distribution (perplexity), on ``targets``."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64)
    probs = (counts + 1) / (counts.sum() + vocab_size)
    return {"unigram_accuracy": float(np.mean(targets == counts.argmax())),
            "unigram_perplexity": float(np.exp(-np.mean(np.log(probs[targets]))))}


class Evaluator:
    """Held-out next-token metrics and a sampled continuation, for one corpus and model."""

    def __init__(self, cfg: config_lib.Config, spec: dynalang.Spec, corpus: Corpus, vocab: Any,
                 evaluate: Any, generate: Any, max_sequences: int = 256,
                 prompt_tokens: int = PROMPT_TOKENS, new_tokens: int = NEW_TOKENS,
                 chunk: int = 64):
        self.seqs = heldout_sequences(corpus.heldout, cfg.batch_length, max_sequences)
        self.chunk = min(chunk, len(self.seqs))
        self.vocab = vocab
        self.baseline = unigram_baseline(corpus.train, self.seqs[:, 1:].reshape(-1),
                                         spec.vocab_size)
        self._eval = evaluate
        held = corpus.heldout
        # The prompt starts after the first sentence end in the held-out stream, if it has one
        # early on, and leaves room for the true continuation (shown for comparison).
        period = vocab.id(".") if hasattr(vocab, "id") and "." in vocab else None
        ends = np.flatnonzero(held[:100] == period) if period is not None else np.zeros(0)
        start = int(ends[0]) + 1 if ends.size else 0
        if start + prompt_tokens + new_tokens > held.size:
            start = 0
        self.prompt = held[start:start + prompt_tokens]
        self.truth = held[start + self.prompt.size:start + self.prompt.size + new_tokens]
        self._generate = generate
        self.key = jax.random.PRNGKey(cfg.seed + 1)

    def __call__(self, params: dynalang.Params, updates: int) -> dict[str, Any]:
        """Held-out ``eval_nll`` (nats per token), ``eval_perplexity``, ``eval_accuracy``, the
        unigram baselines and a sampled continuation of the prompt (as text)."""
        nll = correct = count = 0.0
        for i in range(0, len(self.seqs), self.chunk):
            tokens = self.seqs[i:i + self.chunk]
            weights = np.ones(self.chunk, np.float32)
            if len(tokens) < self.chunk:  # pad the last chunk with weight-0 rows
                weights[len(tokens):] = 0
                tokens = np.concatenate([tokens, self.seqs[:self.chunk - len(tokens)]])
            out = self._eval(params, tokens, weights, jax.random.fold_in(self.key, i))
            nll, correct, count = (a + float(b) for a, b in zip((nll, correct, count), out))
        sampled, greedy = self._generate(params, self.prompt,
                                         jax.random.fold_in(self.key, updates + 1_000_003))
        decode = self.vocab.decode
        return {"eval_nll": nll / count, "eval_perplexity": math.exp(nll / count),
                "eval_accuracy": correct / count, **self.baseline,
                "eval_tokens": int(count),
                "sample_prompt": decode(self.prompt.tolist(), skip_pad=False),
                "sample_continuation": decode(np.asarray(sampled).tolist(), skip_pad=False),
                "greedy_continuation": decode(np.asarray(greedy).tolist(), skip_pad=False),
                "true_continuation": decode(self.truth.tolist(), skip_pad=False)}


# ------------------------------------------------------------------ the run
def _env_config(env: str | EnvConfig) -> EnvConfig:
    return env if isinstance(env, EnvConfig) else EnvConfig(id=env)


def pretrain(cfg: config_lib.Config, env_id: str | EnvConfig,
             corpus_tokens: Sequence[int] | np.ndarray, updates: int, logdir: str | Path, *,
             source: dict[str, Any] | None = None, eval_every: int = 1_000,
             checkpoint_every: int = 10_000, log_every: int = 100, eval_sequences: int = 256,
             resume: bool = False, tensorboard: bool = True, progress: bool = True,
             verbose: bool = True) -> dict[str, Any]:
    """Pretrain the world model of ``cfg`` for ``env_id`` on a token stream.

    Args:
        cfg: the agent configuration (the one ``agent.train`` will fine-tune with).
        env_id: the env whose spaces the model is built for (an id or an
            :class:`agent.train.EnvConfig`); made once, never stepped.
        corpus_tokens: the token ids of the corpus in the env's vocabulary (see
            :func:`text_file_tokens` and :func:`manual_tokens`).
        updates: train until this many updates in all (a resumed run counts its earlier ones).
        logdir: the run directory (metrics, checkpoint).
        source: what the corpus is, saved in the checkpoint's ``pretrain`` entry.
        eval_every, checkpoint_every, log_every: in updates (0 turns off periodic ones; the
            last update is always evaluated and checkpointed).
        eval_sequences: held-out sequences per evaluation, at most.
        resume: continue from ``logdir``'s checkpoint (same config, env and corpus).

    Returns:
        The final evaluation (see :class:`Evaluator`) with ``updates`` and ``seconds``.
    """
    for name, value in (("updates", updates), ("eval_every", eval_every),
                        ("checkpoint_every", checkpoint_every), ("log_every", log_every)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    if not isinstance(eval_sequences, (int, np.integer)) or eval_sequences < 1:
        raise ValueError(f"eval_sequences must be a positive int, got {eval_sequences!r}")
    env_cfg = _env_config(env_id)
    logdir = Path(logdir)
    adapter = env_cfg.adapter(1, cfg.seed)
    try:
        spec = adapter.spec
        vocab = env_vocab(adapter)
    finally:
        adapter.close()
    corpus = split_corpus(corpus_tokens, cfg.batch_length, spec.vocab_size)
    source = dict(source or {"source": "tokens"})

    net, init, step, evaluate_fn, generate_fn = _functions(cfg, spec)
    key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))  # as agent.dynalang.Trainer
    done = 0
    last_eval: dict[str, Any] = {}
    evaluated = saved = -1  # the update counts of the latest evaluation and checkpoint
    if resume:
        blob = checkpoint.load(logdir)
        _check_resumable(blob, cfg, env_cfg, spec, corpus, logdir)
        state, key = jax.device_put(blob["state"]), jax.device_put(blob["key"])
        done = saved = int(blob["counters"]["updates"])
        last_eval = dict(blob["pretrain"].get("eval", {}))
        evaluated = done if last_eval else -1
    elif checkpoint.exists(logdir):
        raise FileExistsError(f"{logdir} already holds a run: resume it, or choose another "
                              f"logdir")
    else:
        state = init(k_init)

    evaluate = Evaluator(cfg, spec, corpus, vocab, evaluate_fn, generate_fn, eval_sequences)
    sampler = SequenceSampler(corpus.train, cfg.batch_size, cfg.batch_length, spec.image_shape,
                              seed=(cfg.seed, done))

    def save() -> None:
        checkpoint.save(logdir, {
            "agent": "dynalang", "config": cfg, "spec": spec,
            "env": dataclasses.asdict(env_cfg), "state": state, "key": key,
            "counters": {"env_steps": 0, "real_steps": 0, "updates": done,
                         "update_credit": 0.0},
            "pretrain": {**source, "tokens": corpus.tokens, "train_tokens": int(corpus.train.size),
                         "heldout_tokens": int(corpus.heldout.size), "sha1": corpus.sha1,
                         "unk_rate": corpus.unk_rate, "eval": _numbers(last_eval)}}, step=done)

    if verbose:
        params = sum(int(np.size(x)) for x in jax.tree.leaves(state.params["wm"]))
        print(f"pretrain_text: world model {params / 1e6:.2f}M parameters on "
              f"{jax.devices()[0].platform}; env {env_cfg.id} (image {spec.image_shape}, vocab "
              f"{spec.vocab_size}); corpus {source.get('source')}: {corpus.tokens} tokens "
              f"({corpus.heldout.size} held out, {corpus.unk_rate:.1%} <unk>); unigram baseline "
              f"accuracy {evaluate.baseline['unigram_accuracy']:.3f}", file=sys.stderr)
    logger = Logger(logdir, updates, done, tensorboard=tensorboard, progress=progress)
    started, clock, then = time.time(), time.time(), done
    tokens_per_update = cfg.batch_size * cfg.batch_length
    metrics: dict[str, float] = {}
    try:
        while done < updates:
            state, out = step(state, sampler.sample())
            done += 1
            logger.advance(1)
            record: dict[str, Any] = {}
            if (log_every and done % log_every == 0) or done == updates:
                metrics = {k: float(v) for k, v in out.items()}
                now = time.time()
                record.update(updates_per_s=(done - then) / max(now - clock, 1e-9),
                              epochs=done * tokens_per_update / corpus.train.size, **metrics)
                clock, then = now, done
            if (eval_every and done % eval_every == 0) or done == updates:
                last_eval, evaluated = evaluate(state.params, done), done
                record.update(last_eval)
                if verbose:
                    tqdm.write(_describe_eval(done, last_eval), file=sys.stderr)
            if record:
                logger.write({"env_steps": done, "updates": done, **record})
            if (checkpoint_every and done % checkpoint_every == 0) or done == updates:
                save()
                saved = done
        # Nothing (more) to train, e.g. ``updates=0``: the model as it is, evaluated and saved.
        if evaluated != done:
            last_eval, evaluated = evaluate(state.params, done), done
            logger.write({"env_steps": done, "updates": done, **last_eval})
            if verbose:
                tqdm.write(_describe_eval(done, last_eval), file=sys.stderr)
        if saved != done:
            save()
    finally:
        logger.close()
    return {**last_eval, "updates": done, "seconds": time.time() - started}


def _numbers(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, (int, float, np.number)) else v)
            for k, v in record.items()}


def _describe_eval(updates: int, e: dict[str, Any]) -> str:
    return (f"[update {updates}] held-out nll {e['eval_nll']:.3f} ppl "
            f"{e['eval_perplexity']:.2f} (unigram {e['unigram_perplexity']:.2f}), next-token "
            f"accuracy {e['eval_accuracy']:.3f} (unigram {e['unigram_accuracy']:.3f})\n"
            f"  prompt:   {e['sample_prompt']}\n"
            f"  sampled:  {e['sample_continuation']}\n"
            f"  greedy:   {e['greedy_continuation']}\n"
            f"  true:     {e['true_continuation']}")


def _check_resumable(blob: dict[str, Any], cfg: config_lib.Config, env_cfg: EnvConfig,
                     spec: dynalang.Spec, corpus: Corpus, logdir: Path) -> None:
    where = checkpoint.path_of(logdir)
    if "pretrain" not in blob:
        raise ValueError(f"{where} is not a text-pretraining checkpoint (it has no 'pretrain' "
                         f"entry): resume it with agent.train instead")
    differences = [f"{name}: checkpoint {old!r}, this run {new!r}"
                   for name, old, new in config_differences(blob["config"], cfg)]
    if EnvConfig(**blob["env"]) != env_cfg or blob["spec"] != spec:
        differences.append(f"env: checkpoint {blob['env']} {blob['spec']}, this run "
                           f"{dataclasses.asdict(env_cfg)} {spec}")
    if blob["pretrain"].get("sha1") != corpus.sha1:
        differences.append(f"corpus: checkpoint {blob['pretrain'].get('tokens')} tokens from "
                           f"{blob['pretrain'].get('source')}, this run {corpus.tokens} tokens "
                           f"(different content)")
    if differences:
        raise ValueError(f"the checkpoint at {where} comes from a different configuration or "
                         f"corpus, so it cannot be resumed; differences: "
                         + "; ".join(differences))


# ------------------------------------------------------------------ command line
def build_corpus(source: dict[str, Any], env_cfg: EnvConfig, seed: int) -> np.ndarray:
    """The token stream of a ``source`` entry: ``{"source": "text", "path": ...,
    "corpus_tokens": cap or None}`` or ``{"source": "manuals", "corpus_tokens": n}``."""
    if source["source"] == "manuals":
        return manual_tokens(env_cfg.id, int(source["corpus_tokens"]), seed, env_cfg.kwargs)
    if source["source"] == "text":
        adapter = env_cfg.adapter(1, seed)
        try:
            vocab = env_vocab(adapter)
        finally:
            adapter.close()
        return text_file_tokens(source["path"], vocab, source.get("corpus_tokens"))
    raise ValueError(f"unknown corpus source {source['source']!r}")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.Parser(
        prog=PROG, description=__doc__.splitlines()[0],
        epilog="The flags from --preset on are the world model's config fields; each overrides "
               "the preset, whose values are in brackets.", formatter_class=cli.HelpFormatter)
    add_env_arguments(parser, DEFAULT_ENV)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--text", default=None, help="plain-text file to pretrain on")
    data.add_argument("--manuals", action="store_true",
                      help="pretrain on the env's own generated manuals")
    parser.add_argument("--corpus-tokens", type=cli.positive_int, default=None,
                        help=f"tokens to generate with --manuals (default "
                             f"{DEFAULT_CORPUS_TOKENS}); with --text, read at most this many")
    parser.add_argument("--updates", type=cli.positive_int, default=10_000,
                        help="train until this many")
    parser.add_argument("--logdir", default="runs/pretrain", help="metrics and checkpoints")
    parser.add_argument("--eval-every", type=cli.positive_int, default=1_000, help="updates")
    parser.add_argument("--eval-sequences", type=cli.positive_int, default=256,
                        help="held-out sequences per evaluation, at most")
    parser.add_argument("--checkpoint-every", type=cli.positive_int, default=10_000, help="updates")
    parser.add_argument("--log-every", type=cli.positive_int, default=100, help="updates")
    parser.add_argument("--resume", action="store_true", help="continue from LOGDIR's checkpoint")
    parser.add_argument("--no-tensorboard", action="store_true", help="JSONL metrics only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    config_lib.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from agent.train import configs

    args = parse(argv)
    logdir = Path(args.logdir)
    if not args.resume:
        if checkpoint.exists(logdir):
            cli.fail(PROG, f"{logdir} already holds a run: add --resume to continue it, or "
                           f"choose another --logdir")
        if not (args.text or args.manuals):
            cli.fail(PROG, "give the corpus: --text FILE or --manuals")
        args.env = args.env or DEFAULT_ENV
    try:
        cfg, env_cfg = configs(args, recipe=False)  # the recipes are for RL, not text
        if args.text or args.manuals:
            source = ({"source": "text", "path": str(Path(args.text).expanduser().resolve()),
                       "corpus_tokens": args.corpus_tokens} if args.text else
                      {"source": "manuals", "corpus_tokens": args.corpus_tokens
                       or DEFAULT_CORPUS_TOKENS})
        else:  # --resume without a corpus flag: the checkpoint's own corpus
            saved = checkpoint.load(logdir).get("pretrain")
            if saved is None:
                raise ValueError(f"{checkpoint.path_of(logdir)} is not a text-pretraining "
                                 f"checkpoint")
            source = {k: saved[k] for k in ("source", "path", "corpus_tokens") if k in saved}
        tokens = build_corpus(source, env_cfg, cfg.seed)
        pretrain(cfg, env_cfg, tokens, args.updates, logdir, source=source,
                 eval_every=args.eval_every, checkpoint_every=args.checkpoint_every,
                 log_every=args.log_every, eval_sequences=args.eval_sequences,
                 resume=args.resume, tensorboard=not args.no_tensorboard,
                 progress=not args.no_progress)
    except cli.USER_ERRORS as error:  # CorpusError is a ValueError
        cli.fail(PROG, str(error))


if __name__ == "__main__":
    main()
