"""What the S3 CUR delivery tests share: a moto bucket the product's settings point at, and koku's
real CUR file (19 rows, June 2018) moved to October 2026 with its values unchanged."""

import re
from pathlib import Path

import pytest

from finops_assets_tests.servers.s3 import S3Server


def point_at_new_bucket(
    moto: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source_path: str
) -> str:
    """A new bucket; FINOPS_SOURCE_AWS_CUR = s3://<bucket>/<source_path>; the lake in tmp_path."""
    for key, value in moto.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FINOPS_LAKE_URI", str(tmp_path / "lake"))
    name = moto.new_bucket()
    monkeypatch.setenv("FINOPS_SOURCE_AWS_CUR", f"s3://{name}/{source_path}")
    return name


def koku_cur_in_october(shared_data: Path) -> str:
    """koku's aws/test_cur.csv with 2018-06 -> 2026-10 and 2018-07 -> 2026-11."""
    text = (shared_data / "koku" / "aws" / "test_cur.csv").read_text()
    return re.sub(r"2018-07", "2026-11", re.sub(r"2018-06", "2026-10", text))
