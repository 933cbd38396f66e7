"""The jitted IMPALA against the leaderboard's IMPALA on Messenger-S1: the same agent, budget and
evaluation, trained in compiled code on the env's JAX twin.

    python benchmarks/impala_jitted_check.py                 # train 2 seeds x 1M steps, then draw
    python benchmarks/impala_jitted_check.py --figure-only   # redraw from the committed result

Trains with ``python -m agent.impala.jitted`` (``tiny``, 8 envs, 20-step rollouts: the
leaderboard rows' settings), writes ``benchmarks/results/impala_jitted_s1.json`` and draws
``docs/impala-jitted-s1.png``: each seed's training return (episodes that ended between curve
points) against env steps beside the leaderboard's IMPALA runs of the same settings (1M steps,
2 seeds; 500k, 3 seeds), and every run's evaluation on the numpy env's fixed-seed episodes as a
marker at its end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langstream.cli import Parser  # noqa: E402

RESULT = ROOT / "benchmarks/results/impala_jitted_s1.json"
FIGURE = ROOT / "docs/impala-jitted-s1.png"
LEADERBOARD = ROOT / "benchmarks/leaderboard/results/Messenger-S1-v0"
#: the leaderboard's IMPALA runs of the same settings on the training games
LEADERBOARD_RUNS = [f"impala-tiny-{steps}-seed{seed}.json" for steps, seeds in
                    ((1_000_000, (0, 1)), (500_000, (0, 1, 2))) for seed in seeds]


def draw(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    seeds = result["run"]["seeds"]
    steps = [p["env_steps"] for p in result["curve"]]
    end = steps[-1] * 1.02
    for i, seed in enumerate(seeds):
        ax.plot(steps, [p["train_return"][i] for p in result["curve"]], color="C0",
                alpha=0.8, label="jitted, on the JAX twin" if i == 0 else None)
        ax.plot(end, result["evaluation"][i]["mean_return"], "o", color="C0")
    for i, path in enumerate(LEADERBOARD_RUNS):
        old = json.loads((LEADERBOARD / path).read_text())
        ax.plot([c[0] for c in old["curve"]], [c[2] for c in old["curve"]], color="C1",
                alpha=0.6, lw=0.8, ls="--",
                label="agent.train (leaderboard: 1M x 2, 500k x 3)" if i == 0 else None)
        ax.plot(old["steps"] * 1.02, old["eval"]["score"], "s", color="C1")
    ax.set_xlabel("env steps (read steps included)")
    ax.set_ylabel("episode return")
    ax.set_title(f"IMPALA tiny on Messenger-S1: {result['env_steps_per_s']:,} env steps/s "
                 f"jitted (dots: evaluation)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--figure-only", action="store_true",
                        help="redraw the figure from the committed result")
    args = parser.parse_args()
    if not args.figure_only:
        from agent.impala import jitted

        jitted.main(["--env", "Messenger-S1-v0", "--preset", "tiny", "--steps",
                     str(args.steps), "--seeds", *map(str, args.seeds), "--json", str(RESULT)])
    draw(json.loads(RESULT.read_text()), FIGURE)


if __name__ == "__main__":
    main()
