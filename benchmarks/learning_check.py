"""Learning check: Dynalang learns a language-dependent task on CPU, clearly above random.

    python benchmarks/learning_check.py                      # Messenger-S1, tiny, CPU
    python benchmarks/learning_check.py --steps 60000 --out runs/check

Messenger-S1 is decided by the manual: the avatar starts between three entities whose roles
(message, goal, enemy) are told only in the manual streamed before play, so without reading a
policy can at best pick the right entity one time in three.  The script

1. plays the random policy for ``--eval-episodes`` fixed-seed episodes (the baseline);
2. trains the agent with ``agent.train``'s loop for ``--steps`` env steps (read steps included);
3. evaluates the trained agent on the same fixed seeds with ``agent.eval.evaluate``;
4. writes ``OUT/learning_check.json`` and the learning curve ``OUT/learning_check.png``
   (training-episode return against env steps, with the random policy's mean).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import logger  # noqa: E402
from agent.envs import EnvAdapter  # noqa: E402
from agent.eval import evaluate, evaluate_random  # noqa: E402
from agent.train import main as train_main  # noqa: E402

#: the budget and settings the README's figure was made with (overridable from the CLI)
DEFAULTS = dict(env="Messenger-S1-v0", preset="tiny", steps=100_000, num_envs=8,
                batch_size=8, batch_length=64, train_ratio=32, model_lr=6e-4, ac_lr=3e-4)


def blind_returns(env_id: str, episodes: int, seed: int) -> np.ndarray:
    """Returns of the best policy that ignores the manual among "always take action a": the
    score a blind agent can get from the layout alone."""
    best = None
    for action in range(EnvAdapter(env_id, 1).n_actions):
        returns = []
        for k in range(episodes):
            env = EnvAdapter(env_id, 1, seed=seed + k)
            env.reset()
            while not env.completed:
                env.step(np.array([action]))
            returns.append(env.completed[0]["return"])
            env.close()
        if best is None or np.mean(returns) > best.mean():
            best = np.array(returns)
    return best


def smooth(x: np.ndarray, y: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    if len(y) < window:
        return x, y
    kernel = np.ones(window) / window
    return x[window - 1:], np.convolve(y, kernel, mode="valid")


def plot(curve: list[dict], random_mean: float, blind_mean: float, final: dict | None,
         out: Path, title: str) -> None:
    """The training-episode return against env steps, the baselines, and the final evaluation
    (left out when ``final`` is None: a run cut short has none)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(r["env_steps"], r["episode_return"]) for r in curve
              if r.get("episode_return") is not None]
    if not points:
        raise SystemExit("no training episode ended in a log interval: train for more steps")
    x, y = (np.array(v, float) for v in zip(*points))
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(x, y, color="#9ecae1", lw=1, label="training episodes (per log interval)")
    sx, sy = smooth(x, y, 5)
    ax.plot(sx, sy, color="#08519c", lw=2, label="smoothed")
    ax.axhline(random_mean, color="#cb181d", ls="--", label=f"random policy ({random_mean:.2f})")
    ax.axhline(blind_mean, color="#fd8d3c", ls=":",
               label=f"best constant action, blind to the manual ({blind_mean:.2f})")
    if final is not None:
        ax.errorbar([x[-1]], [final["mean_return"]], yerr=[final["std_return"]], fmt="o",
                    color="black", capsize=4,
                    label=f"evaluation, {final['episodes']} seeds ({final['mean_return']:.2f})")
    ax.set_xlabel("env steps (read steps included)")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for key, value in DEFAULTS.items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--eval-seed", type=int, default=10_000)
    parser.add_argument("--out", default="runs/learning_check")
    args = parser.parse_args()
    out = Path(args.out)
    run = out / "run"

    baseline = np.array(evaluate_random(args.env, args.eval_episodes, args.eval_seed)["returns"])
    blind = blind_returns(args.env, args.eval_episodes, args.eval_seed)
    print(f"random policy: mean return {baseline.mean():.3f} over {len(baseline)} episodes; "
          f"best constant action {blind.mean():.3f}", flush=True)

    start = time.time()
    flags = [f"--{key.replace('_', '-')}={getattr(args, key)}" for key in DEFAULTS
             if key not in ("env", "steps")]
    train_main(["--env", args.env, "--steps", str(args.steps), "--logdir", str(run),
                "--seed", str(args.seed), "--log-every", "2000",
                "--checkpoint-every", str(args.steps), "--no-tensorboard", *flags])
    train_seconds = time.time() - start

    final = evaluate(run, args.eval_episodes, args.eval_seed, num_envs=8)
    curve = logger.read(run)
    result = {
        "env": args.env, "settings": {**{k: getattr(args, k) for k in DEFAULTS},
                                      "seed": args.seed},
        "command": "python benchmarks/learning_check.py " + " ".join(sys.argv[1:]),
        "train_seconds": train_seconds,
        "random": {"mean_return": float(baseline.mean()), "std_return": float(baseline.std()),
                   "episodes": len(baseline)},
        "best_constant_action": {"mean_return": float(blind.mean()),
                                 "std_return": float(blind.std())},
        "trained": {k: final[k] for k in ("mean_return", "std_return", "episodes",
                                          "success_rate") if k in final},
        "curve": [{k: r.get(k) for k in ("env_steps", "real_steps", "episode_return",
                                         "env_steps_per_s")} for r in curve],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning_check.json").write_text(json.dumps(result, indent=1) + "\n")
    plot(curve, float(baseline.mean()), float(blind.mean()), final, out / "learning_check.png",
         f"Dynalang {args.preset} on {args.env}, CPU, {args.steps:,} env steps "
         f"({train_seconds / 60:.0f} min)")
    print(f"trained: mean return {final['mean_return']:.3f} (random {baseline.mean():.3f}); "
          f"wrote {out / 'learning_check.json'} and {out / 'learning_check.png'}")


if __name__ == "__main__":
    main()
