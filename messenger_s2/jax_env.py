"""Messenger's JAX twin as Gymnasium envs: ``gym.make("messenger_s2:jax/Messenger-S2-v0")`` and
``gym.make_vec(..., num_envs=N)``.  Needs JAX (``pip install -e ".[jax]"``).

The arguments are those of :class:`messenger_s2.env.MessengerEnv` (``stage``, ``split``,
``texts``, ``image_size``, ``p_multi``); the rules are in ``jax_engine.py``.  Differences from
the numpy envs: random draws come from JAX keys (the same seed gives other episodes than the
numpy env's, from the same distribution), ``info`` holds only ``success`` and ``timeout_loss``
(no sentences, roles or event strings), the vector env returns JAX arrays, and ``render()``
gives the board at the observation's size without captions.  ``pixels=False`` leaves ``image``
out of the observations (the agents read ``grid``; drawing is most of a step's cost).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langstream.checks import check_bool, check_render_mode, reject_unknown_kwargs
from langstream.jax_env import FuncJaxEnv, FuncJaxVectorEnv
from messenger_s2.entities import ACTIONS
from messenger_s2.env import MessengerEnv, build_game
from messenger_s2.jax_engine import MessengerFuncEnv
from messenger_s2.jax_tables import Tables
from messenger_s2.texts import TextSource


def func_env(stage: int | str = 2, split: str = "train", *,
             texts: str | Path | TextSource | None = None, image_size: int = 64,
             p_multi: float = 0.75, pixels: bool = True) -> MessengerFuncEnv:
    """The functional env for :class:`~messenger_s2.env.MessengerEnv`'s arguments (checked
    the same way); ``pixels=False`` leaves ``image`` out of the observations."""
    game = build_game(stage, split, texts, image_size, p_multi)
    tables = Tables.build(game.stage, game.texts, game.split, game.p_multi, game.board)
    return MessengerFuncEnv(tables, len(game.texts.vocab), check_bool("pixels", pixels))


class MessengerJaxEnv(FuncJaxEnv):
    """One Messenger episode stepped by the JAX twin (see the module docstring)."""

    # No "jax" key: this env returns numpy arrays, as the numpy env does.
    metadata = {"render_modes": ["rgb_array"], "render_fps": 4,
                "paper_image_key": MessengerEnv.metadata["paper_image_key"]}

    def __init__(self, stage: int | str = 2, split: str = "train", *,
                 texts: str | Path | TextSource | None = None, render_mode: str | None = None,
                 image_size: int = 64, p_multi: float = 0.75, pixels: bool = True,
                 **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        env = func_env(stage, split, texts=texts, image_size=image_size, p_multi=p_multi,
                       pixels=pixels)
        super().__init__(env, ACTIONS, render_mode)
        self.tables = env.tables
        self.stage, self.split = env.tables.stage, env.tables.split


class MessengerJaxVectorEnv(FuncJaxVectorEnv):
    """``num_envs`` Messenger episodes on the device, stepped in one jitted call."""

    metadata = {**FuncJaxVectorEnv.metadata, "render_modes": [],
                "paper_image_key": MessengerEnv.metadata["paper_image_key"], "jax": True}

    def __init__(self, num_envs: int = 1, stage: int | str = 2, split: str = "train", *,
                 texts: str | Path | TextSource | None = None, image_size: int = 64,
                 p_multi: float = 0.75, pixels: bool = True, render_mode: str | None = None,
                 **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the JAX vector env, got "
                             f"{render_mode!r}; render single envs instead")
        env = func_env(stage, split, texts=texts, image_size=image_size, p_multi=p_multi,
                       pixels=pixels)
        super().__init__(env, ACTIONS, num_envs)
        self.tables = env.tables
