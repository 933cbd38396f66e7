"""The leaderboard's tracks: one fixed budget and observation per env, the same for every agent.

A result belongs to a track when it was trained for the track's env steps on the track's
observation, evaluated on the track's number of fixed-seed episodes of the env's default games,
with the language on.  Agents keep their own hyperparameters (each set is a row of its own);
what a track fixes is what every agent must share for the comparison to mean something.

- **cpu**: budgets that one 2-core CPU machine runs for every agent, Dynalang included
  (measured throughput: Dynalang `tiny` trains Messenger-S1 at about 80 env steps/s and
  HomeGrid's symbol grid at about 90 to 115, by machine).  HomeGrid is trained on its `grid`
  observation there, which costs a tenth of the pixels' compute.
- **gpu**: the paper's budgets and observations (HomeGrid 50M env steps on pixels, Messenger
  S1 1M, S2 25M), filled in when a GPU is lent.

``python -m benchmarks.leaderboard run --track cpu --agents ... --envs ... --seeds 0 1 2``
trains at a track's budgets; ``show`` gives each track a table of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from benchmarks.leaderboard.results import default_setting

EVAL_SEED = 10_000
"""the first evaluation episode's seed: every track's episodes are 10000, 10001, ..."""

OBSERVATION_FIELDS = ("image_key", "hide_language", "sentence_context")
"""config fields that change what an agent observes: a track fixes them (``image_key`` as its
budget says, the language on, bare tokens without sentence context), so ``run --track`` refuses
them in ``--set``."""


@dataclass(frozen=True)
class Budget:
    """What a track fixes for one env."""

    steps: int
    """env steps of training, read steps included."""
    episodes: int
    """fixed-seed evaluation episodes per seed."""
    observation: tuple[tuple[str, str], ...] = ()
    """config fields every agent is given on this env, e.g. (("image_key", "grid"),)."""

    def describe(self) -> str:
        from benchmarks.leaderboard.paper import format_steps

        seen = ", ".join(f"{k}={v}" for k, v in self.observation) or "default observation"
        return f"{format_steps(self.steps)} env steps, {seen}, {self.episodes} eval episodes"


@dataclass(frozen=True, eq=False)
class Track:
    """A set of budgets, one per env, every agent trained and evaluated alike."""

    name: str
    title: str
    about: str
    seeds: int
    """seeds a trained agent's row needs to count as filled."""
    budgets: dict[str, Budget] = field(default_factory=dict)

    def budget(self, env: str) -> Budget:
        """The env's budget; a one-line ValueError naming the track's envs otherwise."""
        if env not in self.budgets:
            raise ValueError(f"the {self.name} track has no budget for {env}; its envs: "
                             f"{', '.join(self.budgets)}")
        return self.budgets[env]

    def holds(self, data: dict[str, Any]) -> bool:
        """Whether the result ``data`` was made at this track's budget for its env: its env
        steps, observation and evaluation episodes (seeded from 10000 on), on the env's
        default games.  The random policy, which neither trains nor looks, counts with at
        least the track's episodes (a longer evaluation begins with the same ones)."""
        budget = self.budgets.get(data["env"])
        if budget is None:
            return False
        seeds = data["eval"]["seeds"]
        is_random = data["agent"] == "random"
        if len(seeds) < budget.episodes or (not is_random and len(seeds) != budget.episodes):
            return False
        if seeds[:budget.episodes] != list(range(EVAL_SEED, EVAL_SEED + budget.episodes)):
            return False
        overrides = data["overrides"]
        if not default_setting(overrides):
            return False  # other games, env arguments or no language: not the comparison
        if is_random:
            return True
        image_key = dict(budget.observation).get("image_key", "auto")
        return (data["steps"] == budget.steps
                and overrides.get("image_key", "auto") == image_key)


_HOMEGRID = ("HomeGrid-Task-v0", "HomeGrid-Future-v0", "HomeGrid-Corrections-v0",
             "HomeGrid-Dynamics-v0")

CPU = Track(
    name="cpu", seeds=3, title="CPU track",
    about="Budgets one 2-core CPU machine runs for every agent, Dynalang included (a "
          "Dynalang run takes about 25 minutes on HomeGrid and 2 hours on Messenger-S1 there). "
          "HomeGrid is trained on its 3x3 symbol grid (`image_key=grid`), not pixels.",
    budgets={**{env: Budget(150_000, 100, (("image_key", "grid"),)) for env in _HOMEGRID},
             "Messenger-S1-v0": Budget(500_000, 200),
             "Messenger-S2-v0": Budget(500_000, 200)})

GPU = Track(
    name="gpu", seeds=3, title="GPU track",
    about="The paper's budgets and observations (HomeGrid on 64x64 pixels), filled in when a "
          "GPU is lent.",
    budgets={**{env: Budget(50_000_000, 100) for env in _HOMEGRID},
             "Messenger-S1-v0": Budget(1_000_000, 200),
             "Messenger-S2-v0": Budget(25_000_000, 200)})

TRACKS: dict[str, Track] = {track.name: track for track in (CPU, GPU)}


def tracks_of(runs: Sequence[Any]) -> tuple[Track, ...]:
    """The tracks every one of ``runs`` (loaded results: ``.data``) belongs to."""
    return tuple(track for track in TRACKS.values()
                 if runs and all(track.holds(run.data) for run in runs))


def get(name: str) -> Track:
    """The track called ``name``; a one-line ValueError naming the tracks otherwise."""
    if name not in TRACKS:
        raise ValueError(f"unknown track {name!r}; tracks: {', '.join(TRACKS)}")
    return TRACKS[name]
