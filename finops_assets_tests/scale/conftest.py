"""Servers the scale tests share: one PostgreSQL and one S3 (moto) per session, torn down after."""

import pytest

from finops_assets_tests.servers.postgres import PostgresServer, running_postgres
from finops_assets_tests.servers.s3 import S3Server, running_s3


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """A real PostgreSQL server on 127.0.0.1 with an empty `dagster` database."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> S3Server:
    """A moto S3 server on 127.0.0.1 (random port)."""
    with running_s3() as server:
        yield server
