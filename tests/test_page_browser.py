"""The local server's try-it page in headless Chromium: number -> code -> result, and the
cancel / resend buttons, with the PIN read from the simulator's outbox."""

import pytest
from playwright.sync_api import expect, sync_playwright

from harness import Proc, free_port, http, wait_for_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page_server(built, tmp_path):
    port = free_port()
    p = Proc([str(built / "verify-proxy-local")], env={"LISTEN": f"127.0.0.1:{port}", "SIM_SEED": "9"},
             name="local-page", tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    yield f"http://127.0.0.1:{port}"
    p.stop()


@pytest.fixture
def page(tmp_path):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context()
        yield context.new_page()
        browser.close()


def outbox_code(base, number):
    _, body, _ = http("GET", f"{base}/_sim/messages?number={number}")
    return body["messages"][-1]["code"]


def test_verify_a_number_in_the_browser(page_server, page, tmp_path):
    base = page_server
    page.goto(base + "/")
    page.fill("#number", "+447700900555")
    page.click("#send")
    expect(page.locator("#step-code")).to_be_visible()
    expect(page.locator("#result")).to_have_text("Code sent.")
    code = outbox_code(base, "447700900555")
    page.fill("#code", "0000" if code != "0000" else "1111")
    page.click("#verify")
    expect(page.locator("#result")).to_have_text("Wrong code, try again.")
    page.fill("#code", code)
    page.click("#verify")
    expect(page.locator("#result")).to_have_text("Verified!")
    expect(page.locator("#step-number")).to_be_visible()
    page.screenshot(path=str(tmp_path / "verified.png"))


def test_cancel_and_resend_buttons(page_server, page):
    base = page_server
    page.goto(base + "/")
    page.fill("#number", "+447700900556")
    page.click("#send")
    expect(page.locator("#step-code")).to_be_visible()
    page.click("#cancel")
    expect(page.locator("#result")).to_contain_text("within the first 30 seconds")
    # A resend is another delivery: the guard wants 60 s since the start.
    page.click("#resend")
    expect(page.locator("#result")).to_have_text("Too many attempts. Please try again later.")
    http("POST", f"{base}/_sim/clock/advance", {"seconds": 61})
    page.click("#resend")
    expect(page.locator("#result")).to_have_text("Sent again (next channel).")
    _, outbox, _ = http("GET", f"{base}/_sim/messages?number=447700900556")
    assert [m["channel"] for m in outbox["messages"]] == ["sms", "tts"]
    # After the second delivery Verify no longer allows a cancel.
    page.click("#cancel")
    expect(page.locator("#result")).to_contain_text("can't be cancelled now")


@pytest.fixture
def v2_page_server(built, tmp_path):
    port = free_port()
    p = Proc([str(built / "verify-proxy-local")],
             env={"LISTEN": f"127.0.0.1:{port}", "SIM_SEED": "9", "VERIFY_API": "v2",
                  "ALLOWED_CHANNELS": "sms,whatsapp", "VERIFY_WHATSAPP_FROM": "447700900000"},
             name="local-page-v2", tmp_path=tmp_path)
    wait_for_port(port, p.proc, log=p.log)
    yield f"http://127.0.0.1:{port}", p
    p.stop()


def test_pick_a_channel_with_verify_v2(v2_page_server, page, tmp_path):
    base, proc = v2_page_server
    page.goto(base + "/")
    picker = page.locator("#channel")
    expect(picker).to_be_visible()
    assert picker.locator("option").all_text_contents() == ["SMS", "WhatsApp"]
    page.fill("#number", "+447700900557")
    picker.select_option("whatsapp")
    page.click("#send")
    expect(page.locator("#result")).to_have_text("Code sent.")
    _, outbox, _ = http("GET", f"{base}/_sim/messages?number=447700900557")
    assert [m["channel"] for m in outbox["messages"]] == ["whatsapp"]
    page.fill("#code", outbox["messages"][-1]["code"])
    page.click("#verify")
    expect(page.locator("#result")).to_have_text("Verified!")
    page.screenshot(path=str(tmp_path / "v2-whatsapp.png"))
    assert "Verify v2" in proc.output()


def test_no_picker_when_the_deployment_offers_no_choice(page_server, page):
    page.goto(page_server + "/")
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#channel")).to_be_hidden()
