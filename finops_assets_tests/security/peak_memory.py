"""Run one bounded-decompression scenario in this process and report its peak memory (VmHWM).

`python -m finops_assets_tests.security.peak_memory inspect PATH` runs `finops inspect PATH`;
`... ingest PATH ARCHIVE_DIR` runs the pipeline's ingestion (ingest_payloads, the code every
ingest asset calls) of PATH as an AWS CUR file. The last line of stdout is a JSON document:
{"peak_kb": ..., "error": "..."} (the exception, or the files the ingestion refused). Measured in a process of its own, so earlier work of the test
session cannot inflate the figure (RUSAGE_CHILDREN would include every earlier child).
"""

import datetime as dt
import json
import sys
from pathlib import Path


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _inspect(path: str) -> None:
    from finops_assets.inspect import inspect_file

    inspect_file(Path(path))


def _ingest(path: str, archive_dir: str) -> str:
    from finops_assets.domain.sources import aws_cur
    from finops_assets.ingest.pipeline import ingest_payloads
    from finops_assets.resources.payloads import Payload
    from finops_assets.storage.archive import RawArchive

    fetched = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    payload = Payload(Path(path).name, Path(path).read_bytes(), fetched)
    day = ingest_payloads(aws_cur, [payload], dt.date(2026, 10, 1), RawArchive(archive_dir))
    return "; ".join(f"refused {r['file']}: {r['reason']}" for r in day.refused_files)


def main(argv: list[str]) -> int:
    error = ""
    try:
        if argv[0] == "inspect":
            _inspect(argv[1])
        else:
            error = _ingest(argv[1], argv[2])  # a refused file is quarantined, not raised
    except Exception as exc:  # the refusal is the expected outcome: report it
        error = f"{type(exc).__name__}: {exc}"
    print(json.dumps({"peak_kb": _peak_kb(), "error": error}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
