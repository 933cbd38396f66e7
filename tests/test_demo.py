"""The README's main job: one episode with the streamed language printed and saved as a GIF."""

import io

from PIL import Image

from homegrid.demo import run


def test_demo_prints_utterances_and_saves_frames(tmp_path):
    out = io.StringIO()
    total = run("HomeGrid-v0", seed=0, gif=str(tmp_path / "d.gif"), png=str(tmp_path / "d.png"),
                out=out)
    text = out.getvalue()
    assert total > 2  # the oracle completes tasks
    assert "task done" in text and "to open the" in text
    with Image.open(tmp_path / "d.gif") as gif:
        assert gif.n_frames > 100
    assert (tmp_path / "d.png").stat().st_size > 5_000
