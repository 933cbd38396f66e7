"""Gymnasium registration of the Messenger ids (each with a natively batched vector entry point)."""

from __future__ import annotations

import gymnasium as gym

#: id -> stage
ENV_IDS: dict[str, int] = {"Messenger-S1-v0": 1, "Messenger-S2-v0": 2, "Messenger-S3-v0": 3}


def register_envs() -> None:
    """Register every id (idempotent)."""
    for env_id, stage in ENV_IDS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="messenger_s2.env:MessengerEnv",
            vector_entry_point="messenger_s2.vector:MessengerVectorEnv",
            kwargs={"stage": stage},
        )
