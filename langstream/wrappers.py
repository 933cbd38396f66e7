"""Wrappers over the language channel, for ablations: what does an agent do without the words?

:class:`HideLanguage` (one env) and :class:`HideLanguageVector` (a vector env) replace every
``token`` by ``<pad>`` (id 0, silence) and leave everything else as it was: the read steps
still come, frozen and silent, so an episode has the same length, timing and rewards as with
language; only what is said is gone.  ``info`` keeps its ground truth (``text``, Messenger's
``manual``) for people and analysis; agents read observations only.

    env = HideLanguage(gym.make("Messenger-S1-v0"))
    envs = HideLanguageVector(gym.make_vec("Messenger-S1-v0", num_envs=16))
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorObservationWrapper

from langstream.vocab import PAD_ID

__all__ = ["HideLanguage", "HideLanguageVector", "silence"]


def silence(obs: dict[str, Any]) -> dict[str, Any]:
    """``obs`` with its ``token`` (a scalar or one per env) replaced by pad, and its
    ``sentence`` (if any) by zeros; a new dict."""
    if not isinstance(obs, dict) or "token" not in obs:
        raise ValueError("hiding language needs observations with a 'token' key (the "
                         "language-observation contract)")
    token = obs["token"]
    hidden = np.full_like(token, PAD_ID) if np.ndim(token) else type(token)(PAD_ID)
    out = {**obs, "token": hidden}
    if "sentence" in obs:  # langstream.context's bag of the sentence: silent too
        out["sentence"] = np.zeros_like(obs["sentence"])
    return out


def _check_contract(space: gym.Space) -> None:
    if not isinstance(space, gym.spaces.Dict) or "token" not in space.spaces:
        raise ValueError(f"hiding language needs a Dict observation space with a 'token' key, "
                         f"got {space}")


class HideLanguage(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """One env whose agent hears only silence: every ``token`` is ``<pad>`` (0)."""

    def __init__(self, env: gym.Env):
        _check_contract(env.observation_space)
        gym.utils.RecordConstructorArgs.__init__(self)  # lets env.spec re-make the wrapped env
        gym.ObservationWrapper.__init__(self, env)

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        return silence(observation)


class HideLanguageVector(VectorObservationWrapper):
    """A vector env whose agents hear only silence: every ``token`` is ``<pad>`` (0)."""

    def __init__(self, env: VectorEnv):
        _check_contract(env.single_observation_space)
        super().__init__(env)

    def observations(self, observations: dict[str, Any]) -> dict[str, Any]:
        return silence(observations)
