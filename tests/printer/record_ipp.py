"""Record real cupsd answers for the IPP parser's tests: ``python -m tests.printer.record_ipp [DIR]``.

Starts a private cupsd (:class:`tests.printer.conftest.PrivateCups`), puts
its queues in the states the printer monitor tells apart (jammed and stopped,
rejecting jobs, printing slowly with a job waiting, a failed job, finished
jobs) and saves the IPP body of each answer Deskwatch's client receives, as
``<name>.ipp``, into ``tests/printer/recorded`` (or ``DIR``).  The files are
what cupsd 2.4 sent; tests/printer/test_ipp.py parses them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sensors import ipp
from sensors.cups_printer import CupsServer, IppStatusError
from tests.printer.conftest import PrivateCups, wait_for

HERE = Path(__file__).resolve().parent / "recorded"


def record(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cupsd = PrivateCups(Path(tmp) / "cups")
        cupsd.start()
        try:
            server = CupsServer(cupsd.server)
            link = server._link
            answers: list[bytes] = []
            post = link.post

            def keep(resource: str, body: bytes) -> bytes:
                answers.append(post(resource, body))
                return answers[-1]

            link.post = keep  # type: ignore[method-assign]

            def save(name: str) -> None:
                (out / f"{name}.ipp").write_bytes(answers[-1])

            server.default_printer()
            save("cups-get-default-none")
            jammed, closed, slow = cupsd.add_queue("jam"), cupsd.add_queue("closed"), cupsd.add_queue("slow")
            cupsd.set_mode(jammed, "jam")
            jam_job = cupsd.submit(jammed)
            cupsd.run("cupsreject", "-r", "Closed for maintenance", closed)
            cupsd.run("lpadmin", "-p", slow, "-o", "printer-error-policy=abort-job")
            cupsd.set_mode(slow, "fail")
            failed = cupsd.submit(slow)
            wait_for(lambda: (job := server.job(slow, failed)) is not None and job.state == 8, 20, "abort")
            cupsd.set_mode(slow, "ok")
            cupsd.submit(slow)
            time.sleep(1.5)
            cupsd.set_mode(slow, "slow60")
            cupsd.submit(slow)
            cupsd.submit(slow)
            wait_for(lambda: server.snapshots([jammed], 0)[jammed].state == 5, 20, "the jam")  # type: ignore[union-attr]
            cupsd.run("lpadmin", "-d", closed)
            server.default_printer()
            save("cups-get-default")
            server.printer_names()
            save("cups-get-printers")
            server._jobs("not-completed")
            save("get-jobs-not-completed")
            server._jobs("completed")
            save("get-jobs-completed")
            server.job(jammed, jam_job)
            save("get-job-attributes")
            server.job(jammed, 9999)
            save("get-job-attributes-not-found")
            every = (ipp.TAG_KEYWORD, "requested-attributes", ["all", "media-col-database"])
            server._request(ipp.OP_GET_PRINTER_ATTRIBUTES, "/", [*server._printer_uri(slow), every])
            save("get-printer-attributes-all")
            try:
                server.submit_test_page(closed)
            except IppStatusError:
                save("print-job-not-accepting")
            cupsd.run("cupsaccept", closed)
            server.submit_test_page(closed)
            save("print-job")
            server.close()
        finally:
            cupsd.stop()


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
