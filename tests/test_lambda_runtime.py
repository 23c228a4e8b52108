"""The arm64 release `bootstrap` binaries that are deployed (what `sam build` made), run under
`qemu-aarch64` against a real Lambda runtime emulator (`cargo lambda watch --only-lambda-apis`
on 127.0.0.1), with the Vonage credentials and the guard's key loaded from SSM (moto), the
guard's table in DynamoDB (moto) and the simulator as upstream, each reached over TLS (a test
CA the bootstraps trust through TLS_EXTRA_ROOTS_FILE, as a deployment's TLS to Vonage and AWS):
request -> PIN from the outbox -> check, using the sample events in events/. Each function is its own process, as in Lambda: what
/request records, /check finds only through DynamoDB."""

import hashlib
import json
import os
import shutil
import subprocess
import time

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from harness import ROOT, TARGET, Proc, free_port, http, wait_for_port
from tls import TestCa, TlsFront

# The functions this test runs, by binary name.
RUN = ["request", "check", "jwks", "events"]


@pytest.fixture
def ssm_params(moto):
    ssm = boto3.client("ssm", region_name="eu-west-1", endpoint_url=moto,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ssm.put_parameter(Name="/verify-proxy/api-key", Value="abcd1234", Type="String", Overwrite=True)
    ssm.put_parameter(Name="/verify-proxy/api-secret", Value="sim-secret-1", Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="/verify-proxy/guard-key", Value="guard-key-for-the-runtime-test", Type="SecureString",
                      Overwrite=True)
    # The verification token key, made as the README says (openssl genpkey -algorithm ed25519).
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    ssm.put_parameter(Name="/verify-proxy/token-key", Value=pem, Type="SecureString", Overwrite=True)
    ssm.put_parameter(Name="/verify-proxy/signature-secret", Value="runtime-signature-secret",
                      Type="SecureString", Overwrite=True)
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=moto,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    # As template.yaml creates it.
    dynamodb.create_table(TableName="guard", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    dynamodb.update_time_to_live(TableName="guard",
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    return moto


def bootstrap(name: str) -> str:
    """The deployed artefact: sam build's (stage 4 of scripts/test), else cargo lambda's."""
    for path in [ROOT / ".aws-sam" / "build" / f"{name.capitalize()}Function" / "bootstrap",
                 TARGET / "lambda" / name / "bootstrap"]:
        if path.exists():
            return str(path)
    subprocess.run(["cargo", "lambda", "build", "--release", "--arm64", "--bin", name], cwd=ROOT, check=True)
    return str(TARGET / "lambda" / name / "bootstrap")


def qemu() -> list[str]:
    """How to run an aarch64 binary here: natively on arm64, else Debian's qemu-user."""
    if os.uname().machine in ("aarch64", "arm64"):
        return []
    runner = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")
    assert runner, "qemu-user (apt-get install qemu-user libc6-arm64-cross; scripts/install-tools does)"
    return [runner, "-L", "/usr/aarch64-linux-gnu"]


class Functions:
    """The bootstraps' processes: their output together, as one CloudWatch search would show it."""

    def __init__(self, procs, moto):
        self.procs, self.moto = procs, moto

    def output(self) -> str:
        return "\n".join(p.output() for p in self.procs)


@pytest.fixture
def emulator(simulator, ssm_params, tmp_path):
    sim_base, _ = simulator
    ca = TestCa()
    sim_tls = TlsFront(ca, int(sim_base.rsplit(":", 1)[1]))
    moto_tls = TlsFront(ca, int(ssm_params.rsplit(":", 1)[1]))
    env = {
        "VERIFY_BASE_URL": f"https://127.0.0.1:{sim_tls.port}",
        "TLS_EXTRA_ROOTS_FILE": str(ca.ca_file),
        "VERIFY_API_KEY_PARAM": "/verify-proxy/api-key",
        "VERIFY_API_SECRET_PARAM": "/verify-proxy/api-secret",
        "AWS_ENDPOINT_URL_SSM": f"https://127.0.0.1:{moto_tls.port}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"https://127.0.0.1:{moto_tls.port}",
        "GUARD_TABLE": "guard",
        "GUARD_HMAC_KEY_PARAM": "/verify-proxy/guard-key",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "VERIFY_BRAND": "LambdaTest",
        "CALLER_AUTH": "api-key",
        "TOKEN_KEY_PARAM": "/verify-proxy/token-key",
        # Read by the events function only (the others ignore it).
        "VERIFY_SIGNATURE_SECRET_PARAM": "/verify-proxy/signature-secret",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    }
    port = free_port()
    api = Proc(["cargo", "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port)],
               name="cargo-lambda-watch", tmp_path=tmp_path)
    wait_for_port(port, api.proc, timeout=120, log=api.log)
    procs = []
    for name in RUN:
        # The emulator routes /.rt/<name>/... to the function <name>'s invocations.
        fn_env = {**env, "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt/{name}"}
        procs.append(Proc([*qemu(), bootstrap(name)], env=fn_env, name=name, tmp_path=tmp_path))
    yield port, sim_base, Functions(procs, ssm_params)
    for p in procs:
        p.stop()
    api.stop()
    sim_tls.close()
    moto_tls.close()


def header(resp: dict, name: str):
    """A response header from an API Gateway REST answer (single- or multi-value form)."""
    for key in ("headers", "multiValueHeaders"):
        for k, v in (resp.get(key) or {}).items():
            if k.lower() == name:
                return v[0] if isinstance(v, list) else v
    return None


def invoke(port: int, function: str, event: dict, tmp_path) -> dict:
    path = tmp_path / f"{function}-event.json"
    path.write_text(json.dumps(event))
    out = subprocess.run(["cargo", "lambda", "invoke", function, "--data-file", str(path), "-A", "127.0.0.1",
                          "-P", str(port), "--output-format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def vonage_signature(body: str, secret: str) -> str:
    """`Authorization` as Vonage signs a webhook: HS256 JWT with iat, jti and payload_hash."""
    claims = {"iat": int(time.time()), "jti": "runtime-1", "api_key": "abcd1234",
              "payload_hash": hashlib.sha256(body.encode()).hexdigest()}
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")


def dynamodb_item(moto_url: str, rid: str) -> dict:
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=moto_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return dynamodb.get_item(TableName="guard", Key={"pk": {"S": f"req:{rid}"}})["Item"]


def test_request_then_check_through_the_runtime(emulator, built, tmp_path):
    port, sim_base, proc = emulator
    # CALLER_AUTH=api-key: API Gateway fills the key's id in after checking it; without it the
    # function refuses (a route deployed without the key requirement fails closed).
    resp = invoke(port, "request", json.loads((ROOT / "events" / "request-api-key-missing.json").read_text()), tmp_path)
    assert resp["statusCode"] == 401, resp
    request_event = json.loads((ROOT / "events" / "request-api-key.json").read_text())
    resp = invoke(port, "request", request_event, tmp_path)
    assert resp["statusCode"] == 200, resp
    body = json.loads(resp["body"])
    assert body["status"] == "0"
    rid = body["request_id"]

    # The same backend asking again at once (its answer lost): its own live request back,
    # read from DynamoDB, and nothing sent.
    resp = invoke(port, "request", request_event, tmp_path)
    assert resp["statusCode"] == 200, resp
    assert json.loads(resp["body"])["request_id"] == rid
    # Another end user of the backend (X-End-User-IP): the resend cooldown, kept in DynamoDB,
    # refuses the number for ~60 s.
    other = json.loads(json.dumps(request_event))
    other.setdefault("headers", {})["X-End-User-IP"] = "198.51.100.77"
    other.setdefault("multiValueHeaders", {})["X-End-User-IP"] = ["198.51.100.77"]
    resp = invoke(port, "request", other, tmp_path)
    assert resp["statusCode"] == 429, resp
    assert 50 <= int(header(resp, "retry-after")) <= 60, resp
    # The operator asks why: verify-proxy-admin reads the same table with the same SSM key and
    # names the rule, its end, and the live verification; the number is not in its output.
    admin_env = {**os.environ, "GUARD_TABLE": "guard", "GUARD_HMAC_KEY_PARAM": "/verify-proxy/guard-key",
                 "AWS_ENDPOINT_URL_DYNAMODB": proc.moto, "AWS_ENDPOINT_URL_SSM": proc.moto, "AWS_REGION": "eu-west-1",
                 "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    admin = [str(built / "verify-proxy-admin"), "explain", "0044 7700 900001"]
    out = subprocess.run([*admin, "--json"], env=admin_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    explained = json.loads(out.stdout)
    assert explained["live_until"] and explained["cooldown_until"], explained
    assert [r["rule"] for r in explained["rules"] if r["refuses"]] == ["number_cooldown"], explained
    words = subprocess.run(admin, env=admin_env, capture_output=True, text=True, timeout=60)
    assert "number_cooldown [enforce]" in words.stdout and "7700900001" not in words.stdout, words.stdout
    # unlock lifts it on DynamoDB and keeps an audit item; explain then finds the gate open.
    unlock = [str(built / "verify-proxy-admin"), "unlock", "+447700900001", "--reason", "runtime test", "--by", "ci"]
    out = subprocess.run(unlock, env=admin_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    audit = json.loads(out.stdout)["audit"]
    assert len(json.loads(out.stdout)["cooldowns"]) == 1, out.stdout
    out = subprocess.run([*admin, "--json"], env=admin_env, capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout)["cooldown_until"] is None, out.stdout
    table = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=proc.moto,
                         aws_access_key_id="testing", aws_secret_access_key="testing")
    kept = json.dumps(table.get_item(TableName="guard", Key={"pk": {"S": audit}})["Item"])
    assert '\\"by\\": \\"ci\\"' in kept or '\\"by\\":\\"ci\\"' in kept, kept
    assert "runtime test" in kept and "7700900001" not in kept, kept

    _, outbox, _ = http("GET", f"{sim_base}/_sim/messages?request_id={rid}")
    message = outbox["messages"][-1]
    assert message["text"].startswith("LambdaTest code: "), "brand from the function's environment"

    check_event = json.loads((ROOT / "events" / "check.json").read_text())
    check_event["requestContext"]["identity"]["apiKeyId"] = request_event["requestContext"]["identity"]["apiKeyId"]
    check_event["body"] = json.dumps({"request_id": rid, "code": message["code"]})
    resp = invoke(port, "check", check_event, tmp_path)
    assert resp["statusCode"] == 200, resp
    checked = json.loads(resp["body"])
    assert checked["status"] == "0"

    # The token, verified with the keys the jwks function publishes (same SSM key, other process).
    resp = invoke(port, "jwks", json.loads((ROOT / "events" / "jwks.json").read_text()), tmp_path)
    assert resp["statusCode"] == 200, resp
    keys = jwt.PyJWKSet.from_json(resp["body"])
    kid = jwt.get_unverified_header(checked["verification_token"])["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(checked["verification_token"], key.key, algorithms=["EdDSA"], audience="verify-proxy-backend")
    assert claims["sub"] == "+447700900001" and claims["request_id"] == rid

    # A second check of the finished request maps Verify's 6 to 404 through the same path.
    resp = invoke(port, "check", check_event, tmp_path)
    assert resp["statusCode"] == 404


    # An id this deployment never issued is refused before Vonage is asked.
    before = len(http("GET", f"{sim_base}/_sim/messages")[1]["messages"])
    check_event["body"] = json.dumps({"request_id": "0123456789abcdef0123456789abcdef", "code": "123456"})
    resp = invoke(port, "check", check_event, tmp_path)
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["status"] == "6"
    assert len(http("GET", f"{sim_base}/_sim/messages")[1]["messages"]) == before

    # A status callback as Vonage signs it (HS256 over the body's SHA-256, pyjwt here): the
    # events function checks it with the secret from SSM and records the outcome in DynamoDB
    # (first report wins, so the check's success is not rewritten); forged ones are 401.
    summary = json.dumps({"request_id": rid, "type": "summary", "status": "expired"})
    event = json.loads((ROOT / "events" / "events-summary.json").read_text())
    event["body"] = summary
    event["headers"]["Authorization"] = vonage_signature(summary, "runtime-signature-secret")
    resp = invoke(port, "events", event, tmp_path)
    assert resp["statusCode"] == 200, resp
    item = dynamodb_item(proc.moto, rid)
    assert item["ro"]["S"] == "EXPIRED" and item["rv"]["BOOL"] is True
    forged = dict(event, body=summary.replace("expired", "cancelled"))
    assert invoke(port, "events", forged, tmp_path)["statusCode"] == 401
    event["headers"]["Authorization"] = vonage_signature(summary, "not-the-secret")
    assert invoke(port, "events", event, tmp_path)["statusCode"] == 401

    # The table holds digests: no number, no IP, no code.
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=proc.moto,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    items = json.dumps(dynamodb.scan(TableName="guard")["Items"])
    assert rid in items, "the request is recorded"
    assert "447700900001" not in items and "7700900001" not in items
    log = proc.output()
    assert "sim-secret-1" not in log and "447700900001" not in log
    assert "PRIVATE KEY" not in log and checked["verification_token"] not in log
    # EMF lines from the bootstraps (on by default in Lambda): one start, one verified.
    docs = [json.loads(line[line.index("{"):]) for line in log.splitlines() if '"_aws"' in line]
    assert sum(d.get("Started", 0) for d in docs) == 1, docs
    assert sum(d.get("Verified", 0) for d in docs) == 1
    assert sum(1 for d in docs if d.get("Rule") == "unauthorized") == 1
    assert "guard-key-for-the-runtime-test" not in log
    assert "runtime-signature-secret" not in log
