"""Gymnasium registration of the Messenger ids (each with a natively batched vector entry point).

Each id fixes the stage: ``gym.make("Messenger-S2-v0", stage=3)`` is refused with a pointer to
``Messenger-S3-v0`` (see :mod:`langstream.registry`).
"""

from __future__ import annotations

from typing import Any

from langstream.registry import register_ids
from messenger_s2.stages import get_stage

#: id -> stage
ENV_IDS: dict[str, int] = {"Messenger-S1-v0": 1, "Messenger-S2-v0": 2, "Messenger-S3-v0": 3}
#: the JAX twins' ids (``jax_env.py``; building one needs JAX) -> stage
JAX_ENV_IDS: dict[str, int] = {f"jax/{env_id}": stage for env_id, stage in ENV_IDS.items()}


def _canonical(name: str, value: Any) -> Any:
    """``2``, ``"S2"`` and ``"s2"`` are the same stage."""
    return get_stage(value).name if name == "stage" else value


def register_envs() -> None:
    """Register every id (idempotent)."""
    register_ids(__name__, {env_id: {"stage": stage} for env_id, stage in ENV_IDS.items()},
                 "messenger_s2.env:MessengerEnv", "messenger_s2.vector:MessengerVectorEnv",
                 _canonical)
    register_ids(__name__, {env_id: {"stage": stage} for env_id, stage in JAX_ENV_IDS.items()},
                 "messenger_s2.jax_env:MessengerJaxEnv",
                 "messenger_s2.jax_env:MessengerJaxVectorEnv", _canonical, listed=False)
