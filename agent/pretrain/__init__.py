"""Text pretraining of Dynalang's world model (the command line: ``python -m agent.pretrain_text``).

``corpus`` makes the token stream and samples training sequences from it, ``evaluation`` scores
held-out next-token predictions and generates text, ``trainer`` is the loop on the state and
checkpoints every agent's trainer has (:class:`agent.runner.Learning`).
"""

from agent.pretrain.trainer import TextTrainer, pretrain

__all__ = ["TextTrainer", "pretrain"]
