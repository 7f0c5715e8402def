"""Deliveries: manifests of each provider, completeness, cut files and duplicates (pure)."""

import gzip
import json

import pytest

from finops_assets.domain import deliveries
from finops_assets.domain.deliveries import IncompleteDeliveryError


@pytest.fixture(scope="module")
def cur_bytes(shared_data) -> bytes:
    return (shared_data / "koku" / "aws" / "test_cur.csv").read_bytes()


def _azure_manifest(name: str, data: bytes, rows: int) -> bytes:
    return json.dumps(
        {
            "manifestVersion": "2024-04-01",
            "blobCount": 1,
            "byteCount": len(data),
            "dataRowCount": rows,
            "blobs": [
                {
                    "blobName": f"exports/daily/20240901-20240930/run-1/{name}",
                    "byteCount": len(data),
                    "dataRowCount": rows,
                }
            ],
        }
    ).encode()


def test_each_providers_manifest_lists_its_files():
    aws = {
        "executionId": "e1",
        "dataFiles": ["s3://b/p/cur2/data/BILLING_PERIOD=2024-09/cur2-00001.csv.gz"],
    }
    legacy = {"assemblyId": "a1", "reportKeys": ["p/report/20240901-20241001/a1/report-1.csv.gz"]}
    parsed_aws = deliveries.read_manifest(json.dumps(aws).encode(), "cur2-Manifest.json")
    parsed_legacy = deliveries.read_manifest(json.dumps(legacy).encode(), "report-Manifest.json")
    parsed_azure = deliveries.read_manifest(_azure_manifest("part_0_0001.csv", b"x", 3), "m")
    assert parsed_aws.names() == {"cur2-00001.csv.gz"}
    assert parsed_legacy.names() == {"report-1.csv.gz"}
    assert parsed_azure.entries == (deliveries.ManifestEntry("part_0_0001.csv", 1, 3),)
    assert deliveries.is_manifest_name("x/cur2-Manifest.json")
    assert deliveries.is_manifest_name("manifest.json")
    assert not deliveries.is_manifest_name("part_0_0001.csv")


def test_a_manifest_that_lists_nothing_we_know_is_refused():
    with pytest.raises(IncompleteDeliveryError, match="m.json: not a manifest we know"):
        deliveries.read_manifest(b'{"files": []}', "m.json")


def test_missing_file_wrong_size_and_fewer_rows_than_listed_fail_naming_the_file(cur_bytes):
    rows = deliveries.count_rows(cur_bytes, "test_cur.csv")
    assert rows == 19
    manifest = deliveries.read_manifest(_azure_manifest("cur.csv", cur_bytes, rows), "manifest")
    deliveries.check_against_manifest(manifest, {"cur.csv": cur_bytes})
    with pytest.raises(IncompleteDeliveryError, match="cur.csv: listed in manifest but not"):
        deliveries.check_against_manifest(manifest, {})
    with pytest.raises(IncompleteDeliveryError, match="cur.csv: 17428 bytes, manifest lists 17429"):
        deliveries.check_against_manifest(manifest, {"cur.csv": cur_bytes[:-1]})
    no_size = deliveries.Manifest("manifest", (deliveries.ManifestEntry("cur.csv", None, 20),))
    with pytest.raises(IncompleteDeliveryError, match="cur.csv: 19 data rows, manifest lists 20"):
        deliveries.check_against_manifest(no_size, {"cur.csv": cur_bytes})


def test_a_csv_cut_inside_its_last_row_fails_naming_file_and_line(cur_bytes):
    cut = cur_bytes[: cur_bytes.rindex(b"\n", 0, len(cur_bytes) - 1) + 40]
    deliveries.check_not_cut(cur_bytes, "test_cur.csv")
    with pytest.raises(IncompleteDeliveryError, match=r"test_cur.csv: the last row \(line 20\)"):
        deliveries.check_not_cut(cut, "test_cur.csv")
    torn = gzip.compress(cur_bytes, mtime=0)[:-30]
    with pytest.raises(IncompleteDeliveryError, match="test_cur.csv.gz: gzip stream"):
        deliveries.check_not_cut(torn, "test_cur.csv.gz")
    deliveries.check_not_cut(cur_bytes.split(b"\n", 1)[0], "header-only.csv")


def test_a_file_cut_at_a_line_boundary_is_a_cut_copy_of_the_whole_one(cur_bytes):
    at_line = cur_bytes[: cur_bytes.rindex(b"\n", 0, len(cur_bytes) - 1) + 1]
    deliveries.check_not_cut(at_line, "test_cur.csv")  # nothing in the file itself shows it
    assert deliveries.is_cut_copy(at_line, cur_bytes, "test_cur.csv")
    zipped = gzip.compress(at_line, mtime=0)
    assert deliveries.is_cut_copy(zipped, gzip.compress(cur_bytes, mtime=0), "c.csv.gz")
    assert not deliveries.is_cut_copy(cur_bytes, at_line, "test_cur.csv")  # longer: a restatement
    assert not deliveries.is_cut_copy(cur_bytes, cur_bytes, "test_cur.csv")


def test_the_same_bytes_under_any_name_count_once(cur_bytes):
    keep, duplicates = deliveries.unique_by_content(
        [("a/cur.csv", cur_bytes), ("b/copy.csv", cur_bytes), ("c/other.csv", b"x")]
    )
    assert keep == [0, 2]
    assert duplicates == {"b/copy.csv": "a/cur.csv"}


def test_a_csv_cut_inside_a_quoted_last_field_fails(shared_data):
    data = (shared_data / "focus-sample-data" / "FOCUS-1.0" / "focus_sample.csv").read_bytes()
    deliveries.check_not_cut(data, "focus_sample.csv")
    with pytest.raises(IncompleteDeliveryError, match="ends inside a quoted field"):
        deliveries.check_not_cut(data[:-25], "focus_sample.csv")
