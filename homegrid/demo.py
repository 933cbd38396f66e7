"""Watch one HomeGrid episode: ``homegrid-demo`` (or ``python -m homegrid.demo``).

Plays an episode with the scripted oracle (or a random policy) and prints its timeline for a
person: each utterance once and whole, at the observation where its first word arrives (the agent
hears one word per step, and a new task cuts off whatever is being said: the timeline then shows
what the agent actually heard), each task as it is done with its reward, and the 0.5 partial
rewards.  Saves the episode as a GIF (full map + caption, one frame per observation, numbered as
in the timeline) and its last frame as PNG.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

import gymnasium as gym
import numpy as np
from PIL import Image

import homegrid
from homegrid.env import HomeGridEnv
from homegrid.oracle import Oracle
from homegrid.world import ACTIONS
from langstream.caption import add_caption, rendered
from langstream.cli import Parser, non_negative_int
from langstream.transcript import Line, Transcript
from langstream.vocab import Vocab, tokenize


def raw_env(env: gym.Env) -> HomeGridEnv:
    """The HomeGrid env under Gymnasium's wrappers."""
    raw = env.unwrapped
    if not isinstance(raw, HomeGridEnv):
        raise TypeError(f"expected a HomeGrid env, got {type(raw).__name__}")
    return raw


def task_holds(env: gym.Env) -> bool:
    """Whether the task in force is already done before the agent acts.

    Tasks are sampled without looking at the house (as in the reference), so "move the papers to
    the dining room" can come while the papers lie there: the next env step pays 1 whatever the
    agent does.  The timeline says so rather than let it look like a one-step solution.
    """
    game = raw_env(env).game
    # A copy: reward() marks a put/move task's partial reward as paid.
    return copy.copy(game.task).reward(game.world) == 1.0


class Timeline:
    """Prints an episode for people, one line per event, each starting with ``[t]``, the index of
    the observation (read steps included)."""

    def __init__(self, vocab: Vocab, out: TextIO):
        self.transcript = Transcript(vocab)
        self.out = out
        self.total = 0.0

    def reset(self, obs: dict[str, Any], info: dict[str, Any], holds: bool,
              preread_max: int) -> None:
        """The first observation; ``holds``: the first task is already done (:func:`task_holds`);
        ``preread_max``: the env's cap on the words said during read steps."""
        self._new_task(info["task"], 0, holds)
        self._hear(0, obs, info)
        if obs["is_read_step"]:
            words = len(tokenize(info["text"]))
            note = (f"; the env cuts these hints at preread_max = {preread_max} words, "
                    "mid-sentence if need be" if words >= preread_max else "")
            self._print(0, f"  (read steps 0-{words - 1}: the world waits while the agent "
                           f"listens{note})")

    def step(self, t: int, moves: int, obs: dict[str, Any], reward: float, info: dict[str, Any],
             holds: bool) -> None:
        """Observation ``t``, after ``moves`` env steps that were not read steps."""
        self.total += float(reward)
        if info["success"]:
            self._done(t, moves, reward)
            self._new_task(info["task"], moves, holds)
        elif reward:
            self._print(t, f"+{reward:g} for first carrying the task's object "
                           f"(return {self.total:g})")
        self._hear(t, obs, info)

    def finish(self, t: int) -> None:
        """The episode ended at observation ``t``: say if it cut the last utterance short."""
        if self.transcript.lines:
            self._cut_off(t, self.transcript.lines[-1], "by the end of the episode")

    # ------------------------------------------------------------------ helpers
    def _print(self, t: int, text: str) -> None:
        print(f"[{t:3d}] {text}", file=self.out)

    def _new_task(self, task: str, moves: int, holds: bool) -> None:
        self.task, self.task_since, self.task_held, self.task_said = task, moves, holds, False

    def _done(self, t: int, moves: int, reward: float) -> None:
        took = moves - self.task_since
        text = f"done: {self.task}  +{reward:g} after {took} env step{'s' * (took != 1)}"
        if self.task_held and took <= 1:
            text += " (it was already true when given)"
        self._print(t, f"{text}; return {self.total:g}")

    def _hear(self, t: int, obs: dict[str, Any], info: dict[str, Any]) -> None:
        """Print an utterance, whole, when its first word arrives (``info["text"]`` is the whole
        utterance; the tokens only say how much of it has been streamed)."""
        lines = self.transcript.lines
        if not self.transcript.hear(int(obs["token"]), info["text"], t):
            return
        if len(lines) > 1:
            self._cut_off(t, lines[-2], "by the next utterance")
        utterance = lines[-1].utterance
        if utterance == self.task:
            kind = "task (repeated)" if self.task_said else "task"
            self.task_said = True
        else:
            kind = "says"
        self._print(t, f"{kind}: {utterance}")

    def _cut_off(self, t: int, line: Line, by: str) -> None:
        if len(line.ids) < len(tokenize(line.utterance)):
            self._print(t, f"  (cut off {by}: the agent heard only "
                           f"\"{self.transcript.text(line)}\")")


def _frame(env: gym.Env, t: int, note: str) -> np.ndarray:
    """The env's frame with a row naming the observation as the timeline does (which also keeps
    consecutive frames distinct: a GIF writer merges identical ones)."""
    return add_caption(rendered(env), [f"[{t}] {note}"])


def _save_gif(frames: list[np.ndarray], path: str) -> int:
    """Write the GIF; return the number of frames it holds (read back, so the message is true)."""
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=150, loop=0)
    with Image.open(path) as saved:
        return int(getattr(saved, "n_frames", 1))


def run(env_id: str = "HomeGrid-v0", seed: int = 0, policy: str = "oracle",
        gif: str | None = "demo.gif", png: str | None = "demo.png",
        out: TextIO | None = None) -> float:
    """Play one episode, print its timeline to ``out`` (default: the current ``sys.stdout``),
    save the frames; return the episode's return."""
    out = out or sys.stdout
    env = gym.make(env_id, render_mode="rgb_array" if gif or png else None)
    raw = raw_env(env)
    timeline = Timeline(raw.vocab, out)
    oracle, rng = Oracle(), np.random.default_rng(seed)
    print(f"{env_id}, seed {seed}, {policy} policy. [t] is the observation index; each "
          "utterance is shown whole at the step its first word arrives (the agent hears one "
          "word per step).", file=out)
    obs, info = env.reset(seed=seed)
    timeline.reset(obs, info, task_holds(env), raw.game.narrator.preread_max)
    frames = [_frame(env, 0, "reset")] if gif or png else []
    t, moves, reads, terminated, truncated = 0, 0, 0, False, False
    while not (terminated or truncated):
        reading = raw.reading  # a read step: the world waits, the action is ignored
        if policy == "oracle":
            action = oracle.act(raw.symbolic_state())
        else:
            action = int(rng.integers(len(ACTIONS)))
        obs, reward, terminated, truncated, info = env.step(action)
        t, moves, reads = t + 1, moves + (not reading), reads + reading
        timeline.step(t, moves, obs, float(reward), info, info["success"] and task_holds(env))
        if frames:
            frames.append(_frame(env, t, "read step (the world waits)" if reading
                                 else f"action: {ACTIONS[action]}"))
    timeline.finish(t)
    print(f"return {timeline.total:g}, {info['tasks_done']} tasks done; {t + 1} observations: "
          f"the reset, {reads} read steps, {moves} env steps", file=out)
    if gif:
        print(f"saved {_save_gif(frames, gif)} frames (one per observation) to {gif}", file=out)
    if png:
        Image.fromarray(frames[-1]).save(png)
        print(f"saved the last frame to {png}", file=out)
    return timeline.total


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog="homegrid-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HomeGrid-v0", choices=sorted(homegrid.ENV_IDS))
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--policy", choices=("oracle", "random"), default="oracle")
    parser.add_argument("--gif", default="demo.gif", help="GIF path ('' to skip)")
    parser.add_argument("--png", default="demo.png", help="last-frame PNG path ('' to skip)")
    args = parser.parse_args(argv)
    for path in (args.gif, args.png):
        if path and not Path(path).resolve().parent.is_dir():
            parser.error(f"the folder of {path} does not exist")
    run(args.env, args.seed, args.policy, args.gif or None, args.png or None)


if __name__ == "__main__":
    main()
