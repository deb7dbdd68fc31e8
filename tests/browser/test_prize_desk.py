"""The prize desk in the host panel's winners view (issue 13, item 16): the tables show each
prize's claim check part (never a whole code) and whether it was handed over; a code typed or
scanned (a USB scanner types it and presses Enter) shows whose prize it is, the handover is
recorded once, and a reused, wrong or malformed code is refused with a specific message.

Real server, real Redis, real viewer sockets (tests/client.py) for the game; the panel in
Chromium at 1440×900."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect

import tests.browser.conftest as browser_conftest
from tests.browser.conftest import LAPTOP, host_login, shot
from tests.client import Client
from tests.conftest import ServerProc

CORRECT = [1, 0, 2]  # test/ep1: B, A, C
PEOPLE = {
    "lan": ("Lan", "Nguyễn Thị Lan", "Phường Bến Thành", "0901 234 567"),
    "minh": ("Minh", "Trần Văn Minh", "Sở Nội vụ", "0907 654 321"),
    "hoa": ("Hoa", "Lê Thị Hoa", "UBND quận 3", "0912 345 678"),
}


async def _play(server: ServerProc) -> dict[str, dict[str, str]]:
    """q1: Lan first, Minh second; q2: all three right (Lan already has a prize: Minh wins, Hoa
    reserve); q3: only Hoa. Lan is first in the standings: the episode prize. → prize -> code."""
    clients = {key: await Client.connect(f"{server.ws}/ws/viewer") for key in PEOPLE}
    for key, (name, full_name, unit, phone) in PEOPLE.items():
        await clients[key].join(name, full_name=full_name, unit=unit, phone=phone)
    wrong = [(c + 1) % 3 for c in CORRECT]
    plan: list[list[int | None]] = [[CORRECT[0], CORRECT[0], wrong[0]], [CORRECT[1]] * 3, [wrong[2], None, CORRECT[2]]]
    for q, options in enumerate(plan):
        assert server.cmd("open", expect=q).status_code == 200
        for c in clients.values():
            await c.expect("question", index=q)
        for c, option in zip(clients.values(), options, strict=True):
            if option is not None:
                assert (await c.answer(q, option))["ok"]
                await asyncio.sleep(0.15)
        assert server.cmd("close").status_code == 200
        assert server.cmd("reveal").status_code == 200
    assert server.cmd("finish").status_code == 200
    codes = {}
    for key, c in clients.items():
        frame = await c.expect("prizes")
        codes[key] = {p["prize"]: p["code"] for p in frame["prizes"]}
        await c.close()
    return codes


def _in_thread(server: ServerProc) -> dict[str, dict[str, str]]:
    # the async viewers get a loop of their own, away from Playwright's (sync API) one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _play(server)).result(timeout=120)


def _no_whole_code(host: Any, codes: dict[str, dict[str, str]]) -> None:
    text, html = host.locator("body").inner_text(), host.content()
    for prizes in codes.values():
        for code in prizes.values():
            for form in (code, code.replace("-", "")):
                assert form not in text and form not in html, f"a whole claim code is on the page: {form}"


def test_the_prize_desk_checks_a_code_records_the_handover_once_and_refuses_the_rest(
        server: ServerProc, open_page: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # a wrong code is a 404 and a malformed one a 400 on purpose: Chromium logs those as console errors
    monkeypatch.setattr(browser_conftest, "EXPECTED_CONSOLE",
                        (*browser_conftest.EXPECTED_CONSOLE, "status of 404", "status of 400"))
    codes = _in_thread(server)
    assert set(codes["lan"]) == {"q1", "episode"} and set(codes["minh"]) == {"q2"} and set(codes["hoa"]) == {"q3"}
    lan_q1, lan_ep, minh_q2 = codes["lan"]["q1"], codes["lan"]["episode"], codes["minh"]["q2"]
    with server.host() as api:
        results = api.get("/api/host/results").json()
    lan = results["questions"][0]["winner"]
    assert lan["name"] == "Lan" and results["episode_winner"]["player"] == lan["player"]

    host = open_page(server.base + "/host", LAPTOP, "host")
    host_login(host, server.host_token)
    host.click("#tab-winners")
    expect(host.locator("#desk-code")).to_be_focused()  # ready for the scanner as the view opens
    expect(host.locator("#desk-h")).to_have_text("Bàn trao giải")
    expect(host.locator("#w-questions thead")).to_contain_text("Mã nhận (đuôi)")

    # the tables: the check part of each holder's code, and nothing handed over yet
    q1 = host.locator("#w-questions tr.is-winner[data-prize=q1]")
    expect(q1).to_contain_text("Nguyễn Thị Lan")
    expect(q1.locator("td.claim")).to_have_text("…" + lan_q1[-4:])
    expect(q1).to_contain_text("Chưa trao")
    expect(host.locator("#w-questions tr.is-winner[data-prize=q2] td.claim")).to_have_text("…" + minh_q2[-4:])
    expect(host.locator("#w-questions tr.is-winner[data-prize=q3]")).to_contain_text("Lê Thị Hoa")
    episode = host.locator("#w-episode tr.is-winner[data-prize=episode]")
    expect(episode).to_contain_text("Nguyễn Thị Lan")
    expect(episode.locator("td.claim")).to_have_text("…" + lan_ep[-4:])
    expect(episode).to_contain_text("Chưa trao")
    _no_whole_code(host, codes)

    result = host.locator("#desk-result")
    # the episode prize's code, as a scanner types it
    host.keyboard.type(lan_ep)
    host.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-valid\b"))
    expect(result.locator(".desk-prize")).to_have_text("Giải nhất tập")

    # question 1's code read out over the phone: lower case, no dash, then Enter
    host.locator("#desk-code").fill("")
    host.keyboard.type(lan_q1.lower().replace("-", ""))
    host.keyboard.press("Enter")
    expect(result.locator(".desk-prize")).to_have_text("Giải câu 1")
    expect(result).to_have_class(re.compile(r"\bis-valid\b"))
    expect(result.locator(".desk-badge")).to_have_text("✓ Mã hợp lệ · chưa trao")
    expect(result.locator(".desk-full")).to_have_text("Nguyễn Thị Lan")
    expect(result).to_contain_text(f"Lan #{lan['tag']}")
    expect(result).to_contain_text("Phường Bến Thành")
    expect(result).to_contain_text("0901 234 567")
    expect(result.locator(".desk-check")).to_have_text("Mã …" + lan_q1[-4:])
    if lan["flags"]:  # answered within 300 ms: the review flags the results have for her
        expect(result.locator(".desk-flags")).to_contain_text("Cần xem xét")
        expect(result.locator(".desk-flags")).to_contain_text(lan["flags"][0])
    expect(host.locator("#desk-code")).to_be_focused()  # a next scan replaces the code
    _no_whole_code(host, codes)
    shot(host, "host-4-prize-desk")

    host.fill("#desk-note", "CCCD đã kiểm tra")
    host.click("#desk-handover")
    expect(result).to_have_class(re.compile(r"\bis-done\b"))
    expect(result.locator(".desk-badge")).to_have_text("✓ Đã ghi nhận trao giải")
    expect(result).to_contain_text("Giải câu 1 đã trao cho Nguyễn Thị Lan lúc")
    expect(result).to_contain_text("Ghi chú: CCCD đã kiểm tra")
    expect(q1.locator(".ho.is-done")).to_have_text(re.compile(r"^✓ Đã trao \d\d:\d\d$"))  # the table refreshed
    expect(q1).to_contain_text("bảng điều khiển")
    expect(q1).to_contain_text("Ghi chú: CCCD đã kiểm tra")
    expect(episode).to_contain_text("Chưa trao")  # her other prize is still to be handed over
    expect(host.locator("#desk-code")).to_be_focused()
    expect(host.locator("#desk-code")).to_have_value("")
    shot(host, "host-5-prize-handed-over")

    # the same code again: already handed over (when, by whom), no way to hand it over twice
    host.keyboard.type(lan_q1)
    host.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-refused\b"))
    expect(result.locator(".desk-badge")).to_have_text("✕ Đã trao rồi — không trao lại")
    expect(result).to_contain_text("Giải này đã được trao lúc")
    expect(result).to_contain_text("bởi bảng điều khiển")
    expect(result.locator(".desk-full")).to_have_text("Nguyễn Thị Lan")
    expect(host.locator("#desk-handover")).to_have_count(0)
    with server.host() as api:
        again = api.post("/api/host/claims/handover", json={"code": lan_q1})
    assert again.status_code == 409 and again.json()["reason"] == "already_handed_over", again.text

    # a handover another desk recorded between this desk's check and its click is refused too
    host.locator("#desk-code").fill(minh_q2)
    host.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-valid\b"))
    expect(result.locator(".desk-full")).to_have_text("Trần Văn Minh")
    with server.host() as api:
        assert api.post("/api/host/claims/handover", json={"code": minh_q2, "note": "bàn 2"}).status_code == 200
    host.click("#desk-handover")
    expect(result).to_have_class(re.compile(r"\bis-refused\b"))
    expect(result.locator(".desk-badge")).to_have_text("✕ Đã trao rồi — không trao lại")
    expect(result).to_contain_text("bởi API")
    expect(result).to_contain_text("Ghi chú: bàn 2")
    expect(host.locator("#w-questions tr.is-winner[data-prize=q2] .ho.is-done")).to_be_visible()

    # a wrong code (one character off), then something that is no code at all
    forged = lan_q1[:-1] + ("0" if lan_q1[-1] != "0" else "1")
    host.locator("#desk-code").fill(forged)
    host.keyboard.press("Enter")
    expect(result).to_have_class(re.compile(r"\bis-refused\b"))
    expect(result.locator(".desk-badge")).to_have_text("✕ Không trao giải")
    expect(result.locator(".desk-why")).to_have_text(
        "Không có giải nào mang mã này. Hãy đối chiếu từng ký tự với điện thoại của người nhận.")
    expect(result.locator(".desk-full")).to_have_count(0)
    host.locator("#desk-code").fill("=HYPERLINK(1)")
    host.keyboard.press("Enter")
    expect(result.locator(".desk-why")).to_contain_text("Mã không đúng dạng")

    # the panel in English: the desk and the columns follow
    host.click("#lang")
    expect(host.locator("#desk-h")).to_have_text("Prize desk")
    expect(host.locator("#w-questions thead")).to_contain_text("Claim check")
    expect(result.locator(".desk-why")).to_contain_text("Not a claim code")
    expect(q1.locator(".ho.is-done")).to_have_text(re.compile(r"^✓ Handed over \d\d:\d\d$"))
    expect(episode).to_contain_text("Not handed over")
    _no_whole_code(host, codes)
