"""Gymnasium registration of the HomeGrid ids (each with a natively batched vector entry point)."""

from __future__ import annotations

from langstream.registry import register_ids

#: id -> hint kinds on top of the task instruction
ENV_IDS: dict[str, tuple[str, ...]] = {
    "HomeGrid-v0": ("future", "dynamics", "corrections"),
    "HomeGrid-Task-v0": (),
    "HomeGrid-Future-v0": ("future",),
    "HomeGrid-Dynamics-v0": ("dynamics",),
    "HomeGrid-Corrections-v0": ("corrections",),
}


def register_envs() -> None:
    """Register every id (idempotent)."""
    register_ids({env_id: {"hints": hints} for env_id, hints in ENV_IDS.items()},
                 "homegrid.env:HomeGridEnv", "homegrid.vector:HomeGridVectorEnv")
