"""The drill end to end: the local server with its defaults (limits on, the simulator inside),
honest users each on an address of their own, attackers rotating others (a lockout of 10
returning users with starts and wrong codes, a bomber, a vandal from 30 addresses kept under the
never-verified budget), and simulated hours
run in seconds by moving the simulator's clock (the guard's moves with it). IPv4 sources are
127.x.y.z on loopback; with --ipv6 (run inside a network namespace of its own, where
2001:db8:77::/48 is routed to lo and non-local binds are allowed) a vandal also rotates 100
/64s of that one /48. The fake-clock drills (`scripts/drill`) run thousands of users over days
on the guard alone; this runs fewer through HTTP, the simulator and the real server.

Run: scripts/drill --e2e (prints the table; --json for tests/test_drill_local.py)."""

import argparse
import heapq
import http.client
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import TARGET, Proc, free_port, to_next_utc_day, wait_for_port  # noqa: E402

MINUTE, HOUR = 60, 3600
HOURS = 6
WRONG = ["000000", "000001", "000002"]


class Server:
    """HTTP to the local server from a chosen source address."""

    def __init__(self, port, ipv6):
        self.port, self.ipv6 = port, ipv6

    def call(self, method, path, body=None, source="127.0.0.1"):
        v6 = ":" in source
        host = "::1" if v6 else "127.0.0.1"
        conn = http.client.HTTPConnection(host, self.port, timeout=30, source_address=(source, 0))
        try:
            conn.request(method, path, None if body is None else json.dumps(body),
                         {"content-type": "application/json"})
            r = conn.getresponse()
            raw = r.read()
            return r.status, json.loads(raw or b"null"), {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()

    def start(self, number, source):
        return self.call("POST", "/request", {"number": number}, source)

    def check(self, rid, code, source):
        return self.call("POST", "/check", {"request_id": rid, "code": code}, source)

    def code(self, rid):
        _, body, _ = self.call("GET", f"/_sim/messages?request_id={rid}")
        messages = body["messages"]
        return messages[-1]["code"] if messages else None

    def advance(self, seconds):
        if seconds > 0:
            status, _, _ = self.call("POST", "/_sim/clock/advance", {"seconds": int(seconds)})
            assert status == 200

    def next_utc_day(self):
        """To a minute past the next UTC midnight: the run's hours then fall in one UTC day
        whatever the wall clock says (a run begun at 19:30 used to cross midnight, and the
        per-day limits counted twice)."""
        status, body, _ = self.call("POST", "/_sim/clock/advance", {"seconds": 0})
        assert status == 200
        self.advance(to_next_utc_day(body["now_ms"], 60))


class User:
    def __init__(self, number, source, finishes, loses_answer, victim=False):
        self.number, self.source = number, source
        self.finishes, self.loses_answer, self.victim = finishes, loses_answer, victim
        self.first_try, self.admitted_at, self.verified = None, None, False
        self.retried = False


class Drill:
    def __init__(self, server, seed, ipv6):
        self.s, self.rng, self.ipv6 = server, random.Random(seed), ipv6
        self.now, self.queue, self.seq = 0, [], 0
        self.attack_starts = Counter()  # admitted attacker starts by kind
        self.bomb_per_hour = Counter()
        self.honest = set()

    def at(self, t, fn, *args):
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, fn, args))

    def mobile(self, country="44"):
        # Blocks libphonenumber calls mobile whatever the other digits: UK 78x, France 61.
        while True:
            n = (f"+4478{self.rng.choice('0145789')}{self.rng.randrange(10**7):07d}" if country == "44"
                 else f"+3361{self.rng.randrange(10**7):07d}")
            if n not in self.honest:
                return n

    # Honest users: start, enter the code a minute later (or never), retry what was refused
    # with Retry-After, retry once a lost answer.
    def honest_start(self, u):
        u.first_try = u.first_try if u.first_try is not None else self.now
        status, body, headers = self.s.start(u.number, u.source)
        if status == 200:
            if u.loses_answer and not u.retried:
                u.retried = True
                self.at(self.now + 30, self.honest_start, u)  # the answer never arrived
                return
            u.admitted_at = u.admitted_at if u.admitted_at is not None else self.now
            if u.finishes:
                self.at(self.now + MINUTE, self.honest_enter, u, body["request_id"])
        elif status in (409, 429) and int(headers.get("retry-after", "0")) <= 2 * HOUR:
            self.at(self.now + max(1, int(headers.get("retry-after", "1"))), self.honest_start, u)

    def honest_enter(self, u, rid):
        status, body, _ = self.s.check(rid, self.s.code(rid), u.source)
        u.verified = status == 200 and body.get("status") == "0"

    # Attackers.
    def lockout(self, victim, k):
        source = f"127.9.{k // 250}.{1 + k % 250}"
        status, body, _ = self.s.start(victim.number, source)
        if status == 200:
            self.attack_starts["lockout"] += 1
            for code in WRONG:
                self.s.check(body["request_id"], code, source)
        if self.now < 3 * HOUR:
            self.at(self.now + 10 * MINUTE, self.lockout, victim, k + 1)

    def bomb(self, number, k):
        status, _, _ = self.s.start(number, f"127.8.{k // 250}.{1 + k % 250}")
        if status == 200:
            self.attack_starts["bombing"] += 1
            self.bomb_per_hour[self.now // HOUR] += 1
        self.at(self.now + MINUTE, self.bomb, number, k + 1)

    def vandal(self, source):
        if self.s.start(self.mobile(self.rng.choice(["44", "33"])), source)[0] == 200:
            self.attack_starts["vandal_ipv6" if ":" in source else "vandal_ipv4"] += 1
        self.at(self.now + 30 * MINUTE, self.vandal, source)

    def run(self):
        s = self.s
        returning = [User(self.mobile(), f"127.1.{i // 250}.{1 + i % 250}", True, i % 10 == 3, victim=i < 10)
                     for i in range(30)]
        new = [User(self.mobile(), f"127.2.{i // 250}.{1 + i % 250}", self.rng.random() < 0.7, i % 10 == 5)
               for i in range(40)]
        self.honest = {u.number for u in returning + new}
        # Day 0: the returning users verify once from their own addresses.
        for u in returning:
            status, body, _ = s.start(u.number, u.source)
            assert status == 200, body
            assert s.check(body["request_id"], s.code(body["request_id"]), u.source)[0] == 200
        s.next_utc_day()
        end = HOURS * HOUR
        for u in returning:
            self.at(self.rng.randrange(end - HOUR), self.honest_start, u)
        for u in new:
            self.at(self.rng.randrange(end - HOUR), self.honest_start, u)
        for k, v in enumerate(returning[:10]):
            self.at(k, self.lockout, v, k * 100)
        self.at(0, self.bomb, self.mobile(), 0)
        for i in range(30):
            self.at(self.rng.randrange(30 * MINUTE), self.vandal, f"127.7.0.{1 + i}")
        if self.ipv6:
            for i in range(100):
                self.at(self.rng.randrange(30 * MINUTE), self.vandal, f"2001:db8:77:{i:x}::1")
        while self.queue and self.queue[0][0] < end:
            t, _, fn, args = heapq.heappop(self.queue)
            s.advance(t - self.now)
            self.now = max(self.now, t)
            fn(*args)
        victims = [u for u in returning if u.victim]

        def share(users):
            return 100.0 * sum(u.verified for u in users) / len(users)

        finishing_new = [u for u in new if u.finishes]
        waits = [u.admitted_at - u.first_try for u in returning + new if u.admitted_at is not None]
        return {
            "hours": HOURS,
            "ipv6": self.ipv6,
            "returning_verified_pct": share(returning),
            "victims_verified_pct": share(victims),
            "new_verified_pct": share(finishing_new),
            "new_users_finishing": len(finishing_new),
            "worst_honest_wait_s": max(waits, default=0),
            "attacker_starts": dict(self.attack_starts),
            "bombing_max_sms_per_hour": max(self.bomb_per_hour.values(), default=0),
        }


def main():
    args = argparse.ArgumentParser()
    args.add_argument("--json", action="store_true")
    args.add_argument("--ipv6", action="store_true", help="inside a namespace with 2001:db8:77::/48 on lo")
    args.add_argument("--seed", type=int, default=7)
    args.add_argument("--binary", default=str(TARGET / "debug" / "verify-proxy-local"))
    a = args.parse_args()
    port = free_port()
    listen = f"[::]:{port}" if a.ipv6 else f"127.0.0.1:{port}"
    server = Proc([a.binary], env={"LISTEN": listen, "SIM_SEED": str(a.seed), "SIM_LIMITS": "off",
                                   "RUST_LOG": "warn"}, name="drill-e2e")
    try:
        wait_for_port(port, server.proc, log=server.log)
        result = Drill(Server(port, a.ipv6), a.seed, a.ipv6).run()
    finally:
        server.stop()
    if a.json:
        print(json.dumps(result))
        return
    print(f"drill end to end: {HOURS} simulated hours on the local server "
          f"({'IPv4 and IPv6' if a.ipv6 else 'IPv4 only'}), seed {a.seed}")
    for k, v in result.items():
        print(f"  {k:28} {v}")


if __name__ == "__main__":
    main()
