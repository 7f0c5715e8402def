"""Which listed objects are a period's current delivery, in each provider's native layout."""

import datetime as dt
import json

import pytest

from finops_assets.domain.deliveries import read_manifest
from finops_assets.domain.delivery_layouts import (
    Listed,
    current_manifest,
    delivery_files,
    group_periods,
)

T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)


def _at(key: str, minutes: int = 0) -> Listed:
    return Listed(key, f"etag-{key}", T0 + dt.timedelta(minutes=minutes))


def _keys(objects) -> list[str]:
    return [o.key for o in objects]


def test_legacy_cur_reads_only_the_assembly_its_manifest_names():
    listed = [
        _at("20261001-20261101/old-assembly/acme-00001.csv.gz", 0),
        _at("20261001-20261101/new-assembly/acme-00001.csv.gz", 5),
        _at("20261001-20261101/new-assembly/acme-00002.csv.gz", 5),
        _at("20261001-20261101/acme-Manifest.json", 6),
        _at("20261001-20261101/old-assembly/acme-Manifest.json", 0),  # an assembly's own copy
        _at("notes/readme.txt"),
    ]
    [period] = group_periods("cur", listed)
    assert period.span == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))  # end day exclusive
    manifest_obj = current_manifest("cur", period)
    assert manifest_obj is not None and manifest_obj.key == "20261001-20261101/acme-Manifest.json"
    manifest = read_manifest(
        json.dumps(
            {
                "assemblyId": "new-assembly",
                "reportKeys": [
                    "p/acme/20261001-20261101/new-assembly/acme-00001.csv.gz",
                    "p/acme/20261001-20261101/new-assembly/acme-00002.csv.gz",
                ],
            }
        ).encode(),
        "acme-Manifest.json",
    )
    assert manifest.assembly == "new-assembly"
    assert _keys(delivery_files("cur", period, manifest)) == [
        "20261001-20261101/new-assembly/acme-00001.csv.gz",
        "20261001-20261101/new-assembly/acme-00002.csv.gz",
    ]
    # without a manifest the newest assembly is the delivery, never a mix of two
    assert _keys(delivery_files("cur", period, None)) == _keys(
        delivery_files("cur", period, manifest)
    )


def test_azure_export_the_newest_run_folder_wins_and_legacy_files_are_runs_too():
    listed = [
        _at("20261001-20261031/run-a/part_0_0001.csv", 0),
        _at("20261001-20261031/run-a/manifest.json", 0),
        _at("20261001-20261031/run-b/part_0_0001.csv", 9),
        _at("20261001-20261031/run-b/manifest.json", 9),
        _at("20261101-20261130/export_1.csv", 0),
        _at("20261101-20261130/export_2.csv", 3),
    ]
    october, november = group_periods("azure", listed)
    assert october.span == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))  # inclusive
    assert current_manifest("azure", october).key == "20261001-20261031/run-b/manifest.json"
    assert _keys(delivery_files("azure", october, None)) == [
        "20261001-20261031/run-b/part_0_0001.csv"
    ]
    assert current_manifest("azure", november) is None
    assert _keys(delivery_files("azure", november, None)) == ["20261101-20261130/export_2.csv"]


def test_data_exports_files_the_newest_manifest_does_not_list_are_superseded():
    listed = [
        _at("data/BILLING_PERIOD=2026-10/acme-00001.csv.gz"),
        _at("data/BILLING_PERIOD=2026-10/acme-00002.csv.gz"),
        _at("metadata/BILLING_PERIOD=2026-10/acme-Manifest.json", 1),
        _at("metadata/BILLING_PERIOD=2026-10/old-Manifest.json", 0),
    ]
    [period] = group_periods("cur2", listed)
    assert period.label == "2026-10" and period.span[1] == dt.date(2026, 10, 31)
    assert current_manifest("cur2", period).name == "acme-Manifest.json"
    manifest = read_manifest(b'{"dataFiles": ["s3://b/x/acme-00002.csv.gz"]}', "m")
    assert _keys(delivery_files("cur2", period, manifest)) == [
        "data/BILLING_PERIOD=2026-10/acme-00002.csv.gz"
    ]


# "Create new data export file" versioning: every delivery of a period in its own subfolder of
# `data/BILLING_PERIOD=YYYY-MM/`, each with the same file names; the period's manifest lists the
# current one's files by S3 URI. Hand-made keys and manifest, in that documented layout.
_CREATE_NEW = [
    _at("data/BILLING_PERIOD=2026-10/20261102T010000Z-e1/acme-00001.csv.gz", 0),
    _at("data/BILLING_PERIOD=2026-10/20261102T010000Z-e1/acme-00002.csv.gz", 0),
    _at("data/BILLING_PERIOD=2026-10/20261103T010000Z-e2/acme-00001.csv.gz", 60),
    _at("metadata/BILLING_PERIOD=2026-10/acme-Manifest.json", 61),
]


def test_data_exports_create_new_reads_only_the_subfolder_the_manifest_names():
    [period] = group_periods("cur2", _CREATE_NEW)
    assert len(period.objects) == 4  # every delivery is part of the period's listing
    manifest = read_manifest(
        json.dumps(
            {
                "executionId": "e2",
                "dataFiles": [
                    "s3://b/p/acme/data/BILLING_PERIOD=2026-10/20261103T010000Z-e2/acme-00001.csv.gz"
                ],
            }
        ).encode(),
        "acme-Manifest.json",
    )
    assert _keys(delivery_files("cur2", period, manifest)) == [
        "data/BILLING_PERIOD=2026-10/20261103T010000Z-e2/acme-00001.csv.gz"
    ]
    # without a manifest (not delivered yet) the newest subfolder is the delivery, never a mix
    assert _keys(delivery_files("cur2", period, None)) == [
        "data/BILLING_PERIOD=2026-10/20261103T010000Z-e2/acme-00001.csv.gz"
    ]


def test_data_exports_create_new_manifest_in_a_subfolder_of_metadata_counts_too():
    listed = [*_CREATE_NEW[:3], _at("metadata/BILLING_PERIOD=2026-10/e1/acme-Manifest.json", 1)]
    listed.append(_at("metadata/BILLING_PERIOD=2026-10/e2/acme-Manifest.json", 61))
    [period] = group_periods("cur2", listed)
    newest = current_manifest("cur2", period)
    assert (
        newest is not None and newest.key == "metadata/BILLING_PERIOD=2026-10/e2/acme-Manifest.json"
    )


def test_month_folders_of_many_sources_are_separate_periods():
    listed = [
        _at("gcp_billing_export/2026-10/a.csv"),
        _at("focus_export/2026-10/b.csv"),
        _at("gcp_billing_export/2026-10-05/day.csv"),  # a day folder: not a period delivery
        _at("gcp_billing_export/2026-13/bad-month.csv"),
        _at("gcp_billing_export/2026-10/.hidden"),
    ]
    periods = group_periods("months", listed)
    assert [(p.source, p.label) for p in periods] == [
        ("focus_export", "2026-10"),
        ("gcp_billing_export", "2026-10"),
    ]
    assert _keys(delivery_files("months", periods[1], None)) == ["gcp_billing_export/2026-10/a.csv"]


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="unknown delivery layout"):
        group_periods("weekly", [])
