"""Sentence context: beside each streamed word, the words of the sentence it belongs to.

Dynalang's Messenger agent did not read bare word ids.  Its env ran T5's encoder over each
manual sentence and then streamed the encoder's vector for each token, one per step, so every
step carried its word *in the context of the whole sentence*, later words included.  This
project uses no T5 (no pretrained weights offline); the sentence context is its stand-in: an
observation ``sentence``, the multi-hot bag of words (over the env's vocabulary) of the
utterance the current token belongs to, and all zeros on silent steps.  Like the T5 vectors it
lets a model see a whole sentence at each of its words; unlike them it carries no word order,
which the project's manuals do not need (each word names one entity, role or movement).

The utterance comes from ``info["text"]``, which every env of the project fills with the
utterance streaming now (the observation contract).  ``token`` is left as it was.

    env = SentenceContext(gym.make("Messenger-S1-v0"))
    envs = SentenceContextVector(gym.make_vec("Messenger-S1-v0", num_envs=16))
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from langstream.vocab import PAD_ID, Vocab

__all__ = ["SentenceBags", "SentenceContext", "SentenceContextVector", "sentence_space"]


def sentence_space(vocab_size: int) -> gym.spaces.Box:
    """The ``sentence`` observation: one 0/1 entry per vocabulary word."""
    return gym.spaces.Box(0, 1, (vocab_size,), np.uint8)


#: utterances whose bags a SentenceBags keeps (Messenger's grammar has some 220,000 training
#: sentences; an episode's few are looked up about ten times each)
CACHE_SIZE = 4096


class SentenceBags:
    """Multi-hot bags of words of utterances, the latest ``CACHE_SIZE`` kept by text."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab
        self._cache: dict[str, np.ndarray] = {}

    def bag(self, text: str) -> np.ndarray:
        """The bag of ``text``'s words, (V,) uint8; the pad id's entry stays 0."""
        out = self._cache.get(text)
        if out is None:
            out = np.zeros(len(self.vocab), np.uint8)
            out[self.vocab.encode(text)] = 1
            out[PAD_ID] = 0
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[text] = out
        return out

    def batch(self, texts: Sequence[str], tokens: np.ndarray) -> np.ndarray:
        """(n, V) bags: row ``i`` is ``texts[i]``'s bag where ``tokens[i]`` is a word, zeros
        where it is silence."""
        tokens = np.asarray(tokens).reshape(-1)
        out = np.zeros((len(tokens), len(self.vocab)), np.uint8)
        for i in np.flatnonzero(tokens != PAD_ID).tolist():
            out[i] = self.bag(str(texts[i]))
        return out


def _vocab_of(env: Any) -> Vocab:
    vocab = getattr(env.unwrapped, "vocab", None)
    if vocab is None and isinstance(env, VectorEnv) and hasattr(env, "get_attr"):
        try:  # Gymnasium's sync and async vector envs: ask the sub-envs
            vocab = env.get_attr("vocab")[0]
        except AttributeError:
            vocab = None
    if not isinstance(vocab, Vocab):
        raise ValueError("sentence context needs an env with a `vocab` (langstream.vocab.Vocab) "
                         "and info['text']: the numpy HomeGrid and Messenger envs, not their "
                         "JAX twins or other envs")
    return vocab


def _with_sentence(space: gym.Space, vocab_size: int) -> gym.spaces.Dict:
    if not isinstance(space, gym.spaces.Dict) or "token" not in space.spaces:
        raise ValueError(f"sentence context needs a Dict observation space with a 'token' key, "
                         f"got {space}")
    if not isinstance(space["token"], gym.spaces.Discrete):
        raise ValueError(f"observation 'token' must be Discrete(V) (0 = pad), got "
                         f"{space['token']}")
    if space["token"].n != vocab_size:
        raise ValueError(f"the env's vocab has {vocab_size} words but its 'token' space is "
                         f"{space['token']}")
    return gym.spaces.Dict({**space.spaces, "sentence": sentence_space(vocab_size)})


class SentenceContext(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """One env whose observations gain ``sentence``: the bag of words of the utterance that
    the current token belongs to (zeros on silence)."""

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        self.bags = SentenceBags(_vocab_of(env))
        self.observation_space = _with_sentence(env.observation_space, len(self.bags.vocab))

    def _add(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        bag = self.bags.batch([info.get("text", "")], np.asarray(obs["token"]))[0]
        return {**obs, "sentence": bag}

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        return self._add(obs, info), info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._add(obs, info), reward, terminated, truncated, info


class SentenceContextVector(VectorWrapper):
    """A vector env whose observations gain ``sentence``, (num_envs, V): see
    :class:`SentenceContext`."""

    def __init__(self, env: VectorEnv):
        super().__init__(env)
        self.bags = SentenceBags(_vocab_of(env))
        single = _with_sentence(env.single_observation_space, len(self.bags.vocab))
        self.single_observation_space = single
        self.observation_space = gym.vector.utils.batch_space(single, env.num_envs)

    def _add(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        n = self.num_envs
        texts = info.get("text")
        if texts is None:
            texts = [""] * n
        else:
            # Gymnasium's batched infos mark the rows that carry a value with ``_text``.
            has = np.asarray(info.get("_text", np.ones(n, bool)), bool)
            texts = [str(t) if h else "" for t, h in zip(texts, has)]
        return {**obs, "sentence": self.bags.batch(texts, np.asarray(obs["token"]))}

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        return self._add(obs, info), info

    def step(self, actions: Any):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        return self._add(obs, info), reward, terminated, truncated, info
