"""The analysis and WAV modules load with the monitors but leave numpy unimported until audio is handled.

(``sensors/audio.py`` imports numpy itself; a seat without a headset or a
recorder is numpy-free only once it does not.)
"""

from __future__ import annotations

import json
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


#: In a fresh interpreter: the headset's and the hearing monitor's analysis of a few seconds of audio.
ANALYSED = textwrap.dedent(
    """
    import json, sys, time
    import numpy
    from sensors import audio_analysis, sound_dose
    t = numpy.arange(3 * 16000) / 16000
    pcm = (3000 * numpy.sin(2 * numpy.pi * 440 * t) * (t % 1 < 0.6)).astype(numpy.int16)
    window = audio_analysis.WindowStats(seconds=10.0)
    window.add_samples(pcm)
    assert window.summary() is not None
    meter = sound_dose.SoundDoseMeter(sound_dose.MeterSettings(), 16000)
    meter.add(pcm, 16000, time.time())
    print(json.dumps(sorted(m for m in sys.modules if m.startswith("numpy."))))
    """
)
#: numpy 2.x loads these on first use only; the analysis needs none of them (``numpy.random``
#: alone is 7 MiB resident, ``numpy.ma`` 1.3, ``numpy.polynomial`` 0.8).  numpy's core, its
#: ``lib`` and ``linalg`` (imported by ``numpy/__init__`` itself) and ``numpy.fft`` are loaded.
UNUSED_NUMPY = (
    "numpy.random", "numpy.ma", "numpy.polynomial", "numpy.testing", "numpy.ctypeslib", "numpy.f2py",
)  # fmt: skip


def test_the_analysis_loads_only_numpy_core_and_fft() -> None:
    result = subprocess.run(
        [sys.executable, "-c", ANALYSED], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "numpy.fft" in loaded  # the check sees what the analysis loads
    assert not {m for m in loaded if m in UNUSED_NUMPY or m.startswith(tuple(u + "." for u in UNUSED_NUMPY))}
