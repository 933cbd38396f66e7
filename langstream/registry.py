"""Gymnasium registration shared by the suites: each id with a natively batched entry point."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def register_ids(ids: dict[str, dict[str, Any]], entry_point: str,
                 vector_entry_point: str) -> None:
    """Register every id with its keyword arguments (idempotent)."""
    for env_id, kwargs in ids.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point,
                         vector_entry_point=vector_entry_point, kwargs=kwargs)
