"""Dynalang's per-suite recipes: chunks long enough for a whole episode with its read phase,
applied by ``agent.train`` under the flags, and a warning when a chunk length is too short."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import homegrid  # noqa: F401  (registers the ids)
import messenger_s2  # noqa: F401
from agent.dynalang import recipes
from agent.impala import Config as ImpalaConfig
from agent.train import configs, parse


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_messenger_episodes_fit_the_recipes_bound(stage):
    """The longest episode is the longest manual plus the step limit; manuals are drawn at
    reset, so many resets bound it."""
    env = gym.make_vec(f"Messenger-S{stage}-v0", num_envs=64,
                       vectorization_mode="vector_entry_point")
    longest_manual = 0
    for seed in range(20):
        env.reset(seed=1000 * seed)
        longest_manual = max(longest_manual, int(np.max(env.unwrapped.batch.n_tokens)))
    env.close()
    recipe = recipes.recipe_for(f"Messenger-S{stage}-v0")
    limit = {1: 4, 2: 64, 3: 128}[stage]
    assert longest_manual + limit <= recipe.longest_episode
    # The bound is tight enough to mean something: within 10 steps of what was seen.
    assert recipe.longest_episode - (longest_manual + limit) <= 10


def test_homegrid_bound_counts_every_observation_of_the_longest_episode():
    """The reset observation, the longest read phase and the play steps: an episode whose
    hints fill the whole read phase (cut to ``preread_max`` tokens) has exactly that many."""
    defaults = gym.make("HomeGrid-v0").unwrapped.game
    assert recipes.recipe_for("HomeGrid-v0").longest_episode == (
        1 + defaults.narrator.preread_max + defaults.max_steps)
    env = gym.make("HomeGrid-Dynamics-v0", preread_max=5, max_steps=20)
    env.reset(seed=0)
    assert env.unwrapped.game.preread == 5  # the hints are longer than 5 tokens
    observations = 1
    while True:
        *_, terminated, truncated, _ = env.step(0)
        observations += 1
        if terminated or truncated:
            break
    assert observations == 1 + 5 + 20


@pytest.mark.parametrize("recipe", recipes.RECIPES, ids=lambda r: r.prefix)
def test_every_recipes_chunks_hold_a_whole_episode(recipe):
    assert recipe.batch_length >= 2 * recipe.longest_episode - 1
    assert recipes.batch_length_problem(recipe.batch_length, recipe.prefix + "v0") is None


def test_recipes_match_ids_and_module_ids():
    assert recipes.recipe_for("Messenger-S1-v0").prefix == "Messenger-S1-"
    assert recipes.recipe_for("messenger_s2:Messenger-S2-v0").prefix == "Messenger-S2-"
    assert recipes.recipe_for("HomeGrid-Corrections-v0").prefix == "HomeGrid-"
    assert recipes.recipe_for("CartPole-v1") is None
    assert recipes.recipe_overrides("CartPole-v1") == {}


def test_short_chunks_are_warned_about():
    with pytest.warns(UserWarning, match=r"--batch-length 16 never holds a whole "
                                         r"Messenger-S1-v0 episode .* use at least 97"):
        recipes.warn_batch_length(16, "Messenger-S1-v0")
    with pytest.warns(UserWarning, match="does not always hold"):
        recipes.warn_batch_length(64, "Messenger-S1-v0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recipes.warn_batch_length(128, "Messenger-S1-v0")
        recipes.warn_batch_length(16, "CartPole-v1")  # no recipe, nothing to say


def test_train_applies_the_recipe_under_the_flags():
    cfg, env = configs(parse(["--env", "Messenger-S1-v0", "--preset", "tiny"]))
    s1 = recipes.recipe_for("Messenger-S1-v0")
    assert (cfg.batch_length, cfg.train_ratio) == (s1.batch_length, s1.train_ratio)
    assert cfg.batch_size == 4  # the preset's, which the recipe leaves alone
    cfg, _ = configs(parse(["--env", "Messenger-S1-v0", "--preset", "tiny",
                            "--batch-length", "32"]))
    assert (cfg.batch_length, cfg.train_ratio) == (32, s1.train_ratio)
    cfg, _ = configs(parse(["--env", "HomeGrid-Task-v0", "--preset", "tiny"]))
    assert cfg.batch_length == recipes.recipe_for("HomeGrid-Task-v0").batch_length
    # The baselines have no recipes: their preset as it is.
    cfg, _ = configs(parse(["--agent", "impala", "--env", "Messenger-S1-v0", "--preset",
                            "tiny"]))
    assert cfg == ImpalaConfig.preset("tiny")
