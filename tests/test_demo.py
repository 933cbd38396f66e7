"""The README's main job: one episode with the streamed language printed and saved as a GIF."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import gymnasium as gym
import pytest
from PIL import Image

from homegrid.demo import main, run
from homegrid.oracle import Oracle

# "[t] says: ...", "[t] task: ..." (an older demo printed "[t] <words>"); not "[t] done: ...",
# "[t] +0.5 ..." or "[t]   (a note)"
UTTERANCE = re.compile(r"^\[\s*(\d+)\] (?:says: |task: |task \(repeated\): )?(?!done: |\+| )(.*)$")


def test_demo_prints_utterances_and_saves_frames(tmp_path):
    out = io.StringIO()
    total = run("HomeGrid-v0", seed=0, gif=str(tmp_path / "d.gif"), png=str(tmp_path / "d.png"),
                out=out)
    text = out.getvalue()
    assert total > 2  # the oracle completes tasks
    assert "done: " in text and "to open the" in text
    with Image.open(tmp_path / "d.gif") as gif:
        assert gif.n_frames > 100
    assert (tmp_path / "d.png").stat().st_size > 5_000


def _said(env_id: str, seed: int) -> list[str]:
    """``info["text"]`` at each observation of the oracle's episode: what the env says."""
    env = gym.make(env_id)
    oracle = Oracle()
    _, info = env.reset(seed=seed)
    said, done = [info["text"]], False
    while not done:
        _, _, terminated, truncated, info = env.step(oracle.act(env.unwrapped.symbolic_state()))
        said.append(info["text"])
        done = terminated or truncated
    env.close()
    return said


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``homegrid-demo --gif ... --png ...`` as a newcomer runs it: (printed text, GIF path)."""
    folder = tmp_path_factory.mktemp("demo")
    out = io.StringIO()
    with redirect_stdout(out):
        main(["--gif", str(folder / "demo.gif"), "--png", str(folder / "demo.png")])
    return out.getvalue(), folder / "demo.gif"


def test_demo_prints_each_utterance_whole_where_it_starts(demo: tuple[str, Path]) -> None:
    printed = [(int(m[1]), m[2]) for m in map(UTTERANCE.match, demo[0].splitlines()) if m]
    said = _said("HomeGrid-v0", 0)
    assert printed, demo[0]
    for t, text in printed:
        # the whole utterance the env is streaming at that observation, not the words so far
        assert said[t] == text, (t, text)
        assert t == 0 or said[t - 1] != text or "(repeated)" in demo[0]
    assert {text for _, text in printed} == {s for s in said if s}  # none left out
    # an interrupted utterance is shown whole, then what the agent actually heard of it
    assert '(cut off by the next utterance: the agent heard only "move")' in demo[0]


def test_demo_explains_a_task_that_was_done_before_it_was_given(demo: tuple[str, Path]) -> None:
    """Seed 0's first task ("move the papers to the dining room") holds from the start: the
    first env step pays 1 whatever the agent does, and the demo says so; a task the oracle
    really did in one step (facing an open bin, "get") is not flagged."""
    done = [line for line in demo[0].splitlines() if "] done: " in line]
    assert "move the papers to the dining room" in done[0]
    assert "already true when given" in done[0]
    quick = [line for line in done if "after 1 env step" in line and "get the" in line]
    assert quick and all("already true" not in line for line in quick)


def test_demo_says_how_many_frames_the_gif_really_has(demo: tuple[str, Path]) -> None:
    text, gif = demo
    saved = re.search(r"saved (\d+) frames", text)
    assert saved, text
    with Image.open(gif) as image:
        frames = image.n_frames
    assert int(saved[1]) == frames
    assert frames == len(_said("HomeGrid-v0", 0))  # one per observation, none merged
