"""Messenger S1/S2/S3 as a Gymnasium environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from langstream import language_observation_space
from langstream.checks import (
    check_action,
    check_image_size,
    check_probability,
    check_render_mode,
    reject_unknown_kwargs,
)
from langstream.window import HumanView
from messenger_s2.entities import ACTIONS, GRID_SIZE, N_SYMBOLS, UNITS_PER_CELL
from messenger_s2.game import Game
from messenger_s2.render import MIN_IMAGE_SIZE, Board
from messenger_s2.stages import check_split, get_stage
from messenger_s2.texts import TextSource, load_texts

FRAME_CELL_PX = 48  # cell size of the rgb_array frame


def build_game(stage: int | str, split: str, texts: str | Path | TextSource | None,
               image_size: int, p_multi: float) -> Game:
    """The engine for the env's arguments, each checked (a one-line error says what is valid);
    the single env and the batched one are both built on it."""
    stage_ = get_stage(stage)
    split = check_split(stage_, split)
    board = Board(check_image_size(image_size, MIN_IMAGE_SIZE))
    p_multi = check_probability("p_multi", p_multi)
    source = load_texts(texts)  # after the cheap checks: loading a directory is slow
    return Game(stage_, source, split, p_multi, board)


def observation_space(game: Game) -> spaces.Dict:
    """One env's observation space (see :class:`MessengerEnv`)."""
    return language_observation_space(
        game.board.shape, len(game.texts.vocab),
        grid=spaces.Box(0, 1, (GRID_SIZE, GRID_SIZE, N_SYMBOLS), np.uint8))


def frame_board() -> Board:
    """The board ``render()`` draws on: cells of ``FRAME_CELL_PX`` pixels."""
    return Board(GRID_SIZE * FRAME_CELL_PX + 8)


class MessengerEnv(gym.Env):
    """Messenger: fetch the message, deliver it to the goal, avoid the enemy; read the manual.

    **Description.** A 10 x 10 board with three entities (five in S3), drawn from twelve kinds
    (airplane, mage, dog, bird, fish, scientist, thief, ship, ball, robot, queen, sword).  One
    is the enemy, one holds the message and one is the goal, and only the manual says which,
    and how each moves (chasing the player, fleeing, or standing still).  The manual, one
    sentence per entity in random order, streams one word per step in a read phase before
    play, while the board stays frozen.  S1: static entities, reach the message (or the goal
    when the avatar starts with it).  S2: moving entities; pick up the message, then deliver it.
    S3: as S2 plus two decoys (the message's and the goal's symbol, moving differently) that
    kill on contact, and a distractor sentence.  Entities move at half the player's speed.

    **Observation.** ``Dict(image=Box(0, 255, (S, S, 3), uint8), grid=Box(0, 1, (10, 10, 17),
    uint8), token=Discrete(V), is_read_step=Discrete(2))``: the board in pixels; the board as
    symbols (channel ``s`` is 1 where an entity with symbol ``s`` stands: 2-13 the entities, 15
    the avatar, 16 the avatar carrying the message); this step's word id (0 = silence, decode
    with ``env.unwrapped.vocab``); 1 while the manual streams and the board is frozen (actions
    are ignored there, except the one taken on the manual's last word, which is the first move,
    as in Dynalang).  ``info``: ``text`` (the sentence streaming now), ``events``, ``success``
    (won on this step), ``timeout_loss`` (the step limit ended the episode: a loss by the
    game's rules, though Gymnasium calls it a truncation) and the ground truth ``manual``,
    ``roles`` and ``movements``.

    **Actions.** ``Discrete(5)``: 0 up, 1 down, 2 left, 3 right, 4 stay.  Moving off the board
    is a no-op.

    **Rewards.** S1: +1 for the message (or for the goal when starting with it), -1 for the
    enemy, the goal without the message, or the message while carrying it.  S2/S3: +0.5 for
    picking up the message, +1 for delivering it, -1 for touching the enemy, a decoy, or the goal
    without the message.  -1 on the last step of the time limit unless it is a win.

    **Termination.** On a win or a death.  **Truncation** after 4 (S1), 64 (S2) or 128 (S3) play
    steps; read steps do not count.  The truncation pays -1 like a death, so ``info`` marks it
    ``timeout_loss``: agents that bootstrap through time limits should treat this one as the
    terminal loss it is (``agent.envs.EnvAdapter`` does).

    Args:
        stage: 1, 2 or 3 (or "S1", "S2", "S3").
        split: "train" (a mix of train-mc and train-sc games), "train-mc", "train-sc", "val",
            "test", and for S2 "test-se" (test games with the training dynamics; S2's "test"
            has unseen dynamics).
        texts: None for the project's own sentence generator, or a directory holding
            messenger-emma's ``text_{train,val,test}.json`` and ``games.json``.
        render_mode: None, "rgb_array" (the board, large, with the manual sentence streaming now
            as a caption) or "human" (a pygame window).
        image_size: side of the ``image`` observation in pixels (10 cells plus a frame), 40 to
            ``langstream.checks.MAX_IMAGE_SIZE`` (1024).
        p_multi: chance that a "train" episode draws a train-mc game (0.75 as in messenger-emma;
            0.5 reproduces Dynalang's S2 runs).
    """

    # paper_image_key: the observation Dynalang's agent read (the symbol grid, not pixels).
    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 4,
                "paper_image_key": "grid"}

    def __init__(self, stage: int | str = 2, split: str = "train", *,
                 texts: str | Path | TextSource | None = None, render_mode: str | None = None,
                 image_size: int = 64, p_multi: float = 0.75, **unknown: Any):
        reject_unknown_kwargs(type(self), unknown)
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.game = build_game(stage, split, texts, image_size, p_multi)
        self.stage, self.split = self.game.stage, self.game.split
        self.texts = self.game.texts
        self.vocab = self.texts.vocab
        self.render_mode = render_mode
        self.observation_space = observation_space(self.game)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self._frame_board: Board | None = None
        self._human = HumanView(f"Messenger {self.stage.name}", self.metadata["render_fps"])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.game.seed()
        token, is_read, info = self.game.reset(self.np_random)
        if self.render_mode == "human":
            self.render()
        return self._observation(token, is_read), info

    def step(self, action: Any):
        game = self.game
        if game.ep is None:
            raise RuntimeError("call reset() before step()")
        if game.done:
            raise RuntimeError("the episode has ended; call reset() to start a new one")
        token, is_read, reward, terminated, truncated, info = game.step(
            check_action(action, ACTIONS))
        if self.render_mode == "human":
            self.render()
        return self._observation(token, is_read), reward, terminated, truncated, info

    def _observation(self, token: int, is_read: int) -> dict[str, Any]:
        game = self.game
        return {"image": game.image.copy(), "grid": game.grid.copy(), "token": token,
                "is_read_step": is_read}

    @property
    def reading(self) -> bool:
        """True while the next action is ignored: more of the manual is still to come."""
        return self.game.ep is not None and self.game.reading

    def symbolic_state(self) -> dict[str, Any]:
        """The board as plain data, decoys included (the grid cannot tell them apart).

        ``npcs``: per slot (enemy, message, goal[, decoy_message, decoy_goal]) its entity,
        movement, position in half-cell units, displayed cell and whether it is still on the
        board; ``avatar``: position, cell and ``carrying``; ``step``: play steps taken.
        """
        game = self.game
        if game.ep is None:
            raise RuntimeError("call reset() before symbolic_state()")
        roles, movements = game.ep.roles, game.ep.movement_of
        npcs = {role: {"entity": roles[role], "movement": movements[role], "units": tuple(p),
                       "cell": (p[0] // UNITS_PER_CELL, p[1] // UNITS_PER_CELL), "present": alive}
                for role, p, alive in zip(roles, game.pos, game.alive)}
        a = game.avatar
        return {"npcs": npcs, "step": game.t, "avatar": {
            "units": tuple(a), "cell": (a[0] // UNITS_PER_CELL, a[1] // UNITS_PER_CELL),
            "carrying": game.carrying}}

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """The keys of ``messenger-play`` for ``gymnasium.utils.play.play``: arrows move, space
        and "." stay (pass ``noop=4``, stay, for frames without a key).  Needs pygame."""
        # Imported here: the play tool imports this module, and the env needs no UI code.
        from langstream.play_ui import keys_to_action
        from messenger_s2.play import MOVE_KEYS

        return keys_to_action(MOVE_KEYS.items())

    def render(self) -> np.ndarray | None:
        return self._human.render(self.render_mode, self.game.ep is not None,
                                  lambda: self.game.frame(self._board()))

    def _board(self) -> Board:
        """The board render() draws on, made on first use."""
        if self._frame_board is None:
            self._frame_board = frame_board()
        return self._frame_board

    def close(self) -> None:
        self._human.close()
