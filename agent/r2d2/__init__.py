"""R2D2: a recurrent Q-learning baseline with prioritised sequence replay, burn-in, n-step
double-Q targets and value rescaling, reading the same observations as Dynalang."""

from agent.r2d2.config import Config
from agent.r2d2.learner import policy
from agent.r2d2.trainer import Trainer

__all__ = ["Config", "Trainer", "policy"]
