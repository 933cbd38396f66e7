"""The agents ``agent.train``, ``agent.eval`` and the benchmarks know, by name.

Each name maps to a package that exports ``Config`` (its hyperparameters and presets),
``Trainer`` (a subclass of :class:`agent.runner.Trainer`) and ``policy(cfg, spec)`` (its acting,
for evaluation); see :mod:`agent.runner`.  A new agent is one more line here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: agent name -> the package that defines its Config, Trainer and policy
AGENTS = {"dynalang": "agent.dynalang", "impala": "agent.impala", "r2d2": "agent.r2d2"}


def agent_package(name: str) -> ModuleType:
    """The package of agent ``name`` (imported on first use: each pulls in its own learner)."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; agents: {', '.join(AGENTS)}")
    return importlib.import_module(AGENTS[name])
