"""Fixtures for the system tests: real processes (simulator, local server, moto, cargo lambda
watch) on loopback ports, started and stopped by the tests themselves (helpers in harness.py)."""

import subprocess

import pytest

from harness import ROOT, TARGET, Proc, free_port, wait_for_port


@pytest.fixture(scope="session")
def built():
    """Builds the workspace's debug binaries once (verify-sim, verify-proxy-local, verify-proxy-admin)."""
    subprocess.run(["cargo", "build", "-p", "verify-sim", "-p", "local", "-p", "admin"], cwd=ROOT, check=True)
    return TARGET / "debug"


@pytest.fixture
def simulator(built, tmp_path):
    port = free_port()
    p = Proc([str(built / "verify-sim"), "--listen", f"127.0.0.1:{port}", "--account", "abcd1234:sim-secret-1",
              "--seed", "3"], name="verify-sim", tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    yield f"http://127.0.0.1:{port}", p
    p.stop()


@pytest.fixture
def moto(tmp_path):
    port = free_port()
    p = Proc(["moto_server", "-H", "127.0.0.1", "-p", str(port)], name="moto", tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    yield f"http://127.0.0.1:{port}"
    p.stop()
