"""What the Prometheus exporter costs: headless Deskwatch scraped every second, next to one without it."""

from __future__ import annotations

import socket
import tempfile
import threading
import urllib.request
from pathlib import Path

from tests.bench import Result, measure_side_by_side, python

#: Faster than any Prometheus would scrape a seat (15-60 s is usual): an upper bound.
SCRAPE_EVERY_S = 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(url: str, stop: threading.Event, counter: list[int]) -> None:
    while not stop.wait(SCRAPE_EVERY_S):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
            counter[0] += 1
        except OSError:
            pass  # not up yet (warm-up)


def run(seconds: float) -> list[Result]:
    import monitors

    others = "".join(
        f"[monitors.{mid}]\nenabled = false\n" for mid in monitors.discover() if mid != "computer"
    )
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain, exported = base / "plain.toml", base / "exported.toml"
        plain.write_text(others, "utf-8")
        exported.write_text(f"[exporter]\nenabled = true\nport = {port}\n\n" + others, "utf-8")
        stop, scrapes = threading.Event(), [0]
        scraper = threading.Thread(
            target=_scrape, args=(f"http://127.0.0.1:{port}/metrics", stop, scrapes), daemon=True
        )
        scraper.start()
        try:
            usage = measure_side_by_side(
                {
                    f"headless + exporter, scraped every {SCRAPE_EVERY_S:g} s": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(exported), "--data-dir", str(base / "a"),
                    ],
                    "headless, no exporter": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(plain), "--data-dir", str(base / "b"),
                    ],
                },
                seconds,
            )  # fmt: skip
        finally:
            stop.set()
            scraper.join(5)
    subject, baseline = usage.values()
    return [Result("exporter", subject, baseline, notes=f"{scrapes[0]} scrapes")]
