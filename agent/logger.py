"""Where training metrics go: a JSONL file, TensorBoard event files and a progress bar.

One record per ``--log-every`` env steps, keyed by ``env_steps``.  On resume from a checkpoint
taken at step S, records after S (written by the run that was killed) are dropped from the JSONL
file and purged from the event files, so both read as one uninterrupted run.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agent.files import atomic_open

JSONL = "metrics.jsonl"


class Logger:
    """Writes records to ``LOGDIR/metrics.jsonl`` and TensorBoard; shows a progress bar.

    Args:
        logdir: the run directory.
        total: env steps the run will reach (the bar's end).
        start: env steps already done (0, or the resumed checkpoint's step).
        tensorboard: also write TensorBoard event files (needs ``tensorboardX``).
        progress: show a tqdm progress bar on stderr.
    """

    def __init__(self, logdir: str | os.PathLike, total: int, start: int = 0, *,
                 tensorboard: bool = True, progress: bool = True):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        path = self.logdir / JSONL
        _truncate_after(path, start)
        self._jsonl = open(path, "a")
        self._tb = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            # purge_step drops events the killed run wrote after the checkpoint.
            self._tb = SummaryWriter(str(self.logdir), purge_step=start if start else None)
        self._bar = tqdm(total=total, initial=start, unit="step", unit_scale=True,
                         dynamic_ncols=True, disable=not progress, smoothing=0.1)

    def advance(self, steps: int) -> None:
        """Move the progress bar by ``steps`` env steps."""
        self._bar.update(steps)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (must hold ``env_steps``); numbers also go to TensorBoard."""
        step = int(record["env_steps"])
        clean = {k: _plain(v) for k, v in record.items()}
        self._jsonl.write(json.dumps(clean) + "\n")
        self._jsonl.flush()
        if self._tb is not None:
            for key, value in clean.items():
                if key != "env_steps" and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, step)
            self._tb.flush()
        shown = {"env/s": clean.get("env_steps_per_s"), "upd/s": clean.get("updates_per_s"),
                 "return": clean.get("episode_return")}
        self._bar.set_postfix({k: f"{v:,.3g}" for k, v in shown.items()
                               if isinstance(v, (int, float))}, refresh=False)

    def close(self) -> None:
        self._bar.close()
        self._jsonl.close()
        if self._tb is not None:
            self._tb.close()


def read(logdir: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a run, in order."""
    path = Path(logdir) / JSONL
    if not path.exists():
        raise FileNotFoundError(f"no metrics at {path}")
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _plain(value: Any) -> Any:
    """JSON-ready: numpy and JAX scalars to floats, NaN and infinities to None."""
    if value is None or isinstance(value, (str, bool)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if isinstance(value, int) or (number.is_integer() and "int" in type(value).__name__):
        return int(number)
    return number if math.isfinite(number) else None


def _truncate_after(path: Path, step: int) -> None:
    """Keep only the records up to ``step`` (none when a run starts afresh)."""
    if not path.exists():
        return
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    kept = []
    for line in lines:
        try:
            if json.loads(line)["env_steps"] <= step:
                kept.append(line)
        except (ValueError, KeyError):
            continue  # a line cut short by the kill
    with atomic_open(path, "w") as f:
        f.writelines(kept)
