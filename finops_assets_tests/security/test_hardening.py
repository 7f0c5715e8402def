"""Guards for untrusted input: each refusal names the input and the rule."""

import gzip
import io
import os
import tracemalloc
import zlib
from pathlib import Path

import pytest

from finops_assets.security.hardening import (
    GzipBombError,
    HardeningError,
    UnsafePathError,
    UnsafeUrlError,
    bounded_gunzip,
    check_sink_url,
    neutralize_formula,
    safe_landing_path,
)


def test_landing_path_accepts_a_plain_key(tmp_path: Path) -> None:
    path = safe_landing_path(tmp_path, "aws_cur/2026-11-01/export-00001.snappy.parquet")
    assert path == tmp_path.resolve() / "aws_cur/2026-11-01/export-00001.snappy.parquet"
    assert safe_landing_path(tmp_path, "gcp/part=3/x.csv").name == "x.csv"


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("../etc/passwd", "does not match"),
        ("aws_cur/../../etc/passwd", "traversal"),
        ("aws_cur/./x.csv", "traversal"),
        ("aws_cur//x.csv", "traversal"),
        ("/etc/passwd", "absolute"),
        ("aws_cur\\..\\x.csv", "does not match"),
        ("aws cur/x.csv", "does not match"),
        ("aws_cur/x.csv\x00.txt", "does not match"),
        ("", "does not match"),
        ("a" * 1025, "over 1024"),
    ],
)
def test_landing_path_refuses_keys_that_could_leave_the_root(
    tmp_path: Path, key: str, rule: str
) -> None:
    with pytest.raises(UnsafePathError, match=rule) as error:
        safe_landing_path(tmp_path, key)
    assert isinstance(error.value, ValueError)
    assert repr(key)[:40] in str(error.value) or "characters" in str(error.value)


def test_landing_path_refuses_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "landing", tmp_path / "secrets"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "aws_cur")
    with pytest.raises(UnsafePathError, match="outside .*symlink"):
        safe_landing_path(root, "aws_cur/x.csv")


def test_landing_path_allows_a_symlink_that_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert safe_landing_path(tmp_path, "alias/x.csv") == tmp_path.resolve() / "real" / "x.csv"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("-0.0000000001", "-0.0000000001"),
        ("-1.5E+03", "-1.5E+03"),
        ("team-platform", "team-platform"),
        ("", ""),
    ],
)
def test_neutralize_formula(cell: str, expected: str) -> None:
    assert neutralize_formula(cell) == expected


ALLOW = ["hooks.slack.com", "*.webhook.office.com", "127.0.0.1", "[::1]", "8.8.8.8"]


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXX",
        "https://HOOKS.slack.com./services/x",
        "https://acme.webhook.office.com/webhookb2/x",
        "https://127.0.0.1:8443/events",
        "https://[::1]:8443/events",
        "https://8.8.8.8/x",
    ],
)
def test_sink_url_accepts_allowlisted_https(url: str) -> None:
    assert check_sink_url(url, ALLOW) == url


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.slack.com/services/x", "not https"),
        ("https://evil.example/x", "not on the allowlist"),
        ("https://hooks.slack.com.evil.example/x", "not on the allowlist"),
        ("https://webhook.office.com/x", "not on the allowlist"),
        ("https://user:pw@hooks.slack.com/x", "credentials"),
        ("https://169.254.169.254/latest/meta-data/", "metadata, link-local or private"),
        ("https://[fd00:ec2::254]/latest/meta-data/", "metadata, link-local or private"),
        ("https://[::ffff:169.254.169.254]/", "metadata, link-local or private"),
        ("https://10.0.0.5/x", "metadata, link-local or private"),
        ("https://172.20.1.1/x", "metadata, link-local or private"),
        ("https://192.168.1.1/x", "metadata, link-local or private"),
        ("https://127.0.0.2/x", "loopback 127.0.0.2 is not explicitly allowlisted"),
        ("https://2130706433/x", "numeric address in a non-standard form"),
        ("https://0x7f.1/x", "numeric address in a non-standard form"),
        ("https:///x", "has no host"),
        ("https://hooks.slack.com:99999/x", "malformed"),
        ("https://h\u043eoks.slack.com/x", "not a plain ASCII host name"),
    ],
)
def test_sink_url_refusals_name_the_url_and_the_rule(url: str, rule: str) -> None:
    with pytest.raises(UnsafeUrlError, match=rule) as error:
        check_sink_url(url, ALLOW)
    assert repr(url) in str(error.value)


def test_sink_url_refuses_a_private_address_even_if_allowlisted() -> None:
    with pytest.raises(UnsafeUrlError, match="private"):
        check_sink_url("https://169.254.169.254/", ["169.254.169.254"])


def test_sink_url_refuses_a_too_broad_allowlist_entry() -> None:
    with pytest.raises(UnsafeUrlError, match="too broad"):
        check_sink_url("https://x.com/", ["*.com"])


def _gzip(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(payload)
    return buffer.getvalue()


def _gzip_of_zeros(mebibytes: int) -> bytes:
    """A gzip bomb built in 1 MiB steps, so the test itself never holds the inflated size."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(deflater.compress(block) for _ in range(mebibytes)) + deflater.flush()


def test_bounded_gunzip_inflates_within_the_limit() -> None:
    payload = b"line,cost\n" * 10_000
    assert bounded_gunzip(_gzip(payload), max_bytes=len(payload)) == payload


def test_bounded_gunzip_reads_every_member_of_a_multi_member_file() -> None:
    assert bounded_gunzip(_gzip(b"a,1\n") + _gzip(b"b,2\n"), max_bytes=100) == b"a,1\nb,2\n"


def test_bounded_gunzip_refuses_a_bomb_without_inflating_it() -> None:
    bomb = _gzip_of_zeros(64)  # 64 MiB of zeros in about 64 KiB
    tracemalloc.start()
    with pytest.raises(GzipBombError, match="inflates past the limit of 1048576 bytes"):
        bounded_gunzip(bomb, max_bytes=1024 * 1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_bounded_gunzip_limit_is_exact() -> None:
    data = _gzip(b"x" * 1000)
    assert len(bounded_gunzip(data, max_bytes=1000)) == 1000
    with pytest.raises(GzipBombError, match="limit of 999 bytes"):
        bounded_gunzip(data, max_bytes=999)


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "empty"),
        (b"not gzip at all", "corrupt"),
        (_gzip(b"x" * 100_000)[:-20], "truncated"),
    ],
)
def test_bounded_gunzip_refuses_invalid_input(data: bytes, rule: str) -> None:
    with pytest.raises(GzipBombError, match=rule):
        bounded_gunzip(data, max_bytes=1_000_000)


def test_every_refusal_is_a_value_error() -> None:
    assert issubclass(HardeningError, ValueError)
    assert all(
        issubclass(e, HardeningError) for e in (UnsafePathError, UnsafeUrlError, GzipBombError)
    )
