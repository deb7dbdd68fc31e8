"""The host panel highlights the one sensible next command of each phase and disables what the
phase (and what the panel knows of the guards) refuses; the prize rule is the episode's,
chosen before its first question and shown in the winners view (issue 13, items 10 and 15)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import FULL_HD, LAPTOP, VI_BANK, host_login, shot
from tests.conftest import ServerProc

LONG = 20_000


def _highlighted(host: Any, cmd: str) -> None:
    """Exactly one command button is highlighted, and it is ``cmd`` (and enabled)."""
    expect(host.locator(".cmd.cmd-primary")).to_have_count(1)
    expect(host.locator(f".cmd[data-cmd={cmd}]")).to_have_class(re.compile(r"\bcmd-primary\b"))
    expect(host.locator(f".cmd[data-cmd={cmd}]")).to_be_enabled()


def test_next_step_follows_the_phase_and_the_prize_rule_is_fixed_at_the_first_question(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], bots: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1")
    host = open_page(server.base + "/host", LAPTOP, "host")
    host_login(host, server.host_token)
    overlay = open_page(f"{server.base}/overlay?token={server.overlay_token}", FULL_HD, "overlay")
    # two players: one right on question 1, one wrong on every question (played, but no points)
    bots(server.ws, "Thu Hà", {0: (1, 0.0)})
    bots(server.ws, "Quốc Bảo", {0: (0, 0.0), 1: (0, 0.0), 2: (0, 0.0)})

    # lobby: open is the next step; nothing was voided, so re-run is off; the rule can still change
    _highlighted(host, "open")
    expect(host.locator(".cmd[data-cmd=rerun]")).to_be_disabled()
    expect(host.locator(".cmd[data-cmd=reveal]")).to_be_disabled()
    prize = host.locator("#one-prize")
    expect(prize).to_be_checked()  # the default: one question prize per person
    expect(prize).to_be_enabled()
    expect(host.locator("#prize-help")).to_contain_text("trước câu hỏi đầu tiên")
    prize.uncheck()
    expect(prize).not_to_be_checked()
    with server.host() as c:
        expect(host.locator("#prize-help")).to_contain_text("trước câu hỏi đầu tiên")  # the change landed
        assert c.get("/api/host/state").json()["settings"]["one_prize"] is False
    prize.check()
    expect(prize).to_be_checked()
    host.wait_for_function("!document.querySelector('#one-prize').matches(':focus') || "
                           "(document.activeElement.blur(), true)")  # shortcuts are off inside a form field

    host.locator("body").press("o")
    expect(host.locator("#phase")).to_have_attribute("data-phase", "question")
    _highlighted(host, "close")
    expect(prize).to_be_disabled()  # fixed from the first question on
    expect(host.locator("#prize-help")).to_contain_text("đã cố định")
    refused = server.cmd("settings", one_prize=False)
    assert refused.status_code == 409 and refused.json()["reason"] == "started", refused.text

    host.locator("body").press("c")
    expect(host.locator("#phase")).to_have_attribute("data-phase", "closed")
    _highlighted(host, "reveal")  # the bug: "open" stayed highlighted after a close
    expect(host.locator(".cmd[data-cmd=rerun]")).to_be_disabled()
    shot(host, "host-3-closed-next-step")

    # a voided question: re-run is the next step, and void itself is refused now
    assert server.cmd("void", reason="câu hỏi có lỗi").status_code == 200
    _highlighted(host, "rerun")
    expect(host.locator(".cmd[data-cmd=void]")).to_be_disabled()
    assert server.cmd("rerun").status_code == 200
    _highlighted(host, "open")  # the re-run question waits to be opened again
    expect(host.locator("#next-num")).to_have_text("Câu 1/3")

    for q in range(3):
        host.locator("body").press("o")
        # (question 1 was current before its re-run too: wait for the phase, not only the number)
        expect(host.locator("#phase")).to_have_attribute("data-phase", "question")
        expect(host.locator("#cur-num")).to_have_text(f"Câu {q + 1}/3")
        _highlighted(host, "close")  # the panel has the new state: the next key is not swallowed as busy
        host.locator("body").press("c")
        expect(host.locator("#phase")).to_have_attribute("data-phase", "closed")
        _highlighted(host, "reveal")
        host.locator("body").press("r")
        expect(host.locator("#phase")).to_have_attribute("data-phase", "revealed")
        _highlighted(host, "open" if q < 2 else "leaderboard")
    expect(host.locator(".cmd[data-cmd=open]")).to_be_disabled()  # no question left
    expect(host.locator(".cmd[data-cmd=skip]")).to_be_disabled()
    host.locator("body").press("l")
    _highlighted(host, "finish")
    # the leaderboard counts who played, and says how many have points (item 11: it said "1 người chơi")
    expect(overlay.locator("#board-sub")).to_contain_text("2 người chơi · 1 có điểm", timeout=LONG)

    # the winners view says which rule the episode was played under
    host.locator("#tab-winners").click()
    expect(host.locator("#w-rule")).to_have_text("Luật giải của tập: mỗi người chỉ nhận một giải câu hỏi",
                                                 timeout=LONG)
