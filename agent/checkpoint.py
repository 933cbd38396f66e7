"""Checkpoint files: one pickle per run directory, written atomically.

A checkpoint is a dict of host (numpy) values::

    format     int                 version of this layout
    agent      str                 "dynalang", "impala" or "r2d2"
    config     Config              the agent's configuration
    spec       Spec                what the agent knows of the env (image shape, vocab, actions)
    env        dict                how the env was made: id, image_key, pad_to, vector
    state      TrainState          the learner's state: parameters, optimiser states, ...
    key        array               the trainer's acting RNG
    counters   dict                env_steps, real_steps, updates, update_credit
    buffers    str                 the folder (in the run directory) holding its replay

Large buffers (a replay) are saved beside it, in the folder its ``buffers`` entry names (one per
checkpoint, see :meth:`agent.runner.Trainer.save`); the checkpoint is renamed into place after
them, so a run killed while saving resumes from the previous checkpoint and its own buffers.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import jax

from agent.files import atomic_open

FORMAT = 1
FILENAME = "checkpoint.pkl"


def path_of(run: str | os.PathLike) -> Path:
    """The checkpoint file of a run directory (or ``run`` itself if it is a file)."""
    run = Path(run)
    return run if run.is_file() else run / FILENAME


def save(run: str | os.PathLike, blob: dict[str, Any]) -> Path:
    """Write ``blob`` (device arrays are fetched to the host) to the run's checkpoint file,
    atomically: a temporary file is fsynced, then renamed over the old checkpoint."""
    path = Path(run) / FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as f:
        pickle.dump({"format": FORMAT, **jax.device_get(blob)}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load(run: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint of a run directory (or a checkpoint file), with clear errors."""
    path = path_of(run)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}: train with --logdir {Path(run)} "
                                f"first (checkpoints are written every --checkpoint-every "
                                f"env steps and at the end)")
    try:
        with open(path, "rb") as f:
            blob = pickle.load(f)
    except TypeError as error:  # a learner state whose fields have since changed
        raise ValueError(f"{path} was written by an older version of this package, whose "
                         f"learner state no longer fits ({error}); start a new run") from error
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as error:
        raise ValueError(f"{path} is not a readable checkpoint: {error}") from error
    if not isinstance(blob, dict):
        raise ValueError(f"{path}: not a checkpoint (a {type(blob).__name__})")
    if blob.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {blob.get('format')!r}, but this version "
                         f"reads format {FORMAT}: start a new run")
    return blob
