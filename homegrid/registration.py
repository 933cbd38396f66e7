"""Gymnasium registration of the HomeGrid ids (each with a natively batched vector entry point).

Each id fixes the hint kinds: ``gym.make("HomeGrid-Task-v0", hints=("future",))`` is refused
with a pointer to ``HomeGrid-Future-v0`` (see :mod:`langstream.registry`).
"""

from __future__ import annotations

from typing import Any

from homegrid.env import check_hints
from langstream.registry import register_ids

#: id -> hint kinds on top of the task instruction
ENV_IDS: dict[str, tuple[str, ...]] = {
    "HomeGrid-v0": ("future", "dynamics", "corrections"),
    "HomeGrid-Task-v0": (),
    "HomeGrid-Future-v0": ("future",),
    "HomeGrid-Dynamics-v0": ("dynamics",),
    "HomeGrid-Corrections-v0": ("corrections",),
}


def _canonical(name: str, value: Any) -> Any:
    """Hints in any order or container (and with or without "task") are the same hints."""
    return check_hints(value) if name == "hints" else value


def register_envs() -> None:
    """Register every id (idempotent), and each one's JAX twin as ``jax/<id>`` (``jax_env.py``;
    building one needs JAX)."""
    register_ids(__name__, {env_id: {"hints": hints} for env_id, hints in ENV_IDS.items()},
                 "homegrid.env:HomeGridEnv", "homegrid.vector:HomeGridVectorEnv", _canonical)
    register_ids(__name__, {f"jax/{env_id}": {"hints": hints}
                            for env_id, hints in ENV_IDS.items()},
                 "homegrid.jax_env:HomeGridJaxEnv", "homegrid.jax_env:HomeGridJaxVectorEnv",
                 _canonical, listed=False)
