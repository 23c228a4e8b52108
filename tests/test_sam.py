"""The SAM template: cfn-lint and checkov clean, what each CallerAuth choice deploys (after SAM's
own transform), the operator's alarms, and `sam build` producing an arm64 `bootstrap` per
function (through cargo lambda, no Docker)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cfn import deployed, template
from harness import ROOT

FUNCTIONS = ["Request", "Check", "Cancel", "Search", "Control", "Jwks", "Events"]
VERIFY_PATHS = ["/request", "/check", "/cancel", "/search", "/control"]
# Verify v2 deploys every function; v1 sends no callbacks, so no events function or route.
V2 = {"AllowAllDestinations": "true", "VerifyApi": "v2"}


def test_template_validates_with_lint():
    out = subprocess.run(["sam", "validate", "--lint", "--region", "eu-west-1"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid SAM Template" in out.stdout + out.stderr


def checkov_bin():
    venv = Path(os.environ.get("CHECKOV_VENV", Path.home() / ".cache/verify-proxy/checkov"))
    return str(venv / "bin" / "checkov") if (venv / "bin" / "checkov").exists() else shutil.which("checkov")


def test_checkov_has_no_unaddressed_finding():
    """Every skipped check carries its reason in the template (Metadata.checkov.skip[].comment)."""
    out = subprocess.run(
        [checkov_bin(), "-f", "template.yaml", "--framework", "cloudformation", "-o", "json", "--skip-download"],
        cwd=ROOT, capture_output=True, text=True,
    )
    report = json.loads(out.stdout)
    failed = report["results"]["failed_checks"] if isinstance(report, dict) else []
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    skipped = report["results"]["skipped_checks"]
    assert skipped, "checkov read the skips"
    assert all(len(c.get("check_result", {}).get("suppress_comment", "")) > 20 for c in skipped)


def methods(resources):
    body = resources["Api"]["Properties"]["Body"]
    return {(path, verb): op for path, ops in body["paths"].items() for verb, op in ops.items()}


@pytest.mark.parametrize("mode", ["api-key", "iam", "app-check", "none"])
def test_each_caller_auth_mode_deploys_its_gate(mode):
    params = {"CallerAuth": mode, **V2}
    if mode == "app-check":
        params["AppCheckProjectNumber"] = "123456"
    r = deployed(**params)
    ops = methods(r)
    expected = {"api-key": [{"api_key": []}], "iam": [{"sigv4": []}]}.get(mode, [])
    for path in VERIFY_PATHS:
        assert ops[(path, "post")].get("security", []) == expected, (mode, path)
        # Preflights carry no credentials in browsers: never gated.
        assert ops[(path, "options")].get("security", []) == [], (mode, path)
    assert ops[("/.well-known/jwks.json", "get")].get("security", []) == []
    has_plan = {"UsagePlan", "CallerApiKey", "CallerApiKeyInPlan"} <= set(r)
    assert has_plan == (mode == "api-key")
    if mode == "api-key":
        plan = r["UsagePlan"]["Properties"]
        assert plan["Quota"]["Period"] == "DAY" and int(plan["Quota"]["Limit"]) > 0
        assert int(plan["Throttle"]["RateLimit"]) > 0
    for fn in FUNCTIONS:
        assert r[f"{fn}Function"]["Properties"]["Environment"]["Variables"]["CALLER_AUTH"] == mode


def test_wafs_rate_rule_is_scoped_to_post_request_and_logs_redact_credentials():
    r = deployed(AllowAllDestinations="true")
    rules = {x["Name"]: x for x in r["WebAcl"]["Properties"]["Rules"]}
    start = rules["start-rate-per-ip"]["Statement"]["RateBasedStatement"]
    assert start["EvaluationWindowSec"] == 60 and start["AggregateKeyType"] == "IP"
    scope = [s["ByteMatchStatement"] for s in start["ScopeDownStatement"]["AndStatement"]["Statements"]]
    assert {(s["SearchString"], s["PositionalConstraint"]) for s in scope} == {("POST", "EXACTLY"), ("/request", "ENDS_WITH")}
    groups = {x["Statement"]["ManagedRuleGroupStatement"]["Name"] for x in rules.values() if "ManagedRuleGroupStatement" in x["Statement"]}
    assert groups == {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList"}
    redacted = {f["SingleHeader"]["Name"] for f in r["WafLogging"]["Properties"]["RedactedFields"]}
    assert {"x-api-key", "authorization", "x-firebase-appcheck"} <= redacted
    assert "WebAcl" not in deployed(AllowAllDestinations="true", Waf="off")


def test_functions_log_only_to_their_own_groups_with_reserved_concurrency():
    r = deployed(**V2)
    for role in ["FunctionRole", "CheckRole", "JwksRole", "EventsRole"]:
        for st in statements(r, role):
            if any(a.startswith("logs:") for a in st["Action"] if isinstance(st["Action"], list)):
                resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                assert all(x == {"Fn::GetAtt": [x["Fn::GetAtt"][0], "Arn"]} for x in resources), resources
                assert all(x["Fn::GetAtt"][0].endswith("Logs") for x in resources)
    for fn in FUNCTIONS:
        props = r[f"{fn}Function"]["Properties"]
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": f"{fn}Logs"}
        assert int(props["ReservedConcurrentExecutions"]) == 10
    assert "ReservedConcurrentExecutions" not in deployed(AllowAllDestinations="true", ReservedConcurrency="0")["RequestFunction"]["Properties"]
    fmt = r["Apiv1Stage"]["Properties"]["AccessLogSetting"]["Format"]
    for field in ["$context.identity.sourceIp", "$context.requestId", "$context.resourcePath", "$context.status", "$context.responseLatency"]:
        assert field in fmt
    json.loads(fmt.replace("\n", ""))  # one JSON object per line


def test_verify_api_v2_deploys_its_settings_and_the_signed_events_route():
    v1 = deployed(AllowAllDestinations="true")
    env1 = v1["RequestFunction"]["Properties"]["Environment"]["Variables"]
    assert env1["VERIFY_API"] == "v1"
    # v2-only settings are absent with v1 (the functions refuse them rather than ignore them).
    assert not {"VERIFY_CHANNELS", "VERIFY_APPLICATION_ID", "VERIFY_CHANNEL_TIMEOUT"} & set(env1)
    # No callbacks with v1: no events function, role, log group, permission or route.
    assert not {"EventsFunction", "EventsRole", "EventsLogs", "EventsInvoke"} & set(v1)
    assert "/events" not in v1["Api"]["Properties"]["Body"]["paths"]
    v2 = deployed(AllowAllDestinations="true", VerifyApi="v2", Channels="whatsapp,sms",
                  WhatsappFrom="447700900000", ApplicationId="0f4f3b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b")
    env2 = v2["RequestFunction"]["Properties"]["Environment"]["Variables"]
    assert (env2["VERIFY_API"], env2["VERIFY_CHANNELS"], env2["VERIFY_WHATSAPP_FROM"]) == ("v2", "whatsapp,sms", "447700900000")
    assert env2["VERIFY_APPLICATION_ID"].startswith("0f4f3b6a")
    assert env2["VERIFY_PRIVATE_KEY_PARAM"] == "/verify-proxy/private-key"
    events_env = v2["EventsFunction"]["Properties"]["Environment"]["Variables"]
    assert events_env["VERIFY_SIGNATURE_SECRET_PARAM"] == "/verify-proxy/signature-secret"
    # /events carries no caller gate (Vonage has no API key of ours): the signature is its gate.
    paths = v2["Api"]["Properties"]["Body"]["paths"]
    assert "security" not in paths["/events"]["post"]
    gated = deployed(AllowAllDestinations="true", VerifyApi="v2", CallerAuth="api-key")
    assert "security" not in gated["Api"]["Properties"]["Body"]["paths"]["/events"]["post"]
    # The events role reads no Vonage credentials.
    resources = json.dumps(v2["EventsRole"]["Properties"]["Policies"])
    assert "ApiSecretParameterName" not in resources and "PrivateKeyParameterName" not in resources


def test_alarms_reach_the_topic_and_the_dashboard_shows_them():
    r = deployed(AllowAllDestinations="true", AlarmEmail="ops@example.com")
    alarms = {k: v["Properties"] for k, v in r.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) == {"SpendAlarm", "StartSpikeAlarm", "ConversionAlarm", "AutoBlockAlarm", "StoreErrorAlarm", "UpstreamStatus7Alarm"}
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarms["SpendAlarm"]["Threshold"] == 80 and alarms["SpendAlarm"]["MetricName"] == "SpendCapUsedPercent"
    assert alarms["UpstreamStatus7Alarm"]["Dimensions"] == [{"Name": "UpstreamStatus", "Value": "7"}]
    assert r["AlarmEmailSubscription"]["Properties"]["Endpoint"] == "ops@example.com"
    assert "AlarmEmailSubscription" not in deployed(AllowAllDestinations="true")
    # The metric names the alarms use are ones the functions emit (shared/src/metrics.rs).
    emitted = (ROOT / "shared/src/metrics.rs").read_text()
    for name in ["Started", "Verified", "Refused", "StoreErrors", "UpstreamCalls", "SpendCapUsedPercent", "Delivered", "WrongCode", "UpstreamLatency"]:
        assert f'"{name}"' in emitted, name
    body = r["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    for name in ["Started", "Verified", "Refused", "SpendCapUsedPercent", "UpstreamCalls", "StoreErrors"]:
        assert name in body


def test_sam_build_makes_arm64_bootstraps():
    out = subprocess.run(["sam", "build", "--beta-features"], cwd=ROOT, capture_output=True, text=True, timeout=3000)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for name in FUNCTIONS:
        binary = ROOT / ".aws-sam" / "build" / f"{name}Function" / "bootstrap"
        header = binary.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", name
        assert int.from_bytes(header[18:20], "little") == 0xB7, f"{name}: not an aarch64 binary"


def test_each_role_may_read_with_one_get_parameters_exactly_the_secrets_its_function_fetches():
    # The functions read every SSM secret in one GetParameters at start-up (shared/src/deps):
    # GetParameter alone would be AccessDenied there. The events function never fetches
    # Vonage's credentials (Deps::from_env_for(.., Uses::Callbacks)).
    r = deployed(**V2)

    def ssm(role):
        out = {}
        for st in statements(r, role):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            for a in actions:
                if a.startswith("ssm:"):
                    res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                    out.setdefault(a, set()).update(x["Fn::Sub"].rsplit("${", 1)[1].rstrip("}") for x in res)
        return out

    vonage = {"ApiKeyParameterName", "ApiSecretParameterName", "PrivateKeyParameterName", "GuardKeyParameterName"}
    # Only check signs verification tokens and only jwks publishes their key: the others
    # cannot read the signing key.
    assert ssm("FunctionRole") == {"ssm:GetParameters": vonage}
    assert ssm("CheckRole") == {"ssm:GetParameters": vonage | {"TokenKeyParameterName"}}
    assert ssm("JwksRole") == {"ssm:GetParameters": {"TokenKeyParameterName"}}
    events = ssm("EventsRole")
    assert set(events) == {"ssm:GetParameters"}
    assert events["ssm:GetParameters"] == {"SignatureSecretParameterName", "GuardKeyParameterName"}
    roles = {fn: r[f"{fn}Function"]["Properties"]["Role"]["Fn::GetAtt"][0] for fn in FUNCTIONS}
    assert roles == {"Request": "FunctionRole", "Check": "CheckRole", "Cancel": "FunctionRole",
                     "Search": "FunctionRole", "Control": "FunctionRole", "Jwks": "JwksRole", "Events": "EventsRole"}
    checked = [f for f in FUNCTIONS if "TOKEN_KEY_PARAM" in r[f"{f}Function"]["Properties"]["Environment"]["Variables"]]
    assert sorted(checked) == ["Check", "Jwks"], "only they fetch it"


def test_each_role_may_decrypt_exactly_the_parameters_it_reads():
    # The SSM key's ARN is not known to the template (AWS-managed or the operator's), so the
    # scope is SSM's encryption context: the parameter being decrypted, through SSM only.
    r = deployed(**V2)
    for role in ["FunctionRole", "CheckRole", "JwksRole", "EventsRole"]:
        read, decrypt = set(), set()
        for st in statements(r, role):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            if "ssm:GetParameters" in actions:
                read |= {x["Fn::Sub"] for x in res}
            if "kms:Decrypt" in actions:
                cond = st["Condition"]["StringEquals"]
                assert cond["kms:ViaService"] == {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}, role
                decrypt |= {x["Fn::Sub"] for x in cond["kms:EncryptionContext:PARAMETER_ARN"]}
        assert read and decrypt == read, role


def test_the_admin_policy_grants_what_the_admin_tool_uses_and_no_function_has_it():
    r = deployed(**V2)
    st = r["AdminPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in st for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "kms:Decrypt",
                       "ssm:GetParameters"]
    assert "batch_get_item()" in (ROOT / "shared/src/guard/store/dynamo.rs").read_text()
    decrypt = next(s for s in st if s["Action"] == "kms:Decrypt")
    assert "dynamodb:DeleteItem" not in json.dumps(st), "unlock never deletes"
    assert [x["Fn::Sub"] for x in decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"]] == \
        ["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${GuardKeyParameterName}"]
    for role in ["FunctionRole", "CheckRole", "JwksRole", "EventsRole"]:
        assert {"Ref": "AdminPolicy"} not in r[role]["Properties"].get("ManagedPolicyArns", [])
    outputs = template()["Outputs"]
    assert outputs["AdminPolicyArn"]["Value"] == {"Ref": "AdminPolicy"}


def statements(r, role):
    """Every policy statement of a role: inline, and of the managed policies it attaches."""
    props = r[role]["Properties"]
    for policy in props.get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]
    for arn in props.get("ManagedPolicyArns", []):
        yield from r[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]


def test_the_guard_roles_may_make_exactly_the_dynamodb_calls_its_store_makes():
    # A call the store makes but the role lacks is AccessDenied only once deployed (moto does
    # not check IAM): the actions are read off the DynamoDB adapter's own client calls.
    import re
    source = (ROOT / "shared/src/guard/store/dynamo.rs").read_text()
    used = {"dynamodb:" + "".join(w.title() for w in m.split("_"))
            for m in set(re.findall(r"\.(get_item|put_item|update_item|batch_get_item|delete_item|query|scan)\(\)", source))}
    assert "dynamodb:BatchGetItem" in used
    r = deployed(**V2)

    def dynamo(role):
        out = set()
        for st in statements(r, role):
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            out |= {a for a in actions if a.startswith("dynamodb:")}
        return out

    assert dynamo("FunctionRole") == used
    assert dynamo("CheckRole") == used
    # Events only records outcomes and credits successes: no batch read.
    assert dynamo("EventsRole") == used - {"dynamodb:BatchGetItem"}
    assert dynamo("JwksRole") == set()


@pytest.mark.parametrize("cors", ["", "https://app.example"])
def test_api_gateways_own_answers_are_in_the_functions_error_format(cors):
    # Before: a missing key, throttling or API Gateway's own 5xx answered {"message": ...}
    # without no-store, nosniff or the CORS origin a browser needs to read the refusal.
    r = deployed(AllowAllDestinations="true", CorsAllowOrigin=cors)
    responses = r["Api"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    want = {"DEFAULT_4XX": "3", "DEFAULT_5XX": "5", "UNAUTHORIZED": "4", "ACCESS_DENIED": "4",
            "INVALID_API_KEY": "4", "MISSING_AUTHENTICATION_TOKEN": "4", "THROTTLED": "1", "QUOTA_EXCEEDED": "1"}
    assert set(responses) == set(want)
    for kind, status in want.items():
        g = responses[kind]
        # What API Gateway would send, with its one substitution made.
        body = json.loads(g["responseTemplates"]["application/json"]
                          .replace("$context.error.messageString", '"Forbidden"'))
        assert body["status"] == status and body["error_text"], kind
        headers = g["responseParameters"]
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'", kind
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'", kind
        origin = headers.get("gatewayresponse.header.Access-Control-Allow-Origin")
        if isinstance(origin, dict):  # CloudFormation substitutes the parameter
            origin = origin["Fn::Sub"].replace("${CorsAllowOrigin}", cors)
        assert origin == (f"'{cors}'" if cors else None), (kind, origin)
