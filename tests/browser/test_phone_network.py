"""The phone on a network that dies silently (issue 13, item 4).

The phone talks to the server through tests/netproxy.py, which can stop every byte in both
directions while keeping the sockets open: the browser is never told (no close, no
``offline`` event; Playwright's set_offline is not used). The phone must notice by itself,
within a few seconds mid-question, say so on screen, show an answer tapped meanwhile as "not
sent yet", and get it acknowledged once the network is back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VI_BANK, shot
from tests.browser.test_phone_layout import assert_contrast
from tests.conftest import ServerProc
from tests.netproxy import NetProxy

SMALL = {"width": 360, "height": 640}


@pytest.fixture
def proxy_to(request: pytest.FixtureRequest) -> Iterator[Callable[[ServerProc], NetProxy]]:
    made: list[NetProxy] = []

    def make(server: ServerProc) -> NetProxy:
        proxy = NetProxy(server.port).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


def answers(server: ServerProc) -> int:
    with server.host() as c:
        return int(c.get("/api/host/stats").json()["answers"])


def wait_answers(server: ServerProc, n: int, timeout: float = 10.0) -> None:
    """Poll the host stats until the open question has n answers."""
    deadline = time.monotonic() + timeout
    while (got := answers(server)) != n:
        assert time.monotonic() < deadline, f"{got} answers, expected {n}"
        time.sleep(0.1)


def wait_offline(page: Any, cut_at: float) -> float:
    """Seconds from the cut until the offline banner shows (checked on every animation frame)."""
    page.wait_for_function("() => !document.querySelector('#conn').hidden", polling="raf", timeout=5_000)
    return time.monotonic() - cut_at


def test_phone_notices_a_silent_network_loss_and_sends_the_answer_when_back(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any],
        proxy_to: Callable[[ServerProc], NetProxy]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1")
    proxy = proxy_to(server)
    page = open_page(proxy.base + "/", SMALL, "viewer-netcut")
    page.fill("#f-name", "Minh Anh")
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")
    conn = page.locator("#conn")
    expect(conn).to_be_hidden()

    # 1. cut in the lobby: noticed (pings every 5 s there, 3 s to answer), then back
    proxy.blackhole()
    expect(conn).to_be_visible(timeout=10_000)
    expect(conn).to_contain_text("Mất kết nối")
    proxy.restore()
    expect(conn).to_be_hidden(timeout=15_000)
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")

    # 2. cut mid-question, the answer tapped at once (the socket still looks open)
    assert server.cmd("open", expect=0).status_code == 200
    options = page.locator("#q-options .opt")
    expect(options).to_have_count(4)
    expect(page.locator("#q-status")).to_have_text("Chọn một đáp án — chỉ được chọn một lần.")
    page.wait_for_function("window.__viewer.clock && !window.__viewer.clock.rough")  # clock pinned down
    proxy.blackhole()
    cut_at = time.monotonic()
    options.nth(1).click()
    b_tag = options.nth(1).locator(".opt-tag")
    expect(b_tag).not_to_have_text("Bạn chọn")
    noticed = wait_offline(page, cut_at)
    assert noticed < 5.0, f"offline indicator took {noticed:.1f} s"
    expect(b_tag).to_have_text("Chưa gửi")
    expect(conn).to_contain_text("Mất kết nối")
    expect(page.locator("#q-status")).to_contain_text("chưa gửi được vì mất kết nối")
    expect(options.nth(1)).to_have_class(re.compile(r"\bis-unsent\b"))
    assert answers(server) == 0  # nothing got through
    assert_contrast(page, "#q-options .opt", "an answer not sent yet")
    shot(page, "viewer-7-offline-not-sent")
    proxy.restore()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án B", timeout=20_000)
    expect(conn).to_be_hidden()
    expect(b_tag).to_have_text("Bạn chọn")
    expect(options.nth(1)).to_have_class("opt is-chosen")
    wait_answers(server, 1)

    # 3. cut mid-question, tapped once the phone knows it is offline
    assert server.cmd("close", expect=0).status_code == 200
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chính xác!")
    assert server.cmd("open", expect=1).status_code == 200
    expect(page.locator("#q-num")).to_have_text("Câu 2/3")
    proxy.blackhole()
    cut_at = time.monotonic()
    noticed = wait_offline(page, cut_at)
    assert noticed < 5.0, f"offline indicator took {noticed:.1f} s"
    expect(page.locator("#q-status")).to_contain_text("Mất kết nối")
    options.nth(3).click()
    d_tag = options.nth(3).locator(".opt-tag")
    expect(d_tag).to_have_text("Chưa gửi")
    expect(page.locator("#q-status")).to_contain_text("Đã chọn D nhưng chưa gửi được")
    proxy.restore()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án D", timeout=20_000)
    expect(d_tag).to_have_text("Bạn chọn")
    expect(conn).to_be_hidden()
    wait_answers(server, 1)  # question 2 counts its own answers
