"""Helpers for the system tests and the benchmarks: real processes on loopback ports, HTTP
calls that never raise on 4xx/5xx, and where things are. Used by tests/conftest.py and bench/."""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "simulator" / "spec"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 120.0, log=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode}): {log.read_text() if log else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def to_next_utc_day(now_ms: int, plus_s: int) -> int:
    """Seconds from `now_ms` to `plus_s` past the next UTC midnight: a test whose simulated
    hours must fall in one UTC day (the guard's per-day limits) starts there, whatever the
    wall clock says."""
    day_ms = 24 * 3600 * 1000
    return (day_ms - now_ms % day_ms) // 1000 + plus_s


def http(method: str, url: str, body=None, form: bool = False, headers=None):
    """(status, parsed JSON or text, headers) for one HTTP call; never raises on 4xx/5xx."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body, doseq=True).encode()
            hdrs.setdefault("content-type", "application/x-www-form-urlencoded")
        else:
            data = json.dumps(body).encode()
            hdrs.setdefault("content-type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw, h = r.status, r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as e:
        status, raw, h = e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}
    try:
        return status, json.loads(raw), h
    except ValueError:
        return status, raw.decode(errors="replace"), h


class Proc:
    """A started process with its output captured to a file."""

    def __init__(self, args, env=None, name="proc", tmp_path=None, cwd=ROOT):
        self.log = (tmp_path or Path("/tmp")) / f"{name}.log"
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen(args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self.fh,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.fh.flush()
        return self.log.read_text()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        self.fh.close()
