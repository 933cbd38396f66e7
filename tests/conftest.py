import os

# Headless pygame for the human render mode and the play tool.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

# The agent tests build the same small networks many times, in this process and in the
# subprocesses they start: JAX's persistent compilation cache compiles each function once.  The
# xdist workers share it; an entry read while another worker writes it is only recompiled.
_JAX_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          ".pytest_cache", "jax")
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _JAX_CACHE)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The suite compiles hundreds of small programs and runs each briefly: without XLA's backend
# optimisations it compiles faster than the optimised code saves (cold cache: three agent
# test files 151 s -> 113 s, the whole suite about 15 -> 10.5 minutes).  Tests check
# behaviour, never speed; benchmarks run optimised.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import pathlib  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def texts_dir() -> pathlib.Path:
    """messenger-emma's human-written texts: $MESSENGER_TEXTS, or ../shared/messenger-texts
    beside the checkout (never copied into the project); tests that need them skip otherwise."""
    default = pathlib.Path(__file__).resolve().parents[2] / "shared" / "messenger-texts"
    path = pathlib.Path(os.environ.get("MESSENGER_TEXTS", default))
    if not path.is_dir():
        pytest.skip(f"messenger-emma texts not found at {path} (set MESSENGER_TEXTS)")
    return path


@pytest.fixture
def user_error(capsys):
    """Run a CLI's ``main(argv)`` that must stop with a user error: exit code 2 and one line
    on stderr, ``PROG: error: ...``; returns that line."""

    def run(main, argv) -> str:
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2, stop.value.code
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert ": error: " in line, line
        return line

    return run


@pytest.fixture
def argument_refused():
    """Check that env ``env_id`` refuses ``name=value``, made alone and batched, with a one-line
    ValueError "NAME must be VALID, got VALUE" (``valid`` is a regular expression)."""
    import re

    import gymnasium as gym

    def check(env_id: str, name: str, value, valid: str) -> None:
        makers = (lambda: gym.make(env_id, **{name: value}),
                  lambda: gym.make_vec(env_id, num_envs=2,
                                       vectorization_mode="vector_entry_point", **{name: value}))
        for make in makers:
            with pytest.raises(ValueError) as err:
                make()
            message = str(err.value)
            assert re.match(f"{name} must be {valid}, got {re.escape(repr(value))}", message)
            assert "\n" not in message

    return check
