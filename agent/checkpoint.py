"""Checkpoint files: checksummed pickles in the run directory, the last few kept.

A checkpoint is a dict of host (numpy) values::

    format          int        version of this layout
    agent           str        "dynalang", "impala" or "r2d2"
    config          Config     the agent's configuration
    spec            Spec       what the agent knows of the env (image shape, vocab, actions)
    env             dict       how the env was made: id, image_key, pad_to, vector, kwargs, ...
    run             dict       the run's own settings (steps, checkpoint_every, ...), kept on resume
    state           TrainState the learner's state: parameters, optimiser states, ...
    key             array      the trainer's acting RNG
    counters        dict       env_steps, real_steps, updates, update_credit
    buffers         str        the folder (in the run directory) holding its replay
    buffer_digests  dict       file name in that folder -> SHA-256 of its bytes

Each is written to ``checkpoint-<step>.pkl``: one header line with the SHA-256 of the pickle
that follows, written to a temporary file, fsynced and renamed into place after its buffers, so a
run killed at any moment leaves only whole checkpoints.  :func:`save` keeps the newest ``keep``
checkpoints (and their buffer folders) and removes older ones.  :func:`load` verifies the
checksums and, when the newest checkpoint is damaged, names it and falls back to the newest
intact one; a run never continues from damaged state.  ``checkpoint.pkl`` files of earlier
versions (no checksum) are still read.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import jax

from agent.files import atomic_open

FORMAT = 1
#: checkpoints kept by default: the newest and the one before, in case the newest is damaged
KEEP = 2
LEGACY_FILENAME = "checkpoint.pkl"
_NAME = re.compile(r"checkpoint-(\d+)\.pkl")
_HEADER = b"langgrid-checkpoint sha256="
_DAMAGED_SUFFIX = ".damaged"


class DamagedCheckpoint(ValueError):
    """A checkpoint (or a buffer it names) whose bytes are not what was written."""


def _step_of(path: Path) -> int:
    match = _NAME.fullmatch(path.name)
    return int(match.group(1)) if match else -1  # a legacy checkpoint.pkl is the oldest


def candidates(run: str | os.PathLike) -> list[Path]:
    """The checkpoint files of a run directory, newest first (or ``[run]`` for a file)."""
    run = Path(run)
    if run.is_file():
        return [run]
    found = [p for p in run.glob("checkpoint-*.pkl") if _NAME.fullmatch(p.name)]
    if (run / LEGACY_FILENAME).is_file():
        found.append(run / LEGACY_FILENAME)
    return sorted(found, key=_step_of, reverse=True)


def damaged(run: str | os.PathLike) -> list[Path]:
    """The checkpoints :func:`load` set aside as damaged in a run directory."""
    return sorted(Path(run).glob(f"checkpoint-*.pkl{_DAMAGED_SUFFIX}"))


def exists(run: str | os.PathLike) -> bool:
    """Whether the run directory (or file) holds a checkpoint."""
    return bool(candidates(run))


def path_of(run: str | os.PathLike) -> Path:
    """The newest checkpoint file of a run directory (``run`` itself if it is a file, or the
    directory when it holds none), for messages and for :func:`exists`-style checks."""
    found = candidates(run)
    return found[0] if found else Path(run)


def file_digest(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks (replays are gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save(run: str | os.PathLike, blob: dict[str, Any], *, step: int,
         keep: int = KEEP) -> Path:
    """Write ``blob`` (device arrays are fetched to the host) as the run's checkpoint at
    ``step`` (env steps, or updates for text pretraining), atomically and with its checksum;
    then remove all but the newest ``keep`` checkpoints and the buffer folders they name."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps({"format": FORMAT, **jax.device_get(blob)},
                           protocol=pickle.HIGHEST_PROTOCOL)
    path = run / f"checkpoint-{step:012d}.pkl"
    with atomic_open(path) as f:
        f.write(_HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n")
        f.write(payload)
    _prune(run, keep)
    return path


def _prune(run: Path, keep: int) -> None:
    kept = candidates(run)[:keep]
    for old in candidates(run)[keep:]:
        old.unlink(missing_ok=True)
    oldest = min((_step_of(p) for p in kept), default=-1)
    for old in damaged(run):  # kept to look at until the run has moved past them
        if _step_of(old.with_suffix("")) < oldest:
            old.unlink(missing_ok=True)
    named = {_buffers_name(p) for p in kept}
    for folder in run.glob("buffers-*"):
        if folder.name not in named:
            shutil.rmtree(folder, ignore_errors=True)


def _buffers_name(path: Path) -> str | None:
    """The buffer folder a checkpoint names, by the trainer's naming (read from the file
    only for a legacy checkpoint, whose step is not in its name)."""
    if _step_of(path) >= 0:
        return f"buffers-{_step_of(path):012d}"
    try:
        return _read(path).get("buffers")
    except ValueError:
        return None


#: modules renamed since checkpoints were first written: old name -> new name
MOVED_MODULES = {"agent.dynalang.agent": "agent.dynalang.learner"}


class _Unpickler(pickle.Unpickler):
    """Reads classes from where they live now (:data:`MOVED_MODULES`), so that a rename does not
    orphan the runs made before it."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED_MODULES.get(module, module), name)


def _read(path: Path) -> dict[str, Any]:
    """One checkpoint file, its checksum verified (legacy files have none to verify).

    Bytes that do not match their checksum are damage (:class:`DamagedCheckpoint`).  Bytes
    that match but do not unpickle were written by another version of this package (a class
    renamed or moved since): a plain ValueError, so that such a file is never set aside as
    damaged.  Legacy files cannot tell the two apart except by the error.
    """
    data = path.read_bytes()
    verified = data.startswith(_HEADER)
    if verified:
        header, _, payload = data.partition(b"\n")
        expected = header[len(_HEADER):].decode(errors="replace")
        if hashlib.sha256(payload).hexdigest() != expected:
            raise DamagedCheckpoint(f"{path} is damaged: its bytes do not match the checksum "
                                    f"written with it")
    else:
        payload = data
    del data
    try:
        blob = _Unpickler(io.BytesIO(payload)).load()
    except (TypeError, AttributeError, ImportError) as error:
        raise ValueError(f"{path} was written by another version of this package, whose "
                         f"classes no longer fit ({error}); start a new run") from error
    except (pickle.UnpicklingError, EOFError, IndexError, ValueError) as error:
        if verified:
            raise ValueError(f"{path} was written by another version of this package and "
                             f"cannot be read ({error}); start a new run") from error
        raise DamagedCheckpoint(f"{path} is not a readable checkpoint: {error}") from error
    if not isinstance(blob, dict):
        raise DamagedCheckpoint(f"{path}: not a checkpoint (a {type(blob).__name__})")
    if blob.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {blob.get('format')!r}, but this version "
                         f"reads format {FORMAT}: start a new run")
    return blob


#: buffer files verified in this process, by (path, size, mtime): resuming loads a checkpoint
#: more than once, and hashing a replay of gigabytes once is enough
_verified: set[tuple[str, int, int]] = set()


def _verify_buffers(path: Path, blob: dict[str, Any]) -> None:
    folder = path.parent / blob.get("buffers", "")
    for name, expected in blob.get("buffer_digests", {}).items():
        file = folder / name
        if not file.is_file():
            raise DamagedCheckpoint(f"{file}, named by {path.name}, is missing")
        stat = file.stat()
        seen = (f"{file.resolve()}:{expected}", stat.st_size, stat.st_mtime_ns)
        if seen in _verified:
            continue
        if file_digest(file) == expected:
            _verified.add(seen)
        else:
            raise DamagedCheckpoint(f"{file}, named by {path.name}, is damaged: its bytes do "
                                    f"not match the checksum written with it")


def load(run: str | os.PathLike, *, verify_buffers: bool = False,
         set_aside_damaged: bool = False) -> dict[str, Any]:
    """The newest intact checkpoint of a run directory (or a checkpoint file).

    A damaged newest checkpoint is named on stderr and the one before it is used.  With
    ``verify_buffers`` the buffer files a checkpoint names are verified too (resuming needs
    them; evaluating does not).  With ``set_aside_damaged`` damaged files are renamed to
    ``*.damaged``, so that a resumed run's next checkpoints are not ranked behind them.
    Raises FileNotFoundError when there is no checkpoint, ValueError when none is intact.
    """
    found = candidates(run)
    if not found:
        raise FileNotFoundError(f"no checkpoint in {Path(run)}: train with --logdir {Path(run)} "
                                f"first (checkpoints are written every --checkpoint-every "
                                f"env steps and at the end)")
    problems: list[str] = []
    for path in found:
        try:
            blob = _read(path)
            if verify_buffers:
                _verify_buffers(path, blob)
        except FileNotFoundError:  # removed by a run saving a newer one meanwhile
            continue
        except DamagedCheckpoint as error:
            problems.append(str(error))
            print(f"warning: {error}", file=sys.stderr)
            if set_aside_damaged:
                path.rename(path.with_name(path.name + _DAMAGED_SUFFIX))
            continue
        except ValueError as error:
            problems.append(str(error))
            continue
        if problems:
            print(f"warning: using the previous checkpoint, {path}", file=sys.stderr)
        return blob
    raise ValueError(f"no intact checkpoint in {Path(run)}: " + "; ".join(problems))
