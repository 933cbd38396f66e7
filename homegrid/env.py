"""HomeGrid as a Gymnasium environment."""

from __future__ import annotations

from typing import Any, Iterable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from homegrid.game import Game
from homegrid.language import HINT_KINDS, Narrator, load_vocab
from homegrid.render import MIN_IMAGE_SIZE, ViewRenderer
from homegrid.symbols import GRID_SHAPE
from homegrid.world import ACTIONS
from langstream import language_observation_space
from langstream.checks import (
    check_action,
    check_image_size,
    check_int,
    check_probability,
    check_render_mode,
    reject_unknown_kwargs,
)
from langstream.window import HumanView


def check_hints(hints: Iterable[str] | None) -> frozenset[str]:
    """Validate hint kinds; the task instruction is always on and need not be listed."""
    if hints is None:
        hints = ()
    elif isinstance(hints, str):
        hints = (hints,)
    hints = frozenset(hints) - {"task"}
    unknown = sorted(hints - set(HINT_KINDS))
    if unknown:
        raise ValueError(f"unknown hint kind(s) {unknown}; valid kinds: {list(HINT_KINDS)}")
    return hints


def build_games(n: int, hints: Iterable[str], image_size: int, max_steps: int, preread_max: int,
                repeat_task_every: int, p_language: float, p_teleport: float) -> list[Game]:
    """``n`` engines for the env's arguments, each argument checked once (a one-line error says
    what is valid); the single env and the batched one are both built on them."""
    image_size = check_image_size(image_size, MIN_IMAGE_SIZE)
    max_steps = check_int("max_steps", max_steps, 1)
    preread_max = check_int("preread_max", preread_max, 0)
    repeat_task_every = check_int("repeat_task_every", repeat_task_every, 1)
    p_language = check_probability("p_language", p_language)
    p_teleport = check_probability("p_teleport", p_teleport)
    hints = check_hints(hints)
    vocab = load_vocab()
    renderer = ViewRenderer.for_size(image_size)
    return [Game(Narrator(vocab, hints, preread_max, repeat_task_every, p_language), renderer,
                 max_steps, p_teleport) for _ in range(n)]


def observation_space(game: Game) -> spaces.Dict:
    """One env's observation space (see :class:`HomeGridEnv`)."""
    return language_observation_space(game.renderer.shape, len(game.narrator.vocab),
                                      grid=spaces.Box(0, 1, GRID_SHAPE, np.uint8))


class HomeGridEnv(gym.Env):
    """A household grid world where the agent hears one word per step.

    **Description.** A fixed 14 x 12 house with a kitchen, a living room and a dining room.  Each
    episode places 2 of 3 bins (recycling, trash, compost) and 2 of 4 trash objects (bottle, fruit,
    papers, plates); more trash appears during the episode and objects sometimes move.  Tasks
    come one after another ("find the bottle", "put the fruit in the compost bin", ...): when
    one is done the next is given at once.  Depending on ``hints`` the agent also hears where
    things are and where they will appear (``future``), how each bin opens (``dynamics``) and
    "no, turn around" when it walks away from its goal (``corrections``).  With future or
    dynamics hints the episode opens with up to ``preread_max`` read steps in which the world is
    frozen, the image dimmed, and the agent only listens.

    **Observation.** ``Dict(image=Box(0, 255, (S, S, 3), uint8), grid=Box(0, 1, (3, 3, 36),
    uint8), token=Discrete(36), is_read_step=Discrete(2))``: a north-up view of the 3 x 3 cells
    around the agent; the same 3 x 3 cells as symbols (multi-hot channels per cell, named in
    ``homegrid.symbols.GRID_CHANNELS``: 0 wall, 1-3 the room of the floor, 4-17 furniture,
    18-21 visible bottle/fruit/papers/plates, 22-24 recycling/trash/compost bin, 25-27 bin
    open/closed/broken, and in the centre cell 28-31 the agent facing right/down/left/up and
    32-35 the object it carries); this step's word id (0 = silence; decode with
    ``env.unwrapped.vocab``) and whether this is a read step.  The grid holds exactly what the
    image shows (no hidden objects, no bin opening actions); during read steps it shows the
    frozen world, undimmed.  Pixels are the default input and the paper's setting; an agent
    learns from symbols by choosing ``grid`` (``--image-key grid``).  ``info`` holds ``text``
    (the utterance streaming now, "" when silent), ``task``, ``events`` (teleports and spawns
    this step), ``success`` (a task was completed this step) and ``tasks_done``.  The full
    symbolic state is ``env.unwrapped.symbolic_state()``.

    **Actions.** ``Discrete(10)``: 0 left, 1 right, 2 up, 3 down (absolute moves that turn the
    agent and step if the cell is free), 4 pickup, 5 drop, 6 get (take from an open bin),
    7 pedal, 8 grasp, 9 lift (each bin opens with one of these; a wrong one knocks it over
    for a while).

    **Rewards.** 1 per completed task; put and move tasks also pay 0.5 the first time the agent
    carries their object.  Read steps pay 0.

    **Termination.** Never.  **Truncation** after ``max_steps`` env steps (read steps do not
    count).

    Args:
        hints: hint kinds on top of the task instruction: any of "future", "dynamics",
            "corrections".
        render_mode: None, "rgb_array" (full map with the current utterance as a caption) or
            "human" (a pygame window).
        image_size: side of the square view in pixels; 64 is what the paper's agent sees, 96 is
            the reference env's raw frame (3 to ``langstream.checks.MAX_IMAGE_SIZE``, 1024).
        max_steps: env steps per episode.
        preread_max: most read steps at the start (future/dynamics hints only).
        repeat_task_every: repeat the task when this many steps have passed since it started.
        p_language: chance per idle step of a correction or a description.
        p_teleport: chance per step that one object moves.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 6}

    def __init__(self, hints: Iterable[str] = HINT_KINDS, *, render_mode: str | None = None,
                 image_size: int = 64, max_steps: int = 100, preread_max: int = 28,
                 repeat_task_every: int = 20, p_language: float = 0.2, p_teleport: float = 0.05,
                 **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        (self.game,) = build_games(1, hints, image_size, max_steps, preread_max,
                                   repeat_task_every, p_language, p_teleport)
        self.hints, self.vocab = self.game.narrator.hints, self.game.narrator.vocab
        self.render_mode = render_mode
        self.observation_space = observation_space(self.game)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self._image_shape = self.game.renderer.shape
        self._human = HumanView("HomeGrid", self.metadata["render_fps"])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        image = np.empty(self._image_shape, np.uint8)
        grid = np.empty(GRID_SHAPE, np.uint8)
        token, is_read, info = self.game.reset(self.np_random, image, grid)
        if self.render_mode == "human":
            self.render()
        return {"image": image, "grid": grid, "token": token, "is_read_step": is_read}, info

    def step(self, action: Any):
        game = self.game
        if game.t < 0:
            raise RuntimeError("call reset() before step()")
        if game.done:
            raise RuntimeError("the episode has ended (truncated); call reset() to start a new one")
        image = np.empty(self._image_shape, np.uint8)
        grid = np.empty(GRID_SHAPE, np.uint8)
        action = check_action(action, ACTIONS)
        token, is_read, reward, terminated, truncated, info = game.step(action, image, grid)
        if self.render_mode == "human":
            self.render()
        return ({"image": image, "grid": grid, "token": token, "is_read_step": is_read},
                reward, terminated, truncated, info)

    @property
    def reading(self) -> bool:
        """True while the next step is a read step: the world stays frozen, the action is ignored.

        (The observation of the last read step is still flagged ``is_read_step``, as in the
        reference, although the action after it counts.)
        """
        return 0 <= self.game.t < self.game.preread

    def symbolic_state(self) -> dict[str, Any]:
        """The house as plain data: agent, bins, objects, the faced object, and the task."""
        if self.game.t < 0:
            raise RuntimeError("call reset() before symbolic_state()")
        state = self.game.world.symbolic_state()
        task = self.game.task
        state["task"] = {"text": task.text, "family": task.family, "object": task.obj,
                         "target": task.target or None}
        return state

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """The keys of ``homegrid-play`` for ``gymnasium.utils.play.play``: arrows move, k pickup,
        d drop, g get, p pedal, r grasp, l lift.  HomeGrid has no no-op action, so play it with
        ``wait_on_player=True`` (step only while a key is held).  Needs pygame."""
        # Imported here: the play tool imports this module, and the env needs no UI code.
        from homegrid.play import BINDINGS
        from langstream.play_ui import keys_to_action

        return keys_to_action((name, action) for name, action, _ in BINDINGS)

    def render(self) -> np.ndarray | None:
        return self._human.render(self.render_mode, self.game.t >= 0, self.game.frame)

    def close(self) -> None:
        self._human.close()
