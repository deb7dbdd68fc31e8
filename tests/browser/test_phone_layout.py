"""The phone on a small screen (360×640), from a real run (issue 13, items 5–9).

- a long question (≈330 characters, 5 options): every option on the first screen;
- the reveal: the rank card never covers the verdict or the correct option;
- four required join fields: the join button on the first screen;
- the stream-delay gap: a "question coming" cue, animated unless reduced motion is asked for;
- every option's text at WCAG AA contrast (≥ 4.5:1) in every state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import VI_BANK, shot
from tests.conftest import ServerProc

SMALL = {"width": 360, "height": 640}
LONG = 20_000

LONG_TEXT = ("Theo Nghị quyết số 76/NQ-CP của Chính phủ ban hành Chương trình tổng thể cải cách hành chính "
             "nhà nước giai đoạn 2021–2030, đến năm 2025 phải cắt giảm, đơn giản hóa tối thiểu bao nhiêu phần "
             "trăm số quy định và chi phí tuân thủ quy định liên quan đến hoạt động kinh doanh, đồng thời số "
             "hóa hồ sơ và kết quả giải quyết thủ tục hành chính?")
LONG_BANK = f'''
[bank]
id = "dai"
title = "Câu hỏi dài"
language = "vi"

[[episodes]]
id = "tap-1"
title = "Tập 1: Câu hỏi dài"
questions = ["d1"]

[[questions]]
id = "d1"
text = "{LONG_TEXT}"
options = [
  "Tối thiểu 10% số quy định và 10% chi phí tuân thủ",
  "Tối thiểu 20% số quy định và 20% chi phí tuân thủ",
  "Tối thiểu 25% số quy định và 25% chi phí tuân thủ",
  "Tối thiểu 30% số quy định và 30% chi phí tuân thủ",
  "Không quy định tỷ lệ cụ thể, do từng bộ, ngành tự quyết định",
]
answer = "B"
time_limit = 60
'''

# Contrast of each option's text (letter, text, tag) over the background actually painted
# behind it: background colours composited from the root down. Options must not use opacity
# (their contrast would then depend on what is behind the page), so that is reported too.
CONTRAST_JS = """async (sel) => {
  // let colour transitions of the options end first
  const moving = document.getAnimations().filter((a) => a.effect?.target?.closest?.("#q-options"));
  await Promise.all(moving.map((a) => a.finished.catch(() => null)));
  const parse = (c) => {
    const p = c.match(/rgba?\\(([^)]+)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bot) => ({ r: top.r * top.a + bot.r * (1 - top.a), g: top.g * top.a + bot.g * (1 - top.a),
                                b: top.b * top.a + bot.b * (1 - top.a), a: 1 });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) bg = over(c, bg);
    }
    return bg;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const out = [];
  for (const btn of document.querySelectorAll(sel)) {
    for (const part of btn.querySelectorAll(".opt-letter, .opt-text, .opt-tag")) {
      if (!part.textContent.trim() || getComputedStyle(part).display === "none") continue;
      const bg = background(part);
      const fg = over(parse(getComputedStyle(part).color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      out.push({ option: btn.dataset.option, part: part.className, cls: btn.className,
                 ratio: (hi + 0.05) / (lo + 0.05), opacity: opacity(part) });
    }
  }
  return out;
}"""


def assert_contrast(page: Any, selector: str, what: str) -> None:
    parts = page.evaluate(CONTRAST_JS, selector)
    assert parts, f"{what}: nothing measured"
    for p in parts:
        assert p["opacity"] == 1, f"{what}: option {p['option']} {p['part']} has opacity {p['opacity']}"
        assert p["ratio"] >= 4.5, f"{what}: option {p['option']} ({p['cls']}) {p['part']} contrast {p['ratio']:.2f}"


def box(page: Any, selector: str) -> dict[str, float]:
    b = page.locator(selector).bounding_box()
    assert b is not None, f"{selector} is not rendered"
    return dict(b)


def inside_viewport(b: dict[str, float], viewport: dict[str, int]) -> bool:
    return b["y"] >= 0 and b["x"] >= 0 and b["y"] + b["height"] <= viewport["height"] + 0.5 \
        and b["x"] + b["width"] <= viewport["width"] + 0.5


def intersects(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def not_scrolled(page: Any) -> None:
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.scrollingElement.scrollTop") == 0


def join(page: Any, name: str = "Minh Anh") -> None:
    page.fill("#f-name", name)
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")


def test_phone_long_question_shows_every_option_on_the_first_screen(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], tmp_path: Path) -> None:
    bank = tmp_path / "dai.toml"
    bank.write_text(LONG_BANK, encoding="utf-8")
    assert 320 <= len(LONG_TEXT) <= 340
    server = make_server("--bank", str(bank), "--load", "dai/tap-1")
    page = open_page(server.base + "/", SMALL, "viewer-long")
    join(page)
    assert server.cmd("open", expect=0).status_code == 200
    options = page.locator("#q-options .opt")
    expect(options).to_have_count(5)
    expect(page.locator("#q-text")).to_have_text(LONG_TEXT)
    page.evaluate("document.fonts.ready")
    not_scrolled(page)
    for i in range(5):
        b = box(page, f"#q-options .opt >> nth={i}")
        assert inside_viewport(b, SMALL), f"option {'ABCDE'[i]} is off screen: {b}"
    assert inside_viewport(box(page, "#q-secs"), SMALL)
    # readable: the text shrinks only so far, and what does not fit scrolls with a "more" button
    size = float(page.eval_on_selector("#q-text", "e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= 15, size
    more = page.locator("#q-more")
    if page.eval_on_selector("#q-text", "e => e.scrollHeight > e.clientHeight + 1"):
        expect(more).to_be_visible()
        expect(more).to_have_text("Xem hết câu hỏi ▾")
        assert inside_viewport(box(page, "#q-more"), SMALL)
    shot(page, "viewer-8-long-question-360")

    if more.is_visible():
        more.click()
        expect(more).to_have_text("Thu gọn ▴")
        expect(more).to_have_attribute("aria-expanded", "true")
        assert page.eval_on_selector("#q-text", "e => e.scrollHeight <= e.clientHeight + 1")  # all of it shown
        more.click()
        expect(more).to_have_text("Xem hết câu hỏi ▾")
        for i in range(5):
            assert inside_viewport(box(page, f"#q-options .opt >> nth={i}"), SMALL)

    options.nth(4).click()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án E", timeout=LONG)
    assert inside_viewport(box(page, "#q-status"), SMALL)
    assert server.cmd("close", expect=0).status_code == 200
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chưa đúng")
    expect(page.locator("#standing")).to_be_visible()
    expect(page.locator("#standing-text")).to_have_text("Bạn chưa có câu trả lời đúng nào.")
    shot(page, "viewer-9-long-question-revealed-360")
    rank = box(page, "#standing")
    for sel in ("#r-verdict", "#r-correct", "#q-options .opt.is-correct", "#q-options .opt.is-chosen"):
        b = box(page, sel)
        assert not intersects(b, rank), f"the rank card covers {sel}"
        assert inside_viewport(b, SMALL), f"{sel} is off screen: {b}"
    assert inside_viewport(rank, SMALL)


def test_phone_reveal_rank_card_never_covers_the_answer(make_server: Callable[..., ServerProc],
                                                         open_page: Callable[..., Any],
                                                         bots: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1")
    page = open_page(server.base + "/", SMALL, "viewer-reveal")
    join(page)
    bots(server.ws, "Thu Hà", {0: (1, 0.0), 1: (3, 0.0)}, full_name="Lê Thu Hà", unit="UBND quận Ba Đình")
    for index, pick, verdict in ((0, 1, "Chính xác!"), (1, 0, "Chưa đúng")):
        assert server.cmd("open", expect=index).status_code == 200
        expect(page.locator("#q-num")).to_have_text(f"Câu {index + 1}/3")
        page.locator("#q-options .opt").nth(pick).click()
        expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án", timeout=LONG)
        assert server.cmd("close", expect=index).status_code == 200
        assert server.cmd("reveal").status_code == 200
        expect(page.locator("#r-verdict")).to_have_text(verdict)
        expect(page.locator("#standing-text")).to_contain_text("Hạng ")
        not_scrolled(page)
        rank = box(page, "#standing")
        assert inside_viewport(rank, SMALL)
        for sel in ("#r-verdict", "#r-correct", "#q-options .opt.is-correct"):
            b = box(page, sel)
            assert not intersects(b, rank), f"question {index + 1}: the rank card covers {sel}"
            assert inside_viewport(b, SMALL), f"question {index + 1}: {sel} is off screen: {b}"
        if index == 0:
            shot(page, "viewer-10-revealed-360")
        assert server.cmd("leaderboard").status_code == 200
        expect(page.locator("#s-board")).to_be_visible()


def test_phone_join_button_on_the_first_screen_with_every_field_required(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1", "--require", "full_name,unit,phone")
    page = open_page(server.base + "/", SMALL, "viewer-join4")
    expect(page.locator("#s-join")).to_be_visible()
    for name in ("name", "full_name", "unit", "phone"):
        expect(page.locator(f"#f-{name}")).to_be_visible()
        expect(page.locator(f"#f-{name}")).to_have_attribute("aria-required", "true")
    page.evaluate("document.fonts.ready")
    not_scrolled(page)
    button = box(page, "#join-submit")
    assert inside_viewport(button, SMALL), f"join button below the fold: {button}"
    expect(page.locator("#join-submit")).to_be_in_viewport(ratio=1)
    # the hints are still there, inside the fields
    expect(page.locator("#f-full_name")).to_have_attribute("placeholder", "Dùng để trao giải")
    expect(page.locator("#f-phone")).to_have_attribute("placeholder", "Để liên hệ khi bạn đoạt giải")
    for name in ("name", "full_name", "unit", "phone"):  # each placeholder fits its field
        assert page.eval_on_selector(f"#f-{name}", """e => {
          const c = document.createElement("canvas").getContext("2d"), st = getComputedStyle(e);
          c.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
          const room = e.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
          return c.measureText(e.placeholder).width <= room;
        }"""), f"the placeholder of {name} is cut off"
    shot(page, "viewer-11-join-all-fields-360")
    page.fill("#f-name", "Minh Anh")
    page.fill("#f-full_name", "Trần Minh Anh")
    page.fill("#f-unit", "Sở Thông tin và Truyền thông")
    page.fill("#f-phone", "0912 345 678")
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")


def test_phone_shows_a_question_coming_cue_in_the_stream_delay(make_server: Callable[..., ServerProc],
                                                               open_page: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1", "--stream-delay", "8")
    page = open_page(server.base + "/", SMALL, "viewer-coming")
    join(page, "Hạnh")
    expect(page.locator("#info-cue")).to_be_hidden()  # no cue in the lobby
    assert server.cmd("open", expect=0).status_code == 200
    page.reload()  # a phone (re)connecting inside the gap learns that something is on its way
    expect(page.locator("#info-title")).to_have_text("Chuẩn bị!")
    expect(page.locator("#info-text")).to_have_text("Câu hỏi sắp hiện ra…")
    cue = page.locator("#info-cue")
    expect(cue).to_be_visible()
    expect(page.locator("#s-info")).to_have_class(re.compile(r"\bis-coming\b"))
    dot = "#info-cue span"
    assert page.eval_on_selector(dot, "e => getComputedStyle(e).animationName") == "cue"
    assert page.eval_on_selector(dot, "e => getComputedStyle(e).animationIterationCount") == "infinite"
    assert inside_viewport(box(page, "#info-text"), SMALL)
    shot(page, "viewer-12-question-coming-360")
    # reduced motion: the same cue, standing still
    page.emulate_media(reduced_motion="reduce")
    assert page.eval_on_selector(dot, "e => getComputedStyle(e).animationName") == "none"
    assert page.eval_on_selector("#info-icon", "e => getComputedStyle(e).animationName") == "none"
    expect(cue).to_be_visible()
    # the question then arrives by itself, and the cue is gone
    expect(page.locator("#s-question")).to_be_visible(timeout=LONG)
    expect(page.locator("#s-info")).to_be_hidden()


def test_phone_option_text_meets_wcag_aa_in_every_state(make_server: Callable[..., ServerProc],
                                                        open_page: Callable[..., Any]) -> None:
    server = make_server("--bank", str(VI_BANK), "--load", "vi-demo/tap-1")
    page = open_page(server.base + "/", SMALL, "viewer-contrast")
    join(page)
    opts = "#q-options .opt"
    # question 1: chosen right
    assert server.cmd("open", expect=0).status_code == 200
    expect(page.locator(opts)).to_have_count(4)
    assert_contrast(page, opts, "open, nothing chosen")
    page.locator(opts).nth(1).click()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án B", timeout=LONG)
    assert_contrast(page, f"{opts}:not(.is-chosen)", "after choosing: the other options")
    assert_contrast(page, f"{opts}.is-chosen", "after choosing: the chosen option")
    shot(page, "viewer-13-answered-contrast-360")
    assert server.cmd("close", expect=0).status_code == 200
    expect(page.locator("#q-phase")).to_have_text("Hết giờ")
    assert_contrast(page, opts, "closed")
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chính xác!")
    assert_contrast(page, opts, "revealed, chosen right")
    # question 2: chosen wrong, then a question left unanswered
    assert server.cmd("open", expect=1).status_code == 200
    expect(page.locator("#q-num")).to_have_text("Câu 2/3")
    page.locator(opts).nth(0).click()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án A", timeout=LONG)
    assert server.cmd("close", expect=1).status_code == 200
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Chưa đúng")
    assert_contrast(page, opts, "revealed, chosen wrong")
    assert server.cmd("open", expect=2).status_code == 200
    expect(page.locator("#q-num")).to_have_text("Câu 3/3")
    assert server.cmd("close", expect=2).status_code == 200
    expect(page.locator("#q-phase")).to_have_text("Hết giờ")
    assert_contrast(page, opts, "closed, not answered")
    assert server.cmd("reveal").status_code == 200
    expect(page.locator("#r-verdict")).to_have_text("Bạn chưa trả lời")
    assert_contrast(page, opts, "revealed, not answered")
