"""Hardened inputs on the real code paths: landing folder, buckets, gzip, YAML and CSV export."""

import datetime as dt
import gzip
import re
import tracemalloc
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import boto3
import polars as pl
import pytest
from azure.storage.blob import BlobServiceClient
from google.cloud import storage

import finops_assets
from finops_assets.conformance.export import neutralize_formulas, write_focus_dataset
from finops_assets.domain.budgets import BudgetConfigError, load_budgets
from finops_assets.domain.focus import NORMALIZED_COLUMNS
from finops_assets.domain.rules import RulesError, load_rules
from finops_assets.domain.sources import aws_cur, focus_export
from finops_assets.domain.sources.common import SourceFormatError
from finops_assets.domain.sources.detect import MAX_PREFIX_BYTES, detect_format
from finops_assets.resources import azure_blob_exports, gcs_exports
from finops_assets.resources.payloads import LandingError, LandingFolder
from finops_assets.resources.s3_exports import from_location
from finops_assets.sample import aws_cur_writer, focus_export_writer
from finops_assets.security.hardening import neutralize_formula
from finops_assets.settings import Settings
from finops_assets_tests.servers.azurite import azurite_blob
from finops_assets_tests.servers.gcs_emulator import fake_gcs_server
from finops_assets_tests.servers.s3 import running_s3

DAY = dt.date(2026, 10, 1)
FETCHED = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
PACKAGE = Path(finops_assets.__file__).parent


@pytest.mark.parametrize("source", ["../outside", "..", "/etc", "aws_cur/../../outside"])
def test_landing_folder_refuses_a_crafted_source(tmp_path, source):
    outside = tmp_path / "outside" / DAY.isoformat()
    outside.mkdir(parents=True)
    (outside / "secret.csv").write_text("stolen")
    landing = tmp_path / "landing"
    (landing / "aws_cur" / DAY.isoformat()).mkdir(parents=True)
    with pytest.raises(LandingError, match="path traversal"):
        LandingFolder(landing).fetch(source, DAY)
    with pytest.raises(LandingError, match="path traversal"):
        LandingFolder(landing).days(source)


def test_landing_folder_refuses_a_day_folder_linked_out_of_the_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.csv").write_text("stolen")
    (tmp_path / "landing" / "aws_cur").mkdir(parents=True)
    (tmp_path / "landing" / "aws_cur" / DAY.isoformat()).symlink_to(outside)
    with pytest.raises(LandingError, match="outside the landing folder"):
        LandingFolder(tmp_path / "landing").fetch("aws_cur", DAY)


def test_landing_folder_reads_a_link_that_stays_inside_under_its_own_name(tmp_path):
    folder = tmp_path / "aws_cur" / DAY.isoformat()
    folder.mkdir(parents=True)
    (tmp_path / "kept.csv").write_bytes(b"inside")
    (folder / "a.csv").symlink_to(tmp_path / "kept.csv")
    payloads = LandingFolder(tmp_path).fetch("aws_cur", DAY)
    assert [(p.name, p.data) for p in payloads] == [(f"aws_cur/{DAY}/a.csv", b"inside")]


@pytest.fixture(scope="module")
def moto():
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(moto, monkeypatch):
    for key, value in moto.env().items():
        monkeypatch.setenv(key, value)
    return moto.new_bucket()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd", "path traversal"),
        ("./a.csv", "path traversal"),
        ("sub/../a.csv", "path traversal"),
        ("a.csv;rm -rf", "expected pattern"),
        ("été.csv", "expected pattern"),
    ],
)
def test_s3_keys_that_could_escape_or_break_the_pattern_are_refused(bucket, name, message):
    client = boto3.client("s3")
    client.put_object(Bucket=bucket, Key=f"p/aws_cur/{DAY}/ok.csv", Body=b"x")
    client.put_object(Bucket=bucket, Key=f"p/aws_cur/{DAY}/{name}", Body=b"x")
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"p/aws_cur/{DAY}/{name}" in listed  # the server kept the key as sent
    with pytest.raises(LandingError, match=message):
        from_location(f"s3://{bucket}/p", Settings.from_env()).fetch("aws_cur", DAY)


def test_s3_refuses_a_crafted_source_before_listing(bucket):
    with pytest.raises(LandingError, match="path traversal"):
        from_location(f"s3://{bucket}/p", Settings.from_env()).fetch("../aws_cur", DAY)


BAD_BLOB_NAMES = [("../../etc/passwd", "path traversal"), ("a.csv;rm -rf", "expected pattern")]


@pytest.fixture(scope="module")
def gcs(monkeypatch_module):
    with fake_gcs_server() as url:
        monkeypatch_module.setenv("STORAGE_EMULATOR_HOST", url)
        yield storage.Client()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory, monkeypatch_module):
    with azurite_blob(tmp_path_factory.mktemp("azurite")) as connection:
        monkeypatch_module.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
        yield BlobServiceClient.from_connection_string(connection)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize(("name", "message"), BAD_BLOB_NAMES)
def test_gcs_names_that_could_escape_or_break_the_pattern_are_refused(gcs, name, message):
    bucket = gcs.create_bucket(f"b-{uuid4().hex[:12]}")
    for blob in ("ok.csv", "nested/deeper.csv", name):
        bucket.blob(f"p/aws_cur/{DAY}/{blob}").upload_from_string(b"x")
    assert f"p/aws_cur/{DAY}/{name}" in {b.name for b in gcs.list_blobs(bucket.name)}
    source = gcs_exports.from_location(f"gs://{bucket.name}/p", Settings.from_env({}))
    with pytest.raises(LandingError, match=message):
        source.fetch("aws_cur", DAY)
    with pytest.raises(LandingError, match="path traversal"):
        source.fetch("../aws_cur", DAY)


# The Azure SDK signs a '..' blob name but the URL is normalized in transit: Azurite refuses it
# (AuthorizationFailure), so such a name cannot reach the listing; the pattern still applies.
@pytest.mark.parametrize(("name", "message"), BAD_BLOB_NAMES[1:])
def test_azure_blob_names_outside_the_pattern_are_refused(azurite, name, message):
    container = azurite.create_container(f"c-{uuid4().hex[:12]}")
    for blob in ("ok.csv", "nested/deeper.csv", name):
        container.upload_blob(f"p/aws_cur/{DAY}/{blob}", b"x")
    assert f"p/aws_cur/{DAY}/{name}" in {b.name for b in container.list_blobs()}
    location = f"az://{container.container_name}/p"
    # the fixture sets AZURE_STORAGE_CONNECTION_STRING; Settings carries it to the client
    source = azure_blob_exports.from_location(location, Settings.from_env())
    with pytest.raises(LandingError, match=message):
        source.fetch("aws_cur", DAY)
    with pytest.raises(LandingError, match="path traversal"):
        source.fetch("../aws_cur", DAY)


def _bomb(header: bytes, inflated: int) -> bytes:
    return gzip.compress(header + b"\n" * inflated, compresslevel=9)


def test_cur_gzip_bomb_is_refused_and_a_real_file_under_the_limit_parses(tmp_path):
    path = next(
        p for p in aws_cur_writer.write_day(tmp_path, DAY, 3, 200) if p.name.endswith(".gz")
    )
    data = path.read_bytes()
    inflated = len(gzip.decompress(data))
    kwargs = {"source_file": path.name, "ingestion_key": "k", "fetched_at": FETCHED}
    assert aws_cur.parse(data, **kwargs, max_inflated_bytes=inflated).rows.height > 0
    with pytest.raises(SourceFormatError, match="inflates past the limit"):
        aws_cur.parse(data, **kwargs, max_inflated_bytes=inflated - 1)
    header = gzip.decompress(data).split(b"\n", 1)[0]
    with pytest.raises(SourceFormatError, match=f"{path.name}: refused: .*limit of 1048576"):
        aws_cur.parse(_bomb(header, 64 << 20), **kwargs, max_inflated_bytes=1 << 20)


def test_focus_export_gzip_bomb_is_refused(tmp_path):
    path = focus_export_writer.write_day(tmp_path, DAY, 3, 50)[0]
    text = path.read_bytes()
    kwargs = {"source_file": "f.csv.gz", "ingestion_key": "k", "fetched_at": FETCHED}
    limit = len(text)
    assert focus_export.parse(gzip.compress(text), **kwargs, max_inflated_bytes=limit).rows.height
    with pytest.raises(SourceFormatError, match="refused: .*inflates past the limit"):
        focus_export.parse(_bomb(text, 64 << 20), **kwargs, max_inflated_bytes=limit)


@pytest.mark.slow
def test_format_detection_inflates_only_a_prefix_of_a_bomb():
    bomb = _bomb(b"line_item_unblended_cost,bill_payer_account_id", 256 << 20)
    tracemalloc.start()
    try:
        assert detect_format(bomb, "bomb.csv.gz") == "aws_cur"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MAX_PREFIX_BYTES  # inflating the whole 256 MiB would be far above


_EXECUTES = "!!python/object/apply:os.system ['touch {marker}']"


def test_rules_yaml_with_a_python_tag_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    text = f"version: '1'\nbusiness_units: [a]\nx: {_EXECUTES.format(marker=marker)}\n"
    with pytest.raises(RulesError, match="not valid YAML.*python/object"):
        load_rules(text)
    assert not marker.exists()


def test_budgets_yaml_with_a_python_tag_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    text = f"budgets:\n  - {_EXECUTES.format(marker=marker)}\n"
    with pytest.raises(BudgetConfigError, match="not valid YAML.*python/object"):
        load_budgets(text, "USD")
    assert not marker.exists()


def test_no_module_loads_yaml_or_gzip_unsafely():
    unsafe = re.compile(r"yaml\.(load|unsafe_load|full_load)\(|yaml\.(Unsafe|Full)?Loader\b")
    inflating = re.compile(r"gzip\.(decompress|open)\(|zlib\.decompress\(")
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if unsafe.search(line) or inflating.search(line)
    ]
    assert found == []


def _normalized_row(**values: object) -> pl.DataFrame:
    return pl.DataFrame([{c: values.get(c) for c in NORMALIZED_COLUMNS}], schema=NORMALIZED_COLUMNS)


def test_exported_csv_neutralizes_formulas_and_keeps_negative_amounts(tmp_path):
    frame = _normalized_row(
        ResourceName='=HYPERLINK("https://evil.example","x")',
        ServiceName="@SUM(A1:A9)",
        SubAccountName="+cmd|' /C calc'!A0",
        BilledCost=Decimal("-12.5"),
        BillingCurrency="USD",
    )
    path = write_focus_dataset(frame, tmp_path / "focus.csv")
    back = pl.read_csv(path, infer_schema=False)
    assert back["ResourceName"][0] == '\'=HYPERLINK("https://evil.example","x")'
    assert back["ServiceName"][0] == "'@SUM(A1:A9)"
    assert back["SubAccountName"][0] == "'+cmd|' /C calc'!A0"
    assert back["BilledCost"][0] == "-12.5"
    assert back["BillingCurrency"][0] == "USD"


def test_csv_neutralization_matches_the_hardening_rule_cell_for_cell():
    cells = ["=1+1", "+1", "-12.50", "-1e5", "+.5", "-", "@x", "\tx", "\rx", "a=b", "", "-x", "1"]
    got = neutralize_formulas(pl.DataFrame({"c": cells}))["c"].to_list()
    assert got == [neutralize_formula(c) for c in cells]
