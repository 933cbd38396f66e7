"""A natively batched HomeGrid: N games in one process writing into one batch buffer.

Compared with ``SyncVectorEnv`` over N wrapped envs, this skips the per-env wrapper stack, the
per-env observation dicts and the final concatenation: each game draws its view straight into
its row of the batch image and of the batch grid.  Sub-environment ``i`` reset with seed ``s``
replays exactly the episodes of ``gymnasium.make(id)`` reset with seed ``s + i`` (tested).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from homegrid.env import HomeGridEnv, build_games, observation_space
from homegrid.language import HINT_KINDS
from homegrid.symbols import GRID_SHAPE
from homegrid.world import ACTIONS
from langstream import checks, vector


class HomeGridVectorEnv(VectorEnv):
    """``num_envs`` HomeGrid games stepped together.

    Takes the arguments of :class:`homegrid.env.HomeGridEnv` plus ``num_envs``,
    ``autoreset_mode`` (Gymnasium's ``AutoresetMode``, next step by default; see
    :mod:`langstream.vector`) and ``copy`` (return fresh arrays each step; ``False`` reuses the
    buffers, which is faster but the caller must copy what it keeps).  Only
    ``render_mode=None`` or ``"rgb_array"``.  ``reset(options={"reset_mask": mask})`` resets
    only the masked sub-envs.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": HomeGridEnv.metadata["render_fps"],
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, hints: Iterable[str] = HINT_KINDS, *,
                 render_mode: str | None = None, image_size: int = 64, max_steps: int = 100,
                 preread_max: int = 28, repeat_task_every: int = 20, p_language: float = 0.2,
                 p_teleport: float = 0.05,
                 autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, copy: bool = True,
                 **unknown: Any):
        checks.reject_unknown_kwargs(type(self), unknown)
        checks.check_num_envs(num_envs)
        self.autoreset_mode = vector.check_autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array' for the batched env, "
                             f"got {render_mode!r}")
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.copy = copy
        self.games = build_games(num_envs, hints, image_size, max_steps, preread_max,
                                 repeat_task_every, p_language, p_teleport)
        self.hints, self.vocab = self.games[0].narrator.hints, self.games[0].narrator.vocab
        renderer = self.games[0].renderer
        self.single_observation_space = observation_space(self.games[0])
        self.single_action_space = spaces.Discrete(len(ACTIONS))
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs: list[np.random.Generator] = [None] * num_envs  # type: ignore[list-item]
        self._images = np.zeros((num_envs, *renderer.shape), np.uint8)
        self._grids = np.zeros((num_envs, *GRID_SHAPE), np.uint8)
        self._tokens = np.zeros(num_envs, np.int64)
        self._is_read = np.zeros(num_envs, np.int64)
        self._needs_reset = [False] * num_envs
        self._started = False

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None):
        seeds, rows = vector.resets_asked(seed, options, self.num_envs, self._started)
        super().reset(seed=seeds[0])
        if self.copy:  # new buffers: arrays returned before stay as they were
            self._images = self._images.copy()
            self._grids = self._grids.copy()
        infos: dict[str, Any] = {}
        for i in rows:
            vector.reseed(self._rngs, i, seeds[i])
            self._tokens[i], self._is_read[i], info = self.games[i].reset(
                self._rngs[i], self._images[i], self._grids[i])
            # Gymnasium's own batching, so that partial resets give SyncVectorEnv's infos.
            infos = self._add_info(infos, info, i)
            self._needs_reset[i] = False
        self._started = True
        return self._observation(), infos

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = checks.check_batch_actions(actions, self.num_envs, ACTIONS).tolist()
        rngs, needs_reset = self._rngs, self._needs_reset
        same_step = self.autoreset_mode == AutoresetMode.SAME_STEP
        if self.autoreset_mode == AutoresetMode.DISABLED:
            vector.refuse_ended_rows(np.array(needs_reset))
        # Every row is redrawn each step, so fresh buffers need no copy.
        if self.copy:
            self._images = np.empty_like(self._images)
            self._grids = np.empty_like(self._grids)
        images, grids = self._images, self._grids
        # Plain lists, turned into arrays once: numpy item assignment costs more than the list.
        tokens, is_read, rewards, truncated, infos = [], [], [], [], []
        finals = []  # (row, last observation, last info) of episodes ended this step, SAME_STEP
        for i, game in enumerate(self.games):
            if needs_reset[i]:  # next-step autoreset: this step's action is ignored
                token, read, info = game.reset(rngs[i], images[i], grids[i])
                reward, trunc = 0.0, False
            else:
                token, read, reward, _, trunc, info = game.step(actions[i], images[i], grids[i])
                if trunc and same_step:
                    final = {"image": images[i].copy(), "grid": grids[i].copy(), "token": token,
                             "is_read_step": read}
                    finals.append((i, final, info))
                    token, read, info = game.reset(rngs[i], images[i], grids[i])
            needs_reset[i] = trunc and not same_step  # HomeGrid never terminates
            tokens.append(token)
            is_read.append(read)
            rewards.append(reward)
            truncated.append(trunc)
            infos.append(info)
        self._tokens[:] = tokens
        self._is_read[:] = is_read
        batched = self._batch_infos(infos)
        for i, final, info in finals:  # the rare ended rows, batched as SyncVectorEnv does
            batched = self._add_info(batched, {"final_obs": final, "final_info": info}, i)
        return (self._observation(), np.array(rewards), np.zeros(self.num_envs, bool),
                np.array(truncated), batched)

    def _observation(self) -> dict[str, np.ndarray]:
        # Images and grids are fresh buffers already when copying (see step).
        if self.copy:
            return {"image": self._images, "grid": self._grids, "token": self._tokens.copy(),
                    "is_read_step": self._is_read.copy()}
        return {"image": self._images, "grid": self._grids, "token": self._tokens,
                "is_read_step": self._is_read}

    def _batch_infos(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        n = self.num_envs
        batched: dict[str, Any] = {}
        for key in ("text", "task", "events"):
            column = np.empty(n, object)
            for i, info in enumerate(infos):
                column[i] = info[key]
            batched[key] = column
        batched["success"] = np.fromiter((info["success"] for info in infos), bool, n)
        batched["tasks_done"] = np.fromiter((info["tasks_done"] for info in infos), np.int64, n)
        mask = np.ones(n, bool)
        for key in list(batched):
            batched[f"_{key}"] = mask
        return batched

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            return None
        if not self._started:
            raise RuntimeError("call reset() before render()")
        return tuple(game.frame() for game in self.games)

    def close_extras(self, **kwargs: Any) -> None:
        self.games = []

