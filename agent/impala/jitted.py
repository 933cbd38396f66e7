"""IMPALA trained end to end in compiled code on an env's JAX twin (purejaxrl style).

The same agent as ``agent.train --agent impala`` (the torso, V-trace loss and optimiser of
:mod:`agent.impala.learner`, the same rollout layout), but the envs are the twin's ``FuncEnv``
and each update (acting, env steps with next-step autoreset, the V-trace step) is one jitted
function, a ``lax.scan`` over the rollout's steps (vmapped over seeds with ``--vmap-seeds``).
Read top to bottom:

1. :func:`agent_view` turns the twin's observation into what the agent reads through
   ``agent.envs.EnvAdapter``: the env's image key (Messenger: ``grid``), zero-padded to the
   spec's shape, and the token.
2. :func:`make_rollout` builds the rollout (``lax.scan`` of ``unroll_length`` acting steps:
   policy, env step, the adapter's ``is_first`` / ``is_terminal`` bookkeeping) and
   :func:`make_update` ``update(runner) -> (runner, metrics)``: a rollout and one V-trace
   update on it.
3. :func:`train` calls it until the budget is spent, logging env steps/s as it goes, then
   evaluates every seed's parameters with ``agent.eval.evaluate`` on the numpy env (the
   leaderboard's fixed-seed episodes), so scores compare with ``agent.train`` runs.

Why the updates are a Python loop and not a ``lax.scan`` too, as purejaxrl has it: on a CPU,
XLA ran the same update 7.5 times slower inside a while loop (even one of one iteration) than
alone (1.16 s against 0.155 s at 64 envs x 20 steps, ``tiny``), while a call costs well under a
millisecond.

Run ``python -m agent.impala.jitted --env Messenger-S1-v0 --preset tiny --steps 1000000
--seeds 0 1 --json out.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from typing import Any, Callable, NamedTuple, Sequence

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from agent import eval as agent_eval
from agent.cli import NON_NEGATIVE, Parser, fail, number, positive_int
from agent.config_flags import add_arguments, from_args
from agent.envs import Spec
from agent.impala import learner
from agent.impala.config import Config
from agent.runner import EnvConfig
from agent.torso import Carry
from langstream.jax_env import autoreset_step


# ------------------------------------------------------------------ 1. what the agent reads
def agent_view(obs: dict[str, jax.Array], image_key: str, spec: Spec) -> dict[str, jax.Array]:
    """The twin's observation as ``EnvAdapter`` hands it to an agent: ``image`` (the
    ``image_key`` array zero-padded at the bottom and right to the spec's shape) and ``token``."""
    image = obs[image_key].astype(jnp.uint8)
    height, width, _ = spec.image_shape
    pad = [(0, 0)] * (image.ndim - 3) + [(0, height - image.shape[-3]),
                                         (0, width - image.shape[-2]), (0, 0)]
    return {"image": jnp.pad(image, pad), "token": obs["token"].astype(jnp.int32)}


# ------------------------------------------------------------------ 2. one compiled update
class Runner(NamedTuple):
    """Everything a seed carries from one update to the next."""

    train: learner.TrainState
    env: Any  # the twin's batched state
    carry: Carry  # the LSTM state and last action
    row: dict[str, jax.Array]  # the current observation row (image, token, reward, flags)
    episode_return: jax.Array  # (N,) return so far of each row's episode
    key: jax.Array


def make_env_step(func_env: Any, image_key: str, spec: Spec) -> Callable:
    """``env_step(env_state, actions, key) -> (env_state, row)``: the twin stepped with
    next-step autoreset, and the row as ``EnvAdapter.step`` reports it (``reward`` 0 and
    ``is_first`` on a new episode's first row; ``is_terminal`` where the episode ended, or hit
    a time limit the env scores as a loss)."""

    def env_step(state: Any, actions: jax.Array, key: jax.Array
                 ) -> tuple[Any, dict[str, jax.Array]]:
        first = state.terminated | state.truncated  # these rows start a new episode
        state = autoreset_step(func_env, state, actions, key)
        info = jax.vmap(lambda s: func_env.transition_info(None, None, s))(state)
        terminal = state.terminated | (state.truncated & info.get("timeout_loss", False))
        obs = jax.vmap(lambda s: func_env.observation(s, None))(state)
        row = {**agent_view(obs, image_key, spec), "reward": state.reward,
               "is_first": first, "is_terminal": terminal}
        return state, row

    return env_step


def first_row(func_env: Any, state: Any, image_key: str, spec: Spec) -> dict[str, jax.Array]:
    """The rows of freshly started episodes (as ``EnvAdapter.reset`` gives them)."""
    obs = jax.vmap(lambda s: func_env.observation(s, None))(state)
    n = state.reward.shape[0]
    return {**agent_view(obs, image_key, spec), "reward": jnp.zeros(n, jnp.float32),
            "is_first": jnp.ones(n, bool), "is_terminal": jnp.zeros(n, bool)}


def make_rollout(cfg: Config, spec: Spec, func_env: Any, image_key: str
                 ) -> Callable[[Any, Runner], tuple[Runner, learner.Batch, dict[str, Any]]]:
    """``rollout(params, runner) -> (runner, batch, stats)``: ``unroll_length`` acting steps
    of every env, as the learner's batch-major rollout (:mod:`agent.impala.learner`'s layout:
    T + 1 observation rows, the last one bootstrapping, and the LSTM state before row 0);
    ``stats``: ``episodes`` ended in it and ``return_sum`` of their returns."""
    policy = learner.policy(cfg, spec)
    length = cfg.unroll_length
    env_step = make_env_step(func_env, image_key, spec)

    def act(params: Any, r: Runner, key: jax.Array) -> tuple[Runner, dict[str, jax.Array]]:
        k_act, k_env = jax.random.split(key)
        action, carry, aux = policy.step(params, r.row, r.carry, k_act)
        record = {**r.row, "prev_action": r.carry.action, "action": action,
                  "logits": aux["logits"]}
        env, row = env_step(r.env, action, k_env)
        ret = jnp.where(row["is_first"], 0.0, r.episode_return + row["reward"])
        last = env.terminated | env.truncated
        record["ended"], record["ended_return"] = last, jnp.where(last, ret, 0.0)
        return r._replace(env=env, carry=carry, row=row, episode_return=ret), record

    def rollout(params: Any, r: Runner) -> tuple[Runner, learner.Batch, dict[str, Any]]:
        key, k_roll = jax.random.split(r.key)
        state = r.carry.lstm
        r, records = jax.lax.scan(lambda r, k: act(params, r, k), r,
                                  jax.random.split(k_roll, length))
        # Time-major records -> batch-major rows, with the bootstrap row after the last.
        rows = {k: jnp.concatenate([records[k], r.row[k][None]]) for k in r.row}
        rows["prev_action"] = jnp.concatenate([records["prev_action"], r.carry.action[None]])
        batch: learner.Batch = {k: jnp.swapaxes(v, 0, 1) for k, v in rows.items()}
        batch.update(action=jnp.swapaxes(records["action"], 0, 1),
                     logits=jnp.swapaxes(records["logits"], 0, 1), state=state)
        stats = {"episodes": records["ended"].sum(), "return_sum": records["ended_return"].sum()}
        return r._replace(key=key), batch, stats

    return rollout


def make_update(cfg: Config, spec: Spec, func_env: Any, image_key: str
                ) -> Callable[[Runner], tuple[Runner, dict[str, Any]]]:
    """``update(runner) -> (runner, metrics)``: one rollout and one V-trace update on it, of one
    seed (vmap it over seeds); metrics: the learner's and the rollout's ``stats``."""
    net = learner.build(cfg, spec)
    opt = learner.optimizer(cfg)
    rollout = make_rollout(cfg, spec, func_env, image_key)

    def update(r: Runner) -> tuple[Runner, dict[str, jax.Array]]:
        r, batch, stats = rollout(r.train.params, r)
        train, metrics = learner.gradient_step(net, opt, cfg, r.train, batch)
        return r._replace(train=train), {**metrics, **stats}

    return update


def init_runner(cfg: Config, spec: Spec, func_env: Any, image_key: str, key: jax.Array
                ) -> Runner:
    """A seed's fresh parameters, optimiser, envs and LSTM state."""
    k_params, k_env, key = jax.random.split(key, 3)
    n = cfg.num_envs
    net = learner.build(cfg, spec)
    params = learner.init_params(net, spec, k_params)
    train = learner.TrainState(params, learner.optimizer(cfg).init(params))
    env = jax.vmap(func_env.initial)(jax.random.split(k_env, n))
    carry = learner.policy(cfg, spec).initial(params, n)
    return Runner(train, env, carry, first_row(func_env, env, image_key, spec),
                  jnp.zeros(n, jnp.float32), key)


# ------------------------------------------------------------------ 3. training and evaluation
@dataclasses.dataclass(frozen=True)
class Run:
    """What :func:`train` is asked to do."""

    env: str = "Messenger-S1-v0"
    """env id; its JAX twin ``jax/<id>`` is trained on, the numpy env evaluated on."""
    steps: int = 1_000_000
    """env steps per seed, read steps included."""
    seeds: tuple[int, ...] = (0,)
    """seeds to train."""
    vmap_seeds: bool = False
    """train the seeds side by side in one vmapped update (on a CPU slower than one after
    another: vmapped convolutions with one kernel per seed become grouped ones)."""
    log_every: int = 20_000
    """env steps per seed between points of the training curve."""
    eval_episodes: int = 200
    """fixed-seed evaluation episodes per seed on the numpy env (``agent.eval``)."""
    eval_splits: tuple[str, ...] = ()
    """other game splits (env argument ``split``) to evaluate on as well, e.g. Messenger's
    ``test``, whose games no agent trained on: only an agent that reads scores there."""


class Prepared(NamedTuple):
    """A compiled-to-be update for a group of seeds, and their fresh runner."""

    spec: Spec
    env_config: EnvConfig
    update: Callable[[Runner], tuple[Runner, dict[str, Any]]]
    runner: Runner
    steps_per_update: int  # per seed


def prepare(cfg: Config, env_id: str, seeds: Sequence[int]) -> Prepared:
    """The jitted update of ``seeds`` (vmapped over them; it donates the runner) on the twin
    of ``env_id``, and their initial runner."""
    spec, env, update, init = _compiled(cfg, env_id)
    runner = init(jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
    return Prepared(spec, env, update, runner, cfg.num_envs * cfg.unroll_length)


@functools.lru_cache(maxsize=4)
def _compiled(cfg: Config, env_id: str) -> tuple[Spec, EnvConfig, Callable, Callable]:
    # Cached so that seeds trained one after another compile the update once.
    env = EnvConfig(env_id)
    adapter = env.adapter(1, 0)
    spec, image_key = adapter.spec, adapter.image_key
    adapter.close()
    func_env = gym.make(f"jax/{env_id}",
                        pixels=image_key == "image").unwrapped.func_env  # type: ignore[attr-defined]
    update = jax.jit(jax.vmap(make_update(cfg, spec, func_env, image_key)), donate_argnums=0)
    init = jax.jit(jax.vmap(lambda k: init_runner(cfg, spec, func_env, image_key, k)))
    return spec, env, update, init


def train(cfg: Config, run: Run, progress: bool = True) -> dict[str, Any]:
    """Train ``run.seeds`` on the twin of ``run.env`` and evaluate each; a JSON-ready dict of
    the settings, the training curve (per seed, the mean return of the episodes that ended
    between points), env steps/s after compiling, and the evaluation."""
    groups = [run.seeds] if run.vmap_seeds else [(seed,) for seed in run.seeds]
    curves: list[list[dict[str, Any]]] = []
    evaluations, compile_s, train_s, env_steps, timed_steps = [], 0.0, 0.0, 0, 0
    for group in groups:
        p = prepare(cfg, run.env, group)
        updates = max(1, run.steps // p.steps_per_update)
        log_updates = max(1, run.log_every // p.steps_per_update)
        start = time.perf_counter()
        runner, metrics = p.update(p.runner)  # compiles
        jax.block_until_ready(metrics)
        compiled = time.perf_counter()
        curve: list[dict[str, Any]] = []
        window: list[dict[str, Any]] = [metrics]
        bar = tqdm(total=updates * p.steps_per_update, unit="step",
                   desc=f"impala (jitted), seeds {list(group)}", disable=not progress,
                   file=sys.stderr)
        for done in range(2, updates + 1):
            runner, metrics = p.update(runner)
            window.append(metrics)
            if done % log_updates == 0 or done == updates:
                curve.append(_curve_point(window, done * p.steps_per_update,
                                          time.perf_counter() - start))
                bar.update(len(window) * p.steps_per_update)
                bar.set_postfix(ret=f"{np.mean(curve[-1]['train_return']):.2f}")
                window = []
        jax.block_until_ready(runner)
        bar.close()
        compile_s += compiled - start
        train_s += time.perf_counter() - compiled
        env_steps = updates * p.steps_per_update
        timed_steps += len(group) * (updates - 1) * p.steps_per_update  # all but the compiling
        curves.append(curve)
        for i, seed in enumerate(group):
            agent = agent_eval.Agent(
                name="impala", cfg=cfg, spec=p.spec, env=p.env_config,
                params=jax.tree.map(lambda x: x[i], runner.train.params), env_steps=env_steps,
                step=agent_eval.make_step("impala", cfg, p.spec),
                initial=learner.policy(cfg, p.spec).initial)
            result = agent_eval.evaluate(agent, run.eval_episodes)
            scores = {"seed": seed, "mean_return": result["mean_return"],
                      "success_rate": result["success_rate"]}
            for split in run.eval_splits:
                other = agent_eval.evaluate(agent, run.eval_episodes, env_kwargs={"split": split})
                scores[f"mean_return_{split}"] = other["mean_return"]
                scores[f"success_rate_{split}"] = other["success_rate"]
            evaluations.append(scores)
    rate = timed_steps / max(train_s, 1e-9)
    # One curve, its per-seed lists in the order of run.seeds.
    merged = [{**points[0], **{key: [v for q in points for v in q[key]] for key in
                               ("train_return", "episodes", "policy_entropy")}}
              for points in zip(*curves)]
    return {"run": dataclasses.asdict(run), "config": dataclasses.asdict(cfg),
            "env_steps_per_seed": env_steps, "compile_s": round(compile_s, 1),
            "train_s": round(train_s, 1), "env_steps_per_s": round(rate),
            "device": jax.devices()[0].device_kind, "curve": merged, "evaluation": evaluations}


def _curve_point(window: list[dict[str, Any]], env_steps: int, seconds: float
                 ) -> dict[str, Any]:
    """Per seed: the mean return of the episodes that ended since the last point."""
    episodes = sum(np.asarray(m["episodes"]) for m in window)
    returns = sum(np.asarray(m["return_sum"]) for m in window)
    return {"env_steps": env_steps, "seconds": round(seconds, 1),
            "train_return": (returns / np.maximum(episodes, 1)).round(4).tolist(),
            "episodes": np.asarray(episodes).tolist(),
            "policy_entropy": np.asarray(window[-1]["policy_entropy"]).round(4).tolist()}


PROG = "python -m agent.impala.jitted"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=Run.env, help="env id whose JAX twin trains")
    parser.add_argument("--steps", type=positive_int, default=Run.steps,
                        help="env steps per seed, read steps included")
    parser.add_argument("--seeds", type=number(int, NON_NEGATIVE), nargs="+", default=[0],
                        help="seeds")
    parser.add_argument("--vmap-seeds", action="store_true",
                        help="train the seeds side by side in one vmapped update")
    parser.add_argument("--log-every", type=positive_int, default=Run.log_every,
                        help="env steps per seed between points of the training curve")
    parser.add_argument("--eval-episodes", type=positive_int, default=Run.eval_episodes,
                        help="evaluation episodes per seed")
    parser.add_argument("--eval-splits", nargs="+", default=[],
                        help="other game splits to evaluate on as well (e.g. test)")
    parser.add_argument("--json", default=None, help="write the result to this file")
    add_arguments(parser, Config)  # --preset and one flag per config field
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    if args.seed is not None:
        fail(PROG, "--seed is not used here: give the seeds to train with --seeds")
    cfg = from_args(args, Config)
    run = Run(args.env, args.steps, tuple(args.seeds), args.vmap_seeds, args.log_every,
              args.eval_episodes, tuple(args.eval_splits))
    result = train(cfg, run)
    print(f"{result['env_steps_per_s']:,.0f} env steps/s after compiling "
          f"({result['compile_s']:.0f} s to compile)")
    for e in result["evaluation"]:
        others = "".join(f", {k[len('mean_return_'):]} games {v:.2f}" for k, v in e.items()
                         if k.startswith("mean_return_"))
        print(f"seed {e['seed']}: training games {e['mean_return']:.2f}{others}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
