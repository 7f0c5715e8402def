"""`finops dev` / `make dev`: the port is a setting, a taken port fails at once, no warning noise."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from finops_assets.cli import main, port_in_use_message
from finops_assets.settings import Settings, SettingsError

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port():
    """A port on 127.0.0.1 that something else is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_ui_port_is_a_setting():
    assert Settings.from_env({}).ui_port == 3000
    assert Settings.from_env({"FINOPS_UI_PORT": "3100"}).ui_port == 3100
    for bad in ("http", "0", "70000", "-1"):
        with pytest.raises(SettingsError, match="FINOPS_UI_PORT"):
            Settings.from_env({"FINOPS_UI_PORT": bad})


def test_a_free_port_has_no_message(taken_port):
    assert port_in_use_message("127.0.0.1", taken_port) is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert port_in_use_message("127.0.0.1", free) is None


def test_a_taken_port_fails_at_once_with_one_line(taken_port, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FINOPS_HOME", str(tmp_path))
    monkeypatch.setenv("FINOPS_UI_PORT", str(taken_port))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["dev"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in err[0]
    assert "FINOPS_UI_PORT" in err[0]


def test_make_dev_passes_the_port_and_fails_on_a_taken_one(taken_port, tmp_path):
    """The real console script through the Makefile's environment: exit code != 0, one line."""
    env = {
        **os.environ,
        "FINOPS_HOME": str(tmp_path),
        "FINOPS_UI_PORT": str(taken_port),
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [sys.executable, "-m", "finops_assets.cli", "dev"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if "already in use" in line
    ]
    assert len(done.stderr.strip().splitlines()) == 1
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "FINOPS_UI_PORT=$(FINOPS_UI_PORT) $(BIN)/finops dev" in makefile


@pytest.mark.slow
def test_loading_the_definitions_prints_no_beta_or_deprecation_warning():
    """Every warning enabled (-W always): the project's own use of Dagster APIs warns nothing."""
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import finops_assets.definitions"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for word in ("BetaWarning", "PreviewWarning", "DeprecationWarning", "SupersessionWarning"):
        assert word not in done.stderr


@pytest.mark.slow
def test_dev_starts_on_the_configured_port_without_warnings(tmp_path):
    """A real `finops dev` on a free port: the UI answers there, and no warning was printed."""
    import signal
    import time
    import urllib.request

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "FINOPS_HOME": str(tmp_path),
        "FINOPS_UI_PORT": str(port),
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("DAGSTER_HOME", None)
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "finops_assets.cli", "dev"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        answered = None
        for _ in range(240):  # polls, not a timing assertion: up to 2 minutes on a busy machine
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info") as reply:
                    answered = reply.status
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.5)
        assert answered == 200, log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text()
    assert f"http://127.0.0.1:{port}" in text
    for word in ("BetaWarning", "PreviewWarning", "SupersessionWarning", "dg dev"):
        assert word not in text, text
