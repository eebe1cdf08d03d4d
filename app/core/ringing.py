"""Is the phone ringing?  Other applications' playback streams, judged while a break is announced.

A softphone opens the microphone only when the clerk answers; while it rings
it only *plays* (the ring tone, on the headset or the speakers).  A break
window standing between the clerk and the answer button is the worst moment
for it, so a ring ends a break at once and holds it as a call does.

What counts as a ring (and what does not) — the rule is deliberately simple:

* a stream whose ``media.role`` is ``phone`` (what PulseAudio / PipeWire
  softphones declare for ring tones and call audio) rings at once, however
  long it has been open;
* a stream from an application on the configured softphone list rings at
  once;
* any other application's stream rings once it has stayed open
  :attr:`RingPolicy.ring_after_seconds` (0.7 s by default).  Notification
  blips (a chat "ding", a mail chime: 0.1–0.5 s) close before that; a ring
  tone plays for many seconds;
* only streams that opened while the break was announced or shown, or
  shortly before (:attr:`RingPolicy.lead_seconds`), count: music that was
  already playing when the notice came never ends a break.

Qt-free and pure over :class:`~app.kernel.callstate.OpenStream` records, so the
scheduler tests step it with a fake clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.kernel.callstate import OpenStream

PHONE_ROLE = "phone"


@dataclass(frozen=True)
class RingPolicy:
    """How playback streams are told apart (see the module docstring)."""

    ring_after_seconds: float = 0.7
    lead_seconds: float = 15.0
    softphones: frozenset[str] = field(default_factory=frozenset)

    def _is_softphone(self, stream: OpenStream) -> bool:
        return stream.role.casefold() == PHONE_ROLE or stream.app.casefold() in self.softphones

    def counts(self, stream: OpenStream, since: float) -> bool:
        """Whether ``stream`` is a candidate at all for a break announced at ``since``."""
        return stream.role.casefold() == PHONE_ROLE or stream.opened_at >= since - self.lead_seconds

    def rings_at(self, stream: OpenStream, since: float) -> float | None:
        """Clock time from which ``stream`` counts as a ring (``None``: it never does)."""
        if not self.counts(stream, since):
            return None
        if self._is_softphone(stream):
            return stream.opened_at
        return stream.opened_at + self.ring_after_seconds

    def ringing(self, streams: Iterable[OpenStream], since: float | None, now: float) -> list[str]:
        """Applications ringing at ``now`` for a break announced at ``since`` (``None``: none shown)."""
        if since is None:
            return []
        apps: list[str] = []
        for stream in streams:
            start = self.rings_at(stream, since)
            if start is not None and start <= now and stream.app not in apps:
                apps.append(stream.app)
        return apps

    def next_change(self, streams: Iterable[OpenStream], since: float | None, now: float) -> float | None:
        """The next clock time a stream open now starts to count as a ring (to look again then)."""
        if since is None:
            return None
        times = [t for s in streams if (t := self.rings_at(s, since)) is not None and t > now]
        return min(times, default=None)


def softphone_names(text: str) -> frozenset[str]:
    """The configured softphone list (comma-separated application names), case-folded."""
    return frozenset(name.strip().casefold() for name in text.split(",") if name.strip())
