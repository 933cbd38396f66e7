"""One HomeGrid episode from start to end: world, task loop, language and the read phase.

:class:`Game` is what the single environment and the batched environment both run, so the two
produce identical episodes from identical seeds.  It writes the agent's view into an image buffer
and a symbol grid buffer that the caller owns, and returns the other parts of a step as plain
Python values.

Step order (the reference's, with the image rendered after the random events):
tick -> action -> teleport/spawn -> time limit -> render (image and grid) -> task reward ->
language.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from homegrid.language import Narrator
from homegrid.render import ViewRenderer, draw_map
from homegrid.symbols import draw_grid
from homegrid.tasks import Task, sample_task
from homegrid.world import World
from langstream.caption import add_caption
from langstream.sampling import UniformStream


class Game:
    """The rules of one HomeGrid environment instance (no Gymnasium API; see ``env.py``)."""

    def __init__(self, narrator: Narrator, renderer: ViewRenderer, max_steps: int = 100,
                 p_teleport: float = 0.05):
        self.world = World(p_teleport=p_teleport)
        self.narrator = narrator
        self.renderer = renderer
        self.max_steps = max_steps
        self._needs_distance = "corrections" in narrator.hints  # only corrections use it
        self.t = -1  # agent-visible step index (read steps included); -1 = not reset

    def reset(self, generator: np.random.Generator, image: np.ndarray, grid: np.ndarray
              ) -> tuple[int, int, dict[str, Any]]:
        """Start an episode; draw the first view into ``image`` and ``grid`` (``GRID_SHAPE``).

        Returns (token, is_read_step, info).
        """
        self.rng = rng = UniformStream(generator)
        world = self.world
        world.reset(rng)
        self.task: Task = sample_task(world, rng)
        self.tasks_done = 0
        self.score = 0.0
        self.done = False
        self.t = 0
        self.preread = self.narrator.reset(world, rng)
        self.renderer.draw(world, image)
        draw_grid(world, grid)
        if self.preread:
            # The world stays frozen while the agent reads; the dimmed frame says so.  The grid
            # shows the frozen world as it is (``is_read_step`` already tells the reading apart).
            image //= 2
            self._read_image = image.copy()
            self._read_grid = grid.copy()
        self._distance = self._goal_distance()
        token, text = self._say(0, [], False)
        return token, int(self.preread > 0), self._info(text, [], False)

    def step(self, action: int, image: np.ndarray, grid: np.ndarray
             ) -> tuple[int, int, float, bool, bool, dict[str, Any]]:
        """Advance one step; draw the view into ``image`` and ``grid``.

        Returns (token, is_read_step, reward, terminated, truncated, info).  HomeGrid never
        terminates; episodes are truncated after ``max_steps`` env steps (read steps excluded).
        """
        self.t += 1
        world, rng, task = self.world, self.rng, self.task
        if self.t <= self.preread:
            image[...] = self._read_image
            grid[...] = self._read_grid
            token, text = self._say(self.t, [], False)
            return token, 1, 0.0, False, False, self._info(text, [], False)

        world.tick()
        world.act(action)
        events = world.random_events(rng)
        world.steps += 1
        truncated = world.steps >= self.max_steps
        self.renderer.draw(world, image)
        draw_grid(world, grid)

        reward = task.reward(world)
        success = reward == 1.0
        if success:
            self.tasks_done += 1
            self.task = task = sample_task(world, rng)
        self.score += reward
        self._distance = self._goal_distance()
        token, text = self._say(self.t, events, success)
        self.done = truncated
        return token, 0, reward, False, truncated, self._info(text, events, success)

    def _goal_distance(self) -> int:
        return self.task.goal_distance(self.world) if self._needs_distance else 0

    def _say(self, t: int, events: list[dict[str, Any]], new_task: bool) -> tuple[int, str]:
        self.token, self.text = self.narrator.step(t, self.world, self.task, new_task,
                                                   events, self._distance, self.rng)
        return self.token, self.text

    def frame(self) -> np.ndarray:
        """The full map with the current utterance, the task and the score as a caption."""
        world = self.world
        if self.text:
            word = self.narrator.vocab.words[self.token]
            heard = f"hears: {self.text}   [{word}]"
        else:
            heard = "hears: (silence)"
        status = (f"task: {self.task.text}   step {world.steps}/{self.max_steps}"
                  f"   score {self.score:g}")
        if self.t <= self.preread and self.preread:
            status += "   (reading)"
        return add_caption(draw_map(world), [heard, status], rows=[2, 2])

    def _info(self, text: str, events: list[dict[str, Any]], success: bool) -> dict[str, Any]:
        return {"text": text, "task": self.task.text, "events": events, "success": success,
                "tasks_done": self.tasks_done}
