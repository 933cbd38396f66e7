"""Dynalang's per-suite recipes: the chunk length and train ratio each env family trains with.

The world model learns what a manual means only from chunks that hold the manual *and* the play
it governs.  Replayed chunks start anywhere (every chunk starts from the initial state, as in the
reference), so a chunk of ``batch_length`` steps is sure to hold at least one whole episode, read
phase included, only when ``batch_length >= 2 * longest - 1``, where ``longest`` counts the
observations (replay rows) of the longest episode.  The Messenger recipes take the next power
of two above that; HomeGrid's is the reference's 256 plus the 8 rows its longest read phase
needs.  ``agent.train`` applies the recipe of the env's family under any flag given, and warns
when ``--batch-length`` is too short for the env.

| env ids          | longest episode      | batch length | train ratio | the reference's script |
|------------------|---------------------:|-------------:|------------:|------------------------|
| HomeGrid-*       | 129 (1 + 28 + 100)   | 264          | 32          | 16 x 256, ratio 32     |
| Messenger-S1-*   | 49                   | 128          | 32          | 16 x 256, ratio 64     |
| Messenger-S2-*   | 114                  | 256          | 64          | 24 x 256, ratio 64     |
| Messenger-S3-*   | 218                  | 512          | 32          | 24 x 512, ratio 32     |

"Longest episode" counts observations: HomeGrid's reset observation, up to 28 read steps (the
future and dynamics hints; none on HomeGrid-Task) and 100 play steps; Messenger's manual, one
token per observation, the first at reset, plus the step limit, with the project's own manuals
(measured over 1,280 resets per stage; messenger-emma's human sentences make S1 manuals up to
60 tokens, still within 128).  S1's train ratio is lower than the reference's 64 so that a
500,000-step run fits a 2-core CPU.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple


class Recipe(NamedTuple):
    """Settings for the env ids starting with ``prefix``."""

    prefix: str
    longest_episode: int
    """observations (replay rows) of the longest episode, read steps included."""
    batch_length: int
    train_ratio: float


RECIPES = (
    Recipe("HomeGrid-", longest_episode=129, batch_length=264, train_ratio=32.0),
    Recipe("Messenger-S1-", longest_episode=49, batch_length=128, train_ratio=32.0),
    Recipe("Messenger-S2-", longest_episode=114, batch_length=256, train_ratio=64.0),
    Recipe("Messenger-S3-", longest_episode=218, batch_length=512, train_ratio=32.0),
)


def recipe_for(env_id: str) -> Recipe | None:
    """The recipe of ``env_id``'s family (``"module:Id"`` ids too), or None for other envs."""
    name = env_id.split(":")[-1]
    return next((r for r in RECIPES if name.startswith(r.prefix)), None)


def recipe_overrides(env_id: str) -> dict[str, Any]:
    """The config fields the recipe of ``env_id`` sets ({} for envs without one)."""
    recipe = recipe_for(env_id)
    if recipe is None:
        return {}
    return {"batch_length": recipe.batch_length, "train_ratio": recipe.train_ratio}


def batch_length_problem(batch_length: int, env_id: str) -> str | None:
    """Why chunks of ``batch_length`` steps may miss whole episodes of ``env_id`` (None if
    they cannot, or the env has no recipe)."""
    recipe = recipe_for(env_id)
    if recipe is None:
        return None
    needed = 2 * recipe.longest_episode - 1
    if batch_length >= needed:
        return None
    what = ("never holds" if batch_length < recipe.longest_episode
            else "does not always hold")
    return (f"--batch-length {batch_length} {what} a whole {env_id} episode (up to "
            f"{recipe.longest_episode} steps with its read phase), so the world model sees "
            f"play without the language that explains it; use at least {needed} (the recipe: "
            f"{recipe.batch_length})")


def warn_batch_length(batch_length: int, env_id: str) -> None:
    """A ``UserWarning`` with :func:`batch_length_problem`'s reason, if there is one."""
    problem = batch_length_problem(batch_length, env_id)
    if problem:
        warnings.warn(problem, UserWarning, stacklevel=2)
