"""Gymnasium registration shared by the suites: each id with a natively batched entry point.

An id fixes some arguments (Messenger's ``stage``, HomeGrid's ``hints``).  Gymnasium merges the
keyword arguments of ``make`` over the registered ones, so ``gym.make("Messenger-S2-v0",
stage=3)`` would build S3 under the S2 id.  Each id therefore gets its own entry points, which
refuse such contradictions before building the env.  They live as attributes of the suite's
registration module, so the registered entry points stay strings (``EnvSpec.to_json`` cannot
save callables).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

#: maps (argument name, value) to a canonical value, e.g. ``"S2"`` and ``2`` to the same stage
Canonical = Callable[[str, Any], Any]

#: every id registered through :func:`register_ids`, with its suite's registration module
PROJECT_IDS: dict[str, str] = {}


class IdEntryPoint:
    """What Gymnasium calls to build one id (single or vector env): it refuses arguments that
    contradict the id's registered ones, then calls ``target`` (a ``"module:attr"`` string).

    Args:
        env_id: the id.
        target: the env class (or vector env class) as an entry point string.
        ids: every id of the suite with its registered arguments, to suggest the right one.
        canonical: how to compare values: equal canonical values do not contradict.
    """

    def __init__(self, env_id: str, target: str, ids: dict[str, dict[str, Any]],
                 canonical: Canonical):
        self.env_id, self.target, self.ids, self.canonical = env_id, target, ids, canonical

    @property
    def metadata(self) -> dict[str, Any]:
        """The target's metadata: ``gym.make`` reads it to check ``render_mode``."""
        return getattr(load_env_creator(self.target), "metadata")  # an env class's metadata

    def __call__(self, **kwargs: Any) -> Any:
        check_fixed_args(self.env_id, kwargs, self.ids, self.canonical, self.target)
        return load_env_creator(self.target)(**kwargs)


def check_fixed_args(env_id: str, kwargs: dict[str, Any], ids: dict[str, dict[str, Any]],
                     canonical: Canonical, target: str) -> None:
    """Raise a one-line ValueError if ``kwargs`` give an argument that ``env_id`` fixes another
    value, naming the id that has the asked-for value (or the class to call directly)."""
    fixed = ids[env_id]
    for name, value in fixed.items():
        if name in kwargs and canonical(name, kwargs[name]) != canonical(name, value):
            asked = {**fixed, name: kwargs[name]}
            match = [other for other, args in ids.items()
                     if all(canonical(k, args[k]) == canonical(k, v) for k, v in asked.items())]
            instead = (f"use the id {match[0]!r} instead" if match else
                       f"no id has that: build {target.replace(':', '.')}"
                       f"({name}={kwargs[name]!r}) directly")
            raise ValueError(f"{env_id} fixes {name}={value!r}, got {name}={kwargs[name]!r}; "
                             f"{instead}")


def register_ids(module: str, ids: dict[str, dict[str, Any]], entry_point: str,
                 vector_entry_point: str, canonical: Canonical, listed: bool = True) -> None:
    """Register every id with its keyword arguments (idempotent).  ``listed`` ids join
    :data:`PROJECT_IDS`, which the contract tests and speed benchmarks run over; the JAX twins
    are not listed (their info and vector outputs differ by design, and their own tests hold
    them to the numpy engines).

    The checked entry points become attributes of ``module`` (the suite's registration module,
    already imported), named after the id: ``HomeGrid-v0`` -> ``HomeGrid_v0`` and
    ``HomeGrid_v0_vector`` (``jax/HomeGrid-v0`` -> ``jax_HomeGrid_v0``).
    """
    namespace = sys.modules[module]
    for env_id, kwargs in ids.items():
        name = env_id.replace("-", "_").replace("/", "_")
        setattr(namespace, name, IdEntryPoint(env_id, entry_point, ids, canonical))
        setattr(namespace, f"{name}_vector",
                IdEntryPoint(env_id, vector_entry_point, ids, canonical))
        if listed:
            PROJECT_IDS[env_id] = module
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=f"{module}:{name}",
                         vector_entry_point=f"{module}:{name}_vector", kwargs=kwargs)
