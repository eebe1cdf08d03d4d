"""The analysis and WAV modules load with the monitors but leave numpy unimported until audio is handled.

(``sensors/audio.py`` imports numpy itself; a seat without a headset or a
recorder is numpy-free only once it does not.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: In a fresh interpreter: import, look, then analyse a block and read a WAV file back.
FRESH = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sensors import audio_analysis, wav
    print("numpy" in sys.modules, type(audio_analysis.np).__name__)
    import numpy
    settings = audio_analysis.AnalysisSettings()
    block = numpy.full(settings.block_samples, 1000, dtype=numpy.int16)
    stats = audio_analysis.analyse_block(block, settings)
    print(type(audio_analysis.np).__name__, stats.samples == block.size)
    wav.write_wav(Path(sys.argv[1]), numpy.arange(100, dtype=numpy.int16), 16000)
    print(int(wav.read_wav(Path(sys.argv[1])).samples.sum()))
    """
)


def test_numpy_waits_for_the_first_audio(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH, str(tmp_path / "t.wav")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False LazyModule", "module True", str(sum(range(100)))]
