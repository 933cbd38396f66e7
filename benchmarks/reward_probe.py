"""Reward probe: can Dynalang's world model tie the manual to the board, with no RL at all?

    python benchmarks/reward_probe.py                        # the learning check's tiny model
    python benchmarks/reward_probe.py --deter 256 --hidden 256 --name wide
    python benchmarks/reward_probe.py --reader --data-steps 15000 --updates 8000  # reference
    python benchmarks/reward_probe.py --checkpoint runs/learning_check/*  # score RL runs

Messenger-S1 is won by touching the right entity, and which one is right is told only by the
manual.  An agent can only learn to read if its world model learns to predict the reward of a
touch from the manual: +1 for the entity the manual names as the message (or the goal when the
avatar carries the message), -1 for the others.  This probe measures exactly that, much faster
than an RL run:

1. plays S1 with a scripted policy that waits through the manual, then walks to one of the
   three entities picked at random (the pick ignores the manual, so one touch in three is the
   right one), and stores the steps in the agent's replay;
2. trains the world model alone on chunks from that replay (``make_model_update``), with the
   learning check's recipe and any ``agent.train`` model flag;
3. every ``--eval-every`` updates, reads the reward head at every touch of held-out episodes of
   the training games and of the test games (each entity in a role it never had in training)
   and reports its *ranking accuracy*: the chance that a right touch is predicted a higher
   reward than a wrong one.  On the training games, memorising which symbols tend to be the
   message lifts it above 0.5 without reading; on the test games a model that does not read
   scores 0.5 at best, and one that leans on what it memorised scores below 0.5.

``--reader`` trains a plain supervised GRU reader instead, told which entity was touched: how
fast reading *could* be learned from this many episodes.

Writes ``benchmarks/results/reward_probe[-NAME].json`` (or ``reader_baseline[-NAME].json``: the
curve, the config, wall-clock time) after every evaluation, so a stopped run keeps its curve;
``--figure-only`` draws ``docs/reward-probe-s1.png`` from every committed result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langstream.checks import FRACTION  # noqa: E402
from langstream.cli import Parser, number, positive_int  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURE = ROOT / "docs" / "reward-probe-s1.png"
ENV = "Messenger-S1-v0"
STAY = 4
#: episodes of S1 are at most this many observations (manual, reset observation, step limit)
EPISODE_ROWS = 64


def scripted_actions(image: np.ndarray, read: np.ndarray, targets: np.ndarray,
                     rng: np.random.Generator, noise: float) -> np.ndarray:
    """Walk each env's avatar towards its target symbol (stay while reading); with probability
    ``noise`` take a random action instead."""
    from messenger_s2.entities import ACTION_DELTAS, AVATAR, AVATAR_WITH_MESSAGE

    actions = np.full(len(image), STAY, np.int64)
    for i, grid in enumerate(image):
        if read[i]:
            continue
        avatar = np.argwhere(grid[..., AVATAR] | grid[..., AVATAR_WITH_MESSAGE])
        target = np.argwhere(grid[..., targets[i]])
        if not len(avatar) or not len(target):
            continue
        delta = target[0] - avatar[0]
        moves = [a for a, (dr, dc) in enumerate(ACTION_DELTAS[:4])
                 if (dr and np.sign(dr) == np.sign(delta[0])) or
                 (dc and np.sign(dc) == np.sign(delta[1]))]
        if moves:
            actions[i] = rng.choice(moves)
    random = rng.random(len(image)) < noise
    actions[random] = rng.integers(0, 5, random.sum())
    return actions


def pick_targets(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One entity symbol on each board, uniformly."""
    from messenger_s2.entities import ENTITY_NAMES

    symbols = np.array(list(ENTITY_NAMES))
    present = image[:, :, :, symbols].any((1, 2))  # (n, 12)
    return np.array([rng.choice(symbols[row]) for row in present])


#: ``--bound-manual``: the first id of the (entity, role) tokens that replace the manual
BOUND_BASE = 120
#: where ``--bound-manual`` says the pair tokens (see BoundManual)
BOUND_MODES = ("once", "late", "repeat", "sentence")


class BoundManual:
    """A diagnostic stand-in for contextual token vectors (the paper streamed T5's, in which a
    word already carries its sentence): the manual's words are replaced by three tokens, one
    per sentence, each naming an (entity, role) pair outright, in a random order; the other
    read steps carry ``<pad>``.  A model that cannot learn from this cannot read at all; one
    that learns from this but not from the words is held back by tying words into pairs.

    ``once``: the three tokens on the first three read steps (about 30 steps before the touch,
    as the manual's first sentence).  ``late``: on the last three read steps instead, so they
    are held 3 to 10 steps (the distance the memory probe finds the tiny model carrying a
    token): a model that learns from this but not from ``once`` is held back by how far it must
    carry them.  ``repeat``: the three tokens cycle through every step of the episode, so that
    none has to be remembered for more than three steps: a model that learns from this but not
    from ``late`` is held back by memory, not by matching pairs to the board.  ``sentence``:
    every read step of a sentence carries that sentence's pair token, as every streamed T5
    vector of a sentence carries the sentence (the manual's length and order are kept; only
    what each step says is idealised)."""

    def __init__(self, num_envs: int, rng: np.random.Generator, mode: str = "once"):
        if mode not in BOUND_MODES:
            raise ValueError(f"unknown bound-manual mode {mode!r}; modes: "
                             f"{', '.join(BOUND_MODES)}")
        self.rng, self.mode = rng, mode
        self.read = np.zeros(num_envs, np.int64)  # pair tokens said this episode
        self.seen = np.zeros(num_envs, np.int64)  # read steps seen this episode
        self.length = np.zeros(num_envs, np.int64)  # read steps of this episode's manual
        self.order = np.stack([rng.permutation(3) for _ in range(num_envs)])
        self.sentence_pairs: list[np.ndarray] = [np.zeros(0, np.int64)] * num_envs

    def tokens(self, obs: dict[str, np.ndarray], info: dict[str, Any]) -> np.ndarray:
        from langstream.vocab import tokenize
        from messenger_s2.entities import ENTITY_ID, ROLES

        first = obs["is_first"]
        self.read[first] = 0
        self.seen[first] = 0
        for i in np.flatnonzero(first):
            self.order[i] = self.rng.permutation(3)
            self.length[i] = sum(len(tokenize(text)) for text in info["manual"][i])
            if self.mode == "sentence":
                self.sentence_pairs[i] = sentence_pair_tokens(
                    info["manual"][i], {ROLES[r]: info["roles"][ROLES[r]][i] for r in range(3)})
        out = np.zeros_like(obs["token"])
        reading = obs["is_read_step"].astype(bool)
        if self.mode == "sentence":
            for i in np.flatnonzero(reading):
                pairs = self.sentence_pairs[i]
                out[i] = pairs[min(self.seen[i], len(pairs) - 1)]
            self.seen += reading
            return out
        if self.mode == "repeat":
            said = np.ones_like(reading)
        elif self.mode == "late":
            said = reading & (self.seen >= self.length - 3)
        else:
            said = reading & (self.read < 3)
        for i in np.flatnonzero(said):
            role = self.order[i, self.read[i] % 3]
            entity = ENTITY_ID[info["roles"][ROLES[role]][i]] - 2
            out[i] = BOUND_BASE + 3 * entity + role
        self.read += said
        self.seen += reading
        return out


def sentence_pair_tokens(manual: Sequence[str], roles: dict[str, str]) -> np.ndarray:
    """For each token of the manual (sentence after sentence), the pair token of its sentence's
    (entity, role); the entity is the one whose synonym the sentence names (grammar texts)."""
    from langstream.vocab import tokenize
    from messenger_s2.entities import ENTITY_ID, ROLES
    from messenger_s2.grammar import SYNONYMS

    role_of = {entity: ROLES.index(role) for role, entity in roles.items()}
    out: list[int] = []
    for text in manual:
        words = tokenize(text)
        named = [e for e in role_of if set(SYNONYMS[e]) & set(words)]
        if len(named) != 1:
            raise ValueError(f"cannot tell which entity {text!r} is about (names {named})")
        out += [BOUND_BASE + 3 * (ENTITY_ID[named[0]] - 2) + role_of[named[0]]] * len(words)
    return np.array(out, np.int64)


def play(env_cfg: Any, num_envs: int, steps: int, seed: int, noise: float,
         sink: Any, bound: str = "") -> dict[str, float]:
    """Play ``steps`` env steps per env with the scripted policy; ``sink(row)`` receives each
    step as the trainer would store it (with ``bound``, the manual as :class:`BoundManual`
    tokens).  Returns the episodes finished and the share of them that end in a touch."""
    rng = np.random.default_rng(seed)
    env = env_cfg.adapter(num_envs, seed)
    obs = env.reset()
    manual = BoundManual(num_envs, rng, bound) if bound else None
    targets = pick_targets(obs["image"], rng)
    for _ in range(steps):
        action = scripted_actions(obs["image"], obs["is_read_step"], targets, rng, noise)
        token = manual.tokens(obs, env.last_info) if manual else obs["token"]
        sink({**{k: obs[k] for k in ("image", "reward", "is_first", "is_terminal", "sentence")
                 if k in obs},
              "token": token, "action": action.astype(np.int32)})
        obs = env.step(action)
        if obs["is_first"].any():
            fresh = pick_targets(obs["image"], rng)
            targets = np.where(obs["is_first"], fresh, targets)
    done = env.take_completed()
    env.close()
    won = np.mean([e["return"] > 0 for e in done]) if done else 0.0
    return {"episodes": len(done), "won": float(won)}


def held_out_episodes(env_cfg: Any, episodes: int, seed: int, noise: float,
                      bound: str = "") -> dict[str, np.ndarray]:
    """``episodes`` whole episodes, each padded to ``EPISODE_ROWS`` rows: (N, T, ...) arrays."""
    rows: list[dict[str, np.ndarray]] = []
    play(env_cfg, 1, episodes * 40, seed, noise, rows.append, bound)
    starts = [t for t, row in enumerate(rows) if row["is_first"][0]] + [len(rows)]
    out: dict[str, list[np.ndarray]] = {}
    for a, b in zip(starts[:-1], starts[1:]):
        if b - a > EPISODE_ROWS or b == len(rows):  # the last one may be cut short
            continue
        for key in rows[0]:
            col = np.concatenate([rows[t][key] for t in range(a, b)])
            pad = np.zeros((EPISODE_ROWS - len(col), *col.shape[1:]), col.dtype)
            out.setdefault(key, []).append(np.concatenate([col, pad]))
        if len(out["token"]) == episodes:
            break
    return {k: np.stack(v) for k, v in out.items()}


def ranking_accuracy(right: np.ndarray, wrong: np.ndarray) -> float:
    """The chance that a right touch gets a higher predicted reward than a wrong one (ties
    count half): 0.5 for a model that cannot tell them apart, 1.0 for one that always can."""
    above = (right[:, None] > wrong[None, :]).mean()
    ties = (right[:, None] == wrong[None, :]).mean()
    return float(above + 0.5 * ties)


def reader_examples(episodes: int, seed: int, split: str) -> dict[str, np.ndarray]:
    """For the reader baseline: each episode's manual tokens (padded to ``EPISODE_ROWS``), its
    three entity symbols, which of them is the one to touch, and whether the avatar carries the
    message, from the env's ground truth (``info["roles"]``)."""
    import gymnasium as gym

    import messenger_s2  # noqa: F401  (registers the ids)
    from messenger_s2.entities import AVATAR_WITH_MESSAGE, ENTITY_ID, ROLES

    out = {"token": np.zeros((episodes, EPISODE_ROWS), np.int32),
           "symbol": np.zeros((episodes, 3), np.int32), "right": np.zeros((episodes, 3), bool),
           "carrying": np.zeros(episodes, np.int32)}
    with gym.make(ENV, split=split) as env:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            tokens = [obs["token"]]
            while obs["is_read_step"]:
                obs, *_ = env.step(STAY)
                tokens.append(obs["token"])
            carrying = bool(obs["grid"][..., AVATAR_WITH_MESSAGE].any())
            target = info["roles"]["goal" if carrying else "message"]
            out["token"][i, :len(tokens)] = tokens[:EPISODE_ROWS]
            out["symbol"][i] = [ENTITY_ID[info["roles"][role]] for role in ROLES]
            out["right"][i] = [info["roles"][role] == target for role in ROLES]
            out["carrying"][i] = carrying
    return out


def blind_reader_accuracy(episodes: int, seed: int) -> dict[str, float]:
    """The reader's score for the best policy blind to the manual, on the reader's held-out
    episodes: the share whose likeliest entity, by the symbols alone, is the right one."""
    from benchmarks.learning_check import bayes_blind_returns, training_odds

    odds = training_odds()
    return {split: round(float(np.mean(bayes_blind_returns(episodes, 10**6 + seed, split,
                                                           odds) > 0)), 3)
            for split in ("train", "test")}


def reader_model() -> Any:
    """The supervised reader: a 64-unit GRU over the manual's tokens (embedded in 32), then an
    MLP on its last state, the entity's symbol and whether the avatar carries the message: one
    logit per entity, that touching it wins."""
    import flax.linen as nn
    import jax.numpy as jnp

    class Reader(nn.Module):
        units: int = 64

        @nn.compact
        def __call__(self, token: jnp.ndarray, symbol: jnp.ndarray,
                     carrying: jnp.ndarray) -> jnp.ndarray:
            text = nn.RNN(nn.GRUCell(self.units))(nn.Embed(256, 32)(token))[:, -1]
            query = jnp.concatenate([nn.Embed(32, 32)(symbol), jnp.broadcast_to(
                nn.Embed(2, 32)(carrying)[:, None], (*symbol.shape, 32))], -1)
            x = jnp.concatenate([jnp.broadcast_to(text[:, None], (*symbol.shape, self.units)),
                                 query], -1)
            return nn.Dense(1)(nn.silu(nn.Dense(128)(x)))[..., 0]

    return Reader()


def reader_baseline(episodes: int, updates: int, eval_every: int, eval_episodes: int,
                    seed: int) -> list[dict[str, float]]:
    """A plain GRU reader trained with supervision, the reference for how fast reading *could*
    be learned from this many episodes: it reads the manual's tokens, is told the symbol of an
    entity and whether the avatar carries the message, and predicts whether touching that
    entity wins.  Reports the share of held-out episodes whose highest-scored entity is the
    right one, on training games and on test games."""
    import jax
    import jax.numpy as jnp
    import optax

    data = reader_examples(episodes, seed, "train")
    held_out = {split: reader_examples(eval_episodes, 10**6 + seed, split)
                for split in ("train", "test")}
    model = reader_model()
    params = model.init(jax.random.PRNGKey(seed), data["token"][:1], data["symbol"][:1],
                        data["carrying"][:1])
    optimizer = optax.adam(1e-3)
    opt = optimizer.init(params)

    def loss(params: Any, batch: dict[str, jnp.ndarray]) -> jnp.ndarray:
        logits = model.apply(params, batch["token"], batch["symbol"], batch["carrying"])
        return optax.sigmoid_binary_cross_entropy(logits, batch["right"]).mean()

    @jax.jit
    def update(params: Any, opt: Any, batch: dict[str, jnp.ndarray]) -> tuple:
        grads = jax.grad(loss)(params, batch)
        changes, opt = optimizer.update(grads, opt)
        return optax.apply_updates(params, changes), opt

    @jax.jit
    def accuracy(params: Any, batch: dict[str, jnp.ndarray]) -> jnp.ndarray:
        logits = model.apply(params, batch["token"], batch["symbol"], batch["carrying"])
        picked = jnp.argmax(logits, -1)
        return jnp.take_along_axis(batch["right"], picked[:, None], 1).mean()

    rng = np.random.default_rng(seed)
    curve, t0 = [], time.time()
    for u in range(1, updates + 1):
        rows = rng.integers(0, episodes, 64)
        params, opt = update(params, opt, {k: v[rows] for k, v in data.items()})
        if u % eval_every == 0 or u == updates:
            row = {"updates": u, "seconds": round(time.time() - t0, 1),
                   **{split: round(float(accuracy(params, batch)), 3)
                      for split, batch in held_out.items()}}
            curve.append(row)
            print(json.dumps(row), flush=True)
    return curve


def learning_check_model() -> dict[str, Any]:
    """The config fields of the learning check's tiny model on S1: its ``agent.train`` flags
    (``benchmarks.learning_check.MODELS``) over the S1 recipe (chunks of 128 steps)."""
    from agent.dynalang.recipes import recipe_overrides
    from benchmarks.learning_check import model_fields

    return {**recipe_overrides(ENV), **model_fields("tiny")}


def probe_model(args: Any, **defaults: Any) -> Any:
    """A probe's model: the ``--preset`` (tiny if none), the learning check's tiny fields, the
    probe's own ``defaults``, then every model flag given."""
    from agent.config_flags import overrides_of
    from agent.dynalang.config import Config

    return Config.preset(args.preset or "tiny", **{**learning_check_model(), **defaults,
                                                   **overrides_of(args, Config)})


def build_parser() -> Parser:
    parser = Parser(description=__doc__.split("\n\n")[0],
                    epilog="Model: the learning check's tiny model (its MODELS['tiny'] on the S1 "
                           "recipe); every agent.train model flag below overrides it.")
    parser.add_argument("--data-steps", type=positive_int, default=12_000,
                        help="env steps of scripted play per env (16 envs) to train on")
    parser.add_argument("--updates", type=positive_int, default=3000)
    parser.add_argument("--eval-every", type=positive_int, default=500)
    parser.add_argument("--eval-episodes", type=positive_int, default=400)
    parser.add_argument("--noise", type=number(float, FRACTION), default=0.1,
                        help="share of random actions in the scripted play")
    parser.add_argument("--reader", action="store_true",
                        help="train the supervised GRU reader instead of the world model "
                             "(--data-steps then counts episodes)")
    parser.add_argument("--checkpoint", nargs="+", metavar="RUN",
                        help="score the world model of these trained S1 runs (agent.train run "
                             "directories or checkpoint files) instead of training one; writes "
                             "benchmarks/results/reward_probe_checkpoints[-NAME].json")
    parser.add_argument("--bound-manual", choices=BOUND_MODES, default="",
                        help="diagnostic: replace the manual's words by one token per "
                             "(entity, role) pair, said on the first three read steps, on the "
                             "last three, cycled through every step, or on every word of its "
                             "sentence (see BoundManual)")
    parser.add_argument("--sentence-context", action="store_true",
                        help="the world model also reads each word's sentence as a bag of "
                             "words (agent.train --sentence-context)")
    add_probe_arguments(parser, FIGURE)
    return parser


def add_probe_arguments(parser: Parser, figure: Path) -> None:
    """What every probe's command line ends with: ``--name``, ``--figure-only`` (redraw
    ``figure``) and every ``agent.train`` model flag."""
    from agent.config_flags import add_arguments
    from agent.dynalang.config import Config

    parser.add_argument("--name", default="", help="suffix of the result file")
    parser.add_argument("--figure-only", action="store_true",
                        help=f"only redraw {figure.relative_to(ROOT)} from the result files")
    add_arguments(parser, Config)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.bound_manual and args.sentence_context:
        parser.error("--bound-manual replaces the manual's words, --sentence-context adds their "
                     "bags: the bags would give the real manual away; use one of them")
    if args.figure_only:
        print(f"wrote {figure().relative_to(ROOT)}")
        return
    if args.checkpoint:
        scores = []
        for run in args.checkpoint:
            scores.append({"run": run, **probe_checkpoint(run, args.eval_episodes, args.noise)})
            print(json.dumps(scores[-1]), flush=True)
        path = RESULTS / f"reward_probe_checkpoints{'-' + args.name if args.name else ''}.json"
        path.write_text(json.dumps({"args": vars(args), "runs": scores}, indent=1) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
        return
    print(f"results: {result_path(args).relative_to(ROOT)}", flush=True)
    cfg = probe_model(args)
    start = time.time()
    if args.reader:
        curve = reader_baseline(args.data_steps, args.updates, args.eval_every,
                                args.eval_episodes, cfg.seed)
        write(args, {"reader": "GRU 64, embeddings 32, Adam 1e-3, batch 64",
                     "episodes": args.data_steps, "curve": curve,
                     "blind": blind_reader_accuracy(args.eval_episodes, cfg.seed),
                     "wall_clock_s": round(time.time() - start)})
        return

    args.state = f"runs/reward_probe/{args.name or 'default'}.pkl"  # resumed from when present

    def report(stats: dict[str, Any], curve: list[dict[str, Any]]) -> None:
        # Wall clock over every session of a resumed probe (its curve's seconds are too).
        earlier = stats.get("earlier_sessions_s", 0.0)
        write(args, {"config": vars(cfg), "data": stats, "curve": curve,
                     "wall_clock_s": round(time.time() - start + earlier)})

    world_model_probe(cfg, args, report)


def figure() -> Path:
    """``docs/reward-probe-s1.png`` from every committed probe result: the world model's
    ranking accuracy by update (training games solid, test games dashed) beside the reader's
    accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.leaderboard.show import save_figure

    # The plots on top, the world model's long legend (a line per probe) in the space below.
    fig = plt.figure(figsize=(12, 12), dpi=110)
    wm_ax = fig.add_axes((0.07, 0.56, 0.52, 0.38))
    reader_ax = fig.add_axes((0.67, 0.56, 0.31, 0.38))
    wm_ax.set_prop_cycle(color=plt.colormaps["tab20"].colors)  # a colour per probe
    blind = None
    for path in sorted(RESULTS.glob("reward_probe-*.json")):
        result = json.loads(path.read_text())
        curve = result["curve"]
        x = [row["updates"] for row in curve]
        line, = wm_ax.plot(x, [row["train"] for row in curve], "o-",
                           label=f"{probe_label(path, result)}, training games")
        if not result["args"].get("bound_manual"):  # test games' pair tokens were never seen
            wm_ax.plot(x, [row["test"] for row in curve], "s--", color=line.get_color(),
                       label="  the same, test games")
        blind = result["data"].get("blind", blind)  # results before the blind bar lack it
    if blind:
        _blind_lines(wm_ax, blind)
    wm_ax.axhline(0.5, color="grey", lw=1)
    wm_ax.set(xlabel="world-model updates (8 x 128 steps)", ylim=(0, 1),
              ylabel="P(right touch predicted above a wrong one)",
              title="world model (tiny unless said): reward of a touch")
    wm_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(-0.1, -0.09))
    readers = sorted(RESULTS.glob("reader_baseline*.json"))
    for path, marker in zip(readers, "ovD^"):
        result = json.loads(path.read_text())
        x = [row["updates"] for row in result["curve"]]
        line, = reader_ax.plot(x, [row["train"] for row in result["curve"]], marker + "-",
                               label=f"{result['episodes']:,} episodes: training games")
        reader_ax.plot(x, [row["test"] for row in result["curve"]], marker + "--",
                       color=line.get_color(), label="  the same, test games")
        if path == readers[0]:  # the same held-out episodes for every reader
            _blind_lines(reader_ax, result["blind"])
    reader_ax.axhline(1 / 3, color="grey", lw=1)
    reader_ax.set(xlabel="updates (64 episodes)", ylim=(-0.02, 1),
                  ylabel="share of episodes whose best-scored entity is right",
                  title="supervised GRU reader, told the entity")
    reader_ax.legend(fontsize=7, loc="center right")
    fig.suptitle("Messenger-S1: can a model learn which touch wins from the manual? "
                 "(2-core CPU)", fontsize=10)
    return save_figure(fig, FIGURE)


def probe_label(path: Path, result: dict[str, Any]) -> str:
    """What a probe result varied, for the figure's legend."""
    cfg = result["config"]
    loss = ("reward loss only" if cfg.get("image_scale") == 0 and cfg.get("token_scale") == 0
            else f"reward loss x{cfg.get('reward_scale', 1.0):g}")
    manual = {"once": ", manual as 3 pair tokens", "late": ", 3 pair tokens just before play",
              "repeat": ", pair tokens every step",
              "sentence": ", each word as its sentence's pair token"}.get(
        result["args"].get("bound_manual") or "", "")
    if result["args"].get("sentence_context"):
        manual += ", words with their sentence's bag"
    from agent.dynalang.config import Config

    base = vars(Config.preset("tiny"))  # the probes' model, before flags
    model = {**base, **cfg}
    changes = "".join(text for changed, text in (
        (model["deter"] != base["deter"], f", {model['deter']}-unit GRU"),
        (model["gru_update_bias"] != base["gru_update_bias"],
         f", update-gate bias {model['gru_update_bias']:g}"),
        (model["gate_norm"] != base["gate_norm"], ", gates unnormed"),
        (model["gru_reads_mode"] != base["gru_reads_mode"], ", GRU reads z's mode"),
        (model["mlp_layers"] != base["mlp_layers"] or model["mlp_units"] != base["mlp_units"],
         f", MLPs {model['mlp_layers']} x {model['mlp_units']}"))
        if changed)
    return f"{path.stem.removeprefix('reward_probe-')}: {loss}{manual}{changes}"


def _blind_lines(ax: Any, blind: dict[str, float]) -> None:
    """The score of the best model blind to the manual, on both kinds of games."""
    ax.axhline(blind["train"], color="tab:red", lw=1, ls=":",
               label=f"blind to the manual, training games ({blind['train']:.2f})")
    ax.axhline(blind["test"], color="tab:red", lw=1, ls="-.",
               label=f"blind to the manual, test games ({blind['test']:.2f})")


def result_path(args: Any) -> Path:
    name = "reader_baseline" if args.reader else "reward_probe"
    return RESULTS / f"{name}{'-' + args.name if args.name else ''}.json"


def write(args: Any, result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_path(args).write_text(json.dumps({"args": vars(args), **result}, indent=1) + "\n")


def world_model_probe(cfg: Any, args: Any, report: Any = None
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scripted play into a replay, then world-model updates with the probe every
    ``args.eval_every``, each passed to ``report(stats, curve)`` (so a stopped run keeps its
    curve so far): (play statistics, the curve)."""
    import jax

    from agent.dynalang import learner as dynalang
    from agent.replay import Replay
    from agent.runner import EnvConfig

    env_cfg = EnvConfig(id=ENV, sentence_context=bool(getattr(args, "sentence_context", False)))
    start = time.time()
    replay = Replay(16 * args.data_steps, 16, seed=cfg.seed)
    bound = getattr(args, "bound_manual", "")
    stats = play(env_cfg, 16, args.data_steps, cfg.seed, args.noise, replay.add, bound)
    print(f"scripted play: {stats['episodes']} episodes, {stats['won']:.0%} won "
          f"({time.time() - start:.0f} s)", flush=True)
    evals = evaluation_episodes(env_cfg, args.eval_episodes, cfg.seed, args.noise, bound)
    stats["blind"] = blind_ranking(evals)
    print(f"the best predictor blind to the manual scores {stats['blind']}", flush=True)

    spec = env_cfg.adapter(1, 0).spec
    net = dynalang.build(cfg, spec)
    ts = dynalang.init_train_state(cfg, spec, jax.random.PRNGKey(cfg.seed))
    ts = ts._replace(params=dynalang.with_image_prior(
        ts.params, replay.sample(cfg.batch_size, cfg.batch_length)["image"], spec))
    update = dynalang.make_model_update(cfg, spec)
    probe = make_probe(net, cfg, spec, evals)

    curve: list[dict[str, Any]] = []
    done, spent = 0, 0.0
    state_path = ROOT / args.state if getattr(args, "state", None) else None
    # What the saved state must have been made with: the model and the data it trained on.
    setup = {**vars(cfg), "data_steps": args.data_steps, "noise": args.noise,
             "eval_episodes": args.eval_episodes, "bound_manual": bound,
             **({"sentence_context": True} if env_cfg.sentence_context else {})}
    if state_path and state_path.exists():
        ts, done, spent, curve = resume(state_path, setup, replay)
        stats["earlier_sessions_s"] = spent
        print(f"resumed from {state_path} at {done} updates", flush=True)
    t0 = time.time() - spent
    for u in range(done + 1, args.updates + 1):
        ts, metrics = update(ts, replay.sample(cfg.batch_size, cfg.batch_length))
        if u % args.eval_every == 0 or u == args.updates:
            row = {"updates": u, "seconds": round(time.time() - t0, 1),
                   **{k: round(v, 3) for k, v in probe(ts.params).items()},
                   "reward_loss": round(float(metrics["reward_loss"]), 4),
                   "token_loss": round(float(metrics["token_loss"]), 3)}
            curve.append(row)
            print(json.dumps(row), flush=True)
            if state_path:
                save_state(state_path, ts, u, row["seconds"], curve, setup, replay)
            if report:
                report(stats, curve)
    return stats, curve


def save_state(path: Path, ts: Any, updates: int, seconds: float, curve: list[dict[str, Any]],
               config: dict[str, Any], replay: Any) -> None:
    """What a stopped probe needs to go on exactly where it was: the world model and its
    optimiser, the update count, the curve and the replay's sampling generator (the replay
    itself is replayed from the scripted play's seed)."""
    import pickle

    import jax

    from agent.files import atomic_open

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as f:
        pickle.dump({"ts": jax.device_get(ts), "updates": updates, "seconds": seconds,
                     "curve": curve, "config": config, "rng": replay.rng_state}, f)


def resume(path: Path, config: dict[str, Any], replay: Any
           ) -> tuple[Any, int, float, list[dict[str, Any]]]:
    """(train state, updates done, seconds spent, curve) from :func:`save_state`; the replay's
    generator is set back too.  A state saved with another config or other data is refused."""
    import pickle

    with open(path, "rb") as f:
        saved = pickle.load(f)
    from agent.dynalang.config import Config

    # fields added since the state was saved had their defaults then
    saved_config = {**vars(Config()), **saved["config"]}
    if saved_config != config:
        changed = sorted(k for k in config if saved_config.get(k) != config[k])
        raise SystemExit(f"error: {path} was saved with other settings ({', '.join(changed)} "
                         f"differ); delete it or pass another --name")
    replay.rng_state = saved["rng"]
    return saved["ts"], saved["updates"], saved["seconds"], saved["curve"]


def evaluation_episodes(env_cfg: Any, episodes: int, seed: int, noise: float,
                        bound: str = "") -> dict[str, dict[str, np.ndarray]]:
    """The held-out episodes the probe scores, of the training games and of the test games."""
    return {split: held_out_episodes(env_cfg.with_kwargs(split=split), episodes, 10**6 + seed,
                                     noise, bound)
            for split in ("train", "test")}


def touches(batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the held-out episodes of ``batch`` end in a touch: (episode, row, entity symbol)
    of each.  Episodes that run out of time (-1 with no entity touched) are left out, so the
    probe scores only what the manual decides."""
    from messenger_s2.entities import AVATAR, AVATAR_WITH_MESSAGE, ENTITY_NAMES

    entities = np.array(list(ENTITY_NAMES))
    episode, row, symbol = [], [], []
    for n, (image, reward) in enumerate(zip(batch["image"], batch["reward"])):
        t = int(np.flatnonzero(reward)[0])
        avatar = image[t][..., [AVATAR, AVATAR_WITH_MESSAGE]].any(-1)
        touched = entities[image[t][avatar][0, entities] > 0]  # what the avatar stands on
        if touched.size:
            episode.append(n)
            row.append(t)
            symbol.append(int(touched[0]))
    return np.array(episode), np.array(row), np.array(symbol)


def blind_ranking(evals: dict[str, dict[str, np.ndarray]], odds: Any = None) -> dict[str, float]:
    """The probe's score of the best predictor blind to the manual, per split: each touch
    predicted to win with the odds that its entity was the one to touch among the same symbols
    in training (``learning_check.BlindOdds``).  A world model must score above this on the
    training games to show that it reads; below it, it has not even learned the odds."""
    from benchmarks.learning_check import layout_of, training_odds

    odds = odds or training_odds()
    out = {}
    for split, batch in evals.items():
        episode, row, symbol = touches(batch)
        chance = np.array([odds.chance(layout_of(batch["image"][n, 0]), s)
                           for n, s in zip(episode, symbol)])
        won = batch["reward"][episode, row] > 0
        out[split] = round(ranking_accuracy(chance[won], chance[~won]), 3)
    return out


def make_probe(net: Any, cfg: Any, spec: Any, evals: dict[str, dict[str, np.ndarray]]) -> Any:
    """A function of the agent's parameters: the reward head's ranking accuracy (and its mean
    prediction for right and wrong touches) over ``evals``, per split."""
    import jax
    import jax.numpy as jnp

    from agent import dists, nets
    from agent.dynalang import learner as dynalang

    bins = dists.twohot_bins(cfg.bins)

    @jax.jit
    def predicted_rewards(params: Any, batch: dict[str, Any]) -> jnp.ndarray:
        posts, _ = dynalang.observe(net, params["wm"], batch, spec.n_actions,
                                    jax.random.PRNGKey(0))
        return dists.twohot_mean(net.reward.apply(params["wm"]["reward"], nets.feat(posts)),
                                 bins)

    scored = {split: touches(batch) for split, batch in evals.items()}

    def probe(params: Any) -> dict[str, float]:
        out = {}
        for split, batch in evals.items():
            episode, row, _ = scored[split]
            pred = np.asarray(predicted_rewards(params, batch))[episode, row]
            won = batch["reward"][episode, row] > 0
            right, wrong = pred[won], pred[~won]
            out[split] = ranking_accuracy(right, wrong)
            out[f"{split}_right_mean"] = float(right.mean())
            out[f"{split}_wrong_mean"] = float(wrong.mean())
        return out

    return probe


def probe_checkpoint(run: str, episodes: int, noise: float) -> dict[str, Any]:
    """The probe's scores for the world model of a trained agent (an ``agent.train`` run
    directory or checkpoint file on Messenger-S1): has RL taught it the manual?"""
    from agent import checkpoint
    from agent.dynalang import learner as dynalang
    from agent.runner import EnvConfig

    blob = checkpoint.load(run)
    if blob["agent"] != "dynalang" or blob["env"]["id"] != ENV:
        raise SystemExit(f"error: {run} holds a {blob['agent']} agent on {blob['env']['id']}; "
                         f"--checkpoint takes a Dynalang run on {ENV}")
    cfg, spec = blob["config"], blob["spec"]
    env_cfg = EnvConfig(id=ENV, sentence_context=bool(blob["env"].get("sentence_context")))
    evals = evaluation_episodes(env_cfg, episodes, cfg.seed, noise)
    probe = make_probe(dynalang.build(cfg, spec), cfg, spec, evals)
    return {"env_steps": int(blob["counters"]["env_steps"]),
            "updates": int(blob["counters"]["updates"]), "config": vars(cfg),
            **{k: round(v, 3) for k, v in probe(blob["state"].params).items()},
            "blind": blind_ranking(evals)}


if __name__ == "__main__":
    main()
