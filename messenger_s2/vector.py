"""A natively batched Messenger: N episodes as arrays, stepped by :class:`BatchGame`.

Sub-environment ``i`` reset with seed ``s`` replays exactly the episodes of
``gymnasium.make(id)`` reset with seed ``s + i`` (tested).  Autoreset follows Gymnasium's
``autoreset_mode`` (next step by default; see :mod:`langstream.vector`), with the observations
and infos of ``SyncVectorEnv`` (tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from langstream import checks, vector
from messenger_s2.batch import BatchGame
from messenger_s2.entities import ACTIONS
from messenger_s2.env import MessengerEnv, build_game, frame_board, observation_space
from messenger_s2.rules import is_read_step
from messenger_s2.stages import SLOT_ROLES
from messenger_s2.texts import TextSource

_INFO_KEYS = ("text", "events", "success", "timeout_loss", "manual", "roles", "movements")
_NESTED = ("roles", "movements")  # role -> name dicts, batched per role as Gymnasium does


class MessengerVectorEnv(VectorEnv):
    """``num_envs`` Messenger episodes stepped together.

    Takes the arguments of :class:`messenger_s2.env.MessengerEnv` plus ``num_envs``,
    ``autoreset_mode`` (Gymnasium's ``AutoresetMode``, next step by default) and ``copy``
    (return fresh arrays each step; ``False`` returns the env's own buffers, which is faster,
    but they change on the next step, so copy what you keep).  ``render_mode`` None or
    ``"rgb_array"``.  ``reset(options={"reset_mask": mask})`` resets only the masked sub-envs.
    ``info["roles"]`` and ``info["movements"]`` are batched per role, as ``SyncVectorEnv``
    batches dicts: ``info["roles"]["enemy"][i]`` is sub-env ``i``'s enemy.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": MessengerEnv.metadata["render_fps"],
                "paper_image_key": MessengerEnv.metadata["paper_image_key"],
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, stage: int | str = 2, split: str = "train", *,
                 texts: str | Path | TextSource | None = None, render_mode: str | None = None,
                 image_size: int = 64, p_multi: float = 0.75,
                 autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, copy: bool = True,
                 **unknown: Any):
        checks.reject_unknown_kwargs(type(self), unknown)
        self.num_envs = checks.check_num_envs(num_envs)
        self.autoreset_mode = vector.check_autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array' for the batched env, "
                             f"got {render_mode!r}")
        game = build_game(stage, split, texts, image_size, p_multi)
        self.stage, self.split, self.texts = game.stage, game.split, game.texts
        self.vocab = self.texts.vocab
        self.render_mode = render_mode
        self.copy = copy
        self.batch = BatchGame(num_envs, self.stage, self.texts, self.split, game.p_multi,
                               game.board)
        self._frame_board = frame_board() if render_mode else None
        self.single_observation_space = observation_space(game)
        self.single_action_space = spaces.Discrete(len(ACTIONS))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs: list[np.random.Generator] = [None] * num_envs  # type: ignore[list-item]
        self._needs_reset = np.zeros(num_envs, bool)
        self._mask = np.ones(num_envs, bool)
        self._manual = np.empty(num_envs, object)
        roles = SLOT_ROLES[:self.stage.n_slots]
        self._nested = {key: {role: np.empty(num_envs, object) for role in roles}
                        for key in _NESTED}
        self._started = False

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None):
        seeds, rows = vector.resets_asked(seed, options, self.num_envs, self._started)
        super().reset(seed=seeds[0])
        for i in rows:
            if vector.reseed(self._rngs, i, seeds[i]):
                self.batch.refill_motion(i, self._rngs[i])
            self._start(i)
        self.batch.repaint()
        self._needs_reset[rows] = False
        self._started = True
        if len(rows) < self.num_envs:  # Gymnasium's own batching: SyncVectorEnv's partial infos
            infos: dict[str, Any] = {}
            for i in rows:
                infos = self._add_info(infos, self._row_info(i, (), False, False), i)
            return self._observation(), infos
        events = np.empty(self.num_envs, object)
        events.fill(())
        none = np.zeros(self.num_envs, bool)
        return self._observation(), self._infos(events, none, none)

    def _start(self, i: int) -> None:
        ep = self.batch.reset_one(i, self._rngs[i])
        self._manual[i] = ep.manual
        for key, values in zip(_NESTED, (ep.roles, ep.movement_of)):
            for role, value in values.items():
                self._nested[key][role][i] = value

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = checks.check_batch_actions(actions, self.num_envs, ACTIONS)
        restart = self._needs_reset
        if self.autoreset_mode == AutoresetMode.DISABLED:
            vector.refuse_ended_rows(restart)
        reward, terminated, truncated, success, events = self.batch.step(
            actions, self._rngs, restart)
        # Next-step autoreset: this step's action is ignored in those rows.
        for i in np.flatnonzero(restart).tolist():
            self._start(i)
        self.batch.repaint()
        ended = terminated | truncated
        # Truncation is only ever the step limit, which the game scores as a loss.
        timeout_loss = truncated
        finals = []
        if self.autoreset_mode == AutoresetMode.SAME_STEP and ended.any():
            finals = [(i, self._row_observation(i),
                       self._row_info(i, events[i], bool(success[i]), bool(truncated[i])))
                      for i in np.flatnonzero(ended).tolist()]
            events, success, timeout_loss = events.copy(), success & ~ended, truncated & ~ended
            for i, _, _ in finals:
                self._start(i)
                events[i] = ()  # what a reset says
            self.batch.repaint()
            ended[:] = False
        self._needs_reset = ended
        infos = self._infos(events, success, timeout_loss)
        for i, final, info in finals:  # the rare ended rows, batched as SyncVectorEnv does
            infos = self._add_info(infos, {"final_obs": final, "final_info": info}, i)
        return self._observation(), reward, terminated, truncated, infos

    def _observation(self) -> dict[str, np.ndarray]:
        b = self.batch
        token = b.tokens[b.rows, b.shown]
        is_read = np.asarray(is_read_step(b.shown, b.n_tokens), np.int64)
        if self.copy:
            return {"image": b.images.copy(), "grid": b.grids.copy(), "token": token,
                    "is_read_step": is_read}
        return {"image": b.images, "grid": b.grids, "token": token, "is_read_step": is_read}

    def _row_observation(self, i: int) -> dict[str, Any]:
        """Sub-env ``i``'s observation, as the single env returns it."""
        b = self.batch
        shown = int(b.shown[i])
        return {"image": b.images[i].copy(), "grid": b.grids[i].copy(),
                "token": int(b.tokens[i, shown]),
                "is_read_step": int(is_read_step(shown, b.n_tokens[i]))}

    def _row_info(self, i: int, events: tuple[str, ...], success: bool, timeout_loss: bool
                  ) -> dict[str, Any]:
        """Sub-env ``i``'s info, as the single env returns it."""
        ep = self.batch.episode(i)
        return {"text": self.batch.texts_shown()[i], "events": events, "success": success,
                "timeout_loss": timeout_loss, "manual": ep.manual, "roles": ep.roles,
                "movements": ep.movement_of}

    def _infos(self, events: np.ndarray, success: np.ndarray, timeout_loss: np.ndarray
               ) -> dict[str, Any]:
        b, mask = self.batch, self._mask
        infos: dict[str, Any] = {"text": b.texts_shown(), "events": events,
                                 "success": success, "timeout_loss": timeout_loss.copy(),
                                 "manual": self._manual.copy() if self.copy else self._manual}
        for key, columns in self._nested.items():
            nested = infos[key] = {}
            for role, column in columns.items():
                nested[role] = column.copy() if self.copy else column
                nested[f"_{role}"] = mask
        for key in _INFO_KEYS:
            infos[f"_{key}"] = mask
        return infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Frames of every sub-env (``render_mode="rgb_array"`` only)."""
        if self.render_mode is None:
            return None
        if not self._started:
            raise RuntimeError("call reset() before render()")
        board = self._frame_board or frame_board()
        return tuple(self.batch.frame(i, board) for i in range(self.num_envs))
