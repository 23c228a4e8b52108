"""Who may call, the verification token and what the operator sees, on the real local server:
App Check tokens signed here (RS256, keys made by the test and served on loopback); the token a
successful check answers, verified the way a backend would (PyJWT against the server's JWKS); and
the log and EMF metric lines, parsed from the server's output and checked against what the test
did."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient

from harness import Proc, free_port, http, wait_for_port

PROJECT = "123456"
ISSUER = f"https://firebaseappcheck.googleapis.com/{PROJECT}"
AUDIENCE = f"projects/{PROJECT}"


class Keys:
    """An RSA key like App Check's, and its JWKS."""

    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}

    def token(self, exp_in=3600, aud=AUDIENCE, iss=ISSUER, kid=None):
        now = int(time.time())
        claims = {"sub": "1:123456:android:abc", "aud": [aud], "iss": iss, "iat": now, "exp": now + exp_in}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture
def jwks():
    keys = Keys("appcheck-1")
    body = json.dumps({"keys": [keys.jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks", keys
    server.shutdown()


def local(built, tmp_path, name, **env):
    port = free_port()
    p = Proc([str(built / "verify-proxy-local")],
             env={"LISTEN": f"127.0.0.1:{port}", "SIM_SEED": "5", "LOCAL_STATE_DIR": str(tmp_path / "state"),
                  "METRICS": "emf", **env},
             name=name, tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    return f"http://127.0.0.1:{port}", p


def code_for(base, request_id):
    _, outbox, _ = http("GET", f"{base}/_sim/messages")
    return [m for m in outbox["messages"] if m["request_id"] == request_id][-1]["code"]


def test_app_check_tokens_decide_who_may_start(built, tmp_path, jwks):
    url, keys = jwks
    base, p = local(built, tmp_path, "local-app-check", CALLER_AUTH="app-check",
                    APP_CHECK_PROJECT_NUMBER=PROJECT, APP_CHECK_JWKS_URL=url)
    try:
        def start(number, token=None):
            headers = {"x-firebase-appcheck": token} if token else {}
            return http("POST", f"{base}/request", {"number": number}, headers=headers)

        stranger = Keys("appcheck-1")
        refused = {
            "missing": None,
            "expired": keys.token(exp_in=-600),
            "wrong audience": keys.token(aud="projects/999"),
            "wrong issuer": keys.token(iss="https://firebaseappcheck.googleapis.com/999"),
            "other key, same kid": stranger.token(),
        }
        for what, token in refused.items():
            status, body, _ = start("+447700900801", token)
            assert status == 401, (what, body)
            assert body == {"status": "4", "error_text": "Missing or invalid caller credentials"}
        status, body, _ = start("+447700900801", keys.token())
        assert status == 200, body
        _, outbox, _ = http("GET", f"{base}/_sim/messages")
        assert len(outbox["messages"]) == 1, "refused callers sent nothing"
        log = p.output()
        assert "app_check_expired" in log and "app_check_audience" in log and "app_check_signature" in log
    finally:
        p.stop()


def test_a_backend_verifies_the_token_with_the_published_keys(built, tmp_path):
    """The README's backend example: PyJWT, the keys from /.well-known/jwks.json, and the claims."""
    base, p = local(built, tmp_path, "local-token")
    try:
        _, started, _ = http("POST", f"{base}/request", {"number": "+44 7700 900802"})
        request_id = started["request_id"]
        status, checked, _ = http("POST", f"{base}/check", {"request_id": request_id, "code": code_for(base, request_id)})
        assert status == 200 and checked["status"] == "0"
        token = checked["verification_token"]

        # --- what a backend does ---
        key = PyJWKClient(f"{base}/.well-known/jwks.json").get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name],
                            audience="verify-proxy-backend", issuer="verify-proxy")
        # --------------------------
        # A forged header naming ES256 over the EdDSA key is refused as a token error (with
        # algorithms=["EdDSA", "ES256"] PyJWT raised TypeError, which a backend may not catch).
        head, body, sig = token.split(".")
        forged_head = base64.urlsafe_b64encode(json.dumps({"alg": "ES256", "kid": key.key_id, "typ": "JWT"})
                                               .encode()).rstrip(b"=").decode()
        with pytest.raises(jwt.InvalidTokenError):
            jwt.decode(f"{forged_head}.{body}.{sig}", key.key, algorithms=[key.algorithm_name],
                       audience="verify-proxy-backend", issuer="verify-proxy")
        assert claims["sub"] == "+447700900802"
        assert claims["request_id"] == request_id
        assert claims["exp"] - claims["iat"] == 300
        status, _, headers = http("GET", f"{base}/.well-known/jwks.json")
        assert status == 200 and "max-age" in headers["cache-control"]
        with pytest.raises(jwt.InvalidAudienceError):
            jwt.decode(token, key.key, algorithms=["EdDSA"], audience="someone-else", issuer="verify-proxy")
    finally:
        p.stop()
    # The generated key is kept: after a restart, the same keys verify the old token.
    base, p = local(built, tmp_path, "local-token-again")
    try:
        key = PyJWKClient(f"{base}/.well-known/jwks.json").get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=["EdDSA"], audience="verify-proxy-backend")
    finally:
        p.stop()


def emf_docs(output):
    docs = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    for d in docs:
        for directive in d["_aws"]["CloudWatchMetrics"]:
            for m in directive["Metrics"]:
                assert isinstance(d[m["Name"]], (int, float)), d
            for dims in directive["Dimensions"]:
                assert all(isinstance(d[k], str) for k in dims), d
    return docs


def total(docs, metric, **dims):
    return sum(d[metric] for d in docs if metric in d and all(d.get(k) == v for k, v in dims.items()))


def test_logs_and_metrics_tell_the_operator_what_happened(built, tmp_path):
    base, p = local(built, tmp_path, "local-metrics")
    try:
        _, a, _ = http("POST", f"{base}/request", {"number": "+447700900803"})
        # The same caller again (a lost answer, retried): its own id, nothing sent, no new start.
        again, repeat, _ = http("POST", f"{base}/request", {"number": "0044 7700 900803"})
        assert again == 200 and repeat["request_id"] == a["request_id"], repeat
        wrong = "000000" if code_for(base, a["request_id"]) != "000000" else "111111"
        assert http("POST", f"{base}/check", {"request_id": a["request_id"], "code": wrong})[0] == 400
        assert http("POST", f"{base}/check", {"request_id": a["request_id"], "code": code_for(base, a["request_id"])})[0] == 200
        _, b, _ = http("POST", f"{base}/request", {"number": "+33 6 12 34 56 78"})
        assert b["status"] == "0"
        time.sleep(0.3)
        out = p.output()
    finally:
        p.stop()
    docs = emf_docs(out)
    assert total(docs, "Started") == 2
    assert total(docs, "Started", CallingCode="44") == 1 and total(docs, "Started", CallingCode="33") == 1
    assert total(docs, "Delivered") == 2
    assert total(docs, "Refused") == 0
    assert total(docs, "WrongCode", CallingCode="44") == 1
    assert total(docs, "Verified", CallingCode="44") == 1
    assert total(docs, "UpstreamCalls", UpstreamStatus="0") == 3  # two starts, one right check
    assert total(docs, "UpstreamCalls", UpstreamStatus="16") == 1
    spend = [d["SpendMonthToDateEUR"] for d in docs if "SpendMonthToDateEUR" in d]
    assert spend == sorted(spend) and spend[-1] > 0, "the month's spend only grows"
    assert all(0 < d["SpendCapUsedPercent"] < 100 for d in docs if "SpendCapUsedPercent" in d)
    # Invocation lines: source IP, API Gateway's request id, and one number digest for every
    # line about +447700900803, whatever notation the caller used; never the number itself.
    lines = [json.loads(line) for line in out.splitlines() if '"message":"invocation"' in line]
    about_a = [line for line in lines if line.get("calling_code") == "44"]
    assert len(about_a) == 4
    assert len({line["number_hmac"] for line in about_a}) == 1
    # ... and the Verify request id: the start's, the repeat's, both checks' lines link up.
    assert [line.get("verify_request_id") for line in about_a] == [a["request_id"]] * 4
    assert all(line["source_ip"] == "127.0.0.1" and line["apigw_request_id"].startswith("local-") for line in lines)
    assert "447700900803" not in out and "612345678" not in out
