"""`python -m bench.prepare ROWS SAMPLE_ROWS`: generate the inputs, print their paths as JSON.

Runs in its own process so that the benchmark's parent stays small: a child inherits the
parent's peak memory in ru_maxrss, so the parent must not load data itself.
"""

import json
import sys

from bench.reference import cur_input, strided_sample


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the day's Parquet and its strided sample."""
    rows, sample_rows = (int(a) for a in (argv or sys.argv[1:]))
    path = cur_input(rows)
    sample = strided_sample(path, sample_rows)
    print(json.dumps({"input": str(path), "sample": str(sample), "seconds": 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
