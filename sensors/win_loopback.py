"""Windows: what the headset plays, from WASAPI loopback, and the endpoint volume it does not carry.

The capture itself is :class:`sensors.audio.AudioCapture` with
``loopback=True``: PyAudioWPatch (PortAudio with WASAPI loopback; its
loopback devices are inputs named after their render endpoint, "… [Loopback]")
behind the same interface as the microphone, opened in the endpoint's mix
format and reduced to its louder channel.

**Pre- or post-volume.**  WASAPI loopback copies the audio engine's output
for the endpoint (Microsoft, "Loopback Recording").  The endpoint volume
(``IAudioEndpointVolume``) is applied by the device when it has a hardware
volume control, and by the audio engine in software when it has none
(Microsoft, ``IAudioEndpointVolume``: "If the audio device lacks a hardware
volume control for the stream, the audio engine automatically implements
volume and mute controls in software").  So, as on PulseAudio: on an
endpoint with software volume the loopback carries the volume and mute; on
one with hardware volume (``QueryHardwareSupport`` has
``ENDPOINT_HARDWARE_SUPPORT_VOLUME``: many USB headsets) it is full scale
whatever the slider, which is why loopback users see "affected by the
system volume on some devices, not on others".  Per-application volumes
(the mixer's sessions) are applied in the mix and are always in the loopback.

:func:`endpoint_gain` makes that an :class:`~sensors.pulse_sinks.EarGain`
(pure, tested with recorded values); :func:`read_endpoint_volume` reads the
endpoint through pycaw on Windows, a plain function the tests replace.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import sys
import threading
from dataclasses import dataclass
from typing import Any

from sensors.pulse_sinks import EarGain

log = logging.getLogger(__name__)

#: ``IAudioEndpointVolume::QueryHardwareSupport`` bits (endpointvolume.h).
HARDWARE_SUPPORT_VOLUME = 0x1
HARDWARE_SUPPORT_MUTE = 0x2
#: Endpoint ids of render devices begin so (capture ones with ``{0.0.1.``): the headset's
#: microphone has the same friendly name fragment as its earphones.
RENDER_ID_PREFIX = "{0.0.0."


@dataclass(frozen=True)
class EndpointVolume:
    """A render endpoint's volume as ``IAudioEndpointVolume`` reports it."""

    name: str
    #: ``GetMasterVolumeLevel`` and the top of ``GetVolumeRange`` (dB).
    level_db: float
    max_db: float
    muted: bool
    #: ``QueryHardwareSupport`` bits.
    hardware_support: int


def endpoint_gain(volume: EndpointVolume | None) -> EarGain:
    """The correction from the loopback to the ear (see the module docstring)."""
    if volume is None:
        return EarGain(0.0, known=False, how="unknown")
    if volume.muted:
        return EarGain(0.0, silent=True, how="muted")  # hardware or software: nothing reaches the ear
    if not volume.hardware_support & HARDWARE_SUPPORT_VOLUME:
        return EarGain(0.0, how="software")  # the audio engine applied it before the loopback copy
    level, top = volume.level_db, volume.max_db
    if not (math.isfinite(level) and math.isfinite(top)) or level - top > 0.01 or level - top < -200:
        return EarGain(0.0, known=False, how="unknown")
    # Sensitivity is at full volume (the top of the range): the slider only takes off.
    return EarGain(min(0.0, level - top), how="hardware")


_com_ready = threading.local()


def _com_for_this_thread(comtypes: Any) -> None:  # pragma: no cover - Windows only
    """COM initialised once on the calling thread (the hearing gate's; comtypes does only its importer's)."""
    if getattr(_com_ready, "done", False):
        return
    # RPC_E_CHANGED_MODE: already initialised (single-threaded, by comtypes' import): usable as it is.
    with contextlib.suppress(OSError):
        comtypes.CoInitializeEx(comtypes.COINIT_MULTITHREADED)
    _com_ready.done = True


def read_endpoint_volume(wanted: str) -> EndpointVolume | None:  # pragma: no cover - Windows only
    """The volume of the render endpoint ``wanted`` names (empty: the default output); ``None`` if unknown.

    Through pycaw (comtypes' Core Audio interfaces); any COM failure is "unknown".
    """
    if sys.platform != "win32":
        return None
    try:
        ctypes: Any = importlib.import_module("ctypes")
        pycaw: Any = importlib.import_module("pycaw.pycaw")
        comtypes: Any = importlib.import_module("comtypes")
        _com_for_this_thread(comtypes)
        device = _render_device(pycaw, wanted)
        if device is None:
            return None
        raw = device.Activate(pycaw.IAudioEndpointVolume._iid_, comtypes.CLSCTX_ALL, None)
        endpoint = ctypes.cast(raw, ctypes.POINTER(pycaw.IAudioEndpointVolume))
        _low, high, _step = endpoint.GetVolumeRange()
        return EndpointVolume(
            name=str(wanted or "default"),
            level_db=float(endpoint.GetMasterVolumeLevel()),
            max_db=float(high),
            muted=bool(endpoint.GetMute()),
            hardware_support=int(endpoint.QueryHardwareSupport()),
        )
    except Exception as exc:  # COM reports everything as COMError/OSError
        log.info("endpoint volume not readable: %s", exc)
        return None


def _render_device(pycaw: Any, wanted: str) -> Any:  # pragma: no cover - Windows only
    """The ``IMMDevice`` of the default render endpoint, or of the active one whose name has ``wanted``."""
    if not wanted:
        speakers = pycaw.AudioUtilities.GetSpeakers()
        return getattr(speakers, "_dev", speakers)  # newer pycaw wraps the IMMDevice
    needle = wanted.casefold()
    for device in pycaw.AudioUtilities.GetAllDevices():
        name = str(getattr(device, "FriendlyName", "") or "")
        render = str(getattr(device, "id", "") or "").startswith(RENDER_ID_PREFIX)
        if render and needle in name.casefold() and getattr(device, "_dev", None) is not None:
            return device._dev
    return None
