"""耳机: headset microphone quality, disconnection, and whether a call is in progress.

Procedure 四.1.a: the phone connects quickly, with no noise and stable
quality; 四.2.a: noise, dropped calls.  The headset microphone is analysed
continuously in memory (:mod:`sensors.audio_analysis`): only levels and
counts are kept, never the audio.  Outside a call it listens for
``idle_listen_seconds`` of every poll interval (the stream is paused, not
closed, in between: receiving audio is most of what the monitor costs);
during a call, a one-shot check or a recording, continuously.  Voice on the headset and another
application holding the microphone feed the shared call state, so break
reminders and alert sounds never interrupt a caller.

What the readings claim (the state model): while the stream is still opening
at start-up (up to :attr:`HeadsetMonitor.startup_grace`) there is no reading
for the headset at all -- not yet observed is no fault.  A headset that is
absent or cannot be opened is a critical "disconnected"; one that is there
but delivers no samples is unknown ("no audio for N s"); in both cases every
audio indicator is unknown with that reason, never OK.  Without any audio
input on the computer and no device named, everything is "not set up".
Audio that holds nothing to measure -- no speech for the speech level and
SNR, no pause for the hum -- reads "not observed" (``NOT_SET_UP``, with the
reason), never OK.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from app.kernel import devices
from app.kernel.i18n import Text
from app.kernel.model import (
    Direction,
    Indicator,
    IndicatorMaker,
    Level,
    Reading,
    Thresholds,
)
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.settings import Setting
from sensors.audio import AudioCapture, CaptureState, CaptureStatus, shared_capture
from sensors.audio_analysis import AnalysisSettings, AudioSummary, WindowStats
from sensors.mic_usage import MicUsage, PulseMicUsage, system_mic_usage
from sensors.pulse_events import PulseStreamWatcher, SnapshotListener, StreamSnapshot

if TYPE_CHECKING:
    from sensors.audio import Samples
    from sensors.win_audio_sessions import WindowsAudioSessionWatcher

log = logging.getLogger(__name__)

_HIGH = Direction.HIGH_IS_BAD
_LOW = Direction.LOW_IS_BAD

#: Call-state source names (shown in diagnostics).
VOICE_SOURCE = "headset_voice"
MIC_SOURCE = "microphone_in_use"


StreamWatcher: TypeAlias = "PulseStreamWatcher | WindowsAudioSessionWatcher"


def stream_watcher_for_platform(
    on_change: SnapshotListener,
    headset_source: Callable[[], str],
    mic_usage: MicUsage,
    on_sources: Callable[[], None] | None = None,
) -> StreamWatcher | None:
    """What tells of call streams opening and closing here (``None``: only polling).

    Windows: audio-session notifications; Linux: PulseAudio/PipeWire events
    (``on_sources``: a microphone appeared or went).  Either falls back to
    polling ``mic_usage`` while its snapshot is unknown.
    """
    if sys.platform == "win32":
        from sensors.win_audio_sessions import (
            WindowsAudioSessionWatcher,  # Windows only: not loaded elsewhere
        )

        return WindowsAudioSessionWatcher(on_change)
    if isinstance(mic_usage, PulseMicUsage):
        return PulseStreamWatcher(on_change, headset_source, on_sources=on_sources)
    return None


#: The device group this monitor watches (its card, self-check advice and demo), declared in the
#: kernel because the hearing monitor's readings sit on the same card.
HEADSET = devices.HEADSET

_ind = IndicatorMaker("headset", HEADSET)


CONNECTED = _ind("connected", Text("Headset connected", "耳机已连接"), numeric=False)
MIC = _ind("microphone", Text("Microphone", "麦克风"), numeric=False)
NOISE_FLOOR = _ind(
    "noise_floor",
    Text("Background noise", "底噪"),
    "dBFS",
    description=Text(
        "Noise between words, 300–3400 Hz; ≤ −60 dBFS is quiet",
        "说话间隙的噪声(300–3400 Hz);≤ −60 dBFS 为安静",
    ),
    thresholds=Thresholds(_HIGH, -59, -50, -61, -52, raise_after=15, clear_after=10),
)
SPEECH_LEVEL = _ind(
    "speech_level",
    Text("Speech level", "语音电平"),
    "dBFS",
    description=Text(
        "Active speech level (ITU-T P.56), 300–3400 Hz; −40…−20 dBFS is normal",
        "有效语音电平(ITU-T P.56,300–3400 Hz);−40…−20 dBFS 为正常",
    ),
    thresholds=Thresholds(_LOW, -40, -50, -38, -48, raise_after=15, clear_after=10),
)
SNR = _ind(
    "snr",
    Text("Signal-to-noise ratio", "信噪比"),
    "dB",
    description=Text(
        "Active speech level minus background noise, both 300–3400 Hz", "有效语音电平减底噪,均在 300–3400 Hz"
    ),
    thresholds=Thresholds(_LOW, 20, 10, 22, 12, raise_after=15, clear_after=10),
)
CLIPPING = _ind(
    "clipping",
    Text("Clipped speech", "削波失真"),
    "%",
    description=Text(
        "Share of speech frames with more than 10 % of samples at full scale",
        "语音帧中超过 10 % 采样达到满幅的比例",
    ),
    thresholds=Thresholds(_HIGH, 1, 5, 0.5, 3, raise_after=10, clear_after=10),
    metric_unit="ratio",
    metric_scale=0.01,
)
DC_OFFSET = _ind(
    "dc_offset",
    Text("DC offset", "直流偏移"),
    "%",
    thresholds=Thresholds(_HIGH, 2, 10, 1.5, 8, raise_after=15, clear_after=10),
    metric_unit="ratio",
    metric_scale=0.01,
)
HUM = _ind(
    "hum",
    Text("Mains hum", "工频交流声"),
    "dBFS",
    description=Text("50 Hz and harmonics in quiet moments", "安静时段的 50 Hz 及其谐波"),
    thresholds=Thresholds(_HIGH, -60, -50, -63, -53, raise_after=15, clear_after=10),
)
DROPOUTS = _ind(
    "dropouts",
    Text("Audio dropouts", "音频中断"),
    "",
    description=Text(
        "Gaps of digital silence and PortAudio overflows in the window",
        "统计窗口内的数字静音间隙与缓冲溢出次数",
    ),
    thresholds=Thresholds(_HIGH, 2, 5, 1, 3, raise_after=0, clear_after=10),
)
IN_CALL = _ind("in_call", Text("In a call", "通话中"), numeric=False)

MSG_CONNECTED = Text("{device}, {rate} Hz", "{device},{rate} Hz")
MSG_DISCONNECTED = Text(
    "Headset disconnected: {device} ({error}). Plug it back in; monitoring resumes by itself.",
    "耳机已断开:{device}({error})。请重新插好,监测会自动恢复。",
)
MSG_NO_AUDIO = Text("No audio: headset disconnected", "无音频:耳机已断开")
MSG_SILENT_INPUT = Text(
    "No audio from {device} for {seconds:.0f} s: the input is there but delivers nothing "
    "(muted or suspended in the sound settings, or a sound-server filter stalled)",
    "{device} 已 {seconds:.0f} 秒没有音频:输入设备存在但没有数据"
    "(可能在声音设置中被静音或挂起,或音频服务的滤波模块卡住)",
)
MSG_NO_AUDIO_FOR = Text("No audio for {seconds:.0f} s", "{seconds:.0f} 秒无音频")
MSG_NOT_OPENED = Text(
    "The audio input did not open within {seconds:.0f} s",
    "音频输入在 {seconds:.0f} 秒内未能打开",
)
MSG_STOPPED = Text("Headset monitoring stopped", "耳机监测已停止")
MSG_STUCK = Text(
    "Headset not observed: the audio library stopped working on {device} ({error})",
    "耳机未被监测:音频库在 {device} 上停止工作({error})",
)
MSG_NO_INPUT = Text(
    "No microphone on this computer: plug in the headset, or name it in Settings",
    "本机没有麦克风:请插上耳机,或在设置中指定耳机",
)
MSG_COLLECTING = Text("Listening… ({seconds:.1f} s so far)", "正在采集…(已 {seconds:.1f} 秒)")
#: Nothing to measure in the window: "not observed" (grey, never an alert), never OK.
MSG_NO_SPEECH = Text(
    "Not observed: no speech in the last {seconds:.0f} s", "未观测:最近 {seconds:.0f} 秒无语音"
)
MSG_NO_QUIET = Text(
    "Not observed: no quiet moment in the last {seconds:.0f} s", "未观测:最近 {seconds:.0f} 秒没有安静时段"
)
MSG_DEAD = Text(
    "Microphone dead or muted: level constantly below {limit:g} dBFS. Check the mute switch and cable.",
    "麦克风无信号或已静音:电平始终低于 {limit:g} dBFS。请检查静音开关和线缆。",
)
MSG_INAUDIBLE = Text(
    "Microphone too quiet: speech peaks at {peak:.0f} dBFS (below {limit:g}). "
    "Move the boom closer to the mouth or raise the input volume.",
    "麦克风音量过低:语音峰值 {peak:.0f} dBFS(低于 {limit:g})。请将话筒靠近嘴边或调高输入音量。",
)
MSG_MIC_OK = Text("Working, peak {peak:.0f} dBFS", "正常,峰值 {peak:.0f} dBFS")
MSG_DROPOUTS = Text(
    "{gaps} gap(s), {overflows} overflow(s), {underflows} underflow(s)",
    "间隙 {gaps} 次,溢出 {overflows} 次,欠载 {underflows} 次",
)
MSG_CALL_VOICE = Text("Voice on the headset", "耳机有语音")
MSG_CALL_APPS = Text("Microphone in use by: {apps}", "麦克风正被使用:{apps}")
MSG_CALL_HANGOVER = Text("Call just ended (wrap-up)", "通话刚结束(整理中)")
MSG_NO_CALL = Text("No call", "未在通话")
MSG_CALL_UNOBSERVED = Text(
    "Cannot tell whether a call is on: no audio, and no list of programs using the microphone",
    "无法判断是否在通话:没有音频,也无法获取正在使用麦克风的程序",
)
MSG_FALLBACK = Text(
    "'{wanted}' not found; listening to the default input {device} instead",
    "未找到“{wanted}”,改用默认输入设备 {device}",
)


class HeadsetMonitor(Monitor):
    """Listens to the headset microphone; everything stays in memory."""

    id = "headset"
    device = HEADSET
    title = Text("Headset", "耳机")
    indicators = (
        CONNECTED, MIC, NOISE_FLOOR, SPEECH_LEVEL, SNR, CLIPPING, DC_OFFSET, HUM, DROPOUTS, IN_CALL,
    )  # fmt: skip
    interval = 5.0
    timeout = 20.0
    #: Seconds after start during which a stream that has not opened yet is
    #: "not yet observed" (no reading) rather than a disconnected headset.
    startup_grace = 15.0
    #: A one-shot check waits at most ``check_seconds`` plus this for audio
    #: (opening the stream included); well inside :attr:`timeout`.
    check_margin = 8.0
    settings = (
        Setting(
            "device",
            "",
            Text("Headset microphone (part of its name)", "耳机麦克风(名称中的一段)"),
            help=Text("empty: the system's default input", "留空:系统默认输入设备"),
        ),
        Setting(
            "fallback_to_default",
            False,
            Text("Use the default input when the named one is missing", "找不到指定设备时使用默认输入"),
        ),
        Setting("rate", 16000, Text("Sample rate (Hz)", "采样率(Hz)"), minimum=8000, maximum=48000),
        # 500 ms: PortAudio's thread and the analysis wake twice a second, not ten
        # times; the analysis still works on 100 ms blocks (analyse_blocks).
        Setting("block_ms", 500.0, Text("Capture buffer (ms)", "采集缓冲(毫秒)"), minimum=10, maximum=1000),
        Setting(
            "window_seconds",
            10.0,
            Text("Analysis window (s)", "分析窗口(秒)"),
            minimum=2,
            maximum=300,
        ),
        Setting("mains_hz", 50.0, Text("Mains frequency (Hz)", "电网频率(Hz)"), minimum=40, maximum=70),
        Setting(
            "dead_dbfs",
            -80.0,
            Text("Dead microphone below (dBFS)", "麦克风无信号阈值(dBFS)"),
            minimum=-120,
            maximum=0,
        ),
        Setting(
            "inaudible_dbfs",
            -40.0,
            Text("Too-quiet microphone: speech peaks below (dBFS)", "麦克风过低:语音峰值低于(dBFS)"),
            minimum=-120,
            maximum=0,
        ),
        Setting(
            "voice_percent",
            20.0,
            Text("Share of speech that means a call (%)", "判定为通话的语音占比(%)"),
            help=Text(
                "of the audio since the previous poll; conversation is about half speech",
                "按上次轮询以来的音频计算;对话中约一半时间有语音",
            ),
            minimum=1,
            maximum=100,
        ),
        Setting("call_detection", True, Text("Detect calls", "检测通话状态")),
        Setting(
            "idle_listen_seconds",
            1.0,
            Text(
                "Outside a call, listen this long in every poll interval (s)",
                "非通话时每个轮询周期的监听时长(秒)",
            ),
            help=Text(
                "0: listen all the time; during a call the headset is always listened to",
                "0:始终监听;通话期间始终监听耳机",
            ),
            minimum=0,
            maximum=60,
        ),
        Setting(
            "check_seconds",
            3.0,
            Text("Audio analysed by a one-shot check (s)", "单次检查分析的音频时长(秒)"),
            minimum=0.5,
            maximum=15,
        ),
    )

    def __init__(self, settings: dict[str, Any], context: MonitorContext) -> None:
        super().__init__(settings, context)
        self.capture: AudioCapture = shared_capture(
            context.services,
            device=str(self.options["device"]),
            rate=int(self.options["rate"]),
            block_ms=float(self.options["block_ms"]),
            fallback_to_default=bool(self.options["fallback_to_default"]),
        )
        self._lock = threading.Lock()
        self._window = self._new_window(int(self.options["rate"]))
        self._losses = 0
        self._started = False
        #: Whether the stream has been open since start (ends the start-up grace).
        self._seen_open = False
        self.mic_usage: MicUsage = system_mic_usage()
        #: Streams opening and closing as they happen (app mode; else ``None``: polling).
        self.stream_watcher: StreamWatcher | None = None

    # -- analysis on the audio thread ------------------------------------------
    def _new_window(self, rate: int) -> WindowStats:
        analysis = AnalysisSettings(
            rate=rate,
            mains_hz=float(self.options["mains_hz"]),
            dead_dbfs=float(self.options["dead_dbfs"]),
            inaudible_dbfs=float(self.options["inaudible_dbfs"]),
        )
        return WindowStats(analysis, float(self.options["window_seconds"]))

    def _on_block(self, block: Samples, flags: int, rate: int) -> None:
        with self._lock:
            if rate != self._window.settings.rate:
                self._window = self._new_window(rate)
            self._window.add_samples(block, flags)

    def reset_window(self) -> None:
        """Forget the audio analysed so far (the next summary starts from now)."""
        with self._lock:
            self._window.clear()

    def summary(self, last_seconds: float | None = None) -> AudioSummary | None:
        """The current analysis window (thread-safe)."""
        with self._lock:
            return self._window.summary(last_seconds)

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.capture.subscribe(self._on_block)
        self.capture.acquire()
        self._start_stream_watcher()
        self.context.call_state.add_change_listener(self._update_duty_cycle)
        self._update_duty_cycle()

    def _update_duty_cycle(self) -> None:
        """Listen continuously in a call (any thread: a call's start is acted on at once)."""
        listen = float(self.options["idle_listen_seconds"])
        every = float(self.options.get("interval", self.interval))
        if self.context.mode == "check" or listen <= 0 or self.context.call_state.in_call:
            self.capture.set_duty_cycle(None)
        else:
            self.capture.set_duty_cycle(listen, every)

    def _start_stream_watcher(self) -> None:
        """Feed the call state from stream events, so a call is known the moment it starts or ends."""
        if self.context.mode == "check" or not self.options["call_detection"]:
            return
        self.stream_watcher = stream_watcher_for_platform(
            self._on_streams,
            lambda: self.capture.pulse_source,
            self.mic_usage,
            on_sources=self.capture.check_presence_soon,
        )
        if self.stream_watcher is not None:
            self.stream_watcher.start()

    def _on_streams(self, snapshot: StreamSnapshot | None) -> None:
        """Watcher thread: who records and who plays changed."""
        call_state = self.context.call_state
        recording = bool(snapshot and snapshot.recording)
        # The stream closing is the end of the call: no hang-over after it.
        call_state.set_source(MIC_SOURCE, recording, hangover=False)
        playing = snapshot.playing if snapshot is not None else ()
        call_state.set_playback((p.index, p.app, p.role) for p in playing)

    def close(self) -> None:
        if not self._started:
            return
        self._started = False
        self.context.call_state.remove_change_listener(self._update_duty_cycle)
        self.capture.set_duty_cycle(None)
        if self.stream_watcher is not None:
            self.stream_watcher.stop()
            self.stream_watcher = None
        self.capture.unsubscribe(self._on_block)
        self.capture.release()
        self.context.call_state.set_source(VOICE_SOURCE, False)
        self.context.call_state.set_source(MIC_SOURCE, False)

    # -- polling --------------------------------------------------------------
    def poll(self) -> list[Reading]:
        if not self._started:
            self.start()
        if self.context.mode == "check":
            self._wait_for_audio()
        status = self.capture.status()
        if status.losses != self._losses:
            self._losses = status.losses
            self.reset_window()
        if status.state is CaptureState.OPEN:
            self._seen_open = True
            return self._open_readings(status)
        if self._in_startup_grace(status):
            # Not yet observed is not a fault: no reading until the stream has
            # opened or the grace is over (else every start raised "disconnected").
            return self._call(None, unobserved=None)
        return self._not_delivering(status)

    def _in_startup_grace(self, status: CaptureStatus) -> bool:
        if self._seen_open or self.context.mode == "check":
            return False  # a one-shot check has already waited for the stream
        if status.state not in (CaptureState.STARTING, CaptureState.ABSENT, CaptureState.FAILED,
                                CaptureState.NO_INPUT):  # fmt: skip
            return False
        return status.running_for is None or status.running_for < self.startup_grace

    def _open_readings(self, status: CaptureStatus) -> list[Reading]:
        if status.fallback:
            message = MSG_FALLBACK.format(wanted=self.options["device"], device=status.device)
            connected = Reading(CONNECTED.id, True, Level.WARNING, message)
        else:
            message = MSG_CONNECTED.format(device=status.device, rate=status.rate)
            connected = Reading(CONNECTED.id, True, Level.OK, message)
        readings = [connected]
        summary = self.summary()
        needed = min(float(self.options["check_seconds"]), float(self.options["window_seconds"]))
        if summary is None or summary.seconds < min(needed, 1.0):
            if self.context.mode == "check":
                # The one chance to observe is over: say what was missing.
                seconds = 0.0 if summary is None else summary.seconds
                msg = MSG_COLLECTING.format(seconds=seconds)
                readings += [Reading(i.id, None, Level.UNKNOWN, msg) for i in self._quality_indicators]
            # Running: the window is still filling (just opened or reopened); no reading yet.
            return readings + self._call(None, unobserved=None)
        readings += self._quality(summary)
        readings += self._call(self.summary(float(self.options.get("interval", self.interval))))
        self._update_duty_cycle()  # a call's hang-over ends without an event
        return readings

    @property
    def _quality_indicators(self) -> tuple[Indicator, ...]:
        """The indicators measured from the audio (all but connected and in-call)."""
        return self.indicators[1:-1]

    def _wait_for_audio(self) -> None:
        """One-shot checks: give the stream time to start and deliver a few seconds.

        Bounded by ``check_seconds`` + :attr:`check_margin` whatever the
        device does (it may open and then deliver nothing at all).
        """
        wanted = float(self.options["check_seconds"])
        deadline = time.monotonic() + wanted + self.check_margin
        self.capture.wait_connected(min(5.0, self.check_margin))
        while time.monotonic() < deadline:
            status = self.capture.status()
            if status.state is not CaptureState.OPEN:
                if status.state is not CaptureState.STARTING:
                    return
            else:
                summary = self.summary()
                if summary is not None and summary.seconds >= wanted:
                    return
            time.sleep(0.1)

    def _not_delivering(self, status: CaptureStatus) -> list[Reading]:
        """Readings while no audio arrives: the reason on every audio indicator, never OK."""
        name = status.device or Text("default input", "默认输入设备")
        detail = {"error": status.error, "state": status.state.value}
        quality_level = Level.UNKNOWN
        if status.state is CaptureState.NO_INPUT:
            connected = Reading(CONNECTED.id, None, Level.NOT_SET_UP, MSG_NO_INPUT, detail=detail)
            quality_level, quality_msg = Level.NOT_SET_UP, MSG_NO_INPUT
        elif status.state is CaptureState.SILENT:
            seconds = status.silent_seconds or 0.0
            message = MSG_SILENT_INPUT.format(device=name, seconds=seconds)
            connected = Reading(CONNECTED.id, None, Level.UNKNOWN, message, detail=detail)
            quality_msg = MSG_NO_AUDIO_FOR.format(seconds=seconds)
        elif status.state is CaptureState.STARTING:
            message = MSG_NOT_OPENED.format(seconds=status.running_for or 0.0)
            connected = Reading(CONNECTED.id, None, Level.UNKNOWN, message, detail=detail)
            quality_msg = message
        elif status.state is CaptureState.STOPPED:
            connected = Reading(CONNECTED.id, None, Level.UNKNOWN, MSG_STOPPED, detail=detail)
            quality_msg = MSG_STOPPED
        elif status.state is CaptureState.STUCK:  # no claim either way about the headset itself
            message = MSG_STUCK.format(device=name, error=status.error or "—")
            connected = Reading(CONNECTED.id, None, Level.UNKNOWN, message, detail=detail)
            quality_msg = message
        else:  # absent or failed to open: the headset is not usable
            message = MSG_DISCONNECTED.format(device=name, error=status.error or "—")
            connected = Reading(CONNECTED.id, False, Level.CRITICAL, message, detail=detail)
            quality_msg = MSG_NO_AUDIO
        readings = [connected]
        # The headset's own reading carries the alert; the audio readings only say why they are empty.
        readings += [
            Reading(i.id, None, quality_level, quality_msg, caused_by=CONNECTED.id)
            for i in self._quality_indicators
        ]
        readings += self._call(None, unobserved=quality_level)
        return readings

    def _quality(self, s: AudioSummary) -> list[Reading]:
        window = s.seconds
        readings = [self._mic_reading(s)]
        readings.append(Reading(NOISE_FLOOR.id, s.noise_floor_dbfs))
        # No speech (or no pause) in the window: nothing was measured, which is no
        # claim of "normal" -- the reading is "not observed" (NOT_SET_UP: grey, never
        # an alert, out of the worst level), saying why.
        if s.speech_level_dbfs is None:
            no_speech = MSG_NO_SPEECH.format(seconds=window)
            readings.append(Reading(SPEECH_LEVEL.id, None, Level.NOT_SET_UP, no_speech))
            readings.append(Reading(SNR.id, None, Level.NOT_SET_UP, no_speech))
        else:
            readings.append(Reading(SPEECH_LEVEL.id, s.speech_level_dbfs))
            readings.append(Reading(SNR.id, s.snr_db))
        readings.append(Reading(CLIPPING.id, s.clipped_percent))
        readings.append(Reading(DC_OFFSET.id, s.dc_offset_percent))
        if s.hum_dbfs is None:
            readings.append(Reading(HUM.id, None, Level.NOT_SET_UP, MSG_NO_QUIET.format(seconds=window)))
        else:
            readings.append(Reading(HUM.id, s.hum_dbfs))
        gaps = s.dropouts - s.overflows - s.underflows
        msg = MSG_DROPOUTS.format(gaps=gaps, overflows=s.overflows, underflows=s.underflows)
        readings.append(Reading(DROPOUTS.id, s.dropouts, message=msg))
        return readings

    def _mic_reading(self, s: AudioSummary) -> Reading:
        detail = {"peak_dbfs": s.peak_dbfs, "speech_seconds": s.speech_seconds}
        if s.dead:
            limit = float(self.options["dead_dbfs"])
            return Reading(MIC.id, "dead", Level.CRITICAL, MSG_DEAD.format(limit=limit), detail=detail)
        others_recording = bool(self.context.call_state.sources().get(MIC_SOURCE))
        if s.inaudible and (s.speech_present or others_recording):
            limit = float(self.options["inaudible_dbfs"])
            message = MSG_INAUDIBLE.format(peak=s.peak_dbfs, limit=limit)
            return Reading(MIC.id, "inaudible", Level.WARNING, message, detail=detail)
        return Reading(MIC.id, "ok", Level.OK, MSG_MIC_OK.format(peak=s.peak_dbfs), detail=detail)

    def _call(self, recent: AudioSummary | None, unobserved: Level | None = Level.UNKNOWN) -> list[Reading]:
        """The in-call reading (and the call state's microphone source).

        When neither voice (no audio) nor the programs on the microphone can be
        observed, "no call" would be a claim: the reading is ``unobserved``
        instead (unknown, not set up, or — ``None`` — no reading at all).
        """
        if not self.options["call_detection"]:
            return []
        call_state = self.context.call_state
        share = float(self.options["voice_percent"]) / 100
        voice = recent is not None and recent.speech_seconds >= share * recent.seconds
        call_state.set_source(VOICE_SOURCE, voice)
        watcher = self.stream_watcher
        snapshot = watcher.snapshot if watcher is not None else None
        if snapshot is not None:
            apps: list[str] | None = list(snapshot.recording)  # kept current by events
        else:
            if isinstance(self.mic_usage, PulseMicUsage):
                # A sink monitor counts as a microphone when it is the headset (as in tests).
                self.mic_usage.headset_source = self.capture.pulse_source
            apps = self.mic_usage.recording_apps()
        if snapshot is None:
            # (With a snapshot the watcher thread sets this source itself, never stale.)
            call_state.set_source(MIC_SOURCE, bool(apps))
        parts = []
        if voice:
            parts.append(MSG_CALL_VOICE)
        if apps:
            parts.append(MSG_CALL_APPS.format(apps=", ".join(apps)))
        in_call = call_state.in_call
        if apps is None and recent is None and not in_call:
            if unobserved is None:
                return []
            return [Reading(IN_CALL.id, None, unobserved, MSG_CALL_UNOBSERVED, caused_by=CONNECTED.id)]
        if parts:
            message = Text("; ".join(p.en for p in parts), ";".join(p.zh for p in parts))
        else:
            message = MSG_CALL_HANGOVER if in_call else MSG_NO_CALL
        detail = {"sources": call_state.sources(), "apps": apps or []}
        return [Reading(IN_CALL.id, in_call, Level.OK, message, detail=detail)]
