"""The paper's numbers (Dynalang, Lin et al., ICML 2024), read from its figures.

Source: the Dynalang paper, arXiv v1 figures 4 and 6 (values read from the figures, so each is
approximate: "≈") and its appendix for the budgets.  HomeGrid: P1 Fig. 4, 2 seeds, the band
in brackets where the figure shows one.  Messenger: P1/P2 Fig. 6, score on training games, 2 seeds,
each stage initialised from the previous one (our runs start from scratch).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperScore:
    """One number read from a paper figure: the value and, where given, its band."""

    value: float
    low: float | None = None
    high: float | None = None
    note: str = ""

    def format(self) -> str:
        """``≈3.35 (3.19–3.53)`` style text."""
        text = f"≈{self.value:.2f}"
        if self.low is not None and self.high is not None:
            text += f" ({self.low:.2f}–{self.high:.2f})"
        if self.note:
            text += f", {self.note}"
        return text


@dataclass(frozen=True)
class PaperEnv:
    """What the paper reports for one of our env ids."""

    setting: str
    """the paper's name for the setting."""
    budget: int
    """env steps every method was given in the paper."""
    source: str
    """the figure the numbers come from."""
    scores: dict[str, PaperScore]
    """agent name (ours where we have it; "emma" otherwise) -> score."""
    metric: str
    """what the paper's number measures, compared with our final score."""


HOMEGRID_METRIC = (
    "The paper plots HomeGrid's score per 100-step episode (\"tasks completed\"). Our score is "
    "the episode return of our HomeGrid, whose reward follows the reference homegrid 0.1.1: "
    "1 per task done plus 0.5 the first time a put/move task's object is carried "
    "(`homegrid/tasks.py`, `PARTIAL_REWARD`). The paper's agents were trained and plotted on "
    "that same reward, so we compare returns with returns; if the figure counted completed "
    "tasks only, our numbers are higher than that count by at most 0.5 per put/move task "
    "started.")

MESSENGER_METRIC = (
    "Episode return on training games (+1 win, -1 loss in S1; +0.5 pickup, +1 delivery, -1 "
    "death in S2/S3), the paper's score. The paper initialised S2 from S1 and S3 from S2; our "
    "runs start from scratch, and we evaluate on the `train` split as the paper's figure does.")


def _hg(setting: str, impala: PaperScore, r2d2: PaperScore, dynalang: PaperScore) -> PaperEnv:
    return PaperEnv(setting=setting, budget=50_000_000, source="P1 Fig. 4 (2 seeds)",
                    scores={"impala": impala, "r2d2": r2d2, "dynalang": dynalang},
                    metric=HOMEGRID_METRIC)


def _ms(setting: str, budget: int, dynalang: PaperScore, emma: PaperScore, r2d2: PaperScore,
        impala: PaperScore) -> PaperEnv:
    return PaperEnv(setting=setting, budget=budget, source="P1/P2 Fig. 6 (2 seeds)",
                    scores={"dynalang": dynalang, "emma": emma, "r2d2": r2d2, "impala": impala},
                    metric=MESSENGER_METRIC)


#: our env id -> the paper's setting, budget and scores (its figures and appendix)
PAPER: dict[str, PaperEnv] = {
    "HomeGrid-Task-v0": _hg("task only", PaperScore(0.50), PaperScore(1.34, 1.14, 1.55),
                            PaperScore(3.35, 3.19, 3.53)),
    "HomeGrid-Future-v0": _hg("+ future observations", PaperScore(0.42),
                              PaperScore(0.47, 0.39, 0.56), PaperScore(4.80, 4.33, 5.25)),
    "HomeGrid-Corrections-v0": _hg("+ corrections", PaperScore(0.50),
                                   PaperScore(1.25, 0.92, 1.55), PaperScore(5.19, 5.08, 5.30)),
    "HomeGrid-Dynamics-v0": _hg("+ dynamics", PaperScore(0.42), PaperScore(0.54, 0.41, 0.65),
                                PaperScore(6.06, 5.81, 6.34)),
    "Messenger-S1-v0": _ms("S1", 1_000_000, PaperScore(0.97), PaperScore(0.86),
                           PaperScore(0.79), PaperScore(-0.26)),
    "Messenger-S2-v0": _ms("S2", 25_000_000, PaperScore(1.33), PaperScore(1.38),
                           PaperScore(-0.23), PaperScore(-0.51)),
    "Messenger-S3-v0": _ms("S3", 50_000_000, PaperScore(0.17, note="still rising"),
                           PaperScore(-0.71), PaperScore(-0.89), PaperScore(-0.79)),
}

PAPER_ONLY_AGENTS = {"emma": "EMMA (paper only)"}
"""agents the paper reports that this project does not implement."""


def format_steps(steps: float | int) -> str:
    """``50M``, ``1M``, ``20k``, ``1.5M``, ``512``: a compact env-step count."""
    steps = float(steps)
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(steps) >= scale:
            value = steps / scale
            return f"{value:.0f}{unit}" if value == round(value) else f"{value:.3g}{unit}"
    return f"{steps:.0f}"
