"""Learning check: does Dynalang read?  Messenger-S1 on a 2-core CPU, with and without the manual.

    python benchmarks/learning_check.py --seeds 0 1 2                  # the S1 recipe, 3 seeds
    python benchmarks/learning_check.py --seeds 0 --hide-language      # the manual hidden
    python benchmarks/learning_check.py --figure-only                  # redraw from the results
    python benchmarks/learning_check.py --model wide --steps 300000   # 2.5M parameters, 3x slower
    python benchmarks/learning_check.py --model ratio64 --steps 300000  # train ratio 64
    python benchmarks/learning_check.py --model reward30               # reward loss x30
    python benchmarks/learning_check.py --model deter512 --steps 150000 # 512-unit GRU, reward x30
    python benchmarks/learning_check.py --model mode --steps 150000   # reward x30, GRU switches
    python benchmarks/learning_check.py --model mode-bias3 --steps 150000  # and gate bias -3
    python benchmarks/learning_check.py --model context       # each word with its sentence's bag
    python benchmarks/learning_check.py --model context256    # the same, 256-unit RSSM

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

import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.envs import EnvAdapter  # noqa: E402
from langstream.cli import Parser, non_negative_int, positive_int  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "leaderboard" / "results"
FIGURE = ROOT / "docs" / "learning-check-s1.png"
SUMMARY = ROOT / "benchmarks" / "results" / "learning_check_s1.json"
ENV = "Messenger-S1-v0"

#: agent.train flags of each model the check can train (chunk length and train ratio come from
#: agent/dynalang/recipes.py).  "tiny" (0.2M parameters) is the preset with a larger batch and
#: learning rates; "ratio64" is tiny at the reference's S1 train ratio of 64 (the recipe's 32
#: halves the CPU time), since benchmarks/reward_probe.py finds the world model slow to learn
#: the manual per update; "reward30" is tiny with the reward loss scaled by 30 (touches are 1 row
#: in 34), which the probe finds learns the reward of a touch sooner; "wide" (2.5M) widens its
#: GRU, latents and MLPs to 256 units, because a 64-unit GRU may be too small to hold which
#: entity the manual names as what; "deter512" is reward30 with a 512-unit GRU (everything
#: else tiny), the narrowest RSSM that benchmarks/memory_probe.py finds carrying a token 30 steps
#: (S1's distance from manual to touch) for more than one seed, imagining from every 4th
#: replayed step (1.4x the updates per second of imagining from all of them); "mode" is reward30
#: whose GRU gates have no layer norm and whose GRU reads each latent's most likely class rather
#: than its sample, with which the probe finds the tiny RSSM carrying a token 30 steps (2 seeds
#: of 3); "mode-bias3" is mode with the update gate's bias at -3 (every seed of 3).
MODELS: dict[str, dict[str, Any]] = {
    "tiny": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
             "ac-lr": 3e-4, "replay-capacity": 500_000},
    "ratio64": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                "ac-lr": 3e-4, "replay-capacity": 500_000, "train-ratio": 64},
    "reward30": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                 "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30},
    "wide": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 1e-3,
             "ac-lr": 3e-4, "replay-capacity": 500_000, "deter": 256, "hidden": 256,
             "stoch": 16, "classes": 16, "mlp-units": 256, "mlp-layers": 2, "token-embed": 32},
    "deter512": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                 "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30, "deter": 512,
                 "imag-stride": 4},
    "mode": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
             "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30,
             "gate-norm": False, "gru-reads-mode": True},
    "mode-bias3": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                   "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30,
                   "gate-norm": False, "gru-reads-mode": True, "gru-update-bias": -3},
    # Each word with its sentence's bag of words (the stand-in for the paper's T5 token
    # vectors), tiny and with a 256-unit RSSM: the reward probe's 256-unit world model reads
    # the real manual this way, and both widths read its idealised form.
    "context": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30,
                "sentence-context": True},
    "context256": {"preset": "tiny", "num-envs": 16, "batch-size": 8, "model-lr": 2e-3,
                   "ac-lr": 3e-4, "replay-capacity": 500_000, "reward-scale": 30,
                   "deter": 256, "hidden": 256, "sentence-context": True},
}

#: MODELS flags that set the envs (``agent.runner.EnvConfig``), not the agent's Config
ENV_FLAGS = ("sentence-context",)


#: the games each run is evaluated on: the training games, and the unseen test games (where
#: each entity has a role it never had in training)
GAMES = ("train", "test")

#: resets whose layouts estimate the odds the blind Bayes policy plays by (seeded apart from any
#: evaluation episode)
ODDS_RESETS, ODDS_SEED = 100_000, 10**7


Layout = tuple[tuple[int, ...], bool]


def layout_of(grid: np.ndarray) -> Layout:
    """What a policy blind to the manual knows of an S1 episode at reset: the entity symbols on
    the board, and whether the avatar carries the message (``grid``: any multi-hot symbol grid,
    padded or not)."""
    from messenger_s2.entities import AVATAR_WITH_MESSAGE, ENTITY_NAMES

    present = grid.reshape(-1, grid.shape[-1]).any(0)
    return tuple(s for s in ENTITY_NAMES if present[s]), bool(present[AVATAR_WITH_MESSAGE])


def target_of(layout: Layout, info: dict[str, Any]) -> int:
    """The symbol to touch to win: the message, or the goal when the avatar carries it."""
    from messenger_s2.entities import ENTITY_ID

    return ENTITY_ID[info["roles"]["goal" if layout[1] else "message"]]


class BlindOdds:
    """How often each entity was the one to touch, per layout, over ``ODDS_RESETS`` resets of
    S1's training games: all that a policy or a world model blind to the manual can know."""

    def __init__(self, resets: int = ODDS_RESETS, seed: int = ODDS_SEED):
        import gymnasium as gym

        import messenger_s2  # noqa: F401  (registers the ids)

        self.together: dict[Layout, dict[int, int]] = {}
        self.alone: dict[tuple[int, bool], list[int]] = {}  # [times the target, times seen]
        with gym.make(ENV) as env:
            for k in range(resets):
                obs, info = env.reset(seed=seed + k)
                layout = layout_of(obs["grid"])
                target = target_of(layout, info)
                counts = self.together.setdefault(layout, {})
                counts[target] = counts.get(target, 0) + 1
                for symbol in layout[0]:
                    seen = self.alone.setdefault((symbol, layout[1]), [0, 0])
                    seen[0] += symbol == target
                    seen[1] += 1

    def chance(self, layout: Layout, symbol: int) -> float:
        """The odds that ``symbol`` is the one to touch on this layout (for layouts never seen,
        how often it was the one on its own)."""
        if layout in self.together:
            counts = self.together[layout]
            return counts.get(symbol, 0) / sum(counts.values())
        seen = self.alone.get((symbol, layout[1]))
        return seen[0] / seen[1] if seen else 0.0

    def pick(self, layout: Layout) -> int:
        """The entity the best blind policy walks to."""
        return max(layout[0], key=lambda symbol: self.chance(layout, symbol))


@functools.lru_cache(maxsize=1)
def training_odds() -> BlindOdds:
    """The default :class:`BlindOdds`, made once per process (it is the same every time)."""
    return BlindOdds()


def bayes_blind_returns(episodes: int, seed: int, split: str = "train",
                        odds: BlindOdds | None = None) -> np.ndarray:
    """Returns, on the evaluation episodes of ``split``, of the best policy that does not read.

    It walks to the entity that was most often the one to touch in ``ODDS_RESETS`` training
    episodes with the same symbols on the board (or, for symbols never seen together, the
    entity most often the one to touch on its own).  S1's training games are a fixed list, so
    on them the symbols alone make some entities likelier than others: an agent must score
    above this policy to show that it read the manual.  The val and test games give each
    entity a role it never had in training, so there the same policy fails, and only reading
    beats a random pick (1 in 3).  Each S1 entity is two moves away and touching one ends the
    episode, so the policy wins (+1) when its pick is right and loses (-1) otherwise.
    """
    import gymnasium as gym

    odds = odds or training_odds()
    returns = []
    with gym.make(ENV, split=split) as env:
        for k in range(episodes):
            obs, info = env.reset(seed=seed + k)
            layout = layout_of(obs["grid"])
            returns.append(1.0 if odds.pick(layout) == target_of(layout, info) else -1.0)
    return np.array(returns)


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


def model_fields(model: str) -> dict[str, Any]:
    """The config fields ``model``'s flags in MODELS set (its preset and env flags apart)."""
    return {k.replace("-", "_"): v for k, v in MODELS[model].items()
            if k != "preset" and k not in ENV_FLAGS}


def model_env(model: str) -> dict[str, str]:
    """The env settings ``model``'s flags set, as a result file's overrides record them."""
    return {k.replace("-", "_"): str(v) for k, v in MODELS[model].items() if k in ENV_FLAGS}


def model_of(config: dict[str, Any], overrides: dict[str, str] | None = None) -> str | None:
    """Which of MODELS a result file's config (and env overrides) comes from (None: another
    recipe): the one that agrees with it on every field any model sets (fields a file
    predates: defaults)."""
    from agent.dynalang.config import Config

    fields = {k for name in MODELS for k in model_fields(name)}
    env_fields = {k for name in MODELS for k in model_env(name)}
    config = {**vars(Config()), **config}
    overrides = overrides or {}
    for name in MODELS:
        built = vars(Config.preset(MODELS[name]["preset"], **model_fields(name)))
        env = model_env(name)
        if (all(config[k] == built[k] for k in fields)
                and all(overrides.get(k, "False") == env.get(k, "False") for k in env_fields)):
            return name
    return None


def train_and_add(model: str, seed: int, steps: int, hide: bool, episodes: int,
                  runs: Path) -> None:
    """Train one seed (resuming a run that was cut short) and write its result files: the
    evaluation on the training games and on the unseen test games."""
    from agent import checkpoint
    from agent.train import main as train_main
    from benchmarks.leaderboard.run import add_run
    from benchmarks.machine import cpu_note

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
    for games in GAMES:
        outcome = add_run(logdir, RESULTS, preset=MODELS[model]["preset"], episodes=episodes,
                          device_note=cpu_note(), force=True,
                          eval_env_args=[] if games == "train" else [f"split={games}"])
        print(f"wrote {outcome.path}", flush=True)


def load(model: str, steps: int) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The S1 result files at ``steps`` by (curve name, games evaluated on): ``model``'s
    Dynalang runs, the baselines, the random policy at any budget, and hidden-manual runs that
    were stopped before ``steps`` (their curve ends where they stopped)."""
    from benchmarks.leaderboard import results as results_lib

    loaded, _ = results_lib.load_results(RESULTS)
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
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
            if model_of(d["config"], d["overrides"]) != model:
                continue  # another Dynalang recipe at this budget
        games = d["overrides"].get("eval.split", "train")
        out.setdefault((name, games), []).append(d)
    return out


#: the figure's colour per curve, in drawing order
COLOURS = {"dynalang": "#08519c", "dynalang, manual hidden": "#6baed6", "impala": "#31a354",
           "r2d2": "#756bb1", "random": "#cb181d"}


def summarise(model: str, steps: int, runs: dict[tuple[str, str], list[dict[str, Any]]],
              blind: dict[str, np.ndarray]) -> dict[str, Any]:
    """The summary written beside the figure: per curve and kind of games, the seeds, their
    evaluation scores and win rates, and training minutes; and the blind policies' scores."""
    curves = {}
    for name, games in ((n, g) for n in COLOURS for g in GAMES if (n, g) in runs):
        done = runs[name, games]
        scores = [d["eval"]["score"] for d in done]
        curves[f"{name} [{games} games]"] = {
            "seeds": [d["seed"] for d in done], "eval_scores": scores,
            "mean": float(np.mean(scores)), "won": [d["eval"]["success_rate"] for d in done],
            "train_minutes": [round(d["training"]["seconds"] / 60, 1) for d in done],
            "eval_episodes": done[0]["eval"]["episodes"]}
    return {"env": ENV, "steps": steps, "model": model, "recipe": MODELS[model],
            "curves": curves, "best_constant_action": float(blind["constant"].mean()),
            "best_blind_policy": {games: float(blind[games].mean()) for games in GAMES}}


def figure(model: str, steps: int, blind: dict[str, np.ndarray]) -> dict[str, Any]:
    """Draw the figure (training curves and the evaluation on the training games; the
    evaluation on unseen test games) and return the summary written beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = load(model, steps)
    fig, (ax, test_ax) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=120, sharey=True,
                                      gridspec_kw={"width_ratios": [3, 1.2]})
    tested = [name for name in COLOURS if (name, "test") in runs]  # the test panel's columns
    for column, name in enumerate(tested):
        scores = [d["eval"]["score"] for d in runs[name, "test"]]
        test_ax.plot([column] * len(scores), scores, "^", color=COLOURS[name], mec="black", ms=7)
    for name in COLOURS:
        if (name, "train") in runs:
            _training_curve(ax, name, runs[name, "train"], steps)
    _blind_lines(ax, test_ax, blind)
    ax.set_xlabel("env steps (read steps included)")
    ax.set_ylabel("episode return")
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(f"{ENV}, Dynalang {model}, {steps:,} env steps, 2-core CPU\ncurves: training "
                 f"episodes; dots: final evaluation per seed (training games)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=7)  # the top of the axis is empty below a win rate of 1
    test_ax.set_xticks(range(len(tested)), [n.replace(", ", ",\n") for n in tested],
                       fontsize=7, rotation=45, ha="right")
    test_ax.set_xlim(-0.5, max(len(tested), 2) - 0.5)
    test_ax.set_title("final evaluation on the unseen\ntest games (a triangle per seed)",
                      fontsize=9)
    test_ax.grid(alpha=0.3)
    fig.tight_layout()
    figure_path(model).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure_path(model), metadata={"Software": None})
    plt.close(fig)
    return summarise(model, steps, runs, blind)


def _training_curve(ax: Any, name: str, done: list[dict[str, Any]], steps: int) -> None:
    """One agent's mean training curve over seeds (band: min to max) and a dot per seed's
    evaluation; the random policy as a line at its score."""
    from benchmarks.leaderboard.show import mean_curve

    colour, scores = COLOURS[name], [d["eval"]["score"] for d in done]
    if name == "random":
        ax.axhline(np.mean(scores), color=colour, ls="--", lw=1.2,
                   label=f"random policy ({np.mean(scores):.2f})")
        return
    x, mean, low, high = mean_curve([d["curve"] for d in done])
    n = len(scores)
    budgets = sorted({d["steps"] for d in done})
    stopped = f", stopped at {budgets[0]:,}" if budgets != [steps] else ""
    ax.plot(x, mean, color=colour, lw=2,
            label=f"{name}, {n} seed{'s' * (n > 1)}{stopped}: eval {np.mean(scores):.2f}")
    if n > 1:
        ax.fill_between(x, low, high, color=colour, alpha=0.2, lw=0)
    ax.plot([d["steps"] for d in done], scores, "o", color=colour, mec="black", ms=5)


def _blind_lines(ax: Any, test_ax: Any, blind: dict[str, np.ndarray]) -> None:
    """The policies that do not read, on both panels."""
    ax.axhline(blind["constant"].mean(), color="#fd8d3c", ls=":", lw=1.5,
               label=f"best constant action ({blind['constant'].mean():.2f})")
    ax.axhline(blind["train"].mean(), color="#7f2704", ls="-.", lw=1.5,
               label=f"best policy that does not read: the likeliest entity for the symbols "
                     f"on the board ({blind['train'].mean():.2f})")
    test_ax.axhline(-1 / 3, color="#7f2704", ls=":", lw=1.5)
    test_ax.axhline(blind["test"].mean(), color="#7f2704", ls="-.", lw=1.5)
    test_ax.text(-0.4, -1 / 3 + 0.03, "a random pick among the entities (-0.33)", fontsize=7)
    test_ax.text(-0.4, blind["test"].mean() + 0.03,
                 f"the policy that does not read ({blind['test'].mean():.2f})", fontsize=7)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
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
    odds = training_odds()
    blind = {"constant": blind_returns(args.episodes, args.eval_seed),
             **{games: bayes_blind_returns(args.episodes, args.eval_seed, games, odds)
                for games in GAMES}}
    summary = figure(args.model, args.steps, blind)
    summary_path(args.model).parent.mkdir(parents=True, exist_ok=True)
    summary_path(args.model).write_text(json.dumps(summary, indent=1) + "\n")
    for name, curve in summary["curves"].items():
        print(f"{name}: mean evaluation return {curve['mean']:.3f} over seeds {curve['seeds']}")
    print(f"wrote {figure_path(args.model)} and {summary_path(args.model)}")


if __name__ == "__main__":
    main()
