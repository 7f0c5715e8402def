"""finops_report's edges: a month without allocated cost fails, files are replaced whole."""

import datetime as dt
from pathlib import Path

import pytest

from finops_assets.report.assets import MonthWithoutCost, month_inputs
from finops_assets.report.publish import ReportFolder
from finops_assets.storage.delta import DeltaLake


def test_a_month_with_no_allocated_cost_gets_no_report_and_loses_an_earlier_one(tmp_path):
    """Never an empty report, never a stale one: e.g. a month whose every cost row was quarantined."""
    with pytest.raises(MonthWithoutCost, match="allocated_costs has no row in 2026-10"):
        month_inputs(DeltaLake(str(tmp_path / "lake")), dt.date(2026, 10, 1), "USD", {})
    folder = ReportFolder.beside(str(tmp_path / "lake"), {})
    folder.write("2026-10/finops_report.html", b"<html>old</html>")
    assert folder.remove("2026-10/finops_report.html")
    assert not folder.remove("2026-10/finops_report.html")
    assert not (tmp_path / "lake" / "reports" / "2026-10" / "finops_report.html").exists()


def test_report_files_are_written_beside_the_lake_and_replaced_whole(tmp_path):
    folder = ReportFolder.beside(str(tmp_path / "lake"), {})
    first = folder.write("2026-10/showback.csv", b"month,amount\n2026-10,1.00\n")
    location = folder.write("2026-10/showback.csv", b"month,amount\n2026-10,2.00\n")
    path = tmp_path / "lake" / "reports" / "2026-10" / "showback.csv"
    assert first == location == path.as_uri()
    assert path.read_bytes() == b"month,amount\n2026-10,2.00\n"
    assert sorted(p.name for p in Path(path.parent).iterdir()) == ["showback.csv"]


@pytest.mark.slow
def test_report_files_are_published_to_an_s3_lake():
    """A lake on S3 (moto's server on 127.0.0.1, real HTTP): the files land beside its tables."""
    import boto3

    from finops_assets_tests.servers.s3 import REGION, running_s3

    with running_s3() as server:
        bucket = server.new_bucket()
        folder = ReportFolder.beside(f"s3://{bucket}/lake", server.env())
        location = folder.write("2026-10/finops_report.html", b"<html>report</html>")
        assert location == f"s3://{bucket}/lake/reports/2026-10/finops_report.html"
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listed = client.list_objects_v2(Bucket=bucket)["Contents"]
        assert [o["Key"] for o in listed] == ["lake/reports/2026-10/finops_report.html"]
        body = client.get_object(Bucket=bucket, Key=listed[0]["Key"])["Body"].read()
        assert body == b"<html>report</html>"
