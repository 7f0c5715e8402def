"""Fixtures: the admission webhook served over real HTTPS on 127.0.0.1 (self-signed)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from finops_assets_tests.actuate.tls_servers import write_self_signed_cert
from finops_assets_tests.admission.webhook_server import RunningWebhook, start_webhook


@pytest.fixture(scope="session")
def admission_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for 127.0.0.1."""
    return write_self_signed_cert(tmp_path_factory.mktemp("admission-tls"))


@pytest.fixture
def admission(admission_cert: tuple[Path, Path]) -> Iterator[RunningWebhook]:
    """A running admission webhook, shut down after the test."""
    running, server = start_webhook(admission_cert)
    yield running
    server.shutdown()
    server.server_close()
