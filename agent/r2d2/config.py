"""R2D2's configuration: one frozen dataclass and size presets.

Every field has a one-line doc (it is the field's ``--help`` in ``python -m agent.train --agent
r2d2``).  ``Config.preset("small")`` returns a preset; the flags of :mod:`agent.config_flags`
override any field.  The defaults are the "small" preset.

Constants from the R2D2 paper (Kapturowski et al. 2019): n = 5 step double-Q
targets with value rescaling (epsilon 1e-3), gamma = 0.997, a target network copied every 2,500
updates, stored-state sequences of 80 trained steps after a 40-step burn-in with a new sequence
every 40 steps, priorities 0.9 max|delta| + 0.1 mean|delta| with exponent 0.9 and no importance
weighting, and the actor ladder epsilon_i = 0.4^(1 + 7 i / (N - 1)).  Choices the papers leave
open, and why:

* Optimiser: Adam with the R2D2 paper's eps 1e-3; the learning rate is the R2D2 paper's 1e-4 in
  "small" and the Dynalang paper's 4.8e-4 (its Table G.1) in "paper".  Global gradient-norm clip
  40 (the value SEED RL and IMPALA use; R2D2 gives none).
* ``train_ratio`` counts TRAINED steps (the ``train_length`` part, not the burn-in) per env step,
  so one update is owed every ``batch_size * train_length / train_ratio`` env steps.  The Dynalang
  paper's "replay ratio 7" (Table G.1, units not given) is read as this ratio in "paper".
* ``replay_capacity`` is in sequences.  Steps are stored once and sequences point into them (see
  :mod:`agent.r2d2.replay`), so memory is about ``capacity * seq_period`` steps, not
  ``capacity * (burn_in + train_length)``.  "paper" keeps 25,000 sequences, i.e. the latest ~1M
  env steps, the size of Dynalang's own replay (R2D2's 100,000 sequences of 64x64 images would
  not fit one host).
* ``eval_epsilon``: the epsilon of a non-greedy policy that is given no per-env epsilon (``agent.
  eval`` without ``--greedy``); 0.01, a customary evaluation epsilon for value-based agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from agent import config_flags
from agent.cli import FRACTION, NON_NEGATIVE, Range
from agent.torso import TorsoConfig

#: "tiny" for CPU tests (seconds), "small" for CPU-trainable reference runs (the defaults), and
#: "paper" after the Dynalang paper's Table G.1: language MLP 1 x 512, LSTM 1024, batch 32 (the
#: HomeGrid batch; the paper used 64 for Messenger S1 and 16 for S2/S3: add --batch-size),
#: sequences of 40 burn-in + 80 trained steps, lr 4.8e-4, 80 envs.  Parameters measured with
#: jax.eval_shape (HomeGrid: 64x64x3, vocab 36, 10 actions; Messenger S1: 16x16x17 grid, vocab
#: 158, 5 actions): tiny 0.35M / 0.12M; small 2.95M / 1.22M; paper 24.9M / 11.6M, against the
#: paper's 27M / 10M (its HomeGrid agent read one-hot T5 ids and its CNN is not described).  Most
#: of it is the LSTM's input matrix: the CNN's 4x4 top feeds it 4x4x(8 x cnn_depth) features on
#: 64x64 images and 4x4x(2 x cnn_depth) on the 16x16 grid.  Replay memory of "paper" (25k
#: sequences ~ 1M steps kept): ~12.6 GB on HomeGrid, ~4.6 GB on Messenger.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(cnn_depth=8, mlp_units=64, mlp_layers=1, token_embed=16, lstm=64,
                 head_units=64, n_step=3, target_period=100, burn_in=4, train_length=16,
                 seq_period=8, replay_capacity=2_000, min_replay=32, batch_size=8,
                 train_ratio=16.0, lr=1e-3, num_envs=8),
    "small": dict(),
    "paper": dict(cnn_depth=32, mlp_units=512, mlp_layers=1, token_embed=32, lstm=1024,
                  head_units=512, burn_in=40, train_length=80, seq_period=40,
                  replay_capacity=25_000, min_replay=2_500, batch_size=32, train_ratio=7.0,
                  lr=4.8e-4, num_envs=80),
}


@dataclass(frozen=True)
class Config(TorsoConfig):
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS

    # --- model size (the preset sets these) ---
    head_units: int = 256
    """hidden units of each dueling stream (value and advantage)."""
    # --- Q-learning ---
    discount: float = 0.997
    """gamma, per env step (read steps included)."""
    n_step: int = 5
    """steps of the n-step double-Q targets."""
    value_eps: float = 1e-3
    """epsilon of the value rescaling h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x."""
    target_period: int = 2500
    """updates between copies of the online network into the target network."""
    # --- exploration ---
    epsilon: float = 0.4
    """base epsilon of the actor ladder epsilon_i = epsilon^(1 + alpha i / (N - 1))."""
    epsilon_alpha: float = 7.0
    """alpha of the actor ladder (env i of N gets its own epsilon)."""
    eval_epsilon: float = 0.01
    """epsilon of the non-greedy policy when no per-env epsilon is given (evaluation)."""
    # --- sequences and prioritised replay ---
    burn_in: int = 20
    """steps at the start of each sequence that only warm up the LSTM (no gradient)."""
    train_length: int = 40
    """steps of each sequence after the burn-in that the loss is computed on."""
    seq_period: int = 20
    """env steps between the starts of consecutive sequences (they overlap when shorter)."""
    replay_capacity: int = 20_000
    """replay size in sequences (steps are stored once; see agent/r2d2/replay.py)."""
    min_replay: int = 500
    """sequences the replay must hold before learning starts."""
    priority_eta: float = 0.9
    """eta of the sequence priority eta max|delta| + (1 - eta) mean|delta|."""
    priority_exponent: float = 0.9
    """sequences are sampled with probability proportional to priority^exponent."""
    importance_exponent: float = 0.0
    """beta of importance weights (N P(i))^-beta on the loss (0: none, as the original R2D2)."""
    # --- optimisation ---
    batch_size: int = 32
    """sequences per update."""
    train_ratio: float = 8.0
    """trained steps (batch_size x train_length per update) per env step."""
    lr: float = 1e-4
    """Adam learning rate (constant)."""
    adam_eps: float = 1e-3
    """Adam epsilon."""
    grad_clip: float = 40.0
    """global gradient-norm clip."""
    # --- run ---
    num_envs: int = 16
    """envs stepped together (each with its own epsilon of the ladder)."""

    #: fields that need not be positive (every other number must be)
    BOUNDS: ClassVar[dict[str, Range]] = {
        **config_flags.AgentConfig.BOUNDS,
        "discount": Range(0, 1, low_closed=False), "value_eps": NON_NEGATIVE,
        "epsilon": FRACTION, "epsilon_alpha": NON_NEGATIVE, "eval_epsilon": FRACTION,
        "burn_in": NON_NEGATIVE, "min_replay": NON_NEGATIVE, "priority_eta": FRACTION,
        "priority_exponent": NON_NEGATIVE, "importance_exponent": FRACTION}

    @property
    def sequence_length(self) -> int:
        """Steps of one stored sequence: the burn-in, then the trained part."""
        return self.burn_in + self.train_length


