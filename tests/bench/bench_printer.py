"""Printer monitoring at its default cadence next to a bare IPP loop reading the same queue.

Both watch one queue on a private cupsd (the same one the printer tests use),
every 15 s: Deskwatch with judging, alerts and history; the baseline only
fetches the printer's attributes and the job lists (http.client and
:mod:`sensors.ipp`'s encoder and parser, nothing else of Deskwatch).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench import Result, measure_side_by_side, python
from tests.printer.conftest import PrivateCups

BARE_LOOP = """
import http.client, sys, time
from sensors import ipp
host, port, queue = sys.argv[1], int(sys.argv[2]), sys.argv[3]
uri = (ipp.TAG_URI, "printer-uri", ["ipp://localhost/printers/" + queue])
wanted = (ipp.TAG_KEYWORD, "requested-attributes", [
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-is-accepting-jobs", "queued-job-count", "printer-up-time"])
requests = [
    (ipp.OP_GET_PRINTER_ATTRIBUTES, [uri, wanted]),
    (ipp.OP_GET_JOBS, [uri, (ipp.TAG_KEYWORD, "which-jobs", ["not-completed"])]),
    (ipp.OP_GET_JOBS, [uri, (ipp.TAG_KEYWORD, "which-jobs", ["completed"])]),
]
while True:
    c = http.client.HTTPConnection(host, port, timeout=10)
    for n, (op, attrs) in enumerate(requests, 1):
        c.request("POST", "/", ipp.encode_request(op, n, attrs), {"Content-Type": "application/ipp"})
        ipp.decode_response(c.getresponse().read())
    c.close()
    time.sleep(15)
"""


def run(seconds: float) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        cupsd = PrivateCups(Path(tmp) / "cups")
        cupsd.start()
        try:
            queue = cupsd.add_queue("bench")
            for _ in range(3):  # some job history, as on a clerk's desk
                cupsd.submit(queue)
            config = Path(tmp) / "bench.toml"
            text = f'[monitors.printer]\nserver = "{cupsd.server}"\nprinters = ["{queue}"]\n'
            import monitors

            for monitor_id in monitors.discover():
                if monitor_id != "printer":
                    text += f"[monitors.{monitor_id}]\nenabled = false\n"
            config.write_text(text, "utf-8")
            usage = measure_side_by_side(
                {
                    "deskwatch run --headless (printer)": [
                        python(), "-m", "app.cli", "run", "--headless",
                        "--config", str(config), "--data-dir", tmp,
                    ],
                    "bare IPP loop, every 15 s": [
                        python(), "-c", BARE_LOOP, "127.0.0.1", str(cupsd.port), queue,
                    ],
                },
                seconds,
            )  # fmt: skip
        finally:
            cupsd.stop()
    subject, baseline = usage.values()
    return [Result("printer-monitoring", subject, baseline)]
