"""Gymnasium's own tools on both suites: ``gymnasium.utils.play.play`` with the envs' key maps,
``RecordVideo`` (the ``video`` extra, part of ``dev``) and the ``render_mode="human"`` window."""

import json
import os
import subprocess
import sys
from collections import Counter

import gymnasium as gym
import pytest
from gymnasium.wrappers import RecordVideo
from moviepy import VideoFileClip  # the dev extra installs it: a missing moviepy fails here

import homegrid  # noqa: F401  (registers the ids)
import messenger_s2  # noqa: F401

pg = pytest.importorskip("pygame")

HEADLESS = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
            "PYGAME_HIDE_SUPPORT_PROMPT": "1"}


def run_python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter with SDL's dummy drivers: pygame and matplotlib state
    (gymnasium's play module switches matplotlib to TkAgg) stay out of this process."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=HEADLESS, timeout=120)


# ------------------------------------------------------------------ key maps for play()
def test_homegrid_key_map_has_one_key_per_action_the_play_tool_keys():
    from homegrid.play import PlaySession

    env = gym.make("HomeGrid-v0", render_mode="rgb_array")
    keys = env.unwrapped.get_keys_to_action()
    assert all(type(k) is tuple and len(k) == 1 and type(k[0]) is int for k in keys)
    assert sorted(keys.values()) == list(range(env.action_space.n))  # each action, once
    assert keys[(pg.K_LEFT,)] == 0 and keys[(pg.K_k,)] == 4 and keys[(pg.K_l,)] == 9
    session = PlaySession("HomeGrid-v0", seed=0)
    assert {k[0]: a for k, a in keys.items()} == session.keymap  # homegrid-play's keys


def test_messenger_key_map_has_every_action_and_two_keys_for_stay():
    from messenger_s2.play import PlaySession

    env = gym.make("Messenger-S2-v0", render_mode="rgb_array")
    keys = env.unwrapped.get_keys_to_action()
    assert all(type(k) is tuple and len(k) == 1 and type(k[0]) is int for k in keys)
    # up, down, left, right once each; stay (4) on space and "." as documented
    assert Counter(keys.values()) == {0: 1, 1: 1, 2: 1, 3: 1, 4: 2}
    assert keys[(pg.K_UP,)] == 0 and keys[(pg.K_SPACE,)] == keys[(pg.K_PERIOD,)] == 4
    session = PlaySession(2, seed=0)
    assert {k[0]: a for k, a in keys.items()} == session.keymap  # messenger-play's keys


PLAY = """
import json, pygame, gymnasium as gym, homegrid, messenger_s2
from gymnasium.utils.play import play
env = gym.make({env_id!r}, render_mode="rgb_array")
pygame.display.init()  # so that events can be queued before play() opens its window
if {wait}:  # play() steps only while a key is down: hold one from the start
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key={key}))
actions = []
def press_then_quit(obs, next_obs, action, reward, terminated, truncated, info):
    actions.append(int(action))
    if len(actions) == 2:  # the env's own key map turns this key into the next action
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key={key}))
    if len(actions) == 3:
        pygame.event.post(pygame.event.Event(pygame.QUIT))
play(env, fps=60, seed=0, callback=press_then_quit, wait_on_player={wait}, **{noop})
print(json.dumps(actions))
"""


@pytest.mark.parametrize("env_id,key,wait,noop,expected", [
    # HomeGrid has no no-op action: the README says to play it with wait_on_player=True
    ("HomeGrid-Task-v0", pg.K_DOWN, True, {}, [3, 3, 3]),
    ("Messenger-S1-v0", pg.K_RIGHT, False, {"noop": 4}, [4, 4, 3]),  # stay, stay, right
])
def test_gymnasium_play_takes_the_key_map(env_id, key, wait, noop, expected):
    out = run_python(PLAY.format(env_id=env_id, key=key, wait=wait, noop=noop))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected


# ------------------------------------------------------------------ RecordVideo
@pytest.mark.parametrize("env_id,kwargs", [("HomeGrid-v0", {"max_steps": 8}),
                                           ("Messenger-S1-v0", {})])
def test_record_video_writes_an_mp4_of_the_episode(tmp_path, env_id, kwargs):
    folder = tmp_path / "videos"
    env = RecordVideo(gym.make(env_id, render_mode="rgb_array", **kwargs), str(folder),
                      episode_trigger=lambda episode: True, disable_logger=True)
    env.reset(seed=0)
    frames, done = 1, False
    while not done:
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        frames, done = frames + 1, terminated or truncated
    height, width, _ = env.render().shape
    env.close()
    clip = VideoFileClip(str(folder / "rl-video-episode-0.mp4"))
    try:
        assert tuple(clip.size) == (width, height)
        assert sum(1 for _ in clip.iter_frames()) == frames  # one frame per observation
    finally:
        clip.close()


# ------------------------------------------------------------------ the human window
WINDOW = """
import pygame, gymnasium as gym, homegrid, messenger_s2
env = gym.make({env_id!r}, render_mode="human")
env.reset(seed=0)
env.step(0)
print(bool(pygame.display.get_init()), pygame.display.get_surface() is not None,
      bool(pygame.mixer.get_init()))
env.close()
"""


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "Messenger-S2-v0"])
def test_human_window_starts_only_the_display(env_id):
    """pygame.init() would start the mixer too (it can, on SDL's dummy audio driver), which on a
    machine without sound prints ALSA and XDG_RUNTIME_DIR errors."""
    out = run_python(WINDOW.format(env_id=env_id))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False"]
    assert "ALSA" not in out.stderr and "XDG_RUNTIME_DIR" not in out.stderr
