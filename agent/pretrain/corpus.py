"""Text pretraining's data: a corpus in the env's vocabulary, its held-out tail, and the
sampler of training sequences (see :mod:`agent.pretrain`)."""

from __future__ import annotations

import array
import dataclasses
import hashlib
import math
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np

from agent.envs import EnvAdapter, registered_spec
from agent.runner import EnvConfig

HELDOUT_FRACTION = 0.05
UNK_WARN_RATE = 0.5
DEFAULT_CORPUS_TOKENS = 200_000
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
        out: list[int] = []
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
