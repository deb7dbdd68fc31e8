"""The online contest's participant page (/contest) in a real browser, on a real server and Redis.

At 360×640: the home screen (contest, round, rules), the entry form (the unit searched without
accents and picked from the list — two units share a name; a field refused by the server shown at
its field), the prediction, a whole attempt with a reload in the middle (the same question comes
back and its countdown goes on), the result, the review (checked against the server's), the
attempts left, the language switch, "not you?"; the same person again on a 1440×900 desktop.
A second, short contest (5 s per question) lets a question run out and loses the network once.
Saves docs/screenshots/contest-*.png.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import conftest as browser_conftest
from tests.browser.conftest import LAPTOP, shot
from tests.browser.contest_checks import NAM_SACH, SMALL, assert_contrast, assert_fits, vn
from tests.conftest import ServerProc
from tests.contest_files import contest_args

LONG = 15_000
TOKEN_KEY = "qe.contest.test-online.token"
PREDICTION = "Tuần này có bao nhiêu lượt thi trả lời đúng tất cả các câu?"

# Contrast of every visible text on the screen over the colour painted behind it (backgrounds
# composited from the root down; a gradient box has its lightest stop as its colour).
def secs(page: Any) -> int:
    return int(page.locator("#q-secs").inner_text())


def enter(page: Any, full_name: str, phone: str, *, query: str = "xa an binh", parent: str = "Nam Sách",
          keyboard: bool = False) -> None:
    """Fill the entry form (the unit searched and picked from the list, by tap or by keyboard) and submit it."""
    expect(page.locator("#s-entry")).to_be_visible()
    page.fill("#f-full_name", full_name)
    page.fill("#f-unit", query)
    if keyboard:
        expect(page.locator("#unit-list .combo-opt")).to_have_count(1, timeout=LONG)
        page.press("#f-unit", "ArrowDown")
        expect(page.locator("#f-unit")).to_have_attribute("aria-activedescendant", "unit-opt-0")
        page.press("#f-unit", "Enter")
    else:
        page.locator("#unit-list .combo-opt", has_text=parent).click(timeout=LONG)
    expect(page.locator("#unit-picked")).to_contain_text(parent)
    page.fill("#f-phone", phone)
    page.click("#entry-submit")


def token(page: Any) -> str:
    value = page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')")
    assert value, "no participant token stored"
    return str(value)


def test_contest_page_entry_attempt_reload_result_review(make_server: Callable[..., ServerProc],
                                                          open_page: Callable[..., Any], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # the bad phone is refused by the server with a 400 on purpose: Chromium logs it as a console error
    monkeypatch.setattr(browser_conftest, "EXPECTED_CONSOLE", (*browser_conftest.EXPECTED_CONSOLE, "status of 400"))
    server = make_server(*contest_args(tmp_path))
    contest = httpx.get(server.base + "/api/contest", timeout=10).json()
    page = open_page(server.base + "/contest", SMALL, "contest")

    # --- home: the contest, its dates in Vietnam time, the open round, the rules
    expect(page.locator("#s-home")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#home-title")).to_have_text("Cuộc thi trực tuyến thử nghiệm")
    expect(page.locator("#home-dates")).to_have_text(
        f"Thời gian: từ {vn(contest['opens'])} đến {vn(contest['closes'])} (giờ Việt Nam)")
    w1 = contest["rounds"][0]
    expect(page.locator("#home-round")).to_have_text(f"Đang diễn raTuần 1 — kết thúc lúc {vn(w1['closes'])}")
    rules = page.locator("#rules")
    for text in ("Mỗi lượt thi gồm 4 câu hỏi", "mỗi câu: 30 giây", "cả lượt thi: 10 phút", "tối đa 2 lượt",
                 "kết quả cao nhất được tính", "tự chuyển sang câu tiếp theo", "ngay sau khi bạn hoàn thành"):
        expect(rules).to_contain_text(text)
    expect(page.locator("#go-entry")).to_have_text("Đăng ký dự thi")
    assert_fits(page, SMALL)
    assert_contrast(page, "home")
    shot(page, "contest-1-home-360")

    # --- entry: the unit is searched without accents and picked, never typed
    page.click("#go-entry")
    expect(page.locator("#s-entry")).to_be_visible()
    expect(page.locator("#entry-title")).to_be_focused()
    for field in ("#f-full_name", "#f-unit", "#f-phone"):
        expect(page.locator(field)).to_be_visible()
    expect(page.locator("#f-email")).to_be_hidden()  # not required by this contest
    expect(page.get_by_label("Họ và tên")).to_have_id("f-full_name")
    expect(page.get_by_label("Số điện thoại")).to_have_id("f-phone")
    page.click("#entry-submit")
    expect(page.locator("#e-full_name")).to_have_text("Vui lòng nhập họ và tên.")
    expect(page.locator("#f-full_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-full_name")).to_be_focused()
    page.fill("#f-full_name", "Nguyễn Thị Lan")
    page.fill("#f-unit", "xa an binh")
    options = page.locator("#unit-list .combo-opt")
    expect(options).to_have_count(2, timeout=LONG)  # two units named alike, under two districts
    expect(page.locator("#f-unit")).to_have_attribute("aria-expanded", "true")
    expect(options.filter(has_text="Huyện Nam Sách")).to_have_count(1)
    expect(options.filter(has_text="Huyện Kim Thành")).to_have_count(1)
    expect(options.first.locator(".combo-name")).to_have_text("UBND xã An Bình")
    shot(page, "contest-2a-unit-search-360")
    page.click("#entry-submit")  # typed, not picked: refused on the page, nothing is sent
    expect(page.locator("#e-unit")).to_contain_text("Vui lòng chọn một đơn vị trong danh sách gợi ý")
    page.locator("#unit-list .combo-opt", has_text="Huyện Nam Sách").click()
    expect(page.locator("#f-unit")).to_have_value(NAM_SACH)
    expect(page.locator("#unit-picked")).to_have_text(f"Đã chọn: {NAM_SACH}")
    expect(page.locator("#e-unit")).to_be_empty()
    expect(page.locator("#unit-list")).to_be_hidden()
    # a phone the server refuses: the reason shown at that field
    page.fill("#f-phone", "12345")
    page.click("#entry-submit")
    expect(page.locator("#e-phone")).to_have_text(
        "Số điện thoại chưa đúng: cần 10 chữ số, bắt đầu bằng số 0 (ví dụ 0912345678).")
    expect(page.locator("#f-phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-phone")).to_be_focused()
    assert page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')") is None
    assert_fits(page, SMALL)
    assert_contrast(page, "entry")
    shot(page, "contest-2-entry-360")
    page.fill("#f-phone", "0912 345 678")
    expect(page.locator("#e-phone")).to_be_empty()
    page.click("#entry-submit")

    # --- home, entered: who, the attempts, the start
    expect(page.locator("#home-person")).to_be_visible()
    expect(page.locator("#home-title")).to_be_focused()
    expect(page.locator("#person-hello")).to_have_text("Xin chào, Nguyễn Thị Lan")
    expect(page.locator("#person-unit")).to_have_text(NAM_SACH)
    expect(page.locator("#person-tries")).to_have_text("Tuần 1: bạn đã thi 0/2 lượt, còn 2 lượt.")
    expect(page.locator("#home-msg")).to_contain_text("Đăng ký thành công")
    expect(page.locator("#me")).to_have_text("Nguyễn Thị Lan")
    bearer = {"authorization": f"Bearer {token(page)}"}
    assert_fits(page, SMALL)
    shot(page, "contest-1b-home-entered-360")

    # --- the prediction, required
    page.click("#start")
    expect(page.locator("#s-predict")).to_be_visible()
    expect(page.locator("#predict-label")).to_have_text(PREDICTION)
    expect(page.get_by_label(PREDICTION)).to_be_focused()
    page.click("#predict-submit")
    expect(page.locator("#e-prediction")).to_have_text("Vui lòng nhập số dự đoán của bạn.")
    page.fill("#f-prediction", "12")
    assert_fits(page, SMALL)
    shot(page, "contest-2b-prediction-360")
    page.click("#predict-submit")

    # --- question 1, then a reload: the same question, the countdown goes on
    expect(page.locator("#s-question")).to_be_visible(timeout=LONG)
    expect(page.locator("#q-num")).to_have_text("Câu 1/4")
    opts = page.locator("#q-options .opt")
    expect(opts).to_have_count(4)
    expect(opts.locator(".opt-letter")).to_have_text(["A", "B", "C", "D"])
    expect(page.locator("#q-attempt")).to_contain_text("Lượt thi còn")
    first_text = page.locator("#q-text").inner_text()
    first_options = opts.all_inner_texts()
    assert 28 <= secs(page) <= 30, secs(page)
    assert_fits(page, SMALL)
    assert_contrast(page, "question")
    shot(page, "contest-3-question-360")
    page.wait_for_timeout(2200)  # the participant thinks for 2 s, then the phone reloads the page
    page.reload()
    expect(page.locator("#s-question")).to_be_visible(timeout=LONG)
    expect(page.locator("#q-num")).to_have_text("Câu 1/4")
    expect(page.locator("#q-text")).to_have_text(first_text)
    assert page.locator("#q-options .opt").all_inner_texts() == first_options
    left = secs(page)
    assert 20 <= left <= 28, f"the countdown restarted after the reload: {left} s left of 30"

    # --- answer all four (the page does not know the right ones), never told right or wrong
    picks = [0, 1, 2, 3]
    for i, pick in enumerate(picks):
        expect(page.locator("#q-num")).to_have_text(f"Câu {i + 1}/4", timeout=LONG)
        expect(page.locator("#q-options .opt")).to_have_count(4)
        page.locator("#q-options .opt").nth(pick).click()
        assert page.locator(".is-correct, .is-right, .is-wrong").count() == 0
    # a second tap on the same question is impossible: the options lock on the first

    # --- the result
    expect(page.locator("#s-done")).to_be_visible(timeout=LONG)
    expect(page.locator("#done-title")).to_be_focused()
    expect(page.locator("#done-title")).to_have_text("Bạn đã hoàn thành lượt thi")
    expect(page.locator("#done-score")).to_have_text(re.compile(r"^[0-4]/4$"))
    expect(page.locator("#done-score-unit")).to_have_text("câu đúng")
    expect(page.locator("#done-time")).to_have_text(re.compile(r"^Tổng thời gian làm bài: \d+,\d giây$"))
    expect(page.locator("#done-why")).to_contain_text("Bạn đã trả lời hết các câu hỏi")
    expect(page.locator("#done-left")).to_have_text("Bạn còn 1 lượt thi trong Tuần 1.", timeout=LONG)
    me = httpx.get(server.base + "/api/contest/me", headers=bearer, timeout=10).json()
    result = me["results"][0]
    assert me["tries"] == 1 and me["attempts_left"] == 1 and me["open_attempt"] is None
    expect(page.locator("#done-score")).to_have_text(f"{result['correct']}/4")
    assert_fits(page, SMALL)
    assert_contrast(page, "result")
    shot(page, "contest-4-result-360")

    # --- the review: every question, the participant's choice and the correct one, as the server says
    page.click("#done-review")
    expect(page.locator("#s-review")).to_be_visible(timeout=LONG)
    review = httpx.get(f"{server.base}/api/contest/attempts/{result['attempt']}/review", headers=bearer,
                       timeout=10).json()["questions"]
    items = page.locator("#review-list .rv-item")
    expect(items).to_have_count(4)
    for i, q in enumerate(review):
        item = items.nth(i)
        expect(item.locator(".rv-text")).to_have_text(q["text"])
        assert q["chosen"] == picks[i]
        marks = item.locator(".rv-opt")
        expect(marks).to_have_count(len(q["options"]))
        expect(item.locator(".rv-opt.is-correct")).to_have_count(1)
        expect(marks.nth(q["correct"])).to_have_class(re.compile(r"\bis-correct\b"))
        expect(marks.nth(q["chosen"])).to_have_class(re.compile(r"\bis-chosen\b"))
        expect(item.locator(".rv-verdict")).to_have_text("Đúng" if q["chosen"] == q["correct"] else "Chưa đúng")
    expect(page.locator("#review-summary")).to_have_text(f"Bạn trả lời đúng {result['correct']}/4 câu.")
    assert_fits(page, SMALL)
    assert_contrast(page, "review")
    shot(page, "contest-5-review-360")

    # --- home again: one attempt fewer, the result listed
    page.click("#review-home")
    expect(page.locator("#s-home")).to_be_visible()
    expect(page.locator("#person-tries")).to_have_text("Tuần 1: bạn đã thi 1/2 lượt, còn 1 lượt.")
    expect(page.locator("#start")).to_have_text("Bắt đầu lượt thi thứ 2")
    expect(page.locator("#results-list li")).to_have_count(1)
    expect(page.locator("#results-list li")).to_contain_text(f"Tuần 1 · lượt 1{result['correct']}/4 câu đúng")
    assert_fits(page, SMALL)
    page.locator("#not-me").scroll_into_view_if_needed()
    shot(page, "contest-1c-home-after-360")

    # --- English and back
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#person-tries")).to_have_text("Tuần 1: you have used 1 of 2 attempts; 1 left.")
    expect(page.locator("#home-round")).to_contain_text("Open now")
    expect(page.locator("#lang")).to_have_text("Tiếng Việt")
    assert_fits(page, SMALL)
    shot(page, "contest-1d-home-en-360")
    page.evaluate("window.scrollTo(0, 0)")
    page.click("#lang")
    expect(page.locator("#person-tries")).to_have_text("Tuần 1: bạn đã thi 1/2 lượt, còn 1 lượt.")

    # --- the same person on a desktop: entering again finds their attempts and results
    desk = open_page(server.base + "/contest", LAPTOP, "contest-desktop")
    expect(desk.locator("#s-home")).to_be_visible()
    desk.click("#go-entry")
    enter(desk, "Nguyễn Thị Lan", "0912345678")
    expect(desk.locator("#home-msg")).to_contain_text("Chào mừng bạn quay lại")
    expect(desk.locator("#person-tries")).to_have_text("Tuần 1: bạn đã thi 1/2 lượt, còn 1 lượt.")
    expect(desk.locator("#results-list li")).to_have_count(1)
    # a centred column, the rules beside the participant's card
    app = desk.locator("#app").bounding_box()
    assert app is not None and app["width"] <= 1080 and abs(app["x"] + app["width"] / 2 - LAPTOP["width"] / 2) < 2
    card, rules = desk.locator("#home-person").bounding_box(), desk.locator(".rules").bounding_box()
    assert card is not None and rules is not None and rules["x"] >= card["x"] + card["width"]
    start = desk.locator("#start").bounding_box()
    assert start is not None and start["y"] + start["height"] <= LAPTOP["height"], "the start button is below the fold"
    assert_fits(desk, LAPTOP)
    assert_contrast(desk, "desktop")
    shot(desk, "contest-6-desktop")
    desk.click("#start")
    desk.fill("#f-prediction", "5")
    desk.click("#predict-submit")
    expect(desk.locator("#q-num")).to_have_text("Câu 1/4", timeout=LONG)
    assert_fits(desk, LAPTOP)
    desk.mouse.move(5, 5)  # no hover on an option in the picture
    shot(desk, "contest-6b-desktop-question")

    # --- "not you?": the token is forgotten, the form comes back
    page.click("#not-me")
    expect(page.locator("#s-entry")).to_be_visible()
    assert page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')") is None
    expect(page.locator("#entry-msg")).to_be_hidden()
    # a stale token (401): forgotten, the entry form with a word of why
    page.evaluate(f"localStorage.setItem('{TOKEN_KEY}', 'p0123456789abcdef.forged')")
    page.reload()
    expect(page.locator("#s-entry")).to_be_visible()
    expect(page.locator("#entry-msg")).to_have_text(
        "Phiên dự thi trên thiết bị này đã hết hiệu lực. Vui lòng đăng ký lại.")
    assert page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')") is None


def test_contest_page_time_runs_out_and_the_network_drops(make_server: Callable[..., ServerProc],
                                                           open_page: Callable[..., Any], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # the dropped and refused requests below are on purpose: Chromium logs them as console errors
    monkeypatch.setattr(browser_conftest, "EXPECTED_CONSOLE",
                        (*browser_conftest.EXPECTED_CONSOLE, "status of 503", "net::ERR_FAILED"))
    server = make_server(*contest_args(tmp_path, per_question=5, per_attempt=60, attempts=1, prediction=False))
    page = open_page(server.base + "/contest", SMALL, "contest-short")
    expect(page.locator("#rules")).to_contain_text("Thời gian trả lời mỗi câu: 5 giây.")
    page.click("#go-entry")
    enter(page, "Trần Văn Bình", "0987654321", query="an binh kim thanh", parent="Kim Thành", keyboard=True)
    expect(page.locator("#person-unit")).to_have_text("UBND xã An Bình — Huyện Kim Thành")
    expect(page.locator("#person-tries")).to_have_text("Tuần 1: bạn đã thi 0/1 lượt, còn 1 lượt.")

    # no prediction in this contest: the first question comes at once; let it run out
    page.click("#start")
    expect(page.locator("#q-num")).to_have_text("Câu 1/4", timeout=LONG)
    started = time.monotonic()
    expect(page.locator("#q-status")).to_have_text("Hết thời gian trả lời câu này. Đang chuyển sang câu tiếp theo…",
                                                   timeout=8_000)
    assert 3.5 <= time.monotonic() - started <= 6.5
    expect(page.locator("#q-announce")).to_contain_text("Hết giờ!")
    expect(page.locator("#q-secs")).to_have_text("0")
    for i in range(4):
        expect(page.locator("#q-options .opt").nth(i)).to_be_disabled()
    assert_contrast(page, "time up")
    shot(page, "contest-7-time-up-360")
    expect(page.locator("#q-num")).to_have_text("Câu 2/4", timeout=6_000)  # the server moved on
    expect(page.locator("#q-options .opt").first).to_be_enabled()

    # the answer meets a 503 once, then the network drops for the next question: a notice, a retry,
    # and the attempt goes on where the server holds it
    failures = {"answer": 1, "next": 1}

    def flaky(route: Any) -> None:
        kind = "answer" if route.request.url.endswith("/answer") else "next"
        if failures[kind] > 0:
            failures[kind] -= 1
            if kind == "answer":
                route.fulfill(status=503, content_type="application/json",
                              body=json.dumps({"error": "unavailable", "message": "redis down"}))
            else:
                route.abort()
            return
        route.continue_()

    page.route(re.compile(r".*/api/contest/attempts/.*/(answer|next)$"), flaky)
    page.locator("#q-options .opt").nth(1).click()
    expect(page.locator("#notice")).to_be_visible(timeout=LONG)
    expect(page.locator("#notice-text")).to_contain_text(re.compile("gián đoạn|Mất kết nối"))
    shot(page, "contest-8-retry-360")
    expect(page.locator("#q-num")).to_have_text("Câu 3/4", timeout=LONG)
    expect(page.locator("#notice")).to_be_hidden(timeout=LONG)
    assert failures == {"answer": 0, "next": 0}
    page.unroute(re.compile(r".*/api/contest/attempts/.*/(answer|next)$"))
    page.locator("#q-options .opt").nth(0).click()
    expect(page.locator("#q-num")).to_have_text("Câu 4/4", timeout=LONG)
    page.locator("#q-options .opt").nth(3).click()

    # the result, and the review: question 1 unanswered
    expect(page.locator("#s-done")).to_be_visible(timeout=LONG)
    expect(page.locator("#done-why")).to_contain_text("Bạn đã trả lời hết các câu hỏi")
    expect(page.locator("#done-left")).to_have_text("Bạn đã sử dụng hết các lượt thi của Tuần 1.", timeout=LONG)
    page.click("#done-review")
    first = page.locator("#review-list .rv-item").first
    expect(first.locator(".rv-verdict")).to_have_text("Không trả lời")
    expect(first.locator(".rv-opt.is-chosen")).to_have_count(0)
    expect(first.locator(".rv-opt.is-correct")).to_have_count(1)
    expect(first.locator(".rv-note")).to_contain_text("Bạn chưa chọn đáp án")
    expect(page.locator("#review-list .rv-item").nth(1).locator(".rv-opt").nth(1)).to_have_class(
        re.compile(r"\bis-chosen\b"))
    assert_fits(page, SMALL)
    shot(page, "contest-9-review-time-up-360")

    # no attempt left: home says so, no start button
    page.click("#review-home")
    expect(page.locator("#person-tries")).to_have_text(
        "Tuần 1: bạn đã sử dụng hết 1 lượt thi. Hẹn gặp lại bạn ở vòng tiếp theo.")
    expect(page.locator("#start")).to_be_hidden()
