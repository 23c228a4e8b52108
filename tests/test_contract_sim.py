"""Contract test: the simulator's responses, over HTTP, validated against the official Verify v1
OpenAPI description, vendored in simulator/spec/verify.yml (provenance in simulator/spec/SOURCES.md).

Two deliberate readings of the spec, both documented in the README:
- Its response schemas are `oneOf: [success, error]` with no `additionalProperties: false`, so a
  success body matches both branches and strict `oneOf` rejects every real answer. We read the
  union as `anyOf`, which is what the spec means.
- The multi-id search shape `{"verification_requests": [...]}` is not in the spec (it is in the
  live API and the SDKs); we validate each element against the single-record schema.
- Search's error enum names only 101, but throttling (status 1) applies to every endpoint: a
  throttled search is validated against the error shape with "1" added.
"""

import copy
import hashlib
import re

import jsonschema
import pytest
import yaml

from harness import SPECS, http

KEY, SECRET = "abcd1234", "sim-secret-1"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load((SPECS / "verify.yml").read_text())


def test_vendored_specs_are_unchanged():
    """The spec files are verbatim copies: their hashes are the ones SOURCES.md records."""
    sources = (SPECS / "SOURCES.md").read_text()
    for name in ["verify.yml", "verify.v2.yml"]:
        row = next(line for line in sources.splitlines() if line.startswith(f"| `{name}`"))
        recorded = re.findall(r"`([0-9a-f]{64})`", row)
        assert recorded == [hashlib.sha256((SPECS / name).read_bytes()).hexdigest()], name
    assert "MIT License" in (SPECS / "LICENSE").read_text()


def resolve(node, spec):
    if isinstance(node, dict):
        if "$ref" in node:
            path = node["$ref"].lstrip("#/").split("/")
            target = spec
            for part in path:
                target = target[part]
            return resolve(copy.deepcopy(target), spec)
        out = {}
        for k, v in node.items():
            out["anyOf" if k == "oneOf" else k] = resolve(v, spec)
        return out
    if isinstance(node, list):
        return [resolve(v, spec) for v in node]
    return node


def schema_for(spec, path, method="post"):
    op = spec["paths"][path][method]
    return resolve(op["responses"]["200"]["content"]["application/json"]["schema"], spec)


def component(spec, name):
    return resolve(spec["components"]["schemas"][name], spec)


def validate(body, schema, what):
    try:
        jsonschema.Draft4Validator(schema).validate(body)
    except jsonschema.ValidationError as e:
        pytest.fail(f"{what}: {body} does not match the spec: {e.message}")


def call(base, path, **params):
    status, body, headers = http("POST", f"{base}/verify{path}", {"api_key": KEY, "api_secret": SECRET, **params}, form=True)
    assert status == 200, (path, status, body)
    assert headers.get("content-type") == "application/json"
    return body


def code_of(base, request_id):
    _, body, _ = http("GET", f"{base}/_sim/messages?request_id={request_id}")
    return body["messages"][-1]["code"]


def advance(base, seconds):
    status, _, _ = http("POST", f"{base}/_sim/clock/advance", {"seconds": seconds})
    assert status == 200


def test_request_responses_match_spec(simulator, spec):
    base, _ = simulator
    schema = schema_for(spec, "/{format}")
    ok = call(base, "/json", number="447700900001", brand="Acme")
    seen = {ok["status"]}
    validate(ok, schema, "request success")
    for body in [
        call(base, "/json", number="447700900001", brand="Acme"),  # 10 concurrent
        call(base, "/json", brand="Acme"),  # 2 missing number
        call(base, "/json", number="447700900002", brand="A" * 19),  # 3 too long
        call(base, "/json", number="447700900002", brand="Acme", code_length="5"),
        call(base, "/json", number="447700900002", brand="Acme", pin_code="1234"),  # 20
        http("POST", f"{base}/verify/json", {"api_key": KEY, "api_secret": "nope", "number": "1", "brand": "b"}, form=True)[1],
    ]:
        validate(body, schema, f"request status {body['status']}")
        seen.add(body["status"])
    assert seen == {"0", "10", "2", "3", "20", "4"}


def test_psd2_responses_match_spec(simulator, spec):
    base, _ = simulator
    schema = schema_for(spec, "/psd2/{format}")
    for body in [call(base, "/psd2/json", number="447700900010", payee="Shop", amount="48.00"),
                 call(base, "/psd2/json", number="447700900011", payee="Shop")]:
        validate(body, schema, "psd2")


def test_check_responses_match_spec(simulator, spec):
    base, _ = simulator
    schema = schema_for(spec, "/check/{format}")
    rid = call(base, "/json", number="447700900020", brand="Acme")["request_id"]
    code = code_of(base, rid)
    wrong = "1111" if code != "1111" else "2222"
    bodies = [call(base, "/check/json", request_id=rid, code="12a4"), call(base, "/check/json", request_id=rid, code=wrong),
              call(base, "/check/json", request_id=rid, code=code), call(base, "/check/json", request_id=rid, code=code)]
    rid2 = call(base, "/json", number="447700900021", brand="Acme")["request_id"]
    bodies += [call(base, "/check/json", request_id=rid2, code=wrong) for _ in range(3)]
    assert [b["status"] for b in bodies] == ["3", "16", "0", "6", "16", "16", "17"]
    for b in bodies:
        validate(b, schema, f"check status {b['status']}")


def test_search_responses_match_spec(simulator, spec):
    base, _ = simulator
    schema = schema_for(spec, "/search/{format}", "get")
    record = component(spec, "searchResponse")
    rid = call(base, "/json", number="447700900030", brand="Acme")["request_id"]
    validate(call(base, "/search/json", request_id=rid), schema, "search in progress")
    # Verify's own limits are on (the simulator's default): 1 search a second answers 1.
    throttled = call(base, "/search/json", request_id=rid)
    assert throttled["status"] == "1", throttled
    # The spec's search error enum names only 101; status 1 applies to every endpoint
    # (docs/verify-v1.md section 10), so it is checked against the error shape with "1" added.
    widened = copy.deepcopy(component(spec, "searchErrorResponse"))
    widened["properties"]["status"]["enum"].append("1")
    validate(throttled, widened, "search throttled")
    call(base, "/check/json", request_id=rid, code=code_of(base, rid))
    advance(base, 1)
    blind = call(base, "/search/json", request_id=rid)
    assert blind["status"] == "101", "right after completion"
    validate(blind, schema, "search 101 after completion")
    advance(base, 60)
    done = call(base, "/search/json", request_id=rid)
    assert done["status"] == "SUCCESS"
    validate(done, schema, "search success")
    validate(done, record, "search record")
    advance(base, 1)
    missing = call(base, "/search/json", request_id="0" * 32)
    assert missing["status"] == "101"
    validate(missing, schema, "search 101")
    advance(base, 1)
    many = call(base, "/search/json", request_ids=[rid, rid])
    for r in many["verification_requests"]:
        validate(r, record, "search list element")


def test_control_responses_match_spec(simulator, spec):
    base, _ = simulator
    schema = schema_for(spec, "/control/{format}")
    rid = call(base, "/json", number="447700900040", brand="Acme")["request_id"]
    bodies = [call(base, "/control/json", request_id=rid, cmd="cancel"),  # 19 (first 30 s)
              call(base, "/control/json", request_id=rid, cmd="trigger_next_event"),
              call(base, "/control/json", request_id=rid, cmd="trigger_next_event"),
              call(base, "/control/json", request_id=rid, cmd="trigger_next_event"),  # 19 no more events
              call(base, "/control/json", request_id=rid, cmd="resend"),  # 3
              call(base, "/control/json", request_id="f" * 32, cmd="cancel")]  # 6
    assert [b["status"] for b in bodies] == ["19", "0", "0", "19", "3", "6"]
    for b in bodies:
        validate(b, schema, f"control status {b['status']}")


def v2_call(base, method, path, body=None):
    import base64
    auth = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    status, answer, headers = http(method, f"{base}/v2/verify{path}", body, headers={"authorization": auth})
    return status, answer


def v2_schema(spec, path, status):
    op = spec["paths"][path]["post"]
    return resolve(op["responses"][str(status)]["content"]["application/json"]["schema"], spec)


def test_v2_answers_match_the_v2_spec(simulator, spec):
    """The v2 face against the vendored (early-access) v2 description, for the routes it has."""
    base, _ = simulator
    v2 = yaml.safe_load((SPECS / "verify.v2.yml").read_text())
    sms = {"brand": "Acme", "workflow": [{"channel": "sms", "to": "447700900070"}]}
    status, started = v2_call(base, "POST", "", sms)
    assert status == 202
    validate(started, v2_schema(v2, "/", 202), "v2 start")
    rid = started["request_id"]
    status, conflict = v2_call(base, "POST", "", sms)
    assert status == 409
    validate(conflict, v2_schema(v2, "/", 409), "v2 concurrent")
    status, invalid = v2_call(base, "POST", "", {"brand": "Acme"})
    assert status == 422
    validate(invalid, v2_schema(v2, "/", 422), "v2 invalid params")
    answers = [v2_call(base, "POST", f"/{rid}", {"code": "0000000"}) for _ in range(3)]
    assert [s for s, _ in answers] == [400, 400, 410]
    validate(answers[0][1], v2_schema(v2, "/{request_id}", 400), "v2 wrong code")
    validate(answers[2][1], v2_schema(v2, "/{request_id}", 410), "v2 too many")
    status, missing = v2_call(base, "POST", "/00000000-0000-4000-a000-000000000000", {"code": "1234"})
    assert status == 404
    validate(missing, v2_schema(v2, "/{request_id}", 404), "v2 not found")
    for _ in range(100):  # past the account's 30 calls a second
        status, throttled = v2_call(base, "POST", "", {"brand": "Acme"})
        if status == 429:
            break
    assert status == 429
    validate(throttled, v2_schema(v2, "/", 429), "v2 throttled")


def response_schema(spec, path, status):
    op = spec["paths"][path]["post"]
    return resolve(op["responses"][status]["content"]["application/json"]["schema"], spec)


def test_network_unblock_through_the_cli_matches_spec(built, tmp_path, spec):
    """`verify-sim --network-unblock --application ID:PEM`: the Network Unblock call's answers
    match the description (202, 404, 422), and a v2 application's JWT is accepted."""
    import base64
    import time
    import uuid

    import jwt

    from harness import ROOT, Proc, free_port, wait_for_port

    fixtures = ROOT / "simulator" / "tests" / "fixtures"
    help_out = __import__("subprocess").run([str(built / "verify-sim"), "--help"], capture_output=True, text=True)
    assert help_out.returncode == 0 and "--network-unblock" in help_out.stdout and "--application" in help_out.stdout
    port = free_port()
    p = Proc([str(built / "verify-sim"), "--listen", f"127.0.0.1:{port}", "--account", f"{KEY}:{SECRET}",
              "--network-unblock", "--application", f"app-cli-1:{fixtures / 'test-only-app-public.pem'}"],
             name="verify-sim-cli", tmp_path=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, p.proc, log=p.log)
        basic = {"authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}
        status, body, _ = http("POST", f"{base}/verify/network-unblock", {"network": "23410"}, headers=basic)
        assert status == 404
        validate(body, response_schema(spec, "/network-unblock", "404"), "unblock 404")
        assert http("POST", f"{base}/_sim/network-blocks", {"network": "23410", "prefix": "44781"})[0] == 200
        blocked = call(base, "/json", number="447810912345", brand="Acme")
        assert blocked["status"] == "7" and blocked["network"] == "23410"
        validate(blocked, schema_for(spec, "/{format}"), "start to a blocked network")
        status, body, _ = http("POST", f"{base}/verify/network-unblock", {"network": "23410", "unblock_duration": 3600},
                               headers=basic)
        assert status == 202
        validate(body, response_schema(spec, "/network-unblock", "202"), "unblock 202")
        status, body, _ = http("POST", f"{base}/verify/network-unblock", {"network": "23410", "unblock_duration": 90000},
                               headers=basic)
        assert status == 422
        validate(body, response_schema(spec, "/network-unblock", "422"), "unblock 422")
        assert call(base, "/json", number="447811912345", brand="Acme")["status"] == "0"
        # The application given on the command line signs v2 calls.
        now = int(time.time())
        token = jwt.encode({"application_id": "app-cli-1", "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())},
                           (fixtures / "test-only-app-private.pem").read_text(), algorithm="RS256")
        status, body, _ = http("POST", f"{base}/v2/verify", {"brand": "Acme", "workflow": [{"channel": "sms", "to": "447700900904"}]},
                               headers={"authorization": f"Bearer {token}"})
        assert status == 202, body
    finally:
        p.stop()
