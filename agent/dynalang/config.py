"""Dynalang's configuration: one dataclass, size presets, and command-line overrides.

Every field has a one-line doc.  ``Config.preset("small")`` returns the preset; the flags of
:mod:`agent.config_flags` (``--preset NAME --field value ...``) override any field.
Defaults follow the Dynalang / DreamerV3 (2023) recipe; the README's agent section lists them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, ClassVar

from agent import config_flags
from agent.cli import FRACTION, FRACTION_BELOW_ONE, NON_NEGATIVE, Range

#: DreamerV3-2023 presets plus "tiny" for CPU tests; xl is the paper's XL
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(deter=64, hidden=64, stoch=8, classes=8, cnn_depth=8, mlp_units=64,
                 mlp_layers=1, token_embed=16, batch_size=4, batch_length=16,
                 replay_capacity=20_000),
    "small": dict(deter=512, hidden=512, cnn_depth=32, mlp_units=512, mlp_layers=2),
    "medium": dict(deter=1024, hidden=640, cnn_depth=48, mlp_units=640, mlp_layers=3),
    "xl": dict(deter=4096, hidden=1024, cnn_depth=96, mlp_units=1024, mlp_layers=5,
               token_embed=256, batch_length=256),
}


@dataclass(frozen=True)
class Config(config_flags.AgentConfig):
    presets: ClassVar[dict[str, dict[str, Any]]] = PRESETS

    # --- model size (the preset sets these) ---
    deter: int = 512
    """GRU units of the RSSM's deterministic state."""
    hidden: int = 512
    """width of the RSSM's input and output layers."""
    stoch: int = 32
    """number of categorical latents."""
    classes: int = 32
    """classes per categorical latent."""
    cnn_depth: int = 32
    """channels of the first CNN stage (doubling each stage)."""
    mlp_units: int = 512
    """units of every MLP (token encoder, heads, actor, critic)."""
    mlp_layers: int = 2
    """layers of every MLP."""
    token_embed: int = 32
    """size of the learned token embedding (over the env's vocabulary)."""
    # --- world model ---
    unimix: float = 0.01
    """uniform mixture of latent, actor probabilities."""
    gru_update_bias: float = -1.0
    """bias of the GRU's update gate (DreamerV3's -1: h keeps 0.73 of itself per step at first)."""
    gate_norm: bool = True
    """layer-norm the GRU gates' pre-activations (DreamerV3 2023); false: biased Linear (2024)."""
    gru_reads_mode: bool = False
    """feed the GRU each latent's most likely class, not its sample (not in the reference)."""
    kl_dyn: float = 0.5
    """scale of KL[sg(post) || prior]."""
    kl_rep: float = 0.1
    """scale of KL[post || sg(prior)]."""
    free_nats: float = 1.0
    """each KL below this many nats costs nothing."""
    image_scale: float = 1.0
    """scale of the image loss (the reference's loss_scales.image)."""
    token_scale: float = 1.0
    """scale of the token loss (loss_scales.token)."""
    reward_scale: float = 1.0
    """scale of the reward loss (loss_scales.reward)."""
    cont_scale: float = 1.0
    """scale of the continue loss (loss_scales.cont)."""
    bins: int = 255
    """two-hot bins of the reward head and the critic (symlog space, -20..20)."""
    # --- behaviour ---
    horizon: int = 15
    """imagination horizon."""
    imag_stride: int = 1
    """imagine from every k-th replayed step of a chunk (1: every one, as the reference)."""
    discount: float = 1 - 1 / 333
    """gamma."""
    lam: float = 0.95
    """lambda of the lambda-returns."""
    entropy: float = 3e-4
    """actor entropy bonus."""
    return_decay: float = 0.99
    """EMA decay of the 5th/95th return percentiles."""
    slow_critic_fraction: float = 0.02
    """fraction of the critic mixed into the slow critic each update."""
    slow_critic_reg: float = 1.0
    """scale of the pull towards the slow critic."""
    # --- optimisation ---
    model_lr: float = 1e-4
    """world-model Adam learning rate."""
    model_eps: float = 1e-8
    """world-model Adam epsilon."""
    model_clip: float = 1000.0
    """world-model global gradient-norm clip."""
    ac_lr: float = 3e-5
    """actor and critic Adam learning rate."""
    ac_eps: float = 1e-5
    """actor and critic Adam epsilon."""
    ac_clip: float = 100.0
    """actor and critic global gradient-norm clip."""
    # --- data ---
    batch_size: int = 16
    """sequences per update."""
    batch_length: int = 64
    """steps per sequence."""
    train_ratio: float = 32.0
    """replayed steps per env step."""
    replay_capacity: int = 1_000_000
    """replay size in env steps."""
    num_envs: int = 4
    """envs stepped together while training."""

    #: fields that need not be positive (every other number must be)
    BOUNDS: ClassVar[dict[str, Range]] = {
        **config_flags.AgentConfig.BOUNDS,
        "unimix": FRACTION_BELOW_ONE, "gru_update_bias": Range(-20, 20),
        "kl_dyn": NON_NEGATIVE, "kl_rep": NON_NEGATIVE,
        "image_scale": NON_NEGATIVE, "token_scale": NON_NEGATIVE,
        "reward_scale": NON_NEGATIVE, "cont_scale": NON_NEGATIVE,
        "free_nats": NON_NEGATIVE, "discount": Range(0, 1, low_closed=False),
        "lam": FRACTION, "entropy": NON_NEGATIVE, "return_decay": FRACTION_BELOW_ONE,
        "slow_critic_fraction": FRACTION, "slow_critic_reg": NON_NEGATIVE}

    @property
    def latent(self) -> int:
        """Flattened size of the stochastic state."""
        return self.stoch * self.classes

    @property
    def feat(self) -> int:
        """Size of the features the heads read: [h, flatten(z)]."""
        return self.deter + self.latent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--preset`` and one ``--field`` flag per config field (its doc is the help)."""
    config_flags.add_arguments(parser, Config)
