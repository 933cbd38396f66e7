"""Dynalang: a DreamerV3 (2023) agent whose world model reads and predicts one token per step."""

from agent.dynalang.agent import policy
from agent.dynalang.config import PRESETS, Config
from agent.dynalang.recipes import RECIPES, recipe_overrides
from agent.dynalang.trainer import Trainer

__all__ = ["Config", "PRESETS", "RECIPES", "Trainer", "policy", "recipe_overrides"]
