"""verify-proxy benchmarks: what the proxy adds on top of Verify. Prints, in one run:
  1. added latency per call: p50/p99 of request and check through the local server to the
     simulator, minus the same calls straight to the simulator (wrk, 1 connection, warm);
  2. cold start: a release `bootstrap` under a Runtime API emulator, spawn -> first response,
     with the credentials loaded from SSM (moto) and the simulator upstream;
  3. release binary size per function (arm64, zipped) and peak RSS of one instance under load;
  4. throughput of one local-server instance on this machine (wrk, 32 connections);
  5. the guard's own time per start and per check, with the memory store and DynamoDB (moto);
  6. cold start as Lambda has it: the simulator and moto behind TLS (a test CA the bootstrap
     trusts), the `request` bootstrap and hello-world under a CPU quota of 7 % (128 MB's share)
     and 100 % of a core: init, first answer, warm answer, and the ratios to hello-world;
  7. reading numbers with libphonenumber's metadata: the first parse (the metadata loads at
     start-up), a new country's first number, a warm parse; at 100 % and 7 % of a core;
  8. the guard's cost on the local server: /request with the guard off, monitoring and
     enforcing (limits raised), 64 connections for 15 s each against a fresh simulator and
     server, with the goals of #22: monitor within 10 % of off, peak RSS under 64 MiB.
The guard stays on in 1 and 4, with its limits raised so that wrk's single address is counted
but never refused; cold starts are also given as a ratio to a hello-world bootstrap (bench/hello)
built and measured in the same run.
Run: scripts/bench   (no timed assertions anywhere: these are figures, not tests).
     BENCH_ONLY=tls scripts/bench   runs section 6 alone; BENCH_ONLY=modes section 8."""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from runtime_api import RuntimeApi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from harness import ROOT, TARGET, free_port, http, wait_for_port  # noqa: E402
from tls import CpuQuota, TestCa, TlsFront  # noqa: E402

GUARD_RAISED = ("number_per_hour=1e9,number_per_day=1e9,ip_per_10min=1e9,ip_per_day=1e9,range_unverified_per_day=1e9,"
                "global_starts_per_day=1e9,spend_per_day=1e12,spend_per_month=1e12,ip_wrong_codes_per_hour=1e9,"
                "ip_unverified_per_day=1e9,net_unverified_per_day=1e9,ip_calling_codes=1e9,"
                "returning_starts_per_day=1e9,returning_spend_per_day=1e12,returning_spend_per_month=1e12")
FUNCTIONS = ["request", "check", "cancel", "search", "control", "jwks"]
KEY, SECRET = "benchkey", "bench-secret"
DURATION = os.environ.get("BENCH_SECONDS", "10")
procs = []


def start(args, env=None, name="proc"):
    log = open(Path(tempfile.gettempdir()) / f"bench-{name}.log", "w")
    p = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    procs.append(p)
    return p


def wait_port(port, timeout=60):
    wait_for_port(port, procs[-1] if procs else None, timeout=timeout)


def wrk(url, script, connections=1, threads=1, seconds=DURATION):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"p50": ms("50"), "p99": ms("99"), "rps": rps, "total": total,
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "raw": out}


def lua(body_expr, path, content_type, prefix="0"):
    """A wrk script posting `body_expr`; `n` is a fresh number per call (prefix keeps runs apart)."""
    f = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    f.write(f"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
request = function()
  counter = counter + 1
  local n = string.format("4477{prefix}%d%06d", tid or 0, counter)
  local body = {body_expr}
  return wrk.format("POST", "{path}", {{["Content-Type"] = "{content_type}"}}, body)
end
""")
    f.close()
    return f.name


def vm_hwm_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def tls_cold_starts(rel, sim_port, moto_port, runs=5):
    """Section 6: (share -> figures) for the request bootstrap and hello-world, alternated."""
    ca = TestCa()
    sim_tls, moto_tls = TlsFront(ca, sim_port), TlsFront(ca, moto_port)
    env = {"VERIFY_BASE_URL": f"https://127.0.0.1:{sim_tls.port}", "TLS_EXTRA_ROOTS_FILE": str(ca.ca_file),
           "SSL_CERT_FILE": str(ca.ca_file), "VERIFY_API_KEY_PARAM": "/bench/key", "VERIFY_API_SECRET_PARAM": "/bench/secret",
           "GUARD_TABLE": "bench-guard", "GUARD_HMAC_KEY": "bench-guard-hmac-key", "CALLER_AUTH": "none",
           "GUARD_LIMITS": GUARD_RAISED, "GUARD_MODES": "country_autoblock=off,prefix_autoblock=off",
           "AWS_ENDPOINT_URL_DYNAMODB": f"https://127.0.0.1:{moto_tls.port}",
           "AWS_ENDPOINT_URL_SSM": f"https://127.0.0.1:{moto_tls.port}", "AWS_REGION": "eu-west-1",
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_LAMBDA_FUNCTION_NAME": "request",
           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "RUST_LOG": "warn"}
    event = json.loads((ROOT / "events" / "request.json").read_text())
    counter = [0]

    def once(binary, status, quota, warm_calls):
        api = RuntimeApi()
        t0 = time.perf_counter()
        # BENCH_REQUEST_BINARY: another build of the request bootstrap (an earlier commit's).
        path = os.environ.get("BENCH_REQUEST_BINARY") if binary == "request" else None
        p = subprocess.Popen([path or str(rel / binary)], env={**os.environ, **env, "AWS_LAMBDA_RUNTIME_API": api.address},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=quota.preexec)
        warm = []
        try:
            for i in range(1 + warm_calls):
                counter[0] += 1
                body = json.dumps({"number": f"+4478009{counter[0]:05d}"})
                t = time.perf_counter()
                kind, answer, at = api.invoke({**event, "body": body}, timeout=60)
                assert kind == "response" and answer["statusCode"] == status, answer
                if i == 0:
                    first = (at - t0) * 1000
                else:
                    warm.append((at - t) * 1000)
        finally:
            p.kill()
            p.wait()
            api.close()
        return (api.first_next_at - t0) * 1000, first, statistics.median(warm) if warm else 0.0

    out = {}
    for share in (7, 100):
        quota = CpuQuota(share)
        try:
            rows = {"request": [], "hello": []}
            for _ in range(runs):  # alternated, so both see the same machine
                rows["request"].append(once("request", 200, quota, 5))
                rows["hello"].append(once("hello", 200, quota, 5))
        finally:
            quota.close()
        out[share] = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in rows.items()}
    sim_tls.close()
    moto_tls.close()
    return out


def print_tls(tls):
    print("6. cold start over TLS (simulator and moto behind a test CA), medians of 5 (ms)")
    print("   CPU share   bootstrap   init   first answer   warm answer")
    for share, rows in tls.items():
        for name, (init, first, warm) in rows.items():
            print(f"   {share:3d} %       {name:9}  {init:6.1f}   {first:9.1f}     {warm:9.1f}")
        r, h = rows["request"], rows["hello"]
        goal = 1.5 * h[1] + r[2]
        print(f"   {share:3d} %       ratios: init {r[0] / h[0]:.2f}x, first answer {r[1] / h[1]:.2f}x hello-world; "
              f"goal first <= 1.5 x hello + one warm answer = {goal:.1f}: {'met' if r[1] <= goal else 'MISSED'}")


def guard_modes(rel, seconds=15, connections=64):
    """Section 8: one fresh simulator (no limits, no ticker) and local server per mode, so each
    run starts from an empty store; wrk's one address, so enforce runs with raised limits."""
    modes = [("off", {"GUARD_MODES": "*=off"}),
             ("monitor", {"GUARD_MODES": "*=monitor"}),
             ("enforce", {"GUARD_LIMITS": GUARD_RAISED, "GUARD_MODES": "country_autoblock=off,prefix_autoblock=off"})]
    out = {}
    for name, env in modes:
        sim_port, port = free_port(), free_port()
        sim = start([str(rel / "verify-sim"), "--listen", f"127.0.0.1:{sim_port}", "--account", f"{KEY}:{SECRET}",
                     "--no-ticker", "--no-limits"], name=f"sim-{name}")
        wait_port(sim_port)
        proxy = start([str(rel / "verify-proxy-local")], name=f"local-{name}", env={
            "LISTEN": f"127.0.0.1:{port}", "VERIFY_API_KEY": KEY, "VERIFY_API_SECRET": SECRET,
            "VERIFY_BASE_URL": f"http://127.0.0.1:{sim_port}", "RUST_LOG": "warn", **env})
        wait_port(port)
        script = lua('\'{"number":"+\' .. n .. \'"}\'', "/request", "application/json", "4")
        r = wrk(f"http://127.0.0.1:{port}", script, connections, 2, seconds)
        out[name] = {"rps": r["rps"], "p99": r["p99"], "starts": r["total"], "rss": vm_hwm_kb(proxy.pid)}
        for p in (proxy, sim):
            p.kill()
            p.wait()
    return out


def print_modes(modes):
    print("8. /request on the local server by guard mode (wrk, 2 threads, 64 connections, 15 s; fresh store each)")
    print("   mode       req/s     p99 ms   starts    peak RSS MiB")
    for name, r in modes.items():
        print(f"   {name:8s} {r['rps']:8.0f} {r['p99']:9.2f} {r['starts']:8d} {r['rss'] / 1024:10.1f}")
    ratio = modes["monitor"]["rps"] / modes["off"]["rps"]
    worst = max(r["rss"] for r in modes.values()) / 1024
    print(f"   goal: monitor within 10 % of off: {100 * (1 - ratio):+.1f} % ({'met' if ratio >= 0.9 else 'not met'})")
    print(f"   goal: peak RSS under 64 MiB: {worst:.1f} MiB ({'met' if worst < 64 else 'not met'})")


def bench_setup(rel):
    """The simulator (no ticker) and moto with the benchmark's SSM parameters and guard table."""
    sim_port = free_port()
    start([str(rel / "verify-sim"), "--listen", f"127.0.0.1:{sim_port}", "--account", f"{KEY}:{SECRET}", "--no-ticker"], name="sim")
    wait_port(sim_port)
    moto_port = free_port()
    start(["moto_server", "-H", "127.0.0.1", "-p", str(moto_port)], name="moto")
    wait_port(moto_port)
    import boto3
    ssm = boto3.client("ssm", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{moto_port}",
                       aws_access_key_id="x", aws_secret_access_key="x")
    ssm.put_parameter(Name="/bench/key", Value=KEY, Type="String", Overwrite=True)
    ssm.put_parameter(Name="/bench/secret", Value=SECRET, Type="SecureString", Overwrite=True)
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{moto_port}",
                            aws_access_key_id="x", aws_secret_access_key="x")
    dynamodb.create_table(TableName="bench-guard", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return sim_port, moto_port


def main():
    print("building release binaries (host) and arm64 Lambda bootstraps ...", flush=True)
    if os.environ.get("BENCH_ONLY") == "modes":
        subprocess.run(["cargo", "build", "--release", "-p", "verify-sim", "-p", "local"], cwd=ROOT, check=True)
        print_modes(guard_modes(TARGET / "release"))
        return
    if os.environ.get("BENCH_ONLY") == "tls":
        subprocess.run(["cargo", "build", "--release", "-p", "verify-sim", "-p", "hello", "-p", "request"], cwd=ROOT,
                       check=True)
        sim_port, moto_port = bench_setup(TARGET / "release")
        print_tls(tls_cold_starts(TARGET / "release", sim_port, moto_port))
        return
    subprocess.run(["cargo", "build", "--release", "-p", "verify-sim", "-p", "local", "-p", "hello",
                    *sum((["-p", f] for f in FUNCTIONS), [])], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "-p", "shared", "--example", "guard_latency", "--example",
                    "number_parse"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "lambda", "build", "--release", "--arm64", "-p", "hello",
                    *sum((["-p", f] for f in FUNCTIONS), [])], cwd=ROOT, check=True)
    rel = TARGET / "release"

    sim_port, moto_port = bench_setup(rel)
    proxy_port = free_port()
    proxy = start([str(rel / "verify-proxy-local")], name="local", env={
        "LISTEN": f"127.0.0.1:{proxy_port}", "VERIFY_API_KEY": KEY, "VERIFY_API_SECRET": SECRET,
        "VERIFY_BASE_URL": f"http://127.0.0.1:{sim_port}", "RUST_LOG": "warn",
        "GUARD_LIMITS": GUARD_RAISED, "GUARD_MODES": "country_autoblock=off,prefix_autoblock=off"})
    wait_port(proxy_port)
    sim, prx = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{proxy_port}"
    unknown = "0123456789abcdef0123456789abcdef"
    # /check through the proxy needs an id the proxy issued (the guard refuses others without
    # asking upstream); wrong codes end it upstream, so every later check is a full round trip
    # answered 404, like the unknown id sent straight to the simulator.
    _, started, _ = http("POST", f"{prx}/request", {"number": "+447800999999"})
    known = started["request_id"]

    print(f"1. added latency (wrk, 1 connection, {DURATION}s each) ...", flush=True)
    direct_req = wrk(sim, lua(f'"api_key={KEY}&api_secret={SECRET}&brand=Bench&number=" .. n', "/verify/json",
                              "application/x-www-form-urlencoded", "1"))
    proxy_req = wrk(prx, lua('\'{"number":"+\' .. n .. \'"}\'', "/request", "application/json", "2"))
    direct_chk = wrk(sim, lua(f'"api_key={KEY}&api_secret={SECRET}&code=1234&request_id={unknown}"', "/verify/check/json",
                              "application/x-www-form-urlencoded"))
    proxy_chk = wrk(prx, lua(f'\'{{"request_id":"{known}","code":"1234"}}\'', "/check", "application/json"))

    print(f"4. throughput (wrk, 2 threads, 32 connections, {DURATION}s) ...", flush=True)
    thr_chk = wrk(prx, lua(f'\'{{"request_id":"{known}","code":"1234"}}\'', "/check", "application/json"), 32, 2)
    thr_req = wrk(prx, lua('\'{"number":"+\' .. n .. \'"}\'', "/request", "application/json", "3"), 32, 2)
    proxy_rss = vm_hwm_kb(proxy.pid)

    print("2. cold start (release bootstrap, Runtime API emulator, SSM and DynamoDB on moto) ...", flush=True)
    event = json.loads((ROOT / "events" / "check.json").read_text())
    # The event's id is not in the table: the answer (404) comes after SSM and a DynamoDB
    # GetItem, without the upstream call.
    fn_env = {"VERIFY_BASE_URL": sim, "VERIFY_API_KEY_PARAM": "/bench/key", "VERIFY_API_SECRET_PARAM": "/bench/secret",
              "GUARD_TABLE": "bench-guard", "GUARD_HMAC_KEY": "bench-guard-hmac-key",
              "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{moto_port}",
              "AWS_ENDPOINT_URL_SSM": f"http://127.0.0.1:{moto_port}", "AWS_REGION": "eu-west-1",
              "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_LAMBDA_FUNCTION_NAME": "check",
              "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
              "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_LAMBDA_LOG_GROUP_NAME": "bench", "RUST_LOG": "warn"}
    def cold_starts(binary, status):
        """(init ms, first response ms) of 10 fresh instances, alternated by the caller."""
        api = RuntimeApi()
        t0 = time.perf_counter()
        p = subprocess.Popen([str(rel / binary)], env={**os.environ, **fn_env, "AWS_LAMBDA_RUNTIME_API": api.address},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kind, body, at = api.invoke(event)
        assert kind == "response" and body["statusCode"] == status, body
        p.kill()
        p.wait()
        api.close()
        return (api.first_next_at - t0) * 1000, (at - t0) * 1000

    inits, firsts, hello_inits, hello_firsts = [], [], [], []
    for _ in range(10):  # alternated, so both see the same machine load
        i, f = cold_starts("check", 404)
        inits.append(i)
        firsts.append(f)
        i, f = cold_starts("hello", 200)
        hello_inits.append(i)
        hello_firsts.append(f)

    print("5. the guard's own time per call ...", flush=True)
    guard_out = subprocess.run([str(rel / "examples" / "guard_latency"), "2000"], capture_output=True, text=True, check=True,
                               env={**os.environ, "GUARD_TABLE": "bench-guard", "AWS_REGION": "eu-west-1",
                                    "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{moto_port}",
                                    "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}).stdout

    print("6. cold start over TLS under a CPU quota ...", flush=True)
    tls = tls_cold_starts(rel, sim_port, moto_port)

    print("7. reading numbers ...", flush=True)
    numbers = {}
    for share in (100, 7):
        quota = CpuQuota(share)
        try:
            numbers[share] = subprocess.run([str(rel / "examples" / "number_parse")], capture_output=True, text=True,
                                            check=True, preexec_fn=quota.preexec).stdout
        finally:
            quota.close()

    print("8. /request by guard mode ...", flush=True)
    modes = guard_modes(rel)

    print("3. peak RSS of one instance over 2000 invocations ...", flush=True)
    api = RuntimeApi()
    p = subprocess.Popen([str(rel / "check")], env={**os.environ, **fn_env, "AWS_LAMBDA_RUNTIME_API": api.address},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warm = []
    for _ in range(2000):
        t = time.perf_counter()
        kind, body, at = api.invoke(event)
        warm.append((at - t) * 1000)
    instance_rss = vm_hwm_kb(p.pid)
    p.kill()
    p.wait()
    api.close()
    warm.sort()

    sizes = {}
    for f in [*FUNCTIONS, "hello"]:
        binary = TARGET / "lambda" / f / "bootstrap"
        zpath = Path(tempfile.gettempdir()) / f"bench-{f}.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.write(binary, "bootstrap")
        sizes[f] = (binary.stat().st_size, zpath.stat().st_size)

    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"\n=== verify-proxy benchmark ({cpu} cores, {time.strftime('%Y-%m-%d')}) ===")
    print("1. added latency, warm, 1 connection (ms)      p50      p99")
    for name, d, x in [("request", direct_req, proxy_req), ("check", direct_chk, proxy_chk)]:
        print(f"   {name:8} straight to simulator       {d['p50']:7.3f}  {d['p99']:7.3f}")
        print(f"   {name:8} through the proxy           {x['p50']:7.3f}  {x['p99']:7.3f}")
        print(f"   {name:8} added by the proxy          {x['p50'] - d['p50']:7.3f}  {x['p99'] - d['p99']:7.3f}")
    print("2. cold start of a release bootstrap (ms)       median   min    max")
    print(f"   spawn -> runtime ready (init)               {statistics.median(inits):7.2f} {min(inits):6.2f} {max(inits):6.2f}")
    print(f"   spawn -> first response (SSM + DynamoDB)    {statistics.median(firsts):7.2f} {min(firsts):6.2f} {max(firsts):6.2f}")
    print(f"   hello-world bootstrap: init                 {statistics.median(hello_inits):7.2f} {min(hello_inits):6.2f} {max(hello_inits):6.2f}")
    print(f"   hello-world bootstrap: first response       {statistics.median(hello_firsts):7.2f} {min(hello_firsts):6.2f} {max(hello_firsts):6.2f}")
    print(f"   ratio check / hello (medians): init {statistics.median(inits) / statistics.median(hello_inits):.2f}x, "
          f"first response {statistics.median(firsts) / statistics.median(hello_firsts):.2f}x")
    print(f"   warm invocation via the emulator            p50 {warm[len(warm) // 2]:.3f}  p99 {warm[int(len(warm) * 0.99)]:.3f}")
    print("3. size and memory")
    for f, (raw, z) in sizes.items():
        goal = "" if f == "hello" else ("  (goal <= 4 MB: met)" if z <= 4e6 else "  (goal <= 4 MB: MISSED)")
        print(f"   {f:8} arm64 bootstrap {raw / 1e6:6.2f} MB, zipped {z / 1e6:5.2f} MB{goal}")
    print(f"   peak RSS of one function instance after 2000 invocations: {instance_rss / 1024:.1f} MiB (Lambda: 128 MB)")
    print(f"   peak RSS of the local server (5 handlers) under load:     {proxy_rss / 1024:.1f} MiB")
    print(f"4. throughput of one local-server instance, simulator on the same {cpu} cores")
    print(f"   /check (full round trip to the simulator)  {thr_chk['rps']:9.0f} req/s  (p99 {thr_chk['p99']:.2f} ms)")
    print(f"   /request (starts verifications)            {thr_req['rps']:9.0f} req/s  (p99 {thr_req['p99']:.2f} ms)")
    print("5. the guard")
    print(guard_out.rstrip())
    print_tls(tls)
    print("7. numbers (libphonenumber metadata, rlibphonenumber with regex-lite)")
    for share, out in numbers.items():
        for line in out.strip().splitlines():
            print(f"   {share:3d} % CPU  {line}")
    print_modes(modes)
    statuses = {"proxy /request": proxy_req, "throughput /request": thr_req}
    for name, r in statuses.items():
        if r["non2xx"]:
            print(f"   note: {name} had {r['non2xx']} non-2xx answers (expected none)")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in procs:
            p.kill()
