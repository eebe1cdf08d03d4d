"""The detail view: one device's indicators charted over an hour, a shift, a day or a week."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.history import Sample
from app.kernel.model import Device, format_value
from app.ui.charts import TrendChart
from app.ui.surface import Surface

#: Chart ranges offered in the detail view: key → seconds.
RANGES: dict[str, float] = {"hour": 3600.0, "shift": 8 * 3600.0, "day": 86400.0, "week": 7 * 86400.0}
#: Most points a chart draws; longer ranges are merged into this many buckets.
CHART_POINTS = 480


def downsample(samples: list[Sample], since: float, until: float, points: int = CHART_POINTS) -> list[Sample]:
    """Merge samples into at most ``points`` buckets (min of mins, mean, max of maxes, worst level)."""
    if len(samples) <= points:
        return samples
    width = (until - since) / points
    buckets: dict[int, list[Sample]] = {}
    for sample in samples:
        buckets.setdefault(int((sample.ts - since) / width), []).append(sample)
    merged = []
    for index in sorted(buckets):
        group = buckets[index]
        avgs = [s.vavg for s in group if s.vavg is not None]
        mins = [s.vmin for s in group if s.vmin is not None]
        maxs = [s.vmax for s in group if s.vmax is not None]
        merged.append(
            Sample(
                since + (index + 0.5) * width,
                min(mins) if mins else None,
                sum(avgs) / len(avgs) if avgs else None,
                max(maxs) if maxs else None,
                max((s.level for s in group), key=lambda level: level.rank),
            )
        )
    return merged


class DetailView(QWidget):
    """One device's indicators over a chosen range (hour, shift, day, week)."""

    back = Signal()

    def __init__(self, surface: Surface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.surface = surface
        self.device: Device | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        back = QPushButton(self.tr("← All devices"), self)
        back.clicked.connect(self.back)
        self.title = QLabel(self)
        self.title.setObjectName("cardTitle")
        top.addWidget(back)
        top.addWidget(self.title, 1)
        layout.addLayout(top)
        controls = QHBoxLayout()
        self.indicator = QComboBox(self)
        self.indicator.setMinimumWidth(260)
        self.indicator.currentIndexChanged.connect(self.reload)
        controls.addWidget(QLabel(self.tr("Indicator:"), self))
        controls.addWidget(self.indicator)
        controls.addStretch(1)
        self.range_group = QButtonGroup(self)
        # Python-side lists, not item data: reading an empty QVariant back as
        # None trips a reference-count bug in PySide6 6.12.
        self._keys: list[str] = []
        self._range_keys: list[str] = []
        names = {
            "hour": self.tr("Hour"),
            "shift": self.tr("Shift (8 h)"),
            "day": self.tr("Day"),
            "week": self.tr("Week"),
        }
        for n, (key, label) in enumerate(names.items()):
            button = QPushButton(label, self)
            button.setCheckable(True)
            self._range_keys.append(key)
            self.range_group.addButton(button, n)
            controls.addWidget(button)
        self.range_group.button(0).setChecked(True)
        self.range_group.idClicked.connect(lambda _id: self.reload())
        layout.addLayout(controls)
        self.chart = TrendChart(self)
        layout.addWidget(self.chart, 1)
        self.stats = QLabel(self)
        self.stats.setObjectName("muted")
        layout.addWidget(self.stats)

    def range_key(self) -> str:
        """The chosen range: hour, shift, day or week."""
        index = self.range_group.checkedId()
        return self._range_keys[index] if 0 <= index < len(self._range_keys) else "hour"

    def current_key(self) -> str | None:
        """State key of the indicator being charted."""
        index = self.indicator.currentIndex()
        return self._keys[index] if 0 <= index < len(self._keys) else None

    def set_range(self, key: str) -> None:
        """Choose a range (as if its button was clicked)."""
        for n, name in enumerate(self._range_keys):
            self.range_group.button(n).setChecked(name == key)
        self.reload()

    def show_device(self, device: Device) -> None:
        """Fill the indicator list for ``device`` and chart the first numeric one."""
        self.device = device
        self.title.setText(device.label())
        self.indicator.blockSignals(True)
        self.indicator.clear()
        self._keys = []
        for state in self.surface.engine.states():
            if state.indicator.device is device and state.indicator.numeric:
                self.indicator.addItem(state.label())
                self._keys.append(state.key)
        self.indicator.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        """Load the chosen indicator's history off the GUI thread."""
        key = self.current_key()
        no_data = self.tr("No data in this range yet")
        if key is None:
            self.chart.set_data(
                [], time.time() - 3600, time.time(), None, "", self.tr("No numeric indicator")
            )
            self.stats.setText("")
            return
        history = self.surface.runtime.history
        until = time.time()
        since = until - RANGES[self.range_key()]
        state = self.surface.engine.state(key)
        indicator = state.indicator if state else None
        thresholds = self.surface.runtime.config.indicator_thresholds(indicator) if indicator else None
        unit = indicator.unit if indicator else ""

        def load() -> list[Sample]:
            return downsample(history.samples(key, since, until), since, until) if history else []

        def show(samples: list[Sample]) -> None:
            if self.current_key() != key:
                return  # the clerk chose another indicator meanwhile
            self.chart.set_data(samples, since, until, thresholds, unit, no_data)
            avgs = [s.vavg for s in samples if s.vavg is not None]
            if avgs:
                lows = [s.vmin for s in samples if s.vmin is not None]
                highs = [s.vmax for s in samples if s.vmax is not None]
                self.stats.setText(
                    self.tr("Minimum {0}   Average {1}   Maximum {2}").format(
                        format_value(min(lows), unit),
                        format_value(sum(avgs) / len(avgs), unit),
                        format_value(max(highs), unit),
                    )
                )
            else:
                self.stats.setText("")

        self.surface.worker.submit(load, show)
