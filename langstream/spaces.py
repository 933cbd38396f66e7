"""Observation spaces of the language-observation contract (the README's "Observation contract")."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def language_observation_space(
    image_shape: tuple[int, int, int], vocab_size: int, **extra: spaces.Space
) -> spaces.Dict:
    """``image`` (uint8 pixels), ``token`` (Discrete(vocab_size), 0 = pad), ``is_read_step``.

    ``extra`` adds suite-specific keys (Messenger's ``grid``).
    """
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2 (pad and unk), got {vocab_size}")
    return spaces.Dict(
        {
            "image": spaces.Box(0, 255, image_shape, np.uint8),
            "token": spaces.Discrete(vocab_size),
            "is_read_step": spaces.Discrete(2),
            **extra,
        }
    )
