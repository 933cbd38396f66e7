"""IMPALA's configuration: one frozen dataclass and size presets.

Every field has a one-line doc (it is the field's ``--help`` in ``python -m agent.train --agent
impala``).  ``Config.preset("small")`` returns a preset; the flags of :mod:`agent.config_flags`
override any field.  The defaults are the "small" preset.

Choices the Dynalang paper leaves open, and why:

* ``value_coef = 0.5`` on a value loss of ``0.5 * (v_s - V(x_s))^2``: the baseline cost of the
  IMPALA paper and its reference code.
* ``entropy_coef = 0.01``: the top of the IMPALA paper's Atari range; the action spaces here are
  small (5 to 10 actions) and the rewards sparse, so the policy needs to keep exploring.
* ``discount = 0.99``: IMPALA's and SEED RL's value.  The effective horizon of about 100 steps
  spans a whole HomeGrid episode (100 steps) and a Messenger episode with its manual (about 25-100
  steps, mostly read steps); read steps are discounted like any other step.
* Adam (not the IMPALA paper's RMSProp), lr 3e-4 (the paper's), eps 1e-5: 3e-4 is Adam's customary
  step size, while RMSProp would also need its unusually large epsilon (0.01-0.1 in IMPALA) tuned;
  Adam is also what the project's other agents use.  The learning rate is constant (IMPALA
  anneals it to 0 over a fixed budget, which the trainer does not know).
* Global gradient-norm clip 40, as in the IMPALA paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from agent import config_flags
from agent.cli import NON_NEGATIVE, Range
from agent.torso import TorsoConfig

#: "tiny" for CPU tests (seconds), "small" for CPU-trainable reference runs (the defaults), and
#: "paper" after the paper's Table G.2: language MLP 1 x 512, LSTM 1024, 16 rollouts per update
#: (the HomeGrid batch; the paper used 64 for Messenger: add --num-envs 64).  Parameters, measured
#: with jax.eval_shape, on HomeGrid (64x64x3 image, vocab 36, 10 actions) / Messenger S1 (16x16x17
#: grid, vocab 158, 5 actions): tiny 0.34M / 0.11M; small 2.82M / 1.08M; paper 14.93M / 8.46M,
#: against the paper's 10M / 9M.  The paper's CNN is not described and its HomeGrid agent read
#: one-hot T5 ids, so only a rough match is possible: cnn_depth 16 matches Messenger (the CNN's
#: flattened output dominates the LSTM's input weights); cnn_depth 8 would give 10.61M / 7.40M.
#: The paper gives no IMPALA unroll length: 100 is SEED RL's DMLab value and one HomeGrid episode.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cnn_depth=8, mlp_units=64, mlp_layers=1, token_embed=16, lstm=64,
                 unroll_length=20, num_envs=8),
    "small": dict(),
    "paper": dict(cnn_depth=16, mlp_units=512, mlp_layers=1, token_embed=32, lstm=1024,
                  unroll_length=100, num_envs=16),
}


@dataclass(frozen=True)
class Config(TorsoConfig):
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS

    # --- model size (the preset sets these) ---
    # --- V-trace actor-critic ---
    discount: float = 0.99
    """gamma, per env step (read steps included)."""
    rho_bar: float = 1.0
    """V-trace truncation of the importance weights in the targets and the policy gradient."""
    c_bar: float = 1.0
    """V-trace truncation of the trace-cutting coefficients c_s."""
    value_coef: float = 0.5
    """weight of the value loss 0.5 * (v_s - V(x_s))^2."""
    entropy_coef: float = 0.01
    """weight of the entropy bonus."""
    reward_clip: float = 1.0
    """clip rewards to [-clip, clip] in the loss (0: off); the project's rewards lie within +-1."""
    # --- optimisation ---
    lr: float = 3e-4
    """Adam learning rate (constant)."""
    adam_eps: float = 1e-5
    """Adam epsilon."""
    grad_clip: float = 40.0
    """global gradient-norm clip."""
    # --- data ---
    unroll_length: int = 50
    """env steps per rollout (and per update): the truncated-BPTT and V-trace length."""
    num_envs: int = 16
    """envs stepped together; also the batch of rollouts in one update."""

    #: fields that need not be positive (every other number must be)
    BOUNDS: ClassVar[dict[str, Range]] = {
        **config_flags.AgentConfig.BOUNDS,
        "discount": Range(0, 1, low_closed=False), "value_coef": NON_NEGATIVE,
        "entropy_coef": NON_NEGATIVE}


