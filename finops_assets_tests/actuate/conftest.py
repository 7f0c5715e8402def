"""Fixtures for actuation tests: a self-signed certificate and recording HTTPS servers."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from finops_assets_tests.actuate.tls_servers import RecordingServer, write_self_signed_cert


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for 127.0.0.1, generated once per session."""
    return write_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def recording_server(tls_cert: tuple[Path, Path]) -> Iterator[RecordingServer]:
    """A started recording HTTPS server, stopped after the test."""
    server = RecordingServer(*tls_cert).start()
    yield server
    server.stop()
