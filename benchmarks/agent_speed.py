"""Dynalang training speed: the jitted update and the whole training loop, optionally beside an
older version of the code measured in the same run.

    python benchmarks/agent_speed.py --env Messenger-S1-v0 --presets tiny --against 4abed66
    python benchmarks/agent_speed.py --env HomeGrid-Task-v0 --image-key grid --presets tiny
    python benchmarks/agent_speed.py --presets small xl --bf16      # on a GPU
    python benchmarks/agent_speed.py --presets tiny tiny,deter=512  # a preset with fields changed

Per preset and code version:

* **update**: one jitted update (world model, imagination from every replayed state, actor,
  critic) on ``batch_size x batch_length`` replayed steps, compile time excluded: ms per
  update, µs per replayed step, updates/s;
* **GFLOP/s**: the update's floating-point work divided by its time.  The work is XLA's cost
  analysis of the same update with every scan unrolled (XLA counts a loop body once, however
  often it runs) at a short batch length, per replayed step, since all of the update's work
  grows with the number of replayed steps;
* **loop**: ``agent.dynalang.Trainer`` stepping ``--num-envs`` envs and updating at
  ``--train-ratio`` replayed steps per env step, after the replay holds a sequence per env:
  env steps/s and updates/s over ``--loop-seconds`` of wall time.

``--against REV`` extracts the repository at git revision REV into a temporary directory and
measures its ``agent`` package with the same settings, each version in a fresh process one
after the other, then prints the ratios.  Results go to
``benchmarks/results/agent_speed_<device>.json`` (appended) with the device, versions and
every setting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from langstream.cli import Parser
except ImportError:  # the code of another revision (--against) or the reference's venv
    Parser = argparse.ArgumentParser  # type: ignore[misc,assignment]

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
#: where the measured ``agent`` package is imported from (a worker sets it to an older tree)
CODE = Path(os.environ.get("AGENT_SPEED_CODE", REPO))
sys.path.insert(0, str(CODE))

import jax  # noqa: E402
import numpy as np  # noqa: E402

FLOPS_LENGTH = 8  # batch length of the unrolled update whose work XLA counts


def device_name() -> str:
    device = jax.devices()[0]
    if device.platform == "cpu":
        return f"cpu ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    return f"{device.platform}: {device.device_kind}"


def flops_per_replayed_step(cfg: Any, spec: Any) -> float:
    """XLA's count of the update's floating-point operations, per replayed step."""
    import dataclasses

    from agent.dynalang import learner as dynalang

    short = dataclasses.replace(cfg, batch_length=FLOPS_LENGTH, scan_unroll=FLOPS_LENGTH)
    dynalang.build(short, spec)
    state = dynalang.init_train_state(short, spec, jax.random.PRNGKey(0))
    b, t = short.batch_size, FLOPS_LENGTH
    batch = {"image": np.zeros((b, t, *spec.image_shape), np.uint8),
             "token": np.zeros((b, t), np.int32), "reward": np.zeros((b, t), np.float32),
             "is_first": np.zeros((b, t), bool), "is_terminal": np.zeros((b, t), bool),
             "action": np.zeros((b, t), np.int32)}
    update = dynalang.make_update(short, spec)
    cost = update.lower(state, batch).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost["flops"]) / (b * t)


def time_update(trainer: Any, repeats: int) -> dict[str, float]:
    """Compile, then time ``repeats`` updates on batches sampled from the trainer's replay."""
    cfg = trainer.cfg
    batches = [trainer.replay.sample(cfg.batch_size, cfg.batch_length) for _ in range(4)]
    start = time.perf_counter()
    trainer.state, metrics = trainer.update(trainer.state, batches[0])
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(repeats):
        trainer.state, metrics = trainer.update(trainer.state, batches[i % len(batches)])
    jax.block_until_ready(metrics)
    seconds = (time.perf_counter() - start) / repeats
    replayed = cfg.batch_size * cfg.batch_length
    return {"compile_s": compile_s, "ms_per_update": 1000 * seconds,
            "updates_per_s": 1 / seconds, "us_per_replayed_step": 1e6 * seconds / replayed}


def time_loop(trainer: Any, seconds: float) -> dict[str, float]:
    """The training loop as ``agent.train`` runs it, for ``seconds`` of wall time."""
    steps, updates = trainer.env_steps, trainer.updates
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        trainer.act()
        trainer.train()
    jax.block_until_ready(trainer.state.params)
    elapsed = time.perf_counter() - start
    return {"env_steps_per_s": (trainer.env_steps - steps) / elapsed,
            "loop_updates_per_s": (trainer.updates - updates) / elapsed,
            "loop_seconds": elapsed}


def preset_fields(text: str) -> tuple[str, dict[str, Any]]:
    """``"tiny"`` or ``"tiny,deter=512,hidden=128"``: the preset and the config fields it
    changes, each value of its field's type; ValueError naming what is wrong."""
    from agent.config_flags import field_value
    from agent.dynalang.config import Config

    name, *assignments = text.split(",")
    if name not in Config.presets:
        raise ValueError(f"preset must be one of {', '.join(Config.presets)}, got {name!r}")
    fields = {}
    for assignment in assignments:
        field, _, value = assignment.partition("=")
        if not hasattr(Config, field) or not value:
            raise ValueError(f"expected FIELD=VALUE with a Dynalang config field, got "
                             f"{assignment!r} in {text!r}")
        try:
            fields[field] = field_value(Config, field, value)
        except ValueError as error:
            raise ValueError(f"{error}, got {value!r}") from None
    return name, fields


def measure(preset: str, fields: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """One preset with the config ``fields`` it changes (:func:`preset_fields`, parsed by the
    parent process, so that an older tree measured with ``--against`` needs no parser of its
    own) with the code importable as ``agent`` (this process's)."""
    import dataclasses

    from agent.dynalang import Trainer
    from agent.dynalang.config import Config
    from agent.runner import EnvConfig, parameter_count

    overrides = {k: settings[k] for k in ("train_ratio", "num_envs", "bf16",
                                          "replay_capacity", "scan_unroll", "batch_size",
                                          "batch_length") if settings.get(k) is not None}
    cfg = Config.preset(preset.split(",")[0], **{**overrides, **fields})
    env = EnvConfig(settings["env"], image_key=settings["image_key"])
    with tempfile.TemporaryDirectory() as logdir:
        trainer = Trainer(cfg, env, logdir)
        while trainer.replay.steps_per_env < cfg.batch_length + 1:  # untrained policy
            trainer.act()
        update = time_update(trainer, settings["repeats"])
        loop = time_loop(trainer, settings["loop_seconds"])
        trainer.env.close()
        flops = flops_per_replayed_step(cfg, trainer.spec)
    gflops = flops / (update["us_per_replayed_step"] * 1e3)
    return {"preset": preset, "parameters": parameter_count(trainer.state.params),
            **update, "mflop_per_replayed_step": flops / 1e6, "gflop_per_s": gflops, **loop,
            "config": dataclasses.asdict(cfg)}


# ------------------------------------------------------------------ one process per version
def worker(args: argparse.Namespace) -> None:
    settings = json.loads(args.worker)
    rows = [measure(preset, fields, settings)
            for preset, fields in zip(settings["presets"], settings["preset_fields"])]
    Path(settings["out"]).write_text(json.dumps({"code": str(CODE), "rows": rows}))


def extract(rev: str, into: Path) -> Path:
    """The repository's files at git revision ``rev`` (``git archive``) under ``into``."""
    tar = into / "tree.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "-C", str(REPO), "archive", rev], stdout=f, check=True)
    with tarfile.open(tar) as archive:
        archive.extractall(into / "tree", filter="data")
    return into / "tree"


def run_version(label: str, code: Path, settings: dict[str, Any], tmp: Path) -> dict:
    out = tmp / f"{label}.json"
    env = {**os.environ, "AGENT_SPEED_CODE": str(code)}
    print(f"measuring {label} ({code}) ...", flush=True)
    subprocess.run([sys.executable, __file__, "--worker", json.dumps({**settings,
                                                                      "out": str(out)})],
                   env=env, check=True)
    return json.loads(out.read_text())


def table(versions: dict[str, dict]) -> str:
    lines = ["| code | preset | batch | ms / update | µs / replayed step | MFLOP / step | "
             "GFLOP/s | loop env steps/s | loop updates/s |", "|" + "---|" * 9]
    for label, result in versions.items():
        for row in result["rows"]:
            cfg = row["config"]
            lines.append(
                f"| {label} | {row['preset']} | {cfg['batch_size']}×{cfg['batch_length']} | "
                f"{row['ms_per_update']:.1f} | {row['us_per_replayed_step']:.0f} | "
                f"{row['mflop_per_replayed_step']:.2f} | {row['gflop_per_s']:.1f} | "
                f"{row['env_steps_per_s']:.1f} | {row['loop_updates_per_s']:.2f} |")
    labels = list(versions)
    if len(labels) == 2:
        new, old = (versions[k]["rows"] for k in labels)
        for a, b in zip(new, old):
            lines.append(f"\n{a['preset']}: {labels[0]} / {labels[1]}: update "
                         f"{b['ms_per_update'] / a['ms_per_update']:.2f}x faster, loop "
                         f"{a['env_steps_per_s'] / b['env_steps_per_s']:.2f}x the env steps/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--presets", nargs="+", default=["tiny"],
                        help="presets to measure, each optionally with config fields changed: "
                             "tiny,deter=512")
    parser.add_argument("--env", default="Messenger-S1-v0")
    parser.add_argument("--image-key", default="auto", help="image, grid or auto")
    parser.add_argument("--train-ratio", type=float, default=16.0,
                        help="replayed steps per env step in the loop")
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8,
                        help="replayed chunks per update")
    parser.add_argument("--batch-length", type=int, default=128,
                        help="steps per replayed chunk")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 compute (GPU)")
    parser.add_argument("--scan-unroll", type=int, default=1,
                        help="see Config.scan_unroll")
    parser.add_argument("--repeats", type=int, default=10, help="timed updates")
    parser.add_argument("--loop-seconds", type=float, default=60.0)
    parser.add_argument("--replay-capacity", type=int, default=200_000)
    parser.add_argument("--against", default=None, metavar="REV",
                        help="also measure the code at this git revision, for the ratio")
    parser.add_argument("--out", default=None, help="JSON file (default: results/...)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for flag in ("num_envs", "batch_size", "batch_length", "scan_unroll", "repeats",
                 "replay_capacity"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be a positive integer, got "
                         f"{getattr(args, flag)}")
    if args.train_ratio <= 0 or args.loop_seconds <= 0:
        parser.error("--train-ratio and --loop-seconds must be positive")
    if args.worker:
        return worker(args)
    try:
        fields = [preset_fields(preset)[1] for preset in args.presets]
    except ValueError as error:
        parser.error(f"--presets: {error}")
    settings = {k: v for k, v in vars(args).items() if k not in ("against", "out", "worker")}
    settings["preset_fields"] = fields
    device = device_name()
    print(f"device: {device}; jax {jax.__version__}; env {args.env} x {args.num_envs}; "
          f"train ratio {args.train_ratio:g}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        versions = {"this tree": run_version("new", REPO, settings, Path(tmp))}
        if args.against:
            old = extract(args.against, Path(tmp))
            versions[args.against] = run_version("old", old, settings, Path(tmp))
    print(table(versions))
    tag = "cpu" if jax.devices()[0].platform == "cpu" else jax.devices()[0].device_kind
    out = Path(args.out) if args.out else RESULTS / (
        "agent_speed_" + "".join(c if c.isalnum() else "_" for c in tag.lower()) + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"device": device, "jax": jax.__version__, "settings": settings,
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "versions": {k: v["rows"] for k, v in versions.items()}}
    previous = json.loads(out.read_text()) if out.exists() else []
    previous = previous if isinstance(previous, list) else [previous]
    out.write_text(json.dumps(previous + [record], indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
