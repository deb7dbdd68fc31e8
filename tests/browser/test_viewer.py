"""Viewer phone page in a real browser: join (with inline validation), answer, ack, reload
mid-question (the answer stays locked in), reveal, standing, episode result.

Runs on the Vietnamese test bank and saves the viewer screenshots (390×844)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, VI_BANK, shot
from tests.conftest import ServerProc

LONG = 20_000
ME = re.compile(r"^Bạn: Minh Anh #[34679ACDEFGHJKMNPQRTUVWXY]{4}$")  # with the public tag


def test_viewer_joins_answers_sees_ack_result_and_resumes(make_server: Callable[..., ServerProc],
                                                         open_page: Callable[..., Any],
                                                         bots: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1", "--require", "full_name,unit")
    page = open_page(server.base + "/", PHONE, "viewer")

    # join form: the show's required fields are asked for, validation is inline
    expect(page.locator("#s-join")).to_be_visible()
    expect(page.locator("#join-title")).to_have_text("Tham gia trả lời")
    expect(page.locator("#f-full_name")).to_be_visible()
    expect(page.locator("#f-unit")).to_be_visible()
    expect(page.locator("#f-phone")).to_be_hidden()  # not required by this show
    page.click("#join-submit")
    expect(page.locator("#e-name")).to_have_text("Vui lòng nhập tên hiển thị.")
    expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-full_name")).to_contain_text("họ và tên")
    shot(page, "viewer-0-join-validation")
    page.fill("#f-name", "Minh Anh")
    page.fill("#f-full_name", "Trần Minh Anh")
    page.fill("#f-unit", "Sở Thông tin và Truyền thông")
    page.locator("#f-unit").blur()
    expect(page.locator("#e-name")).to_be_empty()
    shot(page, "viewer-1-join")
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")
    expect(page.locator("#me")).to_have_text(ME)

    # another player who will be faster, so "fastest" is someone else
    bots(server.ws, "Thu Hà", {0: (1, 0.0)}, full_name="Lê Thu Hà", unit="UBND quận Ba Đình")

    # question → answer → ack
    assert server.cmd("open", expect=0).status_code == 200
    expect(page.locator("#s-question")).to_be_visible()
    expect(page.locator("#q-text")).to_contain_text("Chương trình tổng thể cải cách hành chính")
    expect(page.locator("#q-num")).to_have_text("Câu 1/3")
    options = page.locator("#q-options .opt")
    expect(options).to_have_count(4)
    expect(options.nth(0).locator(".opt-letter")).to_have_text("A")
    secs = int(page.locator("#q-secs").inner_text())
    assert 50 <= secs <= 60, secs
    shot(page, "viewer-2-question")
    options.nth(1).click()
    expect(options.nth(1)).to_have_class("opt is-chosen")  # locked on the first tap, ack received
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án B sau", timeout=LONG)
    for i in range(4):
        expect(options.nth(i)).to_be_disabled()
    shot(page, "viewer-3-answered")

    # reload mid-question: same player, the answer is still locked in
    page.reload()
    expect(page.locator("#s-question")).to_be_visible(timeout=LONG)
    expect(page.locator("#q-options .opt").nth(1)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án B sau")
    expect(page.locator("#q-options .opt").nth(2)).to_be_disabled()
    expect(page.locator("#me")).to_have_text(ME)

    # close → reveal: right/wrong, correct option, own time, fastest, own standing
    assert server.cmd("close", expect=0).status_code == 200
    expect(page.locator("#q-phase")).to_have_text("Hết giờ")
    expect(page.locator("#q-status")).to_contain_text("Bạn đã chọn B")
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chính xác!")
    expect(page.locator("#r-correct")).to_have_text("Đáp án đúng: B. Nghị quyết số 76/NQ-CP của Chính phủ")
    expect(page.locator("#r-time")).to_contain_text("Thời gian trả lời của bạn:")
    expect(page.locator("#r-fastest")).to_contain_text("Nhanh nhất: ")
    expect(page.locator("#q-options .opt").nth(1).locator(".opt-tag")).to_have_text("✓ Đúng")
    expect(page.locator("#standing-text")).to_contain_text("Hạng ")
    expect(page.locator("#standing-text")).to_contain_text("/2 · 1 câu đúng")
    shot(page, "viewer-4-revealed")

    # a wrong answer on question 2, then the episode result
    assert server.cmd("open", expect=1).status_code == 200
    expect(page.locator("#q-num")).to_have_text("Câu 2/3")
    page.locator("#q-options .opt").nth(0).click()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án A", timeout=LONG)
    assert server.cmd("close", expect=1).status_code == 200
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chưa đúng")
    expect(page.locator("#r-correct")).to_contain_text("Đáp án đúng: D. 6 nội dung")
    assert server.cmd("finish").status_code == 200
    expect(page.locator("#s-board")).to_be_visible()
    expect(page.locator("#b-title")).to_have_text("Chương trình đã kết thúc")
    expect(page.locator("#b-winner-name")).not_to_be_empty()
    expect(page.locator("#b-top li")).to_have_count(2)
    expect(page.locator("#standing-text")).to_contain_text("1 câu đúng")
    shot(page, "viewer-5-result")


def test_viewer_english_and_language_toggle(server: ServerProc, open_page: Callable[..., Any]) -> None:
    page = open_page(server.base + "/?lang=en", PHONE, "viewer-en")
    expect(page.locator("#join-title")).to_have_text("Join the quiz")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("#join-submit")
    expect(page.locator("#e-name")).to_have_text("Please enter your display name.")
    page.click("#lang")
    expect(page.locator("#join-title")).to_have_text("Tham gia trả lời")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#lang")).to_have_text("English")
    # a join refused by the server is explained next to the field
    page.fill("#f-name", "Bình")
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")


def test_viewer_waits_out_the_stream_delay(make_server: Callable[..., ServerProc],
                                           open_page: Callable[..., Any]) -> None:
    """With a stream delay the phone must not run ahead of the broadcast: a question opened on
    air reaches phones D seconds later; a connected phone is told at once that it is coming (the
    ``waiting`` frame, nothing of the question in it), a phone that (re)loads inside that gap shows
    'get ready' too, and the countdown then starts from the full time limit."""
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1", "--stream-delay", "4")
    page = open_page(server.base + "/", PHONE, "viewer-delay")
    page.fill("#f-name", "Hạnh")
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")
    assert server.cmd("open", expect=0).status_code == 200
    # on air now, not on the phone yet: the connected phone shows the cue, not the question
    expect(page.locator("#info-title")).to_have_text("Chuẩn bị!")
    expect(page.locator("#info-cue")).to_be_visible()
    expect(page.locator("#s-question")).to_be_hidden()
    assert page.locator("#q-text").inner_text() == ""  # nothing of the question reached the page
    # a phone that reloads inside the gap is told to get ready
    page.reload()
    expect(page.locator("#info-title")).to_have_text("Chuẩn bị!")
    expect(page.locator("#info-text")).to_have_text("Câu hỏi sắp hiện ra…")
    shot(page, "viewer-6-stream-delay-waiting")
    # the question arrives by itself at the release, with the whole answer window ahead
    expect(page.locator("#s-question")).to_be_visible(timeout=LONG)
    secs = int(page.locator("#q-secs").inner_text())
    assert 55 <= secs <= 60, secs
