"""Attacks on the local server (limits on, defaults), as an abuser would run them, each asserting
the counts the guard allows. The local server takes the caller's address from the TCP peer, as
API Gateway does, so the attacker here rotates real source addresses (127.0.0.2, 127.0.0.3, ...)
and sends forged X-Forwarded-For headers; it changes number notation; and it moves the shared
simulator clock (/_sim/clock/advance moves the guard's clock too) instead of waiting."""

import http.client
import json

import pytest

from harness import Proc, free_port, to_next_utc_day, wait_for_port

TEST_NUMBER, TEST_CODE = "+447700900999", "246810"


@pytest.fixture
def server(built, tmp_path):
    port = free_port()
    # Vonage's own 30 calls/s would blur the counts: these tests measure the guard alone.
    p = Proc([str(built / "verify-proxy-local")],
             env={"LISTEN": f"127.0.0.1:{port}", "SIM_SEED": "21", "TEST_NUMBERS": f"{TEST_NUMBER}:{TEST_CODE}",
                  "SIM_LIMITS": "off"},
             name="local-attack", tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    # Every test begins a minute past a UTC midnight: its simulated hours then fall in one UTC
    # day whatever the wall clock says (begun at 22:00, 16 rounds of ten minutes crossed midnight
    # and "10 a day" let an 11th verification in: CI failure of stop 28).
    _, clock, _ = call(port, "POST", "/_sim/clock/advance", {"seconds": 0})
    advance(port, to_next_utc_day(clock["now_ms"], 60))
    yield port, p
    p.stop()


def call(port, method, path, body=None, source="127.0.0.1", headers=None):
    """One HTTP call from a chosen loopback source address: (status, JSON, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        hdrs = {"content-type": "application/json", **(headers or {})}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=hdrs)
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null"), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def start(port, number, source="127.0.0.1", headers=None):
    return call(port, "POST", "/request", {"number": number}, source, headers)


def advance(port, seconds):
    status, _, _ = call(port, "POST", "/_sim/clock/advance", {"seconds": seconds})
    assert status == 200


def sms_count(port):
    _, body, _ = call(port, "GET", "/_sim/messages")
    return sum(1 for m in body["messages"] if m["channel"] == "sms")


def test_sequential_number_pumping_from_one_address(server):
    port, proc = server
    results = [start(port, f"+44 7700 9{i:05d}", headers={"x-forwarded-for": f"198.51.100.{i}"})
               for i in range(40)]
    statuses = [s for s, _, _ in results]
    # An address whose starts never convert gets 3 a day (more as its users enter codes).
    assert statuses.count(200) == 3, statuses
    refused = [r for r in results if r[0] == 429]
    assert len(refused) == 37, "forged X-Forwarded-For headers do not make new callers"
    for _, body, headers in refused:
        assert body == {"status": "1", "error_text": "Too many attempts. Please try again later."}
        assert int(headers["retry-after"]) > 0
    assert sms_count(port) == 3
    assert "ip_unverified_per_day" in proc.output(), "the rule is in the log, not in the answer"
    # Another caller is not held back by this one's refusals.
    assert start(port, "+447800900001", source="127.0.9.2")[0] == 200


def test_sequential_number_pumping_from_rotating_addresses(server):
    port, _ = server
    statuses = [start(port, f"+4477009{i:05d}", source=f"127.0.{i // 200}.{2 + i % 200}")[0] for i in range(60)]
    # One operator block (the number without its last 4 digits): 20 unverified starts a day.
    assert statuses.count(200) == 20, statuses
    assert statuses.count(429) == 40
    assert sms_count(port) == 20


def test_spraying_one_operator_block_loses_that_block_only(server):
    port, _ = server
    # A new range every start (no range limit is reached), one operator block (+44 7819),
    # rotating addresses: the block closes after 30 unconverted starts; the country stays open.
    statuses = [start(port, f"+44 7819 {i:02d}{i:04d}", source=f"127.0.3.{2 + i}")[0] for i in range(40)]
    assert statuses.count(200) == 30, statuses
    assert statuses.count(429) == 10
    assert start(port, "+44 7800 123456", source="127.0.3.100")[0] == 200


def test_one_number_bombing_from_rotating_addresses_and_notations(server):
    port, _ = server
    notations = ["+447700900123", "0044 (0)7700 900123", "+44 0 7700 900123", "+4407700900123", "(+44) 7700900123"]
    passed = 0
    for minute in range(120):
        for k in range(5):
            status, _, _ = start(port, notations[k], source=f"127.0.1.{2 + (minute * 5 + k) % 250}")
            passed += status == 200
        advance(port, 61)
    # Two hours of 5 attempts a minute from 250 addresses, in any notation: the number's
    # allowance for others than its owner is 5 an hour and 10 a day, and a refusal spends
    # none of it (the victim's own allowance is apart). An open proxy delivered thousands.
    assert 5 <= passed <= 10, passed
    assert sms_count(port) == passed


def test_premium_landline_and_impossible_numbers_are_refused_before_anything_is_counted(server):
    port, _ = server
    me = "127.0.7.2"
    for number, status, verify in [
        ("+44 909 879 0000", 403, "15"),  # premium rate
        ("+44 0 909 879 0000", 403, "15"),  # the same, with the trunk 0 (was another number)
        ("+4409098790000", 403, "15"),
        ("+44 800 123 4567", 403, "15"),  # toll free
        ("+44 20 7946 0000", 403, "15"),  # a landline: workflow 1 sends an SMS first
        ("+44 7819 (0)912345", 400, "3"),  # a (0) inside: refused, not sent elsewhere
        ("+44 (00)7819 912345", 400, "3"),
        ("+44 7700 901000", 400, "3"),  # no such UK mobile
    ]:
        got, body, _ = start(port, number, source=me)
        assert (got, body["status"]) == (status, verify), (number, body)
    assert sms_count(port) == 0
    # None of it counted: the address still has its 3 unconverted starts of the day.
    assert [start(port, f"+44 7819 91234{i}", source=me)[0] for i in range(4)] == [200, 200, 200, 429]


def test_code_guessing_across_restarts_is_bounded_by_the_numbers_deliveries(server):
    port, _ = server
    number = "+447700900555"
    wrong, starts, spent = 0, 0, 0
    for cycle in range(16):
        status, body, _ = start(port, number, source=f"127.0.2.{2 + cycle}")
        if status == 200:
            starts += 1
            rid = body["request_id"]
            _, outbox, _ = call(port, "GET", f"/_sim/messages?request_id={rid}")
            code = outbox["messages"][-1]["code"]
            for guess in ("000000", "111111", "222222", "333333"):
                if guess == code:
                    continue
                status, body, _ = call(port, "POST", "/check", {"request_id": rid, "code": guess},
                                       source=f"127.0.3.{2 + cycle}")
                if status == 410:
                    spent += 1  # this verification took its 3 wrong codes: start another
                    break
                assert body["status"] in ("16", "17"), body
                wrong += 1
        advance(port, 601)
    # 3 guesses per verification (as Verify allows), and at most 10 verifications a day from
    # others than the number's owner: 30 guesses, 3e-5 odds against a 6-digit code.
    assert 1 <= starts <= 10, starts
    assert wrong <= 3 * starts, (wrong, starts)
    assert spent >= 1, "a fourth guess on one verification is refused"


def test_test_number_codes_cannot_be_guessed(server):
    port, _ = server
    status, body, _ = start(port, TEST_NUMBER)
    assert status == 200
    rid = body["request_id"]
    assert TEST_NUMBER[1:] not in rid, "the id does not give away the number"
    answers = []
    for i in range(30):
        status, _, _ = call(port, "POST", "/check", {"request_id": rid, "code": f"{100000 + i}"}, source=f"127.0.4.{2 + i}")
        answers.append(status)
    assert answers.count(400) == 3 and answers[3:] == [410] * 27, answers
    status, _, _ = call(port, "POST", "/check", {"request_id": rid, "code": TEST_CODE})
    assert status == 410, "this start is spent, even for the right code"
    # The reviewer starts again after the resend cooldown: the guessers' failures did not
    # hold back its address.
    advance(port, 61)
    status, body, _ = start(port, TEST_NUMBER)
    # A start of its own (before, every start to a test number had the same id, so a guesser
    # who had seen one could spend every later one).
    assert status == 200 and body["request_id"] != rid
    assert call(port, "POST", "/check", {"request_id": rid, "code": TEST_CODE})[0] == 410
    status, checked, _ = call(port, "POST", "/check", {"request_id": body["request_id"], "code": TEST_CODE})
    assert status == 200
    assert checked["event_id"] != "7E57000000000000" and checked["price"] != "0.00000000", "shaped like any"
    assert sms_count(port) == 0


def test_status_10_does_not_hand_out_the_victims_request_id(server):
    port, _ = server
    status, body, _ = start(port, "+447700900777", source="127.0.5.2")
    assert status == 200
    victim = body["request_id"]
    advance(port, 61)
    status, body, headers = start(port, "0044 7700 900777", source="127.0.5.3")
    assert status == 409 and body["status"] == "10", body
    assert "request_id" not in body and victim not in json.dumps(body)
    assert "retry-after" in headers
    # The victim's own app asking again (its answer was lost) gets its own id back, sends nothing.
    status, body, _ = start(port, "+447700900777", source="127.0.5.2")
    assert status == 200 and body["request_id"] == victim, body
    # Ids the deployment never issued are refused without asking Vonage.
    for path, payload in [("/cancel", {"request_id": "0" * 32}), ("/check", {"request_id": "f" * 32, "code": "1234"}),
                          ("/control", {"request_id": "a" * 32, "cmd": "cancel"}), ("/search", {"request_id": "b" * 32})]:
        status, body, _ = call(port, "POST", path, payload, source="127.0.5.3")
        assert status == 404, (path, body)


def code_of(port, rid):
    _, outbox, _ = call(port, "GET", f"/_sim/messages?request_id={rid}")
    return outbox["messages"][-1]["code"]


def test_a_lockout_keeps_no_owner_out_end_to_end(server):
    # The drill's scenario (c) on the real server: an attacker from rotating addresses starts
    # verifications to a user's number, types wrong codes into some and leaves others live;
    # the user, on the address it verified from before, gets in every time.
    port, _ = server
    number, home = "+447700900888", "127.0.7.2"
    status, body, _ = start(port, number, source=home)
    assert status == 200
    assert call(port, "POST", "/check", {"request_id": body["request_id"], "code": code_of(port, body["request_id"])},
                source=home)[0] == 200
    # An hour on (the fixture began the day at 00:01 UTC, so the rounds' four hours fall in it).
    advance(port, 3600)
    waits, attacker_sms = [], 0
    for rnd in range(8):
        attacker = f"127.0.8.{2 + rnd}"
        status, body, _ = start(port, number, source=attacker)
        if status == 200:
            attacker_sms += 1
            rid = body["request_id"]
            if rnd % 2 == 1:  # wrong codes into it; even rounds leave it live
                code = code_of(port, rid)
                for guess in ("000000", "111111", "222222"):
                    if guess != code:
                        call(port, "POST", "/check", {"request_id": rid, "code": guess}, source=attacker)
        advance(port, 30)
        waited = 0
        status, body, headers = start(port, number, source=home)
        if status == 409:
            waited = int(headers["retry-after"])
            advance(port, waited)
            # Served first: another attacker start meanwhile is held back.
            assert start(port, number, source=f"127.0.9.{2 + rnd}")[0] == 429
            status, body, _ = start(port, number, source=home)
        assert status == 200, (rnd, body)
        rid = body["request_id"]
        assert call(port, "POST", "/check", {"request_id": rid, "code": code_of(port, rid)}, source=home)[0] == 200
        waits.append(waited)
        advance(port, 900)
    assert max(waits) <= 605, waits
    assert any(w > 0 for w in waits), "a live attacker verification was met and waited out"
    # Once a stranger failed on the owner's number, others are done with it for the day.
    assert attacker_sms == 2, attacker_sms
