"""Shared fixtures: where the public sample data lives, temp lakes and landing folders."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (the CI clone has a copy there too)."""
    path = Path(os.environ.get("FINOPS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not path.is_dir():
        raise RuntimeError(
            f"public sample data not found at {path}; set FINOPS_SHARED_DATA to the shared/data folder"
        )
    return path
