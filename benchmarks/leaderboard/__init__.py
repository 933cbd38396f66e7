"""The leaderboard: every agent on every env, trained, evaluated on fixed seeds, and compared
with the paper.

    python -m benchmarks.leaderboard run --agents dynalang random --envs Messenger-S1-v0 \\
        --seeds 0 1 --steps 20000 --preset tiny
    python -m benchmarks.leaderboard show

Modules: :mod:`.results` (the result file schema, validation, atomic writes), :mod:`.run`
(training and evaluation), :mod:`.show` (the markdown page and plots), :mod:`.paper` (the
paper's scores and budgets).
"""
