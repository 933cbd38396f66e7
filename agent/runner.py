"""What every agent's trainer shares, in two layers: :class:`Learning` (the learner's state, its
updates on one or more devices, step counters, checkpoints that resume; text pretraining is one
too) and :class:`Trainer` over it (the envs, acting, the owed-update loop).

An agent lives in a package ``agent/<name>/``, named in ``agent/registry.py``, that exports

* ``Config``: a frozen dataclass of its hyperparameters over :class:`agent.config_flags.AgentConfig`
  (one docstring per field, ``num_envs`` among them), its ``presets`` and
  ``Config.preset(name, **overrides)``;
* ``Trainer``: a subclass of :class:`Trainer` below that names its learner module and says what
  it keeps of each step and when and how it updates;
* ``policy(cfg, spec) -> Policy``: the pure acting function, which ``agent.eval`` uses.

``docs/agent-contract.md`` is the whole contract, with a worked example.  ``python -m
agent.train --agent NAME`` runs any agent with the same loop, logging, checkpoints and
``--resume``.  Data flows one way: :class:`EnvConfig` makes the envs, the trainer acts on their
observations (``agent.envs`` layout), stores what its learner needs, and updates.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, ClassVar, NamedTuple

import jax
import numpy as np
from gymnasium.vector import VectorEnv

from agent import checkpoint
from agent.devices import DataParallel
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
    sentence_context: bool = False
    """add ``sentence``, each token's utterance as a bag of words (the stand-in for T5 vectors)."""
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """the env's own arguments, passed to ``gym.make_vec`` (e.g. ``{"split": "val"}``)."""

    def with_kwargs(self, **changes: Any) -> "EnvConfig":
        """This config with some env arguments added or replaced (e.g. evaluation on another
        split than training)."""
        return dataclasses.replace(self, kwargs={**self.kwargs, **changes})

    def adapter(self, num_envs: int, seed: int, env: VectorEnv | None = None) -> EnvAdapter:
        """``num_envs`` envs made from the id, or the given vector ``env``, seen as the agent
        sees them."""
        pad: int | str = self.pad_to
        if pad not in ("auto", "none"):
            pad = int(pad)
        return EnvAdapter(self.id if env is None else env, num_envs, image_key=self.image_key,
                          pad_grid_to=None if pad == "none" else pad, seed=seed,
                          hide_language=self.hide_language,
                          sentence_context=self.sentence_context,
                          **({"vector": self.vector, **self.kwargs} if env is None else {}))


class Policy(NamedTuple):
    """An agent's acting, as pure functions (jit them; ``agent.eval`` also vmaps ``step``).

    ``initial(params, n)`` is the recurrent state of ``n`` envs before their first step.
    ``step(params, obs, carry, key, greedy)`` takes the observation batch (``image``,
    ``token``, ``is_first``; ``reward`` too, which the baselines feed back) and returns
    ``(action, carry, aux)``: int actions of shape (n,), the next carry (reset internally where
    ``is_first``), and a dict of extra per-row outputs (``next_token_probs`` for Dynalang, the
    behaviour ``logits`` for IMPALA, ``{}`` when the agent has none).  ``greedy`` (a bool
    scalar) picks the most likely action.
    """

    initial: Callable[[Params, int], Carry]
    step: Callable[..., tuple[Any, Carry, dict[str, Any]]]


POLICY_INPUTS = ("image", "token", "reward", "is_first")
"""the observation keys a :class:`Policy` step reads."""
OPTIONAL_POLICY_INPUTS = ("sentence",)
"""keys it also reads where the envs give them (``EnvConfig.sentence_context``)."""


def policy_inputs(obs: Obs) -> Obs:
    """The observation keys a :class:`Policy` step reads, taken from ``obs``."""
    required = {key: obs[key] for key in POLICY_INPUTS}
    return required | {key: obs[key] for key in OPTIONAL_POLICY_INPUTS if key in obs}


class Learning:
    """A learner's state, its updates on one or more devices, step counters, and checkpoints
    that resume exactly: what an agent's :class:`Trainer` and text pretraining
    (:mod:`agent.pretrain`) share.

    Builds ``self.state`` (the learner's train state, ``params`` among its fields) and
    ``self.update`` (the jitted update) from :attr:`learner` for the spaces of an env (``spec``).
    A checkpoint holds the counters, ``state`` and ``key``; large buffers such as a replay are
    written beside it, into a folder of their own per checkpoint, by :meth:`save_files` /
    :meth:`load_files`.
    """

    name: ClassVar[str]
    #: the agent's learner module: build, init_train_state, make_update, policy
    learner: ModuleType
    #: the config field that sets the size of a batch's leading axis (every agent's batch is
    #: batch-major), which :meth:`use_devices` splits across devices
    batch_field: ClassVar[str] = "batch_size"

    def __init__(self, cfg: Any, env: EnvConfig, spec: Spec, logdir: str | Path):
        self.cfg, self.env_cfg, self.spec, self.logdir = cfg, env, spec, Path(logdir)
        self.env_steps = self.real_steps = self.updates = 0
        self.update_credit = 0.0  # updates owed, for agents that learn at a train ratio
        #: the run's own settings (steps, intervals, checkpoints kept), saved for --resume
        self.run_settings: dict[str, Any] = {}
        self.parallel: DataParallel | None = None
        self.key, k_init = jax.random.split(jax.random.PRNGKey(cfg.seed))
        self.state = self.learner.init_train_state(cfg, spec, k_init)
        self.update: Callable[..., Any] = self.make_update()

    def make_update(self) -> Callable[..., Any]:
        """The jitted update (the learner's; text pretraining: the world model's alone)."""
        return self.learner.make_update(self.cfg, self.spec)

    def use_devices(self, n: int) -> None:
        """Learn on ``n`` devices from now on: the state replicated, each batch split along
        its leading axis (:mod:`agent.devices`); 1 is the single-device learner."""
        rows = getattr(self.cfg, self.batch_field) if n > 1 else 1
        if rows % n:
            field = self.batch_field.replace("_", "-")
            raise ValueError(f"--devices {n}: a batch of {rows} rows (--{field}) does not split "
                             f"across {n} devices; choose a --{field} that divides by {n}")
        self.parallel = DataParallel(n) if n > 1 else None
        if self.parallel:
            self.state = self.parallel.replicate(self.state)

    def learn(self, batch: dict[str, Any]) -> Any:
        """``self.update(self.state, batch)``, on the devices of :meth:`use_devices`."""
        if self.parallel:
            self.state = self.parallel.replicate(self.state)  # a no-op unless it was replaced
            batch = self.parallel.split(batch)
        return self.update(self.state, batch)

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
    @property
    def checkpoint_step(self) -> int:
        """What numbers the checkpoints (env steps; text pretraining: updates)."""
        return self.env_steps

    def checkpoint_extras(self) -> dict[str, Any]:
        """Entries of the checkpoint besides the common ones (text pretraining: its corpus)."""
        return {}

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
        step = self.checkpoint_step
        buffers = self.logdir / f"buffers-{step:012d}"
        buffers.mkdir(exist_ok=True)
        self.save_files(buffers)
        digests = {f.name: checkpoint.file_digest(f) for f in sorted(buffers.iterdir())}
        checkpoint.save(self.logdir, {
            "agent": self.name, "config": self.cfg, "spec": self.spec,
            "env": dataclasses.asdict(self.env_cfg), "run": self.run_settings,
            "counters": self.counters(), "buffers": buffers.name, "buffer_digests": digests,
            **self.agent_state(), **self.checkpoint_extras()}, step=step,
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
        self.resumed(blob)

    def resumed(self, blob: dict[str, Any]) -> None:
        """Called at the end of :meth:`load`, with the checkpoint it loaded."""




class Trainer(Learning):
    """An agent learning in an env: construction, acting and the owed-update loop, over
    :class:`Learning`'s state, devices and checkpoints.

    An agent's trainer names its learner module (:attr:`learner`, the contract of
    ``docs/agent-contract.md``) and says only what differs between agents: what it keeps of each
    step (:meth:`remember`, into a replay or a rollout), how many updates it owes
    (:meth:`updates_owed`) and what one update does (:meth:`update_once`).  The base makes the
    envs, builds the jitted acting step from the learner, acts with it (:meth:`act`) and runs
    the owed updates (:meth:`train`).
    """

    #: the entries of the policy's ``aux`` that :meth:`remember` receives (others are not
    #: computed at all: XLA drops outputs nobody reads)
    aux_kept: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: Any, env: EnvConfig, logdir: str | Path):
        self.env = env.adapter(cfg.num_envs, cfg.seed)
        super().__init__(cfg, env, self.env.spec, logdir)
        self.initial = self.learner.policy(cfg, self.spec).initial
        self._act = acting_step(self.learner, cfg, self.spec, self.aux_kept)
        self.setup()
        self.start_episodes()

    def setup(self) -> None:
        """Make what the agent keeps between updates (its replay or rollout), before the first
        episodes start."""

    # ------------------------------------------------------------------ acting
    def start_episodes(self) -> None:
        """Reset the envs and every env's recurrent state."""
        self.obs: Obs = self.env.reset()
        self.carry: Carry = self.initial(self.state.params, self.cfg.num_envs)
        self.episodes_started()

    def episodes_started(self) -> None:
        """Called after :meth:`start_episodes` (also on resuming): episodes in progress were
        dropped."""

    def act(self) -> None:
        """One step of every env with the current policy: the jitted policy step, then
        :meth:`remember`, then the envs step, then :meth:`stepped`."""
        inputs = policy_inputs(self.obs) | self.policy_extras()
        carry = self.carry
        action, self.carry, aux, self.key = self._act(self.state.params, inputs, carry,
                                                      self.key)
        action = np.asarray(action).astype(np.int32)
        self.remember(carry, action, aux)
        self.step_envs(action)
        self.stepped()

    def policy_extras(self) -> dict[str, Any]:
        """Policy inputs besides :data:`POLICY_INPUTS` (R2D2: each env's epsilon)."""
        return {}

    def remember(self, carry: Carry, action: np.ndarray, aux: dict[str, Any]) -> None:
        """Keep what the learner needs of this step: ``self.obs`` (not yet stepped), the carry
        the policy started from, the actions taken and the policy's :attr:`aux_kept`."""

    def stepped(self) -> None:
        """Called after the envs stepped (``self.obs`` is the new observation)."""

    def step_envs(self, action: np.ndarray) -> None:
        """Send ``action`` to the envs and count the step (read steps apart)."""
        self.real_steps += int((~self.obs["is_read_step"]).sum())
        self.obs = self.env.step(action)
        self.env_steps += self.cfg.num_envs

    # ------------------------------------------------------------------ learning
    def train(self) -> dict[str, Any]:
        """The updates owed so far; the metrics of the last one (device arrays, fetched only
        when logged), or {} if none ran."""
        metrics = None
        for _ in range(self.updates_owed()):
            metrics = self.update_once()
            self.update_credit -= 1
            self.updates += 1
        return metrics or {}

    def updates_owed(self) -> int:
        """How many updates are due now (an agent that never learns owes none)."""
        return 0

    def update_once(self) -> dict[str, Any]:
        """One update (e.g. ``self.state, metrics = self.learn(batch)``); its metrics."""
        raise NotImplementedError(f"{type(self).__name__} owes updates but cannot run one")

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

    def resumed(self, blob: dict[str, Any]) -> None:
        # New episodes, seeded apart from the first run's (the envs' own state is not saved).
        self.env.close()
        self.env = self.env_cfg.adapter(self.cfg.num_envs, self.cfg.seed + self.env_steps)
        self.start_episodes()


@functools.lru_cache(maxsize=16)
def acting_step(learner: ModuleType, cfg: Any, spec: Spec, keep: tuple[str, ...]) -> Callable:
    """A trainer's acting, jitted once per model and kept (a second trainer of the same model
    in one process compiles nothing): ``(params, obs, carry, key) -> (action, carry, aux,
    key)``, one sampled action per env, the key split inside (one dispatch a step), and of the
    policy's ``aux`` only ``keep``."""
    step = learner.policy(cfg, spec).step

    def act(params: Params, obs: Obs, carry: Carry, key: jax.Array) -> tuple:
        key, k = jax.random.split(key)
        action, carry, aux = step(params, obs, carry, k, False)
        return action, carry, {name: aux[name] for name in keep}, key

    return jax.jit(act)


def config_differences(a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """(field, a's value, b's value) for every field where two dataclasses differ."""
    if type(a) is not type(b):
        return [("config type", type(a).__qualname__, type(b).__qualname__)]
    return [(f.name, getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
            if getattr(a, f.name) != getattr(b, f.name)]


def parameter_count(params: Params) -> int:
    return sum(int(np.size(x)) for x in jax.tree.leaves(params))


