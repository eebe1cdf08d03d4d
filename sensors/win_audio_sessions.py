"""Windows: audio sessions starting and stopping, as the OS notifies them (the ``pactl subscribe`` twin).

Windows Core Audio reports every application's audio as a *session* per
endpoint: ``IAudioSessionManager2::RegisterSessionNotification`` announces
new sessions (``IAudioSessionNotification::OnSessionCreated``) and each
session's ``IAudioSessionEvents::OnStateChanged`` tells when it becomes
active (sound flowing), inactive or expired.  Sessions on capture endpoints
are recordings (a softphone holding the microphone); sessions on render
endpoints are playback (a ring).

:class:`WindowsAudioSessionWatcher` has the interface of
:class:`sensors.pulse_events.PulseStreamWatcher` (``start``, ``stop``,
``snapshot``, ``stats``, the ``on_change`` callback).  The judging —
:meth:`WindowsAudioSessionWatcher.session_event` and
:func:`snapshot_from_sessions` — is pure and tested with recorded session
events.  :class:`_ComSessions` does the registrations (every render and
capture endpoint's ``IAudioSessionManager2``, every session's
``IAudioSessionControl2``) through a small COM layer: :func:`_windows_com`
on Windows (comtypes, interfaces declared here with the SDK's IIDs), a fake
object graph with the same method names in the tests.

Threads: the watcher owns one thread, initialised for the multithreaded
apartment (notification interfaces must be registered from an MTA thread).
COM calls the sinks on its own worker threads; they only put a record on the
watcher's queue -- registering, unregistering and judging all happen on the
watcher thread (Windows forbids (un)registering inside a callback).  Endpoints
are enumerated again when Windows reports a device added, removed or changing
state (``IMMNotificationClient``) and in any case every
:attr:`WindowsAudioSessionWatcher.RESYNC_S`, so a headset plugged in later has
its sessions watched too.

The system-sounds session (Windows' own notification sounds) and Deskwatch's
own sessions never count.  Any COM failure at start leaves the watcher in mode
"unavailable" with the reason in ``stats.errors`` and its snapshot ``None``:
the headset monitor then polls as before.
"""

from __future__ import annotations

import importlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sensors.pulse_events import PlaybackStream, SnapshotListener, StreamSnapshot, StreamWatcherBase

log = logging.getLogger(__name__)

FLOWS = frozenset({"render", "capture"})
STATES = frozenset({"active", "inactive", "expired"})
#: ``AudioSessionState`` values in order (AudioSessionStateInactive = 0 …).
STATE_NAMES = ("inactive", "active", "expired")
#: ``EDataFlow``: eRender = 0, eCapture = 1.
ENDPOINT_FLOWS = ((0, "render"), (1, "capture"))
DEVICE_STATE_ACTIVE = 0x1
CLSCTX_ALL = 0x17
S_OK = 0


@dataclass(frozen=True)
class SessionRecord:
    """One audio session's state (``AudioSessionState`` in lower case)."""

    session_id: str
    pid: int
    process: str
    flow: str
    state: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SessionRecord | None:
        """Parse a recorded or COM-side event; ``None`` when anything is off."""
        try:
            record = cls(
                str(data["session_id"])[:200],
                int(data["pid"]),
                "".join(ch for ch in str(data["process"]) if ch.isprintable())[:80],
                str(data["flow"]).lower(),
                str(data["state"]).lower(),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if record.flow not in FLOWS or record.state not in STATES or record.pid < 0:
            return None
        return record


def snapshot_from_sessions(sessions: Iterable[tuple[int, SessionRecord]], own_pid: int) -> StreamSnapshot:
    """Who records and who plays, from ``(stable key, session)`` pairs in their current states."""
    recording: list[str] = []
    playing: list[PlaybackStream] = []
    for number, session in sessions:
        if session.state != "active" or session.pid in (0, own_pid):
            continue
        if session.flow == "capture":
            if session.process not in recording:
                recording.append(session.process)
        else:
            playing.append(PlaybackStream(number, session.process))
    return StreamSnapshot(tuple(recording), tuple(playing))


#: What the COM sinks put on the watcher's queue.
Post = Callable[[tuple[Any, ...]], None]


class WindowsAudioSessionWatcher(StreamWatcherBase):
    """Keeps a :class:`StreamSnapshot` current from audio-session notifications."""

    #: Endpoints are enumerated again this often (a headset plugged in meanwhile).
    RESYNC_S = 30.0
    #: ``start`` waits this long for the registrations; later they count when they come.
    START_TIMEOUT_S = 5.0

    def __init__(
        self,
        on_change: SnapshotListener,
        own_pid: int | None = None,
        com: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(on_change, own_pid)
        # Nothing published yet reads as unknown: no need to announce that first None.
        self._has_published = True
        self._sessions: dict[str, tuple[int, SessionRecord]] = {}
        self._next_key = 0  # a session keeps its key while it lives (the call state tracks by key)
        #: Loads the COM layer (on the watcher thread); tests pass a fake.
        self._load_com = com or _windows_com
        self._queue: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Register for notifications on the watcher's thread; wait (briefly) for the outcome."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="deskwatch-win-audio", daemon=True)
        self._thread.start()
        self._ready.wait(self.START_TIMEOUT_S)

    def stop(self) -> None:
        """Unregister everything and end the thread (idempotent)."""
        self._stop.set()
        self._queue.put(None)  # wakes the thread
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- judging (pure) --------------------------------------------------------------------
    def session_event(self, data: Mapping[str, Any]) -> None:
        """A session appeared or changed state (from the watcher thread, or by tests)."""
        self._apply(data)
        if self.stats.mode == "starting":
            self.stats.mode = "events"
        self._publish()

    def _apply(self, data: Mapping[str, Any]) -> None:
        record = SessionRecord.from_mapping(data)
        if record is None:
            self.stats.bad_lines += 1
            return
        self.stats.events += 1
        with self._lock:
            if record.state == "expired":
                self._sessions.pop(record.session_id, None)
            else:
                kept = self._sessions.get(record.session_id)
                if kept is None:
                    kept = (self._next_key, record)
                    self._next_key += 1
                self._sessions[record.session_id] = (kept[0], record)

    def _publish(self) -> None:
        with self._lock:
            events = self.stats.mode == "events"
            sessions = list(self._sessions.values())
        self._deliver(snapshot_from_sessions(sessions, self.own_pid) if events else None)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        com: Any = None
        sessions: _ComSessions | None = None
        try:
            com = self._load_com()
            com.co_initialize()  # this thread joins the multithreaded apartment
        except Exception as exc:  # no COM here (not Windows, no comtypes, COM refused)
            self._unavailable(exc)
            return
        try:
            sessions = _ComSessions(com, self._queue.put, self._note_error)
            for event in sessions.open():
                self._apply(event)
            self.stats.connects += 1
            self.stats.mode = "events"
            self._publish()
            self._ready.set()
            self._serve(sessions)
        except Exception as exc:  # an enumerator or session manager Windows would not give
            self._unavailable(exc)
        finally:
            if sessions is not None:
                sessions.close()
            try:
                com.co_uninitialize()
            except Exception:
                log.exception("CoUninitialize failed")

    def _unavailable(self, exc: BaseException) -> None:
        log.warning("audio session notifications unavailable: %s", exc)
        self._note_error(f"{type(exc).__name__}: {exc}")
        self.stats.mode = "unavailable"
        self._publish()
        self._ready.set()

    def _serve(self, sessions: _ComSessions) -> None:
        """Handle what the sinks queued; re-enumerate endpoints every :attr:`RESYNC_S`."""
        next_sync = time.monotonic() + self.RESYNC_S
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=max(0.0, next_sync - time.monotonic()))
            except queue.Empty:
                item = ("sync",)
            if item is None:
                continue
            try:
                if item[0] == "sync":
                    next_sync = time.monotonic() + self.RESYNC_S
                    events = sessions.sync()
                elif item[0] == "created":
                    event = sessions.add_session(*item[1:])
                    events = [] if event is None else [event]
                else:  # ("event", record): a state change or a disconnection
                    events = [item[1]]
                    if item[1].get("state") == "expired":
                        sessions.forget(str(item[1].get("session_id")))
            except Exception as exc:  # one endpoint or session failing must not stop the rest
                log.exception("audio session handling failed")
                self._note_error(f"{type(exc).__name__}: {exc}")
                continue
            for event in events:
                self._apply(event)
            self._publish()


# -- the COM side (runs on the watcher thread, callbacks on COM worker threads) ----------------
class SessionCreatedSink:
    """``IAudioSessionNotification`` for one endpoint (a COM class is made from it on Windows).

    ``OnSessionCreated`` runs on a COM worker thread: it only takes its own
    reference to the new session (QueryInterface; Windows releases the one it
    passed when the call returns) and queues it.
    """

    def __init__(self, post: Post, control2: Any, flow: str, endpoint: str) -> None:
        super().__init__()  # the COM object's own set-up on Windows
        self._post = post
        self._control2 = control2
        self._flow = flow
        self._endpoint = endpoint

    def OnSessionCreated(self, new_session: Any) -> int:
        try:
            self._post(("created", new_session.QueryInterface(self._control2), self._flow, self._endpoint))
        except Exception:  # an exception must not travel back into Windows
            log.exception("OnSessionCreated failed")
        return S_OK


class SessionEventsSink:
    """``IAudioSessionEvents`` for one session: state changes and disconnection are queued as records."""

    def __init__(self, post: Post, record: Mapping[str, Any]) -> None:
        super().__init__()
        self._post = post
        self._record = dict(record)

    def OnStateChanged(self, new_state: int) -> int:
        state = STATE_NAMES[new_state] if 0 <= new_state < len(STATE_NAMES) else f"state {new_state}"
        self._post(("event", {**self._record, "state": state}))
        return S_OK

    def OnSessionDisconnected(self, reason: int) -> int:
        # The device went away, the audio service stopped, the user logged off ...:
        # the session is over whatever the reason.
        self._post(("event", {**self._record, "state": "expired"}))
        return S_OK

    # The other notifications are of no interest (volume, names, icons).
    def OnDisplayNameChanged(self, name: Any, context: Any) -> int:
        return S_OK

    def OnIconPathChanged(self, path: Any, context: Any) -> int:
        return S_OK

    def OnSimpleVolumeChanged(self, volume: Any, mute: Any, context: Any) -> int:
        return S_OK

    def OnChannelVolumeChanged(self, count: Any, volumes: Any, changed: Any, context: Any) -> int:
        return S_OK

    def OnGroupingParamChanged(self, grouping: Any, context: Any) -> int:
        return S_OK


class EndpointChangesSink:
    """``IMMNotificationClient``: a device added, removed, enabled or unplugged -> enumerate again now."""

    def __init__(self, post: Post) -> None:
        super().__init__()
        self._post = post

    def OnDeviceStateChanged(self, device_id: Any, new_state: Any) -> int:
        self._post(("sync",))
        return S_OK

    def OnDeviceAdded(self, device_id: Any) -> int:
        self._post(("sync",))
        return S_OK

    def OnDeviceRemoved(self, device_id: Any) -> int:
        self._post(("sync",))
        return S_OK

    # Which device is the default does not change which sessions exist.
    def OnDefaultDeviceChanged(self, flow: Any, role: Any, device_id: Any) -> int:
        return S_OK

    def OnPropertyValueChanged(self, device_id: Any, key: Any) -> int:
        return S_OK


@dataclass
class _Endpoint:
    manager: Any
    sink: Any
    flow: str


@dataclass
class _Session:
    control: Any
    sink: Any
    endpoint: str
    record: dict[str, Any]


class _ComSessions:
    """The endpoints and sessions registered with Windows (used on the watcher thread only).

    ``com`` is the COM layer: ``create_enumerator()``, the interface types
    ``IAudioSessionManager2`` / ``IAudioSessionControl2``, ``read_string``
    (a COM-allocated string, freed), ``process_name(pid)`` and the sink
    classes ``created_sink`` / ``events_sink`` / ``endpoint_sink`` (made from
    the classes above).
    """

    def __init__(self, com: Any, post: Post, note_error: Callable[[str], None]) -> None:
        self.com = com
        self.post = post
        self.note_error = note_error
        self.enumerator: Any = None
        self.endpoint_sink: Any = None
        self.endpoints: dict[str, _Endpoint] = {}
        self.sessions: dict[str, _Session] = {}

    def open(self) -> list[dict[str, Any]]:
        """Register every endpoint; the existing sessions' states (a failure here is fatal)."""
        self.enumerator = self.com.create_enumerator()
        sink = self.com.endpoint_sink(self.post)
        try:
            self.enumerator.RegisterEndpointNotificationCallback(sink)
            self.endpoint_sink = sink
        except Exception as exc:  # not fatal: the periodic enumeration still finds new devices
            log.warning("audio device notifications unavailable: %s", exc)
            self.note_error(f"{type(exc).__name__}: {exc}")
        return self.sync()

    def sync(self) -> list[dict[str, Any]]:
        """Register endpoints that appeared (with their sessions); drop those gone."""
        events: list[dict[str, Any]] = []
        present: set[str] = set()
        for number, flow in ENDPOINT_FLOWS:
            devices = self.enumerator.EnumAudioEndpoints(number, DEVICE_STATE_ACTIVE)
            for index in range(int(devices.GetCount())):
                device = devices.Item(index)
                endpoint = self.com.read_string(device.GetId())
                present.add(endpoint)
                if endpoint in self.endpoints:
                    continue
                try:
                    events += self._add_endpoint(device, endpoint, flow)
                except Exception as exc:  # one endpoint Windows refuses does not hide the others
                    log.warning("audio endpoint %s not watched: %s", endpoint, exc)
                    self.note_error(f"{type(exc).__name__}: {exc}")
        for endpoint in set(self.endpoints) - present:
            events += self._drop_endpoint(endpoint)
        return events

    def _add_endpoint(self, device: Any, endpoint: str, flow: str) -> list[dict[str, Any]]:
        manager_type = self.com.IAudioSessionManager2
        manager = device.Activate(manager_type._iid_, CLSCTX_ALL, None).QueryInterface(manager_type)
        sink = self.com.created_sink(self.post, self.com.IAudioSessionControl2, flow, endpoint)
        manager.RegisterSessionNotification(sink)
        self.endpoints[endpoint] = _Endpoint(manager, sink, flow)
        # Notifications only flow once the manager has handed out an enumerator; and
        # OnSessionCreated only announces sessions created from now on: list the rest.
        existing = manager.GetSessionEnumerator()
        events = []
        for index in range(int(existing.GetCount())):
            event = self.add_session(existing.GetSession(index), flow, endpoint)
            if event is not None:
                events.append(event)
        return events

    def add_session(self, control: Any, flow: str, endpoint: str) -> dict[str, Any] | None:
        """Watch one session; its current state as an event (``None``: not a session that counts)."""
        control2 = control.QueryInterface(self.com.IAudioSessionControl2)
        if control2.IsSystemSoundsSession() == S_OK:  # S_OK: system sounds; S_FALSE: not
            return None
        session_id = self.com.read_string(control2.GetSessionInstanceIdentifier())
        watched = self.sessions.get(session_id)
        if watched is None:
            pid = int(control2.GetProcessId())
            record = {
                "session_id": session_id,
                "pid": pid,
                "process": self.com.process_name(pid),
                "flow": flow,
            }
            sink = self.com.events_sink(self.post, record)
            # Registered before the state is read: a change in between is not lost.
            control2.RegisterAudioSessionNotification(sink)
            watched = self.sessions[session_id] = _Session(control2, sink, endpoint, record)
        state = int(watched.control.GetState())
        return {**watched.record, "state": STATE_NAMES[state] if 0 <= state < len(STATE_NAMES) else "?"}

    def forget(self, session_id: str) -> None:
        """The session expired: stop listening to it."""
        watched = self.sessions.pop(session_id, None)
        if watched is not None:
            self._unregister(watched.control.UnregisterAudioSessionNotification, watched.sink)

    def _drop_endpoint(self, endpoint: str, announce: bool = True) -> list[dict[str, Any]]:
        gone = self.endpoints.pop(endpoint)
        self._unregister(gone.manager.UnregisterSessionNotification, gone.sink)
        events = []
        for session_id in [k for k, v in self.sessions.items() if v.endpoint == endpoint]:
            events.append({**self.sessions[session_id].record, "state": "expired"})
            self.forget(session_id)
        return events if announce else []

    def close(self) -> None:
        """Unregister everything (on stop)."""
        for endpoint in list(self.endpoints):
            self._drop_endpoint(endpoint, announce=False)
        for session_id in list(self.sessions):
            self.forget(session_id)
        if self.endpoint_sink is not None:
            self._unregister(self.enumerator.UnregisterEndpointNotificationCallback, self.endpoint_sink)
            self.endpoint_sink = None
        self.enumerator = None

    def _unregister(self, method: Any, sink: Any) -> None:
        try:
            method(sink)
        except Exception as exc:  # the device may be gone already
            log.debug("unregistering failed: %s", exc)


def _windows_com() -> Any:  # pragma: no cover - Windows only
    """The real COM layer: comtypes, with the Core Audio interfaces declared by their SDK IIDs.

    Declared here (not taken from pycaw) because what Windows calls back must
    answer to the exact IIDs of audiopolicy.h; slots never called are declared
    without parameters (only their place in the vtable matters).
    """
    if sys.platform != "win32":
        raise OSError("audio session notifications exist only on Windows")
    ctypes: Any = importlib.import_module("ctypes")
    wintypes: Any = importlib.import_module("ctypes.wintypes")
    if "comtypes" not in sys.modules:
        # comtypes initialises COM for the thread that first imports it: here that is
        # the watcher thread, which must be multithreaded (0).  Only for this import,
        # so that nobody else (pythoncom reads the same flag) inherits it.
        setattr(sys, "coinit_flags", 0)  # noqa: B010
        try:
            importlib.import_module("comtypes")
        finally:
            delattr(sys, "coinit_flags")
    comtypes: Any = importlib.import_module("comtypes")
    guid, method, unknown = comtypes.GUID, comtypes.COMMETHOD, comtypes.IUnknown
    hresult, pointer = ctypes.HRESULT, ctypes.POINTER
    dword, out_string = wintypes.DWORD, pointer(ctypes.c_void_p)

    def interface(name: str, iid: str, base: Any, methods: list[Any]) -> Any:
        return type(name, (base,), {"_iid_": guid(iid), "_methods_": methods})

    def slots(*names: str) -> list[Any]:
        return [method([], hresult, name) for name in names]

    lpguid = pointer(guid)
    events = interface(
        "IAudioSessionEvents",
        "{24918ACC-64B3-37C1-8CA9-74A66E9957A8}",
        unknown,
        [
            method([], hresult, "OnDisplayNameChanged", (["in"], wintypes.LPCWSTR), (["in"], lpguid)),
            method([], hresult, "OnIconPathChanged", (["in"], wintypes.LPCWSTR), (["in"], lpguid)),
            method(
                [],
                hresult,
                "OnSimpleVolumeChanged",
                (["in"], ctypes.c_float),
                (["in"], wintypes.BOOL),
                (["in"], lpguid),
            ),
            method(
                [],
                hresult,
                "OnChannelVolumeChanged",
                (["in"], dword),
                (["in"], pointer(ctypes.c_float)),
                (["in"], dword),
                (["in"], lpguid),
            ),
            method([], hresult, "OnGroupingParamChanged", (["in"], lpguid), (["in"], lpguid)),
            method([], hresult, "OnStateChanged", (["in"], ctypes.c_int)),
            method([], hresult, "OnSessionDisconnected", (["in"], ctypes.c_int)),
        ],
    )
    control = interface(
        "IAudioSessionControl",
        "{F4B1A599-7266-4319-A8CA-E70ACB11E8CD}",
        unknown,
        [
            method([], hresult, "GetState", (["out"], pointer(ctypes.c_int))),
            *slots("GetDisplayName", "SetDisplayName", "GetIconPath", "SetIconPath"),
            *slots("GetGroupingParam", "SetGroupingParam"),
            method([], hresult, "RegisterAudioSessionNotification", (["in"], pointer(events))),
            method([], hresult, "UnregisterAudioSessionNotification", (["in"], pointer(events))),
        ],
    )
    control2 = interface(
        "IAudioSessionControl2",
        "{BFB7FF88-7239-4FC9-8FA2-07C950BE9C6D}",
        control,
        [
            *slots("GetSessionIdentifier"),
            method([], hresult, "GetSessionInstanceIdentifier", (["out"], out_string)),
            method([], hresult, "GetProcessId", (["out"], pointer(dword))),
            method([], hresult, "IsSystemSoundsSession"),
            *slots("SetDuckingPreference"),
        ],
    )
    session_list = interface(
        "IAudioSessionEnumerator",
        "{E2F5BB11-0570-40CA-ACDD-3AA01277DEE8}",
        unknown,
        [
            method([], hresult, "GetCount", (["out"], pointer(ctypes.c_int))),
            method([], hresult, "GetSession", (["in"], ctypes.c_int), (["out"], pointer(pointer(control)))),
        ],
    )
    notification = interface(
        "IAudioSessionNotification",
        "{641DD20B-4D41-49CC-ABA3-174B9477BB08}",
        unknown,
        [method([], hresult, "OnSessionCreated", (["in"], pointer(control)))],
    )
    manager = interface(
        "IAudioSessionManager",
        "{BFA971F1-4D5E-40BB-935E-967039BFBEE4}",
        unknown,
        slots("GetAudioSessionControl", "GetSimpleAudioVolume"),
    )
    manager2 = interface(
        "IAudioSessionManager2",
        "{77AA99A0-1BD6-484F-8BC7-2C654C9A9B6F}",
        manager,
        [
            method([], hresult, "GetSessionEnumerator", (["out"], pointer(pointer(session_list)))),
            method([], hresult, "RegisterSessionNotification", (["in"], pointer(notification))),
            method([], hresult, "UnregisterSessionNotification", (["in"], pointer(notification))),
        ],
    )
    device = interface(
        "IMMDevice",
        "{D666063F-1587-4E43-81F1-B948E807363F}",
        unknown,
        [
            method(
                [],
                hresult,
                "Activate",
                (["in"], lpguid),
                (["in"], dword),
                (["in"], ctypes.c_void_p),
                (["out"], pointer(pointer(unknown))),
            ),
            *slots("OpenPropertyStore"),
            method([], hresult, "GetId", (["out"], out_string)),
        ],
    )
    collection = interface(
        "IMMDeviceCollection",
        "{0BD7A1BE-7A1A-44DB-8397-CC5392387B5E}",
        unknown,
        [
            method([], hresult, "GetCount", (["out"], pointer(wintypes.UINT))),
            method([], hresult, "Item", (["in"], wintypes.UINT), (["out"], pointer(pointer(device)))),
        ],
    )
    property_key = type("PROPERTYKEY", (ctypes.Structure,), {"_fields_": [("fmtid", guid), ("pid", dword)]})
    lpcwstr = wintypes.LPCWSTR
    device_client = interface(
        "IMMNotificationClient",
        "{7991EEC9-7E89-4D85-8390-6C703CEC60C0}",
        unknown,
        [
            method([], hresult, "OnDeviceStateChanged", (["in"], lpcwstr), (["in"], dword)),
            method([], hresult, "OnDeviceAdded", (["in"], lpcwstr)),
            method([], hresult, "OnDeviceRemoved", (["in"], lpcwstr)),
            method(
                [],
                hresult,
                "OnDefaultDeviceChanged",
                (["in"], ctypes.c_int),
                (["in"], ctypes.c_int),
                (["in"], lpcwstr),
            ),
            method([], hresult, "OnPropertyValueChanged", (["in"], lpcwstr), (["in"], property_key)),
        ],
    )
    enumerator = interface(
        "IMMDeviceEnumerator",
        "{A95664D2-9614-4F35-A746-DE8DB63617E6}",
        unknown,
        [
            method(
                [],
                hresult,
                "EnumAudioEndpoints",
                (["in"], dword),
                (["in"], dword),
                (["out"], pointer(pointer(collection))),
            ),
            *slots("GetDefaultAudioEndpoint", "GetDevice"),
            method([], hresult, "RegisterEndpointNotificationCallback", (["in"], pointer(device_client))),
            method([], hresult, "UnregisterEndpointNotificationCallback", (["in"], pointer(device_client))),
        ],
    )
    clsid_enumerator = guid("{BCDE0395-E52F-467C-8E3D-C4579291692E}")
    ole32 = ctypes.windll.ole32

    def read_string(address: Any) -> str:
        """A string Windows allocated for us (CoTaskMemAlloc): read, then freed."""
        if not address:
            return ""
        try:
            return str(ctypes.wstring_at(address))
        finally:
            ole32.CoTaskMemFree(ctypes.c_void_p(address))

    def process_name(pid: int) -> str:
        psutil: Any = importlib.import_module("psutil")
        try:
            return str(psutil.Process(pid).name())
        except Exception:  # gone already, or not ours to look at
            return f"pid {pid}"

    com_object = comtypes.COMObject
    return SimpleNamespace(
        co_initialize=lambda: comtypes.CoInitializeEx(comtypes.COINIT_MULTITHREADED),
        co_uninitialize=comtypes.CoUninitialize,
        create_enumerator=lambda: comtypes.CoCreateInstance(
            clsid_enumerator, enumerator, comtypes.CLSCTX_INPROC_SERVER
        ),
        IAudioSessionManager2=manager2,
        IAudioSessionControl2=control2,
        read_string=read_string,
        process_name=process_name,
        created_sink=type(
            "DeskwatchSessionNotification",
            (SessionCreatedSink, com_object),
            {"_com_interfaces_": [notification]},
        ),
        events_sink=type(
            "DeskwatchSessionEvents", (SessionEventsSink, com_object), {"_com_interfaces_": [events]}
        ),
        endpoint_sink=type(
            "DeskwatchEndpointChanges",
            (EndpointChangesSink, com_object),
            {"_com_interfaces_": [device_client]},
        ),
    )
