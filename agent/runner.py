"""What every agent's trainer shares: the envs, the step counters, and checkpoints that resume.

An agent lives in a package ``agent/<name>/``, named in ``agent/registry.py``, that exports

* ``Config``: a frozen dataclass of its hyperparameters (one docstring per field, with
  ``num_envs`` and ``seed`` among them) and ``Config.preset(name, **overrides)`` over ``PRESETS``;
* ``Trainer``: a subclass of :class:`Trainer` below (acting, learning, its own saved state);
* ``policy(cfg, spec) -> Policy``: the pure acting function, which ``agent.eval`` uses.

``python -m agent.train --agent NAME`` runs any of them with the same loop, logging, checkpoints
and ``--resume``.  Data flows one way: :class:`EnvConfig` makes the envs, the trainer acts on
their observations (``agent.envs`` layout), stores what its learner needs, and updates.
"""

from __future__ import annotations

import abc
import dataclasses
from pathlib import Path
from typing import Any, Callable, ClassVar, NamedTuple

import jax
import numpy as np
from gymnasium.vector import VectorEnv

from agent import checkpoint
from agent.devices import Axes, DataParallel
from agent.envs import EnvAdapter, Spec

Params = Any
Carry = Any
Obs = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """How the training envs are made (saved in the checkpoint, so eval makes the same)."""

    id: str = "HomeGrid-Task-v0"
    """Gymnasium env id (project ids need no import; others as "module:Id")."""
    image_key: str = "auto"
    """observation the agent sees: "image", "grid", or "auto" (the paper's: grid on Messenger)."""
    pad_to: str = "auto"
    """pad the image to this side ("auto": next power of two, as Dynalang pads Messenger)."""
    vector: str = "auto"
    """how the envs are batched: "auto" (the env's own vector entry point), "sync", "async"."""
    hide_language: bool = False
    """replace every token by <pad>: the agent hears nothing (an ablation)."""
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """the env's own arguments, passed to ``gym.make_vec`` (e.g. ``{"split": "val"}``)."""

    def with_kwargs(self, **changes: Any) -> "EnvConfig":
        """This config with some env arguments added or replaced (e.g. evaluation on another
        split than training)."""
        return dataclasses.replace(self, kwargs={**self.kwargs, **changes})

    def adapter(self, num_envs: int, seed: int, env: VectorEnv | None = None) -> EnvAdapter:
        """``num_envs`` envs made from the id, or the given vector ``env``, seen as the agent
        sees them."""
        pad: int | str | None = self.pad_to
        if pad not in ("auto", "none"):
            pad = int(pad)
        return EnvAdapter(self.id if env is None else env, num_envs, image_key=self.image_key,
                          pad_grid_to=None if pad == "none" else pad, seed=seed,
                          hide_language=self.hide_language,
                          **({"vector": self.vector, **self.kwargs} if env is None else {}))


class Policy(NamedTuple):
    """An agent's acting, as pure functions (jit them; ``agent.eval`` also vmaps ``step``).

    ``initial(params, n)`` is the recurrent state of ``n`` envs before their first step.
    ``step(params, obs, carry, key, greedy)`` takes the observation batch (``image``,
    ``token``, ``is_first``; ``reward`` too, which the baselines feed back) and returns
    ``(action, carry, aux)``: int actions of shape (n,), the next carry (reset internally where
    ``is_first``), and a dict of extra per-row outputs (``next_token_probs`` for Dynalang,
    ``{}`` when the agent has none).  ``greedy`` (a bool scalar) picks the most likely action.
    """

    initial: Callable[[Params, int], Carry]
    step: Callable[..., tuple[Any, Carry, dict[str, Any]]]


POLICY_INPUTS = ("image", "token", "reward", "is_first")
"""the observation keys a :class:`Policy` step reads."""


class Trainer(abc.ABC):
    """Env stepping and step counters, and checkpoints that resume exactly.

    Subclasses set :attr:`name`, build their networks and learner in ``__init__`` (after calling
    this one) with ``self.state`` (a NamedTuple of device arrays with ``params`` among its
    fields: everything the learner updates) and ``self.key`` (the acting RNG), and implement
    :meth:`start_episodes`, :meth:`act` (one step of every env: choose actions, remember what
    the learner needs, then :meth:`step_envs`) and :meth:`train` (the updates owed).  A
    checkpoint holds the counters, ``state`` and ``key``; large buffers such as a replay are
    written beside it, into a folder of their own per checkpoint, by :meth:`save_files` /
    :meth:`load_files`.
    """

    name: ClassVar[str]
    #: how each batch splits across devices (see :meth:`use_devices`): the batch axis of every
    #: array, or per top-level key
    batch_axes: ClassVar[Axes] = 0
    #: the config field that sets the size of that axis
    batch_field: ClassVar[str] = "batch_size"

    def __init__(self, cfg: Any, env: EnvConfig, logdir: str | Path):
        self.cfg, self.env_cfg, self.logdir = cfg, env, Path(logdir)
        self.env = env.adapter(cfg.num_envs, cfg.seed)
        self.spec: Spec = self.env.spec
        self.env_steps = self.real_steps = self.updates = 0
        self.update_credit = 0.0  # updates owed, for agents that learn at a train ratio
        self.obs: Obs = {}
        self.state: Any = None
        self.key: jax.Array | None = None
        #: the run's own settings (steps, intervals, checkpoints kept), saved for --resume
        self.run_settings: dict[str, Any] = {}
        self.update: Callable[..., Any] | None = None  # the jitted update (state, batch) -> ...
        self.parallel: DataParallel | None = None

    # ------------------------------------------------------------------ acting
    @abc.abstractmethod
    def start_episodes(self) -> None:
        """Reset the envs (``self.obs = self.env.reset()``) and the agent's recurrent state."""

    @abc.abstractmethod
    def act(self) -> None:
        """One step of every env with the current policy."""

    def step_envs(self, action: np.ndarray) -> None:
        """Send ``action`` to the envs and count the step (read steps apart)."""
        self.real_steps += int((~self.obs["is_read_step"]).sum())
        self.obs = self.env.step(action)
        self.env_steps += self.cfg.num_envs

    @abc.abstractmethod
    def train(self) -> dict[str, Any]:
        """The updates owed so far; the metrics of the last one (device arrays, fetched only
        when logged), or {} if none ran."""

    def use_devices(self, n: int) -> None:
        """Learn on ``n`` devices from now on: the state replicated, each batch split along
        :attr:`batch_axes` (:mod:`agent.devices`); 1 is the single-device learner."""
        rows = getattr(self.cfg, self.batch_field)
        if n > 1 and rows % n:
            field = self.batch_field.replace("_", "-")
            raise ValueError(f"--devices {n}: a batch of {rows} rows (--{field}) does not split "
                             f"across {n} devices; choose a --{field} that divides by {n}")
        self.parallel = DataParallel(n) if n > 1 else None
        if self.parallel:
            self.state = self.parallel.replicate(self.state)

    def learn(self, batch: dict[str, Any]) -> Any:
        """``self.update(self.state, batch)``, on the devices of :meth:`use_devices`."""
        assert self.update is not None, "the trainer sets self.update in __init__"
        if self.parallel:
            self.state = self.parallel.replicate(self.state)  # a no-op unless it was replaced
            batch = self.parallel.split(batch, self.batch_axes)
        return self.update(self.state, batch)

    def owe_updates(self, replayed_per_update: int, ready: bool) -> int:
        """Add one env step's worth of updates at ``cfg.train_ratio`` replayed steps per env
        step (the reference's train ratio) and return how many whole updates are owed now;
        while the replay is not ``ready`` at most one is kept owing (no debt piles up)."""
        cfg = self.cfg
        self.update_credit += cfg.num_envs * cfg.train_ratio / replayed_per_update
        if not ready:
            self.update_credit = min(self.update_credit, 1.0)
            return 0
        return int(self.update_credit)

    @property
    def params(self) -> Params:
        """The parameters that act (counted and reported at start)."""
        return self.state.params

    @staticmethod
    def params_of(blob: dict[str, Any]) -> Params:
        """The acting parameters in a loaded checkpoint (what ``agent.eval`` needs)."""
        return blob["state"].params

    def describe(self) -> str:
        """A line on the trainer's memory (replay size, ...), printed at start."""
        return ""

    # ------------------------------------------------------------------ checkpoints
    def agent_state(self) -> dict[str, Any]:
        """What resuming needs besides counters and config: the learner's state and RNG."""
        return {"state": self.state, "key": self.key}

    def load_agent_state(self, blob: dict[str, Any]) -> None:
        """Restore :meth:`agent_state` from a loaded checkpoint."""
        self.state = jax.device_put(blob["state"])
        self.key = jax.device_put(blob["key"])

    def save_files(self, directory: Path) -> None:
        """Write large buffers (a replay) into ``directory``, before the checkpoint is written."""

    def load_files(self, directory: Path) -> None:
        """Read what :meth:`save_files` wrote into ``directory``."""

    def counters(self) -> dict[str, Any]:
        return {"env_steps": self.env_steps, "real_steps": self.real_steps,
                "updates": self.updates, "update_credit": self.update_credit}

    def load_counters(self, counters: dict[str, Any]) -> None:
        self.env_steps, self.real_steps = counters["env_steps"], counters["real_steps"]
        self.updates = counters["updates"]
        self.update_credit = counters.get("update_credit", 0.0)

    def save(self) -> None:
        """Buffers into a new folder, then the checkpoint that names it with their checksums
        (written atomically), then all but the newest ``keep_checkpoints`` checkpoints and
        their folders are removed: a run killed at any moment resumes from a checkpoint and
        the buffers of that same moment."""
        self.logdir.mkdir(parents=True, exist_ok=True)
        buffers = self.logdir / f"buffers-{self.env_steps:012d}"
        buffers.mkdir(exist_ok=True)
        self.save_files(buffers)
        digests = {f.name: checkpoint.file_digest(f) for f in sorted(buffers.iterdir())}
        checkpoint.save(self.logdir, {
            "agent": self.name, "config": self.cfg, "spec": self.spec,
            "env": dataclasses.asdict(self.env_cfg), "run": self.run_settings,
            "counters": self.counters(), "buffers": buffers.name, "buffer_digests": digests,
            **self.agent_state()}, step=self.env_steps,
            keep=self.run_settings.get("keep_checkpoints", checkpoint.KEEP))

    def load(self, blob: dict[str, Any] | None = None) -> None:
        """Continue from the run's newest intact checkpoint (a damaged one is named and set
        aside), or from ``blob``, that checkpoint loaded already; refuses one of another agent
        or configuration."""
        if blob is None:
            blob = checkpoint.load(self.logdir, verify_buffers=True, set_aside_damaged=True)
        where = checkpoint.path_of(self.logdir)
        if blob.get("agent") != self.name:
            raise ValueError(f"the checkpoint at {where} is a {blob.get('agent')!r} run, not "
                             f"{self.name!r}")
        differences = [f"{name}: checkpoint {old!r}, this run {new!r}"
                       for name, old, new in (config_differences(blob["config"], self.cfg)
                                              + config_differences(EnvConfig(**blob["env"]),
                                                                   self.env_cfg))]
        if blob["spec"] != self.spec:
            differences.append(f"env spec: checkpoint {blob['spec']}, this run {self.spec}")
        if differences:
            raise ValueError(f"the checkpoint at {where} comes from a different configuration,"
                             f" so it cannot be resumed; differences: " + "; ".join(differences))
        self.load_agent_state(blob)
        self.load_counters(blob["counters"])
        self.load_files(self.logdir / blob.get("buffers", ""))
        # New episodes, seeded apart from the first run's (the envs' own state is not saved).
        self.env.close()
        self.env = self.env_cfg.adapter(self.cfg.num_envs, self.cfg.seed + self.env_steps)
        self.start_episodes()


def config_differences(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """(field, a's value, b's value) for every field where two dataclasses differ."""
    if type(a) is not type(b):
        return [("config type", type(a).__qualname__, type(b).__qualname__)]
    return [(f.name, getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
            if getattr(a, f.name) != getattr(b, f.name)]


def parameter_count(params: Params) -> int:
    return sum(int(np.size(x)) for x in jax.tree.leaves(params))


