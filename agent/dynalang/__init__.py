"""Dynalang: a DreamerV3 (2023) agent whose world model reads and predicts one token per step."""

from agent.dynalang.config import Config
from agent.dynalang.learner import policy
from agent.dynalang.recipes import RECIPES, recipe_overrides
from agent.dynalang.trainer import Trainer

__all__ = ["Config", "RECIPES", "Trainer", "policy", "recipe_overrides"]
