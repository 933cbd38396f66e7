"""``agent.eval --gif``: the subtitles name the action taken (the env's own names), not its
index."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
from PIL import Image

from agent import eval as agent_eval
from agent.envs import registered_spec

SUITES = {  # env id -> every action name, in the env's order
    "HomeGrid-Task-v0": ("left", "right", "up", "down", "pickup", "drop", "get", "pedal",
                         "grasp", "lift"),
    "Messenger-S1-v0": ("up", "down", "left", "right", "stay"),
    "Messenger-S2-v0": ("up", "down", "left", "right", "stay"),
}


@pytest.mark.parametrize("env_id", sorted(SUITES))
def test_the_caption_names_each_action_of_both_suites(env_id: str) -> None:
    # the env as record_gif makes it (wrappers included)
    env = gym.make(registered_spec(env_id), render_mode="rgb_array")
    names = agent_eval.action_names(env)
    env.close()
    assert names == SUITES[env_id]
    for index, name in enumerate(SUITES[env_id]):
        first = agent_eval.subtitle_lines(7, "the", index, [], names=names)[0]
        assert first == f"step 7 | read: the | action: {name}"
    assert agent_eval.subtitle_lines(7, "the", 0, [], last=True, names=names)[0].endswith(
        "episode over")


def test_an_env_without_action_names_is_captioned_by_number() -> None:
    env = gym.make("CartPole-v1")
    assert agent_eval.action_names(env) is None
    env.close()
    assert agent_eval.subtitle_lines(3, "<pad>", 1, [])[0] == "step 3 | read: <pad> | action 1"


def test_recorded_gif_subtitles_use_the_names(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: the subtitles record_gif draws name each action the policy took."""
    drawn: list[str] = []
    lines = agent_eval.subtitle_lines

    def spy(*args, **kwargs) -> list[str]:
        out = lines(*args, **kwargs)
        drawn.append(out[0])
        return out

    monkeypatch.setattr(agent_eval, "subtitle_lines", spy)
    agent = agent_eval.random_agent("Messenger-S1-v0")
    info = agent_eval.record_gif(agent, tmp_path / "episode.gif", seed=7)
    assert len(drawn) == info["frames"] == Image.open(info["path"]).n_frames
    actions = [line.split(" | ")[-1] for line in drawn]
    assert len(actions) > 1 and actions[-1] == "episode over"
    reading = [a for a in actions[:-1] if a == "reading (action ignored)"]
    moves = [a.removeprefix("action: ") for a in actions[:-1] if a not in reading]
    assert reading and moves and set(moves) <= set(SUITES["Messenger-S1-v0"])
    # The manual is read first, actions ignored; the action on its last word is the first move.
    assert actions[:len(reading)] == reading
