"""The whole show in three browser contexts at once: the host runs a two-question episode
with keyboard shortcuts; the OBS overlay goes through every scene; a viewer plays along.
All three agree on the phase and the countdown. Saves the host and overlay screenshots."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import FULL_HD, LAPTOP, PHONE, VI_BANK, host_login, shot
from tests.conftest import ServerProc

LONG = 20_000
# the fastest bot, as every screen names a player: display name and public tag
THU_HA = re.compile(r"^Thu Hà #[34679ACDEFGHJKMNPQRTUVWXY]{4}$")


def _secs(page: Any, selector: str) -> int:
    return int(page.locator(selector).inner_text())


def _agree_on_phase(host: Any, overlay: Any, viewer: Any, phase: str) -> None:
    expect(host.locator("#phase")).to_have_attribute("data-phase", phase)
    expect(overlay.locator("body")).to_have_attribute("data-phase", phase)
    expect(viewer.locator("body")).to_have_attribute("data-phase", phase)


def _agree_on_countdown(host: Any, overlay: Any, viewer: Any) -> None:
    """The three countdowns (server deadline + each page's clock offset) read the same second (±1 s,
    plus one more for the time it takes to read three pages on a busy machine)."""
    t0 = time.monotonic()
    shown, values = [], []
    for page, selector in ((host, "#cur-secs"), (overlay, "#ring-num"), (viewer, "#q-secs")):
        shown.append(_secs(page, selector))
        values.append(shown[-1] + (time.monotonic() - t0))  # seconds left as of t0: slow reads do not count
    assert max(values) - min(values) <= 2, (shown, values)
    assert min(shown) >= 40 and max(shown) <= 60, shown


def test_host_runs_episode_with_keyboard_overlay_and_viewer_follow(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], bots: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1", "--require", "full_name,unit,phone")

    host = open_page(server.base + "/host", LAPTOP, "host")
    host_login(host, server.host_token)
    expect(host.locator("#phase")).to_have_text("Sảnh chờ")
    expect(host.locator("#ep-title")).to_have_text("Tập 1: Chương trình tổng thể cải cách hành chính")
    # the next question is shown to the host with its correct answer
    expect(host.locator("#next-options li.is-correct .letter")).to_have_text("B")
    expect(host.locator(".cmd[data-cmd=open]")).to_be_enabled()
    expect(host.locator(".cmd[data-cmd=reveal]")).to_be_disabled()
    expect(host.locator(".shortcuts")).to_contain_text("O mở")

    overlay = open_page(f"{server.base}/overlay?token={server.overlay_token}", FULL_HD, "overlay")
    expect(overlay.locator("body")).to_have_attribute("data-scene", "lobby")
    expect(overlay.locator("#lobby-url")).to_have_text(f"127.0.0.1:{server.port}")
    expect(overlay.locator("#lobby-title")).to_have_text("Tập 1: Chương trình tổng thể cải cách hành chính")
    overlay.wait_for_function("document.querySelector('#qr').naturalWidth > 0")
    shot(overlay, "overlay-1-lobby", overlay=True)

    viewer = open_page(server.base + "/", PHONE, "viewer")
    viewer.fill("#f-name", "Minh Anh")
    viewer.fill("#f-full_name", "Trần Minh Anh")
    viewer.fill("#f-unit", "Sở Thông tin và Truyền thông")
    viewer.fill("#f-phone", "0912 345 678")
    viewer.click("#join-submit")
    expect(viewer.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")

    people = [("Thu Hà", "Lê Thu Hà", "UBND quận Ba Đình", {0: (1, 0.0), 1: (3, 0.0)}),
              ("Quốc Bảo", "Nguyễn Quốc Bảo", "Sở Nội vụ", {0: (1, 0.3), 1: (3, 0.4)}),
              ("Ngọc Ánh", "Phạm Ngọc Ánh", "Văn phòng UBND tỉnh", {0: (0, 0.2), 1: (3, 0.6)}),
              ("Đức Thắng", "Hoàng Đức Thắng", "Sở Tư pháp", {0: (3, 0.5), 1: (2, 0.1)})]
    for i, (name, full, unit, answers) in enumerate(people):
        bots(server.ws, name, answers, full_name=full, unit=unit, phone=f"0900 000 00{i}")
    expect(host.locator("#viewers")).to_have_text(re.compile(r"^[1-9]"), timeout=LONG)

    # ---- question 1, opened with the keyboard
    host.locator("body").press("o")
    _agree_on_phase(host, overlay, viewer, "question")
    expect(overlay.locator("body")).to_have_attribute("data-scene", "question")
    expect(overlay.locator("#q-num")).to_have_text("Câu 1/3")
    expect(viewer.locator("#q-num")).to_have_text("Câu 1/3")
    expect(host.locator("#cur-num")).to_have_text("Câu 1/3")
    expect(host.locator("#cur-options li.is-correct .letter")).to_have_text("B")
    expect(overlay.locator(".q-opt.is-correct")).to_have_count(0)  # never before reveal
    _agree_on_countdown(host, overlay, viewer)

    # a double press is harmless: refused, and the question does not move on
    host.locator("body").press("o")
    expect(host.locator("#msg")).to_have_class(re.compile(r"is-bad|is-warn"))
    expect(host.locator("#msg")).to_contain_text("Bị từ chối")
    expect(host.locator("#cur-num")).to_have_text("Câu 1/3")
    expect(host.locator("#next-num")).to_have_text("Câu 2/3")

    viewer.locator("#q-options .opt").nth(1).click()
    expect(viewer.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án B", timeout=LONG)
    expect(host.locator("#st-answers")).to_have_text("5", timeout=LONG)
    expect(host.locator("#st-fastest li").first).to_contain_text("Thu Hà")
    expect(host.locator("#st-dist li.is-correct .num")).to_contain_text("3 · 60%")
    _agree_on_countdown(host, overlay, viewer)
    shot(host, "host-1-live-question")
    shot(overlay, "overlay-2-question", overlay=True)

    # ---- close (C): all three agree, still no correct option on the overlay
    host.locator("body").press("c")
    _agree_on_phase(host, overlay, viewer, "closed")
    expect(overlay.locator("#sc-question")).to_have_class(re.compile(r"\bis-closed\b"))
    expect(overlay.locator("#q-status")).to_have_text("5 lượt trả lời")
    expect(overlay.locator(".q-opt.is-correct")).to_have_count(0)
    shot(overlay, "overlay-3-closed", overlay=True)

    # ---- reveal (R)
    host.locator("body").press("r")
    expect(overlay.locator("#sc-question")).to_have_class(re.compile(r"\bis-revealed\b"))
    expect(overlay.locator(".q-opt.is-correct")).to_have_attribute("data-option", "1")
    expect(overlay.locator("#fastest-name")).to_have_text(THU_HA)
    expect(overlay.locator("#fastest-time")).to_contain_text("giây")
    expect(overlay.locator(".q-opt").nth(1).locator(".pct")).to_have_text("60%")
    expect(viewer.locator("#r-verdict")).to_have_text("Chính xác!")
    _agree_on_phase(host, overlay, viewer, "revealed")
    shot(overlay, "overlay-4-revealed", overlay=True)

    # ---- leaderboard (L)
    host.locator("body").press("l")
    expect(overlay.locator("body")).to_have_attribute("data-scene", "board")
    expect(overlay.locator("#board li")).to_have_count(3)
    expect(overlay.locator("#board li").first.locator(".name")).to_have_text(THU_HA)
    expect(viewer.locator("#b-title")).to_have_text("Bảng xếp hạng")
    _agree_on_phase(host, overlay, viewer, "leaderboard")
    shot(overlay, "overlay-5-leaderboard", overlay=True)

    # ---- question 2
    host.locator("body").press("o")
    expect(overlay.locator("#q-num")).to_have_text("Câu 2/3")
    expect(viewer.locator("#q-num")).to_have_text("Câu 2/3")
    expect(host.locator("#cur-num")).to_have_text("Câu 2/3")
    _agree_on_countdown(host, overlay, viewer)
    viewer.locator("#q-options .opt").nth(3).click()
    expect(viewer.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án D", timeout=LONG)
    expect(host.locator("#st-answers")).to_have_text("5", timeout=LONG)
    host.locator("body").press("c")
    # R is a no-op until the host panel itself shows the question closed (its button is disabled
    # before): wait for all three, not only the phone, or the key press can land too early
    _agree_on_phase(host, overlay, viewer, "closed")
    expect(host.locator(".cmd[data-cmd=reveal]")).to_be_enabled()
    host.locator("body").press("r")
    expect(overlay.locator(".q-opt.is-correct")).to_have_attribute("data-option", "3")
    expect(viewer.locator("#r-verdict")).to_have_text("Chính xác!")

    # ---- finish (F, confirmed in a dialog)
    host.locator("body").press("f")
    expect(host.locator("#dlg")).to_be_visible()
    expect(host.locator("#dlg-title")).to_have_text("Kết thúc tập?")
    host.locator("#dlg-ok").press("Enter")
    _agree_on_phase(host, overlay, viewer, "finished")
    expect(overlay.locator("body")).to_have_attribute("data-scene", "winner")
    expect(overlay.locator("#winner-name")).to_have_text(THU_HA)
    expect(viewer.locator("#b-title")).to_have_text("Chương trình đã kết thúc")
    expect(viewer.locator("#b-winner-name")).to_have_text(THU_HA)
    shot(overlay, "overlay-6-winner", overlay=True)

    # ---- winners view: full name, unit, phone; disqualify passes the prize on
    host.click("#tab-winners")
    rows = host.locator("#w-questions tbody tr.is-winner")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Lê Thu Hà")
    expect(rows.first).to_contain_text("UBND quận Ba Đình")
    expect(rows.first).to_contain_text("0900 000 000")
    expect(host.locator("#w-standings tbody tr").first).to_contain_text("Thu Hà")
    standings_viewer = host.locator("#w-standings tbody tr", has_text="Trần Minh Anh")
    expect(standings_viewer).to_contain_text("0912 345 678")
    shot(host, "host-2-winners")
    rows.first.locator("button").click()
    expect(host.locator("#dlg")).to_be_visible()
    host.fill("#dlg-input", "Trùng tài khoản")
    host.click("#dlg-ok")
    expect(host.locator("#msg")).to_contain_text("Đã loại Thu Hà")
    expect(host.locator("#w-dq tbody tr")).to_contain_text("Trùng tài khoản")
    expect(host.locator("#w-questions tbody tr.is-winner").first).not_to_contain_text("Thu Hà")
    csv = host.request.get(server.base + host.locator("#w-csv").get_attribute("href"))
    assert csv.status == 200 and "text/csv" in csv.headers["content-type"]
    assert "Trần Minh Anh" in csv.text()


WATCH_TICKS = """([selector, app]) => {
  window.__ticks = [];
  const el = document.querySelector(selector);
  new MutationObserver(() => window.__ticks.push([el.textContent, window[app].clock.now()]))
    .observe(el, { childList: true, characterData: true, subtree: true });
}"""


def _tick_times(page: Any) -> dict[int, float]:
    """When (on the page's estimate of the server clock) each displayed second first appeared."""
    out: dict[int, float] = {}
    for text, at in page.evaluate("window.__ticks"):
        if text.strip().isdigit():
            out.setdefault(int(text), at)
    return out


def test_overlay_counts_in_studio_time_with_a_stream_delay(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any]) -> None:
    """With a 3 s stream delay the overlay shows the question at the open and counts down from
    there (studio time); the stream shows it 3 s late, so what a viewer sees on air at studio
    time t + 3 is the overlay's second at t: it must equal the phone's second at t + 3. The
    overlay says "time's up" when its window ends, while the phones still have 3 s."""
    server = make_server("--load", "test/short", "--stream-delay", "3", "--grace-ms", "200")
    overlay = open_page(f"{server.base}/overlay?token={server.overlay_token}", FULL_HD, "overlay-delay")
    phone = open_page(server.base + "/?lang=en", PHONE, "viewer-studio")
    phone.fill("#f-name", "Studio")
    phone.click("#join-submit")
    expect(phone.locator("#info-title")).to_be_visible()
    expect(overlay.locator("body")).to_have_attribute("data-scene", "lobby")
    overlay.evaluate(WATCH_TICKS, ["#ring-num", "__overlay"])
    phone.evaluate(WATCH_TICKS, ["#q-secs", "__viewer"])
    assert server.cmd("open", expect=0).status_code == 200
    expect(overlay.locator("body")).to_have_attribute("data-scene", "question")
    # studio time O + 5 s: time's up on the overlay while the phones' window is still open
    expect(overlay.locator("#sc-question .ring-done")).to_be_visible(timeout=LONG)
    expect(phone.locator("body")).to_have_attribute("data-phase", "question")
    assert int(phone.locator("#q-secs").inner_text()) >= 1
    shot(overlay, "overlay-3-times-up-studio", overlay=True)
    expect(phone.locator("body")).to_have_attribute("data-phase", "closed", timeout=LONG)
    on_air, on_phone = _tick_times(overlay), _tick_times(phone)
    common = sorted(set(on_air) & set(on_phone) - {max(on_air)})  # the first value is a render, not a tick
    assert len(common) >= 3, (on_air, on_phone)
    for second in common:
        lag = on_phone[second] - on_air[second]
        assert abs(lag - 3000) <= 250, (second, lag, on_air, on_phone)
