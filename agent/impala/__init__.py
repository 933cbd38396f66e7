"""IMPALA: an LSTM actor-critic with V-trace off-policy targets, reading the same image and
one token per step as Dynalang (the paper's first baseline)."""

from agent.impala.config import Config
from agent.impala.learner import policy
from agent.impala.trainer import Trainer

__all__ = ["Config", "Trainer", "policy"]
