"""Learning check: does Dynalang read?  Messenger-S1 on a 2-core CPU, with and without the manual.

    python benchmarks/learning_check.py --seeds 0 1 2                  # the S1 recipe, 3 seeds
    python benchmarks/learning_check.py --seeds 0 --hide-language      # the manual hidden
    python benchmarks/learning_check.py --figure-only                  # redraw from the results
    python benchmarks/learning_check.py --model wide --steps 300000   # 2.5M parameters, 3x slower

Messenger-S1 is decided by the manual: the avatar starts between three entities whose roles
(message, goal, enemy) are told only in the manual streamed before play, so a policy that does
not read can at best pick the same direction every time (the best such policy scores about
-0.41).  For each seed the script

1. trains Dynalang with ``agent.train`` (the recipe below; ``--hide-language`` replaces every
   token by ``<pad>``, so the agent hears nothing while everything else stays the same);
2. evaluates it on fixed-seed episodes and writes a leaderboard result file
   (``python -m benchmarks.leaderboard add``), so the run becomes a row of LEADERBOARD.md;
3. draws ``docs/learning-check-s1.png`` from the result files at that budget: Dynalang with and
   without language, IMPALA and R2D2 where present, the random policy, and the best policy that
   ignores the manual; and writes ``benchmarks/results/learning_check_s1.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.cli import non_negative_int, positive_int  # noqa: E402
from agent.envs import EnvAdapter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "leaderboard" / "results"
FIGURE = ROOT / "docs" / "learning-check-s1.png"
SUMMARY = ROOT / "benchmarks" / "results" / "learning_check_s1.json"
ENV = "Messenger-S1-v0"

#: agent.train flags of each model the check can train (chunk length and train ratio come from
#: agent/dynalang/recipes.py).  "tiny" (0.2M parameters) is the preset with a larger batch and
#: learning rates; "wide" (2.5M) widens its GRU, latents and MLPs to 256 units, because a
#: 64-unit GRU may be too small to hold which entity the manual names as what.
MODELS: dict[str, dict[str, Any]] = {
    "tiny": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
             "ac-lr": 3e-4, "replay-capacity": 500_000},
    "wide": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 1e-3,
             "ac-lr": 3e-4, "replay-capacity": 500_000, "deter": 256, "hidden": 256,
             "stoch": 16, "classes": 16, "mlp-units": 256, "mlp-layers": 2, "token-embed": 32},
}


def blind_returns(episodes: int, seed: int) -> np.ndarray:
    """Returns of the best policy that ignores the manual among "always take action a", on the
    evaluation episodes: the score a blind agent can get from the layout alone."""
    best = None
    for action in range(EnvAdapter(ENV, 1).n_actions):
        with EnvAdapter(ENV, episodes, seed=seed) as env:
            env.reset()
            returns: dict[int, float] = {}
            while len(returns) < episodes:
                out = env.step(np.full(episodes, action))
                for row, episode in zip(np.flatnonzero(out["is_last"]), env.take_completed()):
                    returns.setdefault(int(row), episode["return"])
        scores = np.array([returns[k] for k in range(episodes)])
        if best is None or scores.mean() > best.mean():
            best = scores
    assert best is not None
    return best


def figure_path(model: str) -> Path:
    return FIGURE if model == "tiny" else FIGURE.with_name(f"{FIGURE.stem}-{model}.png")


def summary_path(model: str) -> Path:
    return SUMMARY if model == "tiny" else SUMMARY.with_name(f"{SUMMARY.stem}_{model}.json")


def model_of(config: dict[str, Any]) -> str | None:
    """Which of MODELS a result file's config comes from (None: another recipe)."""
    for name, flags in MODELS.items():
        if (config["deter"] == flags.get("deter", 64)
                and config["model_lr"] == float(flags["model-lr"])):
            return name
    return None


def train_and_add(model: str, seed: int, steps: int, hide: bool, episodes: int,
                  runs: Path) -> Path:
    """Train one seed (resuming a run that was cut short) and write its result file."""
    from agent import checkpoint
    from agent.train import main as train_main
    from benchmarks.leaderboard.run import add_run

    name = (f"dynalang-s1-{steps}-seed{seed}" + ("" if model == "tiny" else f"-{model}")
            + ("-hidden" if hide else ""))
    logdir = runs / name
    flags = [f"--{k}={v}" for k, v in MODELS[model].items()]
    argv = ["--env", ENV, "--steps", str(steps), "--seed", str(seed), "--logdir", str(logdir),
            "--log-every", str(max(1000, steps // 100)), "--checkpoint-every",
            str(max(10_000, steps // 20)), *flags] + (["--hide-language"] if hide else [])
    done = checkpoint.exists(logdir) and (
        checkpoint.load(logdir)["counters"]["env_steps"] >= steps)
    if not done:
        start = time.time()
        train_main(argv + (["--resume"] if checkpoint.exists(logdir) else []))
        print(f"seed {seed}{' (hidden)' if hide else ''}: trained in "
              f"{(time.time() - start) / 60:.0f} min", flush=True)
    outcome = add_run(logdir, RESULTS, preset=MODELS[model]["preset"], episodes=episodes,
                      device_note="2-core CPU (AMD EPYC)", force=True)
    print(f"wrote {outcome.path}", flush=True)
    return Path(outcome.path)


def load(model: str, steps: int) -> dict[str, list[dict[str, Any]]]:
    """The S1 result files at ``steps`` by curve name: ``model``'s Dynalang runs, the baselines,
    the random policy at any budget, and hidden-manual runs that were stopped before ``steps``
    (their curve ends where they stopped)."""
    from benchmarks.leaderboard import results as results_lib

    loaded, _ = results_lib.load_results(RESULTS)
    out: dict[str, list[dict[str, Any]]] = {}
    for item in loaded:
        d = item.data
        hidden = d["overrides"].get("hide_language") == "True"
        budget_fits = d["steps"] <= steps if hidden else d["steps"] == steps
        if d["env"] != ENV or (d["agent"] != "random" and not budget_fits):
            continue
        name = d["agent"]
        if d["agent"] == "dynalang":
            if hidden:
                name = "dynalang, manual hidden"
            if model_of(d["config"]) != model:
                continue  # another Dynalang recipe at this budget
        out.setdefault(name, []).append(d)
    return out


def figure(model: str, steps: int, blind: np.ndarray) -> dict[str, Any]:
    """Draw the figure and return the summary written beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.leaderboard.show import mean_curve

    runs = load(model, steps)
    colours = {"dynalang": "#08519c", "dynalang, manual hidden": "#6baed6",
               "impala": "#31a354", "r2d2": "#756bb1", "random": "#cb181d"}
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    summary: dict[str, Any] = {"env": ENV, "steps": steps, "model": model,
                               "recipe": MODELS[model], "curves": {}}
    for name, colour in colours.items():
        if name not in runs:
            continue
        scores = [d["eval"]["score"] for d in runs[name]]
        summary["curves"][name] = {
            "seeds": [d["seed"] for d in runs[name]], "eval_scores": scores,
            "mean": float(np.mean(scores)),
            "train_minutes": [round(d["training"]["seconds"] / 60, 1) for d in runs[name]],
            "eval_episodes": runs[name][0]["eval"]["episodes"]}
        if name == "random":
            ax.axhline(np.mean(scores), color=colour, ls="--", lw=1.2,
                       label=f"random policy ({np.mean(scores):.2f})")
            continue
        x, mean, low, high = mean_curve([d["curve"] for d in runs[name]])
        n = len(scores)
        budgets = sorted({d["steps"] for d in runs[name]})
        stopped = f", stopped at {budgets[0]:,}" if budgets != [steps] else ""
        ax.plot(x, mean, color=colour, lw=2, label=f"{name}, {n} seed{'s' * (n > 1)}{stopped}: "
                                                   f"eval {np.mean(scores):.2f}")
        if n > 1:
            ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
        ax.plot([d["steps"] for d in runs[name]], scores, "o", color=colour, mec="black", ms=5)
    ax.axhline(blind.mean(), color="#fd8d3c", ls=":", lw=1.5,
               label=f"best constant action, blind to the manual ({blind.mean():.2f})")
    summary["best_constant_action"] = float(blind.mean())
    ax.set_xlabel("env steps (read steps included)")
    ax.set_ylabel("training episode return")
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(f"{ENV}, Dynalang {model}, {steps:,} env steps, 2-core CPU; "
                 "dots: final evaluation per seed", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)  # the top of the axis is empty below a win rate of 1
    fig.tight_layout()
    figure_path(model).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure_path(model), metadata={"Software": None})
    plt.close(fig)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="tiny",
                        help="the Dynalang size to train (see MODELS)")
    parser.add_argument("--seeds", type=non_negative_int, nargs="+", default=[0],
                        help="training seeds, one run each (a run cut short is resumed)")
    parser.add_argument("--steps", type=positive_int, default=500_000,
                        help="env steps per run, read steps included")
    parser.add_argument("--hide-language", action="store_true",
                        help="replace every token by <pad> (the ablation)")
    parser.add_argument("--episodes", type=positive_int, default=200,
                        help="evaluation episodes")
    parser.add_argument("--eval-seed", type=non_negative_int, default=10_000)
    parser.add_argument("--runs", default="runs/learning_check", help="training run folders")
    parser.add_argument("--figure-only", action="store_true",
                        help="redraw the figure from the committed result files")
    args = parser.parse_args()
    if not args.figure_only:
        for seed in args.seeds:
            train_and_add(args.model, seed, args.steps, args.hide_language, args.episodes,
                          Path(args.runs))
    summary = figure(args.model, args.steps, blind_returns(args.episodes, args.eval_seed))
    summary_path(args.model).parent.mkdir(parents=True, exist_ok=True)
    summary_path(args.model).write_text(json.dumps(summary, indent=1) + "\n")
    for name, curve in summary["curves"].items():
        print(f"{name}: mean evaluation return {curve['mean']:.3f} over seeds {curve['seeds']}")
    print(f"wrote {figure_path(args.model)} and {summary_path(args.model)}")


if __name__ == "__main__":
    main()
