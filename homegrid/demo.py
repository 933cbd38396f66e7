"""Watch one HomeGrid episode: ``homegrid-demo`` (or ``python -m homegrid.demo``).

Plays an episode with the scripted oracle (or a random policy), prints every utterance as its
words stream in, and saves the episode as a GIF (full map + caption) and its last frame as PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import gymnasium as gym
import numpy as np
from PIL import Image

import homegrid
from homegrid.oracle import Oracle
from langstream.transcript import Line, Transcript


def run(env_id: str = "HomeGrid-v0", seed: int = 0, policy: str = "oracle",
        gif: str | None = "demo.gif", png: str | None = "demo.png", out=sys.stdout) -> float:
    """Play one episode, print what is said, save the frames; return the episode's return."""
    env = gym.make(env_id, render_mode="rgb_array" if gif or png else None)
    transcript = Transcript(env.unwrapped.vocab)
    oracle, rng = Oracle(), np.random.default_rng(seed)
    print(f"{env_id}, seed {seed}, {policy} policy. Each line is one utterance; "
          f"[n] is the step its first word arrived.", file=out)

    def say(line: Line) -> None:
        print(f"[{line.step:3d}] {transcript.text(line)}", file=out)

    obs, info = env.reset(seed=seed)
    transcript.hear(obs["token"], info["text"], 0)
    frames = [env.render()] if gif or png else []
    total, step, terminated, truncated = 0.0, 0, False, False
    while not (terminated or truncated):
        if policy == "oracle":
            action = oracle.act(env.unwrapped.symbolic_state())
        else:
            action = int(rng.integers(env.action_space.n))
        obs, reward, terminated, truncated, info = env.step(action)
        step += 1
        total += float(reward)
        if transcript.hear(obs["token"], info["text"], step) and len(transcript.lines) > 1:
            say(transcript.lines[-2])  # the previous utterance is complete (or cut off)
        if info["success"]:
            print(f"        (step {step}: task done, return so far {total:g})", file=out)
        if frames:
            frames.append(env.render())
    if transcript.lines:
        say(transcript.lines[-1])
    print(f"return {total:g}, tasks completed {info['tasks_done']}, {step} steps", file=out)
    if gif:
        images = [Image.fromarray(f) for f in frames]
        images[0].save(gif, save_all=True, append_images=images[1:], duration=150, loop=0)
        print(f"saved {len(frames)} frames to {gif}", file=out)
    if png:
        Image.fromarray(frames[-1]).save(png)
        print(f"saved the last frame to {png}", file=out)
    return total


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="HomeGrid-v0", choices=sorted(homegrid.ENV_IDS))
    parser.add_argument("--seed", type=int, default=0)
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
