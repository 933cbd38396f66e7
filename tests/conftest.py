import os

# Headless pygame for the human render mode and the play tool.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

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
