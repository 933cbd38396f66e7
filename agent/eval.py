"""Evaluate a trained run (any agent): returns over fixed-seed episodes, and a GIF with subtitles.

    python -m agent.eval --logdir runs/hg                          # 20 episodes, seeds 10000+
    python -m agent.eval --logdir runs/hg --episodes 100 --num-envs 16 --json runs/hg/eval.json
    python -m agent.eval --logdir runs/s1 --greedy --gif runs/s1/episode.gif
    python -m agent.eval --logdir runs/s2 --env-arg split=test     # unseen games

The run's newest intact checkpoint (written by ``agent.train``) gives the networks, their
parameters and how the envs were made; ``--env-arg KEY=VALUE`` changes an env argument for the
evaluation (e.g. Messenger's ``split``: train on "train", evaluate on "val" or "test").
Episode ``k`` (0 <= k < --episodes) is the first episode of an env seeded ``seed + k``, and
the policy's randomness for it comes from a key of its own (``seed``, ``k`` and the step), so
the set of episodes, and the numbers, do not depend on --num-envs: that only says how many
episodes are played side by side.  Printed: the mean return,
its standard deviation (over episodes), min and max, the mean episode length in env steps (read
steps included) and in real steps, and the success rate (episodes with at least one
``info["success"]``) when the env reports one.  ``--json`` writes the same figures, the
per-episode values, the seeds and the checkpoint's env_steps.

``--gif PATH`` records the episode of the first seed with ``render_mode="rgb_array"`` (the same
episode as episode 0 above, up to floating-point differences between batch sizes), one frame per
observation: the reset and one after every env step.  Under the env's own frame (which captions
the utterance streaming now) a subtitle band shows the step, the token the agent reads, the
action it takes, and (Dynalang) the world model's top-3 guesses of the NEXT token: one prior step
from this step's posterior with the action taken, decoded by the token head.

In Python, :func:`evaluate` and :func:`record_gif` take a run directory, a checkpoint file, a
loaded checkpoint dict, or an :class:`Agent` from :func:`load_agent` (loaded once, its jitted step
compiled once per batch size); :func:`evaluate_random` plays the same episodes with a uniformly
random policy.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, Union

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from agent import checkpoint, cli
from agent.cli import positive_int
from agent.envs import EnvAdapter, Spec, registered_spec
from agent.files import atomic_open
from agent.registry import AGENTS, agent_package
from agent.runner import EnvConfig, policy_inputs

PROG = "python -m agent.eval"
TOP_K = 3
"""how many next-token guesses the GIF's subtitles show."""


# ------------------------------------------------------------------ the agent
@functools.lru_cache(maxsize=8)
def make_step(name: str, cfg: Any, spec: Spec) -> Callable:
    """``step(params, obs, carry, key, episode, t, greedy) -> (action, carry, top_ids, top_probs)``.

    One jitted function around agent ``name``'s :class:`agent.runner.Policy` step (an action
    sampled, or its argmax where ``greedy``) plus, for Dynalang, the world model's ``TOP_K``
    guesses of the next token (ids and probabilities; empty for agents that make none).  Each
    row is computed alone (``vmap`` over rows of batch 1) with its own key
    ``fold_in(fold_in(key, episode[i]), t[i])``, so a row's result does not depend on the others.
    Cached per (agent, cfg, spec), so jax compiles it once per batch size.
    """
    policy = agent_package(name).policy(cfg, spec)
    k = min(TOP_K, spec.vocab_size)

    def row(params: Any, obs: dict[str, jnp.ndarray], carry: Any, key: jax.Array,
            greedy: jnp.ndarray) -> tuple[jnp.ndarray, Any, jnp.ndarray, jnp.ndarray]:
        one = jax.tree.map(lambda x: x[None], (obs, carry))
        action, carry, aux = policy.step(params, *one, key, greedy)
        probs = aux.get("next_token_probs")
        if probs is None:
            top_probs, top_ids = jnp.zeros((0,)), jnp.zeros((0,), jnp.int32)
        else:
            top_probs, top_ids = jax.lax.top_k(probs[0], k)
        return action[0], jax.tree.map(lambda x: x[0], carry), top_ids, top_probs

    def step(params: Any, obs: dict[str, jnp.ndarray], carry: Any, key: jax.Array,
             episode: jnp.ndarray, t: jnp.ndarray, greedy: jnp.ndarray
             ) -> tuple[jnp.ndarray, Any, jnp.ndarray, jnp.ndarray]:
        keys = jax.vmap(lambda e, s: jax.random.fold_in(jax.random.fold_in(key, e), s))(
            episode, t)
        return jax.vmap(row, in_axes=(None, 0, 0, 0, None))(params, obs, carry, keys, greedy)

    return jax.jit(step)


@dataclasses.dataclass(frozen=True, eq=False)
class Agent:
    """A run's trained agent, ready to act: its name, config, parameters, env settings and
    jitted step."""

    name: str
    cfg: Any
    spec: Spec
    env: EnvConfig
    params: Any
    env_steps: int
    step: Callable
    initial: Callable[[Any, int], Any]

    def initial_carry(self, batch: int) -> Any:
        return self.initial(self.params, batch)

    def act(self, obs: dict[str, np.ndarray], carry: Any, key: jax.Array,
            episode: np.ndarray, t: np.ndarray, greedy: bool
            ) -> tuple[np.ndarray, Any, np.ndarray, np.ndarray]:
        """Actions (int32 numpy), the new carry, and the next-token guesses of each row (shape
        (rows, 0) for agents without a token model)."""
        inputs = policy_inputs(obs)
        action, carry, ids, probs = self.step(self.params, inputs, carry, key,
                                              np.asarray(episode, np.int32),
                                              np.asarray(t, np.int32), np.bool_(greedy))
        return np.asarray(action).astype(np.int32), carry, np.asarray(ids), np.asarray(probs)


Source = Union[Agent, dict, str, os.PathLike]
"""what :func:`evaluate` and :func:`record_gif` accept: an agent, a checkpoint, or its path."""


def load_agent(source: Source) -> Agent:
    """The agent of a run directory, checkpoint file or loaded checkpoint dict (an
    :class:`Agent` is returned as is).  Raises FileNotFoundError or ValueError, with the path."""
    if isinstance(source, Agent):
        return source
    blob = source if isinstance(source, dict) else checkpoint.load(source)
    name = blob.get("agent")
    if name not in AGENTS:
        raise ValueError(f"the checkpoint holds agent {name!r}; agent.eval evaluates "
                         f"{', '.join(AGENTS)} runs")
    cfg, spec = blob["config"], blob["spec"]
    params = jax.device_put(agent_package(name).Trainer.params_of(blob))
    return Agent(name=name, cfg=cfg, spec=spec, env=EnvConfig(**blob["env"]), params=params,
                 env_steps=int(blob.get("counters", {}).get("env_steps", 0)),
                 step=make_step(name, cfg, spec),
                 initial=agent_package(name).policy(cfg, spec).initial)


def random_agent(env: EnvConfig | str) -> Agent:
    """A uniformly random policy on ``env``: the leaderboard's floor, played exactly as
    trained agents are (same seeds, same episode bookkeeping)."""
    env = EnvConfig(env) if isinstance(env, str) else env
    made = env.adapter(1, 0)
    spec = made.spec
    made.close()

    def step(params: Any, obs: dict[str, Any], carry: Any, key: jax.Array, episode: Any,
             t: Any, greedy: Any) -> tuple[jnp.ndarray, Any, jnp.ndarray, jnp.ndarray]:
        keys = jax.vmap(lambda e, s: jax.random.fold_in(jax.random.fold_in(key, e), s))(
            episode, t)
        action = jax.vmap(lambda k: jax.random.randint(k, (), 0, spec.n_actions))(keys)
        rows = action.shape[0]
        return action, carry, jnp.zeros((rows, 0), jnp.int32), jnp.zeros((rows, 0))

    return Agent(name="random", cfg=None, spec=spec, env=env, params=None, env_steps=0,
                 step=jax.jit(step), initial=lambda params, n: jnp.zeros((n,)))


def _check_env(agent: Agent, env: EnvAdapter) -> None:
    made = (tuple(env.image_shape), env.vocab_size, env.n_actions, env.sentence_size)
    trained = (*agent.spec[:3], agent.spec.sentence_size)
    if made != trained:
        raise ValueError(f"env {agent.env.id} now gives (image shape, vocabulary, actions, "
                         f"sentence bag) {made}, but the agent was trained on {trained}")


# ------------------------------------------------------------------ returns
def evaluate(blob_or_logdir: Source, episodes: int = 20, seed: int = 10_000,
             num_envs: int = 8, greedy: bool = False, *, progress: bool = False,
             env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns of ``episodes`` episodes, episode k on an env seeded ``seed + k``; the env is
    made as in training, with ``env_kwargs`` added or replacing its arguments (e.g.
    ``{"split": "test"}``).

    Returns a JSON-ready dict: ``env``, ``env_kwargs`` (the env's arguments), ``env_steps``
    (of the checkpoint), ``episodes``, ``seeds``, ``greedy``, ``mean_return``,
    ``std_return`` (population std over episodes), ``min_return``, ``max_return``,
    ``mean_length`` (env steps, read steps included), ``mean_real_length`` (steps the world
    moved), ``success_rate`` (None when the env reports no ``info["success"]``), and per
    episode ``returns``, ``lengths``, ``real_lengths`` and ``successes``.
    """
    for name, value in (("episodes", episodes), ("num_envs", num_envs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    agent = load_agent(blob_or_logdir)
    if env_kwargs:
        agent = dataclasses.replace(agent, env=agent.env.with_kwargs(**env_kwargs))
    size = min(num_envs, episodes)  # one batch size for every wave: one compilation
    played: list[dict[str, Any]] = [{} for _ in range(episodes)]
    reports_success = False
    with tqdm(total=episodes, desc="eval", unit="episode", disable=not progress,
              file=sys.stderr) as bar:
        for first in range(0, episodes, size):
            for k, episode in _play_wave(agent, first, size, episodes, seed, greedy):
                reports_success |= episode.pop("reports_success")
                played[k] = episode
                bar.update()
    return _summary(agent, played, seed, greedy, reports_success)


def evaluate_random(env: EnvConfig | str, episodes: int = 20, seed: int = 10_000,
                    num_envs: int = 8, *, progress: bool = False) -> dict[str, Any]:
    """:func:`evaluate` for a uniformly random policy on ``env`` (the same episodes)."""
    return evaluate(random_agent(env), episodes, seed, num_envs, progress=progress)


def _play_wave(agent: Agent, first: int, size: int, episodes: int, seed: int, greedy: bool
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Episodes ``first .. first + size - 1`` (those below ``episodes``), side by side: each
    row's first episode, yielded as it ends; rows that finish early idle in their next one."""
    ids = first + np.arange(size)
    pending = ids < episodes
    key = jax.random.PRNGKey(seed)
    env = agent.env.adapter(size, seed + first)
    try:
        _check_env(agent, env)
        obs = env.reset()
        carry = agent.initial_carry(size)
        success = np.zeros(size, bool)
        t = 0
        while pending.any():
            action, carry, _, _ = agent.act(obs, carry, key, ids, np.full(size, t), greedy)
            obs = env.step(action)
            t += 1
            got, reports = _success(env.last_info, size)
            success |= got & ~obs["is_first"]
            ended = np.flatnonzero(obs["is_last"])
            completed = env.take_completed()  # one per ended row, in row order
            assert len(completed) == len(ended), (completed, ended)
            for row, stats in zip(ended, completed):
                if pending[row]:
                    pending[row] = False
                    yield int(ids[row]), {**stats, "success": bool(success[row]),
                                          "reports_success": reports}
    finally:
        env.close()


def _success(info: dict[str, Any], size: int) -> tuple[np.ndarray, bool]:
    """(success flag of each row this step, whether the env reports success at all)."""
    if "success" not in info:
        return np.zeros(size, bool), False
    values = np.asarray(info["success"]).reshape(size).astype(bool)
    mask = np.asarray(info.get("_success", np.ones(size, bool))).reshape(size).astype(bool)
    return values & mask, True


def _summary(agent: Agent, played: list[dict[str, Any]], seed: int, greedy: bool,
             reports_success: bool) -> dict[str, Any]:
    returns = np.array([e["return"] for e in played], np.float64)
    lengths = np.array([e["length"] for e in played], np.float64)
    real = np.array([e["real_length"] for e in played], np.float64)
    successes = [e["success"] for e in played]
    return {
        "env": agent.env.id, "env_kwargs": dict(agent.env.kwargs),
        "env_steps": agent.env_steps, "episodes": len(played),
        "seeds": [seed + k for k in range(len(played))], "greedy": bool(greedy),
        "mean_return": float(returns.mean()), "std_return": float(returns.std()),
        "min_return": float(returns.min()), "max_return": float(returns.max()),
        "mean_length": float(lengths.mean()), "mean_real_length": float(real.mean()),
        "success_rate": float(np.mean(successes)) if reports_success else None,
        "returns": returns.tolist(), "lengths": [e["length"] for e in played],
        "real_lengths": [e["real_length"] for e in played],
        "successes": successes if reports_success else None,
    }


def _env_args_text(kwargs: dict[str, Any] | None) -> str:
    return f" ({', '.join(f'{k}={v}' for k, v in kwargs.items())})" if kwargs else ""


def format_summary(result: dict[str, Any]) -> str:
    """The figures of :func:`evaluate`, for people."""
    seeds = result["seeds"]
    lines = [
        f"{result['env']}{_env_args_text(result.get('env_kwargs'))} at "
        f"{result['env_steps']:,} env steps: {result['episodes']} episodes "
        f"(seeds {seeds[0]}..{seeds[-1]}, {'greedy' if result['greedy'] else 'sampled'} "
        f"actions)",
        f"  return   {result['mean_return']:.3f} +- {result['std_return']:.3f}  "
        f"(min {result['min_return']:.3f}, max {result['max_return']:.3f})",
        f"  length   {result['mean_length']:.1f} env steps, "
        f"{result['mean_real_length']:.1f} real steps",
    ]
    if result["success_rate"] is not None:
        lines.append(f"  success  {100 * result['success_rate']:.1f}% of episodes")
    return "\n".join(lines)


def write_json(path: str | os.PathLike, result: dict[str, Any]) -> Path:
    """Write ``result`` as JSON, atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "w") as f:
        f.write(json.dumps(result, indent=2) + "\n")
    return path


# ------------------------------------------------------------------ GIF
def record_gif(blob_or_logdir: Source, path: str | os.PathLike, seed: int = 10_000,
               greedy: bool = False, fps: float | None = None) -> dict[str, Any]:
    """Record the episode of ``seed`` as an animated GIF with subtitles (see the module doc).

    Returns ``{"path", "frames", "return", "length", "real_length"}``; the GIF has ``length +
    1`` frames (the reset and one per env step).  ``fps`` defaults to the env's render_fps.
    """
    agent = load_agent(blob_or_logdir)
    inner = gym.make(registered_spec(agent.env.id), render_mode="rgb_array", **agent.env.kwargs)
    env = _single_adapter(agent.env, inner, seed)
    try:
        _check_env(agent, env)
        frames, stats = _play_recorded(agent, env, inner, seed, greedy)
        fps = fps or inner.metadata.get("render_fps") or 4
    finally:
        env.close()
    path = _save_gif(frames, path, fps)
    return {"path": str(path), "frames": len(frames), **stats}


def _single_adapter(cfg: EnvConfig, inner: gym.Env, seed: int) -> EnvAdapter:
    """``inner`` seen through an EnvAdapter exactly as the training envs are."""
    return cfg.adapter(1, seed, gym.vector.SyncVectorEnv([lambda: inner]))


def _play_recorded(agent: Agent, env: EnvAdapter, inner: gym.Env, seed: int, greedy: bool
                   ) -> tuple[list[np.ndarray], dict[str, Any]]:
    """One episode (episode 0 of ``seed``, batch of one); a subtitled frame per observation."""
    vocab = getattr(inner.unwrapped, "vocab", None)
    word = (lambda i: vocab.words[i]) if vocab is not None else str  # noqa: E731
    names = action_names(inner)
    key, episode = jax.random.PRNGKey(seed), np.zeros(1, np.int32)
    obs = env.reset()
    carry = agent.initial_carry(1)
    frames: list[np.ndarray] = []
    t = 0
    while True:
        action, carry, ids, probs = agent.act(obs, carry, key, episode, np.full(1, t), greedy)
        guesses = [(word(int(i)), float(p)) for i, p in zip(ids[0], probs[0])]
        frame = np.asarray(inner.render())
        token, last = word(int(obs["token"][0])), bool(obs["is_last"][0])
        if last:
            frames.append(subtitle(frame, t, token, int(action[0]), guesses, True, names))
            break
        obs = env.step(action)
        # While the next observation is still a read step the world waited: the action was
        # ignored (the one taken on the last word of a read phase is the first move).
        ignored = bool(obs["is_read_step"][0])
        frames.append(subtitle(frame, t, token, int(action[0]), guesses, False, names,
                               ignored))
        t += 1
    stats = env.take_completed()[0]
    return frames, stats


def action_names(env: gym.Env) -> tuple[str, ...] | None:
    """The names of ``env``'s actions by index, or None for an env that gives none.

    Looked up in order: an ``action_names`` attribute of the unwrapped env, the Atari-style
    ``get_action_meanings()``, and the ``ACTIONS`` tuple of the module defining the env's class
    (HomeGrid's and Messenger's envs import theirs: ``homegrid.world.ACTIONS``,
    ``messenger_s2.entities.ACTIONS``).  A list whose length is not the number of actions is not
    trusted: a wrong name is worse than a number.
    """
    unwrapped = env.unwrapped
    n = getattr(env.action_space, "n", None)
    meanings = getattr(unwrapped, "get_action_meanings", None)
    module = sys.modules.get(type(unwrapped).__module__)
    for names in (getattr(unwrapped, "action_names", None), meanings() if callable(meanings)
                  else None, getattr(module, "ACTIONS", None)):
        if (isinstance(names, (list, tuple)) and len(names) == n
                and all(isinstance(name, str) for name in names)):
            return tuple(names)
    return None


def subtitle_lines(step: int, token: str, action: int, guesses: Sequence[tuple[str, float]],
                   last: bool = False, names: Sequence[str] | None = None,
                   ignored: bool = False) -> list[str]:
    """The subtitle's text: the step, the token read and the action taken (by its name from
    ``names``, see :func:`action_names`; by number without; "reading" where the env ignored
    it, during a read phase), then the model's guesses of the next token with their
    probabilities (if it makes any)."""
    if last:
        act = "episode over"
    elif ignored:
        act = "reading (action ignored)"
    elif names is not None:
        act = f"action: {names[action]}"
    else:
        act = f"action {action}"
    lines = [f"step {step} | read: {token} | {act}"]
    if guesses:  # agents with a token model (Dynalang)
        lines.append("model's next token: " + " | ".join(f"{w} {100 * p:.0f}%"
                                                        for w, p in guesses))
    return lines


def subtitle(frame: np.ndarray, step: int, token: str, action: int,
             guesses: Sequence[tuple[str, float]], last: bool = False,
             names: Sequence[str] | None = None, ignored: bool = False) -> np.ndarray:
    """``frame`` with a tinted band below holding :func:`subtitle_lines`."""
    from langstream.caption import add_caption

    out = add_caption(frame, subtitle_lines(step, token, action, guesses, last, names, ignored),
                      font_size=15)
    return _tint(out, frame.shape[0])


SUBTITLE_PAPER = np.array([226, 236, 250], np.float32)
"""background of the subtitle band (light blue, apart from the env's own white caption)."""
SUBTITLE_INK = np.array([10, 30, 90], np.float32)


def _tint(image: np.ndarray, top: int) -> np.ndarray:
    """Recolour the black-on-white text below row ``top`` as ink on paper."""
    band = image[top:, :, :1].astype(np.float32)
    ink = np.clip((255.0 - band) / (255.0 - 20.0), 0.0, 1.0)  # add_caption draws (20, 20, 20)
    out = image.copy()
    out[top:] = np.round(SUBTITLE_PAPER * (1 - ink) + SUBTITLE_INK * ink).astype(np.uint8)
    return out


def _save_gif(frames: list[np.ndarray], path: str | os.PathLike, fps: float) -> Path:
    """An animated GIF (looping), written atomically."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(f) for f in frames]
    with atomic_open(path) as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                       duration=round(1000 / fps), loop=0)
    return path


# ------------------------------------------------------------------ command line
def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    examples = __doc__.split("\n\n")[1]  # the usage examples at the top of this module
    parser = cli.Parser(prog=PROG, description=__doc__.splitlines()[0],
                        epilog=f"examples:\n{examples}", formatter_class=cli.HelpFormatter)
    parser.add_argument("--logdir", required=True, help="the run directory (or checkpoint file)")
    parser.add_argument("--episodes", type=positive_int, default=20, help="episodes to play")
    parser.add_argument("--seed", type=cli.non_negative_int, default=10_000,
                        help="episode k is seeded seed + k")
    parser.add_argument("--num-envs", type=positive_int, default=8,
                        help="episodes played side by side (the results do not depend on it)")
    parser.add_argument("--greedy", action="store_true", help="argmax actions, not sampled")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    parser.add_argument("--gif", default=None,
                        help="record the first seed's episode with subtitles to this GIF")
    cli.add_env_arg_flag(parser, "for this evaluation; the others are the training run's")
    parser.add_argument("--fps", type=cli.positive_float, default=None,
                        help="GIF frames per second; None: the env's render_fps")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    with cli.user_errors(PROG):
        agent = load_agent(args.logdir)
        if args.env_args:
            agent = dataclasses.replace(
                agent, env=agent.env.with_kwargs(**cli.env_kwargs(args.env_args)))
            agent.env.adapter(1, args.seed).close()  # a bad argument fails here, in one line
    result = evaluate(agent, args.episodes, args.seed, args.num_envs, args.greedy,
                      progress=not args.no_progress)
    print(format_summary(result))
    if args.json:
        print(f"wrote {write_json(args.json, result)}")
    if args.gif:
        gif = record_gif(agent, args.gif, args.seed, args.greedy, args.fps)
        print(f"wrote {gif['path']} ({gif['frames']} frames, return {gif['return']:.3f})")
    return result


if __name__ == "__main__":
    main()
