"""Memory probe: across how many steps can Dynalang's world model carry one token to a reward?

    python benchmarks/memory_probe.py                          # delays 3, 8, 16, 30; tiny model
    python benchmarks/memory_probe.py --model-lr 3e-4 --name lr3e-4
    python benchmarks/memory_probe.py --delays 30 --updates 8000 --name d30-long
    python benchmarks/memory_probe.py --figure-only

On Messenger-S1 the manual ends about 30 steps before the touch it decides, and the reward
probe (``benchmarks/reward_probe.py``) found the tiny world model learns a touch's reward from
(entity, role) tokens repeated every step but not from the same tokens read once.  This probe
takes everything else away, so that a fix for memory can be tried in minutes rather than hours:

- an episode is a cue token (one of ``--cues``) on its first step, then ``delay`` read steps
  of padding, then one step whose reward is +1 if the cue was the first one and -1 otherwise;
  actions are random and change nothing, the image is blank but for a read-phase flag;
- rows are made directly (no env), episodes back to back in 16 time lines, into the agent's
  replay; the world model alone trains on chunks of it (``make_model_update``);
- every ``--eval-every`` updates the reward head is read at the last step of held-out episodes
  and scored by its *ranking accuracy* (``reward_probe.ranking_accuracy``): 0.5 when the cue
  is forgotten, 1.0 when it is always carried.

The model is the learning check's tiny one with the reward loss x30 (as the reward probe's runs:
one row in ``delay + 2`` has a reward, and without it even 8 steps fail), and every
``agent.train`` model flag overrides it.  Writes ``benchmarks/results/memory_probe[-NAME].json``
after every evaluation; ``--figure-only`` draws ``docs/memory-probe.png`` from every result.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.reward_probe import add_probe_arguments, probe_model  # noqa: E402
from langstream.cli import Parser, positive_int  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "memory-probe.png"
LINES = 16  # time lines of the replay, as the trainer's 16 envs
IMAGE = (4, 4, 1)  # channel 0: the read-phase flag
ACTIONS = 5  # as Messenger's; the actions never matter here


def cue_rows(lines: int, steps: int, delay: int, cues: int, rng: np.random.Generator,
             phase: bool = True) -> dict[str, np.ndarray]:
    """``steps`` rows of ``lines`` time lines, (steps, lines, ...), each line a run of cue
    episodes of ``delay + 2`` rows; with ``phase`` every line starts at a random point of an
    episode, without it every line starts an episode at row 0."""
    length = delay + 2
    offset = rng.integers(0, length, lines) if phase else np.zeros(lines, np.int64)
    t = np.arange(steps)[:, None] + offset[None]  # (steps, lines)
    episode, step = t // length, t % length
    cue = rng.integers(0, cues, (int(episode.max()) + 1, lines))
    cue = np.take_along_axis(cue, episode, 0)
    last = step == length - 1
    image = np.zeros((steps, lines, *IMAGE), np.uint8)
    image[..., 0, 0, 0] = step <= delay
    return {"image": image,
            "token": np.where(step == 0, 1 + cue, 0).astype(np.int32),
            "reward": np.where(last, np.where(cue == 0, 1.0, -1.0), 0.0).astype(np.float32),
            "is_first": step == 0, "is_terminal": last,
            "action": rng.integers(0, ACTIONS, (steps, lines)).astype(np.int32)}


def probe_delay(cfg: Any, delay: int, cues: int, updates: int, eval_every: int,
                eval_episodes: int, report: Any = None) -> list[dict[str, Any]]:
    """Train a fresh world model on cue episodes of ``delay`` padded steps; its ranking
    accuracy every ``eval_every`` updates, each row also passed to ``report(row)``."""
    import jax

    from agent import dists, nets
    from agent.dynalang import learner as dynalang
    from agent.envs import Spec
    from agent.replay import Replay
    rng = np.random.default_rng(cfg.seed)
    steps = 12_000  # per line: 192,000 rows, as the reward probe's scripted play
    replay = Replay(LINES * steps, LINES, seed=cfg.seed)
    for row in _by_step(cue_rows(LINES, steps, delay, cues, rng)):
        replay.add(row)
    held_out = {k: np.swapaxes(v, 0, 1) for k, v in
                cue_rows(eval_episodes, delay + 2, delay, cues, rng, phase=False).items()}
    won = held_out["reward"][:, -1] > 0

    spec = Spec(image_shape=IMAGE, vocab_size=cues + 1, n_actions=ACTIONS, binary_image=True)
    net = dynalang.build(cfg, spec)
    ts = dynalang.init_train_state(cfg, spec, jax.random.PRNGKey(cfg.seed))
    update = dynalang.make_model_update(cfg, spec)
    bins = dists.twohot_bins(cfg.bins)

    @jax.jit
    def last_reward(params: Any, batch: dict[str, Any]) -> Any:
        posts, _ = dynalang.observe(net, params["wm"], batch, spec.n_actions,
                                    jax.random.PRNGKey(0))
        return dists.twohot_mean(net.reward.apply(params["wm"]["reward"],
                                                  nets.feat(posts)), bins)[:, -1]

    curve, start = [], time.time()
    for u in range(1, updates + 1):
        ts, metrics = update(ts, replay.sample(cfg.batch_size, cfg.batch_length))
        if u % eval_every == 0 or u == updates:
            # rewarded rows the model has been trained on (about one per chunk's episode)
            seen = round(u * cfg.batch_size * cfg.batch_length / (delay + 2))
            row = scored(u, start, seen, np.asarray(last_reward(ts.params, held_out)), won,
                         metrics["reward_loss"])
            curve.append(row)
            if report:
                report(row)
    return curve


def gru_control(cfg: Any, delay: int, cues: int, updates: int, eval_every: int,
                eval_episodes: int, report: Any = None) -> list[dict[str, Any]]:
    """The control: a plain GRU of the world model's width (``cfg.deter``, no stochastic
    latents, no layer norm, no other loss), trained with the same optimiser settings on as
    many cue episodes per update as the world model sees (one chunk's worth), to predict the
    last step's reward from the tokens and the read-phase flag."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    from agent.optim import clipped_adam

    class Reader(nn.Module):
        @nn.compact
        def __call__(self, token: jnp.ndarray, flag: jnp.ndarray) -> jnp.ndarray:
            x = jnp.concatenate([nn.Embed(cues + 1, cfg.token_embed)(token), flag[..., None]], -1)
            h = nn.RNN(nn.GRUCell(cfg.deter))(x)[:, -1]
            return nn.Dense(1)(nn.silu(nn.Dense(cfg.mlp_units)(h)))[..., 0]

    rng = np.random.default_rng(cfg.seed)
    per_update = max(1, cfg.batch_size * cfg.batch_length // (delay + 2))

    def episodes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = {k: np.swapaxes(v, 0, 1) for k, v in
                cue_rows(n, delay + 2, delay, cues, rng, phase=False).items()}
        return rows["token"], rows["image"][..., 0, 0, 0].astype(np.float32), rows["reward"][:, -1]

    model = Reader()
    token, flag, _ = episodes(1)
    params = model.init(jax.random.PRNGKey(cfg.seed), token, flag)
    optimizer = clipped_adam(cfg.model_lr, cfg.model_eps, cfg.model_clip)  # the world model's
    opt = optimizer.init(params)

    @jax.jit
    def update(params: Any, opt: Any, token: Any, flag: Any, reward: Any) -> tuple:
        loss, grads = jax.value_and_grad(
            lambda p: ((model.apply(p, token, flag) - reward) ** 2).mean())(params)
        changes, opt = optimizer.update(grads, opt, params)
        return optax.apply_updates(params, changes), opt, loss

    held_token, held_flag, held_reward = episodes(eval_episodes)
    won = held_reward > 0
    predict = jax.jit(model.apply)
    curve, start = [], time.time()
    for u in range(1, updates + 1):
        params, opt, loss = update(params, opt, *episodes(per_update))
        if u % eval_every == 0 or u == updates:
            row = scored(u, start, u * per_update,
                         np.asarray(predict(params, held_token, held_flag)), won, loss)
            curve.append(row)
            if report:
                report(row)
    return curve


def scored(updates: int, start: float, seen: int, predicted: np.ndarray, won: np.ndarray,
           loss: Any) -> dict[str, Any]:
    """One row of a curve: the ranking accuracy of ``predicted`` rewards (held-out episodes,
    ``won`` where the cue was the first) and the mean prediction for each kind."""
    from benchmarks.reward_probe import ranking_accuracy

    return {"updates": updates, "seconds": round(time.time() - start, 1), "rewards_seen": seen,
            "ranking": round(ranking_accuracy(predicted[won], predicted[~won]), 3),
            "right_mean": round(float(predicted[won].mean()), 4),
            "wrong_mean": round(float(predicted[~won].mean()), 4),
            "reward_loss": round(float(loss), 4)}


def _by_step(rows: dict[str, np.ndarray]) -> Any:
    for t in range(len(rows["token"])):
        yield {k: v[t] for k, v in rows.items()}


def build_parser() -> Parser:
    parser = Parser(description=__doc__.split("\n\n")[0],
                    epilog="Model: the learning check's tiny model with --reward-scale 30; "
                           "every agent.train model flag below overrides it.")
    parser.add_argument("--delays", type=_delays, default=[3, 8, 16, 30],
                        help="padded steps between cue and reward, comma-separated "
                             "(default: 3,8,16,30)")
    parser.add_argument("--cues", type=positive_int, default=3, help="how many cue tokens")
    parser.add_argument("--updates", type=positive_int, default=2000)
    parser.add_argument("--eval-every", type=positive_int, default=500)
    parser.add_argument("--eval-episodes", type=positive_int, default=400)
    parser.add_argument("--gru-control", action="store_true",
                        help="train the control instead: a plain GRU of the same width, told "
                             "the reward directly (see gru_control)")
    add_probe_arguments(parser, FIGURE)
    return parser


def _delays(text: str) -> list[int]:
    try:
        delays = [int(part) for part in text.split(",")]
    except ValueError:
        delays = []
    if not delays or min(delays) < 0:
        raise argparse.ArgumentTypeError(f"comma-separated whole numbers >= 0, got {text!r}")
    return delays


def model_config(args: Any) -> Any:
    """The probe's model: the learning check's tiny one, reward loss x30, then the flags."""
    return probe_model(args, reward_scale=30.0)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.figure_only:
        print(f"wrote {_shown(figure())}")
        return
    cfg = model_config(args)
    path = RESULTS / f"memory_probe{'-' + args.name if args.name else ''}.json"
    print(f"results: {_shown(path)}", flush=True)
    result: dict[str, Any] = {"args": vars(args), "config": vars(cfg), "curves": {}}
    start = time.time()

    for delay in args.delays:
        curve: list[dict[str, Any]] = []
        result["curves"][str(delay)] = curve

        def report(row: dict[str, Any], delay: int = delay) -> None:
            curve.append(row)
            print(json.dumps({"delay": delay, **row}), flush=True)
            result["wall_clock_s"] = round(time.time() - start)
            RESULTS.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result, indent=1) + "\n")

        run = gru_control if args.gru_control else probe_delay
        run(cfg, delay, args.cues, args.updates, args.eval_every, args.eval_episodes, report)
    print(f"wrote {_shown(path)}; figure: python {Path(__file__).name} --figure-only")


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def figure() -> Path:
    """``docs/memory-probe.png``: for the shorter delays, the ranking accuracy by update of every
    result file that probed them (one colour per file); for the longest, where most variants
    were tried, one row per variant with a marker per seed at the ranking its run ended on."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.leaderboard.show import save_figure

    results = {path.stem.removeprefix("memory_probe").lstrip("-") or "default":
               json.loads(path.read_text()) for path in sorted(RESULTS.glob("memory_probe*.json"))}
    delays = sorted({int(d) for r in results.values() for d in r["curves"]})
    fig, axes = plt.subplots(1, len(delays), figsize=(3.4 * len(delays) + 4.5, 5.2), dpi=110,
                             squeeze=False, gridspec_kw={"width_ratios": [1] * (len(delays) - 1)
                                                         + [1.8]})
    drawn = [name for name, r in results.items() if set(r["curves"]) - {str(delays[-1])}]
    palette = (plt.cm.tab20.colors if len(drawn) <= 20  # type: ignore[attr-defined]
               else plt.cm.turbo(np.linspace(0, 1, len(drawn))))
    colours = dict(zip(drawn, palette))  # distinct colours for the files drawn as curves
    lines = {}  # one legend entry per result file, whichever panels it appears in
    for ax, delay in zip(axes[0][:-1], delays[:-1]):
        for name in drawn:
            curve = results[name]["curves"].get(str(delay))
            if curve:
                lines[name], = ax.plot([row["updates"] for row in curve],
                                       [row["ranking"] for row in curve], "o-",
                                       color=colours[name], ms=3, label=name)
        ax.axhline(0.5, color="grey", lw=1)
        ax.set(title=f"{delay} padded steps", xlabel="world-model updates (8 x 128 steps)",
               ylim=(0.2, 1.02), ylabel="P(reward of cue 1 ranked above the others)")
    _ends_by_variant(axes[0][-1], results, delays[-1])
    fig.suptitle("Dynalang world model: carrying one token to a reward "
                 "(tiny model unless named; 2-core CPU)", fontsize=10)
    rows = 0
    if lines:
        fig.legend(lines.values(), lines.keys(), fontsize=7, loc="lower center",
                   ncol=min(len(lines), 8))
        rows = (len(lines) + 7) // 8
    fig.tight_layout(rect=(0, 0.035 * rows, 1, 1))
    return save_figure(fig, FIGURE)


#: markers of seeds 0, 1, 2, ... in the last panel
SEED_MARKERS = "osD^v<>p"


def variant_of(name: str) -> str:
    """The variant a result file belongs to: its name without a trailing seed."""
    return re.sub(r"-?seed\d+$", "", name) or "default"


def _ends_by_variant(ax: Any, results: dict[str, Any], delay: int) -> None:
    """One row per variant, a marker per seed at the ranking its run ended on, labelled with
    the updates it had by then."""
    ends: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for name, result in results.items():
        curve = result["curves"].get(str(delay))
        if curve:
            ends.setdefault(variant_of(name), []).append((result["config"]["seed"], curve[-1]))
    seeds = sorted({seed for runs in ends.values() for seed, _ in runs})
    # best mean ending at the top; seeds side by side within a row
    order = sorted(ends, key=lambda v: np.mean([row["ranking"] for _, row in ends[v]]))
    for y, variant in enumerate(order):
        for seed, row in ends[variant]:
            row_y = y + 0.5 * (seeds.index(seed) + 0.5) / len(seeds) - 0.25
            ax.plot(row["ranking"], row_y, SEED_MARKERS[seed % len(SEED_MARKERS)],
                    color="black", mfc="none", ms=4)
            ax.annotate(f"{row['updates']:,}", (row["ranking"], row_y), fontsize=6,
                        xytext=(-4, 0), textcoords="offset points", ha="right", va="center")
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.axvline(0.5, color="grey", lw=1)
    ax.set(xlim=(0.3, 1.04), ylim=(-0.6, len(order) - 0.4),
           title=f"{delay} padded steps: where each run ended",
           xlabel="ranking at the run's last evaluation (label: updates)")
    for seed in seeds:
        ax.plot([], [], SEED_MARKERS[seed % len(SEED_MARKERS)], color="black", mfc="none",
                label=f"seed {seed}")
    ax.legend(fontsize=7, loc="lower right")


if __name__ == "__main__":
    main()
