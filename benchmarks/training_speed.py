"""Training speed of every agent on one machine: env steps/s and updates/s of the whole loop.

    python benchmarks/training_speed.py                                  # all agents, tiny
    python benchmarks/training_speed.py --preset small --env HomeGrid-Task-v0 --seconds 120
    python benchmarks/training_speed.py --agents impala --jitted-impala     # + the jitted IMPALA

Each agent's trainer (the same object ``python -m agent.train --agent NAME`` runs) acts and
learns exactly as in training: Dynalang and R2D2 at their train ratio, IMPALA once per rollout.
It first runs until ``--warmup-updates`` updates are done (so compilation and replay filling are
excluded), then for ``--seconds`` of wall time.  Agents run one after another in this process,
so they share the machine's conditions.  Prints a markdown table and appends the record to
``benchmarks/results/training_speed_<device>.json``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.registry import AGENTS, agent_package  # noqa: E402
from agent.runner import EnvConfig, parameter_count  # noqa: E402
from benchmarks.agent_speed import RESULTS, device_name  # noqa: E402
from langstream.cli import Parser, positive_float, positive_int  # noqa: E402


def measure(name: str, env: EnvConfig, preset: str, seconds: float, warmup_updates: int,
            overrides: dict) -> dict:
    """The loop speed of agent ``name`` after ``warmup_updates`` updates."""
    package = agent_package(name)
    cfg = package.Config.preset(preset, **overrides)
    with tempfile.TemporaryDirectory() as logdir:
        trainer = package.Trainer(cfg, env, logdir)
        try:
            start = time.perf_counter()
            while trainer.updates < warmup_updates:
                trainer.act()
                trainer.train()
            jax.block_until_ready(trainer.state)
            warmup = time.perf_counter() - start
            steps, updates, start = trainer.env_steps, trainer.updates, time.perf_counter()
            while time.perf_counter() - start < seconds:
                trainer.act()
                trainer.train()
            jax.block_until_ready(trainer.state)
            elapsed = time.perf_counter() - start
        finally:
            trainer.env.close()
    return {"agent": name, "preset": preset, "parameters": parameter_count(trainer.params),
            "num_envs": cfg.num_envs, "warmup_s": warmup, "seconds": elapsed,
            "env_steps_per_s": (trainer.env_steps - steps) / elapsed,
            "updates_per_s": (trainer.updates - updates) / elapsed,
            "config": {k: v for k, v in vars(cfg).items()}}


def measure_jitted_impala(env: EnvConfig, preset: str, seconds: float, warmup_updates: int,
                          overrides: dict) -> dict:
    """The same for the jitted IMPALA (``agent.impala.jitted``: the env's JAX twin, each
    update's rollout and learning one compiled call), one seed."""
    from agent.impala import jitted
    from agent.impala.config import Config

    cfg = Config.preset(preset, **overrides)
    p = jitted.prepare(cfg, env.id, (0,))
    runner, updates = p.runner, 0
    start = time.perf_counter()
    while updates < warmup_updates:
        runner, _ = p.update(runner)
        updates += 1
    jax.block_until_ready(runner)
    warmup, timed, start = time.perf_counter() - start, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        runner, _ = p.update(runner)
        timed += 1
    jax.block_until_ready(runner)
    elapsed = time.perf_counter() - start
    params = jax.tree.map(lambda x: x[0], runner.train.params)
    return {"agent": "impala (jitted)", "preset": preset, "parameters": parameter_count(params),
            "num_envs": cfg.num_envs, "warmup_s": warmup, "seconds": elapsed,
            "env_steps_per_s": timed * p.steps_per_update / elapsed,
            "updates_per_s": timed / elapsed, "config": {k: v for k, v in vars(cfg).items()}}


def pace(cfg: dict) -> str:
    """How often the agent learns, in words."""
    if "train_ratio" in cfg:
        return f"train ratio {cfg['train_ratio']:g}"
    return f"every {cfg['unroll_length']}-step rollout"


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    parser.add_argument("--env", default="Messenger-S1-v0")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--num-envs", type=positive_int, default=8, help="envs stepped together")
    parser.add_argument("--seconds", type=positive_float, default=60.0,
                        help="timed wall time per agent")
    parser.add_argument("--warmup-updates", type=positive_int, default=3,
                        help="updates before timing starts (compilation excluded)")
    parser.add_argument("--jitted-impala", action="store_true",
                        help="add the jitted IMPALA on the env's JAX twin (agent.impala.jitted)")
    parser.add_argument("--note", default="", help="recorded with the figures (machine load...)")
    parser.add_argument("--out", default=None, help="JSON file (default: results/...)")
    args = parser.parse_args()
    device, env = device_name(), EnvConfig(args.env)
    print(f"device: {device}; jax {jax.__version__}; env {args.env} x {args.num_envs}; "
          f"preset {args.preset}", flush=True)
    rows = []
    for name in args.agents:
        rows.append(measure(name, env, args.preset, args.seconds, args.warmup_updates,
                            {"num_envs": args.num_envs}))
        print(f"  {name}: {rows[-1]['env_steps_per_s']:.1f} env steps/s", flush=True)
    if args.jitted_impala:
        rows.append(measure_jitted_impala(env, args.preset, args.seconds, args.warmup_updates,
                                          {"num_envs": args.num_envs}))
        ratio = rows[-1]["env_steps_per_s"] / next(
            (r["env_steps_per_s"] for r in rows if r["agent"] == "impala"), float("nan"))
        print(f"  impala (jitted): {rows[-1]['env_steps_per_s']:.1f} env steps/s, "
              f"{ratio:.2f}x the Python-loop IMPALA measured above", flush=True)
    print("\n| agent | preset | parameters | envs | learns | env steps/s | updates/s |\n"
          "|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['agent']} | {row['preset']} | {row['parameters'] / 1e6:.2f}M | "
              f"{row['num_envs']} | {pace(row['config'])} | {row['env_steps_per_s']:,.0f} | "
              f"{row['updates_per_s']:.2f} |")
    tag = "cpu" if jax.devices()[0].platform == "cpu" else jax.devices()[0].device_kind
    out = Path(args.out) if args.out else RESULTS / (
        "training_speed_" + "".join(c if c.isalnum() else "_" for c in tag.lower()) + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"device": device, "jax": jax.__version__, "env": args.env, "note": args.note,
              "rows": rows}
    previous = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps(previous + [record], indent=1, default=str) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
