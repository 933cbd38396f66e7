"""HomeGrid's JAX twin as Gymnasium envs: ``gym.make("homegrid:jax/HomeGrid-Task-v0")`` and
``gym.make_vec(..., num_envs=N)``.  Needs JAX (``pip install -e ".[jax]"``).

The arguments are those of :class:`homegrid.env.HomeGridEnv` (checked the same way) plus
``pixels``; the rules are in ``jax_engine.py``.  Differences from the numpy envs: random draws
come from JAX keys (the same seed gives other episodes, from the same distribution), ``info``
holds only ``success`` and ``timeout_loss`` (always false: HomeGrid's step limit costs
nothing), the vector env returns JAX arrays, and ``render()`` gives the agent's view without
the map or captions.  ``pixels=False`` leaves ``image`` out of the observations.
"""

from __future__ import annotations

from typing import Any, Iterable

from homegrid.env import HomeGridEnv, build_games
from homegrid.jax_engine import HomeGridFuncEnv, Settings
from homegrid.language import HINT_KINDS
from homegrid.world import ACTIONS
from langstream.checks import check_bool, check_render_mode, reject_unknown_kwargs
from langstream.jax_env import FuncJaxEnv, FuncJaxVectorEnv


def func_env(hints: Iterable[str] = HINT_KINDS, *, image_size: int = 64, max_steps: int = 100,
             preread_max: int = 28, repeat_task_every: int = 20, p_language: float = 0.2,
             p_teleport: float = 0.05, pixels: bool = True) -> HomeGridFuncEnv:
    """The functional env for :class:`~homegrid.env.HomeGridEnv`'s arguments."""
    (game,) = build_games(1, hints, image_size, max_steps, preread_max, repeat_task_every,
                          p_language, p_teleport)  # checks every argument as the env does
    narrator = game.narrator
    cfg = Settings.of(narrator.hints, max_steps=game.max_steps,
                      preread_max=narrator.preread_max,
                      repeat_task_every=narrator.repeat_task_every,
                      p_language=narrator.p_language, p_teleport=game.world.p_teleport)
    return HomeGridFuncEnv(cfg, len(narrator.vocab), game.renderer.image_size,
                           check_bool("pixels", pixels))


class HomeGridJaxEnv(FuncJaxEnv):
    """One HomeGrid episode stepped by the JAX twin (see the module docstring)."""

    # No "jax" key: this env returns numpy arrays, as the numpy env does.
    metadata = {"render_modes": ["rgb_array"], "render_fps": HomeGridEnv.metadata["render_fps"]}

    def __init__(self, hints: Iterable[str] = HINT_KINDS, *, render_mode: str | None = None,
                 image_size: int = 64, max_steps: int = 100, preread_max: int = 28,
                 repeat_task_every: int = 20, p_language: float = 0.2,
                 p_teleport: float = 0.05, pixels: bool = True, **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        env = func_env(hints, image_size=image_size, max_steps=max_steps,
                       preread_max=preread_max, repeat_task_every=repeat_task_every,
                       p_language=p_language, p_teleport=p_teleport, pixels=pixels)
        super().__init__(env, ACTIONS, render_mode)


class HomeGridJaxVectorEnv(FuncJaxVectorEnv):
    """``num_envs`` HomeGrid episodes on the device, stepped in one jitted call."""

    metadata = {**FuncJaxVectorEnv.metadata, "render_modes": [], "jax": True}

    def __init__(self, num_envs: int = 1, hints: Iterable[str] = HINT_KINDS, *,
                 image_size: int = 64, max_steps: int = 100, preread_max: int = 28,
                 repeat_task_every: int = 20, p_language: float = 0.2,
                 p_teleport: float = 0.05, pixels: bool = True,
                 render_mode: str | None = None, **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        if render_mode is not None:
            raise ValueError(f"render_mode must be None for the JAX vector env, got "
                             f"{render_mode!r}; render single envs instead")
        env = func_env(hints, image_size=image_size, max_steps=max_steps,
                       preread_max=preread_max, repeat_task_every=repeat_task_every,
                       p_language=p_language, p_teleport=p_teleport, pixels=pixels)
        super().__init__(env, ACTIONS, num_envs)
