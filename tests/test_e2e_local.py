"""End-to-end: start the local server exactly as the README says (`cargo run -p local`), walk the
curl flow (request -> PIN from the outbox -> check -> search) and prove the logs hold no full
number, no PIN and no secret."""

import json
import re
import subprocess

import pytest

from harness import Proc, free_port, wait_for_port

NUMBER = "+447700900123"
DIGITS = NUMBER.lstrip("+")


@pytest.fixture
def local_server(tmp_path):
    port = free_port()
    p = Proc(["cargo", "run", "-q", "-p", "local"], env={"LISTEN": f"127.0.0.1:{port}", "SIM_SEED": "11"},
             name="local", tmp_path=tmp_path)
    wait_for_port(port, p.proc, timeout=600, log=p.log)
    yield f"http://127.0.0.1:{port}", p
    p.stop()


def curl(*args) -> dict:
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args], check=True, capture_output=True, text=True).stdout
    body, status = out.rsplit("\n", 1)
    return {"http": int(status), **json.loads(body)}


def test_readme_curl_flow_and_clean_logs(local_server):
    base, proc = local_server
    started = curl("-X", "POST", f"{base}/request", "-H", "content-type: application/json", "-d", json.dumps({"number": NUMBER}))
    assert started["http"] == 200 and started["status"] == "0", started
    rid = started["request_id"]

    outbox = curl(f"{base}/_sim/messages?number={DIGITS}")
    code = outbox["messages"][-1]["code"]
    assert outbox["messages"][-1]["text"] == f"verify-proxy code: {code}. Valid for 5 minutes."

    # The web tutorials post forms; the mobile ones post JSON with requestId.
    wrong = "0000" if code != "0000" else "1111"
    bad = curl("-X", "POST", f"{base}/check", "-d", f"request_id={rid}&code={wrong}")
    assert bad["http"] == 400 and bad["status"] == "16", bad
    checked = curl("-X", "POST", f"{base}/check", "-H", "content-type: application/json",
                   "-d", json.dumps({"requestId": rid, "code": code}))
    assert checked["http"] == 200 and checked["status"] == "0", checked

    # Verify's search knows nothing of a verification for about a minute after it ends; the
    # simulator too. The README moves its clock first.
    search = ["-X", "POST", f"{base}/search", "-H", "content-type: application/json", "-d", json.dumps({"request_id": rid})]
    blind = curl(*search)
    assert blind["http"] == 404 and blind["status"] == "101", blind
    curl("-X", "POST", f"{base}/_sim/clock/advance", "-H", "content-type: application/json", "-d", '{"seconds":61}')
    found = curl(*search)
    assert found["http"] == 200 and found["status"] == "SUCCESS"
    assert found["number"] == "+44*******123"

    banner = proc.output()
    assert f"{base}/_sim/messages" in banner, "startup says where the outbox is"
    assert "30 calls/s, 1 search/s" in banner, "and that Verify's own limits are on"
    lines = [json.loads(line) for line in proc.output().splitlines() if line.startswith("{")]
    calls = [entry for entry in lines if entry.get("message") == "invocation"]
    assert [c["endpoint"] for c in calls] == ["request", "check", "check", "search", "search"]
    assert calls[0]["number"] == "+44*******123"
    assert [c["http_status"] for c in calls] == [200, 400, 200, 404, 200]
    assert all("upstream_ms" in c for c in calls)
    log = proc.output()
    assert DIGITS not in log, "no full phone number in logs"
    assert not re.search(rf"(?<!\d){code}(?!\d)", log), "no PIN in logs"
    assert not re.search(rf"(?<!\d){wrong}(?!\d)", log), "no typed code in logs"
    assert "local-secret" not in log, "no API secret in logs"
