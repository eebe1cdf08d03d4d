"""The IPP state-reason vocabulary (``sensors.printing``): keywords, severities, the clerk's words."""

from __future__ import annotations

import pytest

from sensors import printing as p


@pytest.mark.parametrize(
    ("raw", "keyword", "severity", "clerk"),
    [
        ("media-jam-error", "media-jam", p.Severity.ERROR, p.Severity.ERROR),
        ("toner-low-warning", "toner-low", p.Severity.WARNING, p.Severity.WARNING),
        ("marker-supply-low-report", "marker-supply-low", p.Severity.REPORT, p.Severity.REPORT),
        # RFC 8011 §5.4.12: a keyword without a suffix is an error.
        ("media-empty", "media-empty", p.Severity.ERROR, p.Severity.ERROR),
        ("paused", "paused", p.Severity.ERROR, p.Severity.ERROR),
        # CUPS reports an unreachable device as "-report"; for a clerk nothing prints.
        ("offline-report", "offline", p.Severity.REPORT, p.Severity.ERROR),
        # Set by CUPS during every normal job: never a fault.
        ("connecting-to-device", "connecting-to-device", p.Severity.ERROR, p.Severity.REPORT),
        ("Door-Open-Error", "door-open", p.Severity.ERROR, p.Severity.ERROR),
    ],
)
def test_reason_keyword_and_severity(raw: str, keyword: str, severity: p.Severity, clerk: p.Severity) -> None:
    reason = p.parse_reason(raw)
    assert (reason.keyword, reason.severity, reason.raw) == (keyword, severity, raw)
    assert p.clerk_severity(reason) is clerk


def test_normalise_drops_none_keeps_worst_and_orders_by_severity() -> None:
    reasons = p.normalise_reasons(["none", "toner-low-report", "toner-low-warning", "paused", ""])
    assert [(r.keyword, r.severity) for r in reasons] == [
        ("paused", p.Severity.ERROR),
        ("toner-low", p.Severity.WARNING),
    ]
    assert p.normalise_reasons("media-jam-error")[0].keyword == "media-jam"
    assert p.normalise_reasons(None) == []


def test_clerk_words_in_both_languages() -> None:
    expected = {
        "media-jam": "卡纸",
        "media-empty": "缺纸",
        "toner-low": "碳粉不足",
        "offline": "打印机脱机",
        "door-open": "盖门打开",
    }
    for keyword, zh in expected.items():
        assert p.clerk_message(keyword).zh == zh
    for keyword, text in p.MESSAGES.items():
        assert text.en and text.zh and text.en != text.zh, keyword
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.zh), keyword
    unknown = p.clerk_message("fuser-on-fire")
    assert unknown.en == "Printer reports: fuser-on-fire" and "fuser-on-fire" in unknown.zh
