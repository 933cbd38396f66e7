"""Gymnasium registration of the Messenger ids (each with a natively batched vector entry point)."""

from __future__ import annotations

from langstream.registry import register_ids

#: id -> stage
ENV_IDS: dict[str, int] = {"Messenger-S1-v0": 1, "Messenger-S2-v0": 2, "Messenger-S3-v0": 3}


def register_envs() -> None:
    """Register every id (idempotent)."""
    register_ids({env_id: {"stage": stage} for env_id, stage in ENV_IDS.items()},
                 "messenger_s2.env:MessengerEnv", "messenger_s2.vector:MessengerVectorEnv")
