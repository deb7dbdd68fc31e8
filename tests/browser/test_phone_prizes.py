"""The winner's phone shows its prize: claim codes and QR codes after the episode (issue 13, item 16).

A whole short episode on a real server, real Redis and two real phones (the winner's at
360×640): the winner's phone shows a prize card whose codes the prize desk accepts
(``/api/host/claims/check``), readable and inside the screen; it survives a reload; the other
phone has none. A handover is recorded at the desk, then the winner is disqualified: the card
gives way to a "passed on" notice, and the reserve who moved up gets a card with new codes,
which stays on the phone once the next episode is loaded. Saves viewer-14/15 screenshots.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, shot
from tests.conftest import ServerProc

SMALL = {"width": 360, "height": 640}
LONG = 20_000
CORRECT = [1, 0, 2]  # test/ep1: B, A, C
EP = "test.ep1"
PASSED = "Giải thưởng đã được chuyển cho người khác theo thể lệ."

# Contrast of every text in the prize card over the background colour painted behind it
# (composited from the root down; the card's gradient has its lightest stop as its colour).
CONTRAST_JS = """(sel) => {
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
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!el.textContent.trim() || !el.getClientRects().length || el.closest(".visually-hidden")) continue;
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) bg = over(c, bg);
    }
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({ cls: el.className, text: el.textContent.trim().slice(0, 30), ratio: (hi + 0.05) / (lo + 0.05) });
  }
  return out;
}"""


def join(page: Any, name: str, full_name: str, unit: str) -> None:
    expect(page.locator("#f-full_name")).to_be_visible()
    page.fill("#f-name", name)
    page.fill("#f-full_name", full_name)
    page.fill("#f-unit", unit)
    page.click("#join-submit")
    expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")


def answer(page: Any, option: int) -> None:
    page.locator("#q-options .opt").nth(option).click()
    expect(page.locator("#q-status")).to_contain_text("Đã ghi nhận đáp án", timeout=LONG)


def codes(page: Any) -> dict[str, str]:
    """prize → code, as the page shows them."""
    cells = page.locator("#prizes .prize-code .code")
    return {cells.nth(i).get_attribute("data-prize"): cells.nth(i).inner_text() for i in range(cells.count())}


def box(page: Any, selector: str) -> dict[str, float]:
    b = page.locator(selector).bounding_box()
    assert b is not None, f"{selector} is not rendered"
    return dict(b)


def assert_fits(page: Any, viewport: dict[str, int]) -> None:
    """The card, its codes and QR codes inside the screen's width; nothing scrolls sideways."""
    width = viewport["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, "the page scrolls sideways"
    card = box(page, "#prizes .prize-card")
    assert card["x"] >= 0 and card["x"] + card["width"] <= width + 0.5, card
    assert page.eval_on_selector("#prizes .prize-card", "e => e.scrollWidth <= e.clientWidth"), "card overflows"
    n = page.locator("#prizes .prize").count()
    for i in range(n):
        code = box(page, f"#prizes .prize-code .code >> nth={i}")
        assert code["x"] >= card["x"] and code["x"] + code["width"] <= card["x"] + card["width"], code
        assert page.locator("#prizes .prize-code .code").nth(i).evaluate(
            "e => e.scrollWidth <= e.clientWidth + 1"), "the code is cut off"
        size = float(page.locator("#prizes .prize-code .code").nth(i).evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"))
        assert size >= 20, f"the code is too small to read: {size}px"
        qr = page.locator("#prizes .prize-qr svg").nth(i)
        expect(qr).to_be_visible()
        q = qr.bounding_box()
        assert q is not None
        assert 150 <= q["width"] <= 210 and abs(q["width"] - q["height"]) < 1, q
        assert q["x"] >= 0 and q["x"] + q["width"] <= width, q
        # a white quiet zone around the symbol
        assert page.locator("#prizes .prize-qr").nth(i).evaluate(
            "e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"


def assert_contrast(page: Any) -> None:
    parts = page.evaluate(CONTRAST_JS, "#prizes :is(p, h2, span)")
    assert parts, "nothing measured"
    for p in parts:
        assert p["ratio"] >= 4.5, f"prize card: {p['cls']} {p['text']!r} contrast {p['ratio']:.2f}"


def stored(page: Any) -> dict[str, Any]:
    book: dict[str, Any] = json.loads(page.evaluate("localStorage.getItem('qe.viewer.prizes') || '{}'"))
    return book


def test_the_winners_phone_shows_the_prize_card_and_the_notice_when_it_passes_on(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], tmp_path: Path) -> None:
    server = make_server("--load", "test/ep1", "--require", "full_name,unit")
    lan = open_page(server.base + "/", SMALL, "viewer-winner")
    minh = open_page(server.base + "/", PHONE, "viewer-reserve")
    join(lan, "Lan", "Nguyễn Thị Lan", "Phường Bến Nghé")
    join(minh, "Minh", "Trần Văn Minh", "Phường Đa Kao")

    # Lan answers every question right and first; Minh is right on question 1 only (after Lan:
    # its reserve) and wrong on the others. One prize per person: Lan holds question 1's prize
    # and the episode's, nobody else holds one.
    for q, right in enumerate(CORRECT):
        assert server.cmd("open", expect=q).status_code == 200
        for page in (lan, minh):
            expect(page.locator("#q-num")).to_have_text(f"Câu {q + 1}/3")
        answer(lan, right)
        answer(minh, right if q == 0 else (right + 1) % 3)
        assert server.cmd("close", expect=q).status_code == 200
        assert server.cmd("reveal").status_code == 200
        expect(lan.locator("#r-verdict")).to_have_text("Chính xác!")
    assert server.cmd("finish").status_code == 200

    for page in (lan, minh):
        expect(page.locator("#b-title")).to_have_text("Chương trình đã kết thúc", timeout=LONG)
    card = lan.locator("#prizes .prize-card")
    expect(card).to_be_visible()
    expect(card.locator(".prize-title")).to_have_text("Bạn đoạt giải!")
    expect(card.locator(".prize-label")).to_have_text(["Giải câu 1", "Giải nhất tập"])
    expect(card.locator(".prize-how")).to_have_text(
        "Đọc mã này cho ban tổ chức hoặc đưa mã QR tại bàn trao giải. Không chia sẻ mã cho người khác.")
    expect(card.locator(".prize-notice")).to_have_count(0)
    expect(lan.locator("#b-message")).to_have_text("Chúc mừng! Bạn là người chiến thắng!")
    expect(lan.locator("#prizes .prize-qr svg")).to_have_count(2)
    # the card comes first on the final screen, the board below it
    assert box(lan, "#prizes")["y"] < box(lan, "#b-winner")["y"] < box(lan, "#b-top")["y"]
    expect(lan.locator("#prizes .prize-title")).to_be_in_viewport(ratio=1)
    expect(lan.locator("#prizes .prize-code .code").first).to_be_in_viewport(ratio=1)
    expect(lan.locator("#prizes .prize-how")).to_be_in_viewport(ratio=1)
    expect(lan.locator("#prizes .prize-qr").first).to_be_in_viewport(ratio=1)
    # …and not under the rank card pinned to the bottom
    assert box(lan, "#prizes .prize-qr >> nth=0")["y"] + box(lan, "#prizes .prize-qr >> nth=0")["height"] \
        <= box(lan, "#standing")["y"]
    expect(minh.locator("#prizes")).to_be_hidden()  # the other phone: no prize, no card
    expect(minh.locator("#b-winner-name")).to_contain_text("Lan")

    held = codes(lan)
    assert set(held) == {"q1", "episode"}, held
    assert len(set(held.values())) == 2
    lan.evaluate("document.fonts.ready")
    assert_fits(lan, SMALL)
    assert_contrast(lan)
    lan.evaluate("window.scrollTo(0, 0)")
    shot(lan, "viewer-14-prize-360")
    lan.screenshot(path=str(tmp_path / "prize-full-360.png"), full_page=True, animations="disabled")

    with server.host() as host:
        # the codes on the phone are the server's: the desk finds each one's prize and its holder
        for prize, code in held.items():
            r = host.post("/api/host/claims/check", json={"code": code})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["ok"] and body["episode"] == EP and body["prize"] == prize, body
            assert body["holder"]["name"] == "Lan" and body["holder"]["full_name"] == "Nguyễn Thị Lan", body
        results = host.get("/api/host/results").json()
        standings = {row["name"]: row for row in results["standings"]}

    # a reload: the same card, the same codes (from the server's snapshot; kept on the phone too)
    lan.reload()
    expect(lan.locator("#b-title")).to_have_text("Chương trình đã kết thúc", timeout=LONG)
    expect(lan.locator("#prizes .prize-card .prize-title")).to_have_text("Bạn đoạt giải!")
    assert codes(lan) == held
    assert {p["code"] for p in stored(lan)[EP]["prizes"]} == set(held.values())
    assert_fits(lan, SMALL)
    minh.reload()
    expect(minh.locator("#b-title")).to_have_text("Chương trình đã kết thúc", timeout=LONG)
    expect(minh.locator("#prizes")).to_be_hidden()
    assert stored(minh) == {}

    # English: the same card, in the other language
    lan.click("#lang")
    expect(lan.locator("#prizes .prize-title")).to_have_text("You won a prize!")
    expect(lan.locator("#prizes .prize-label")).to_have_text(["Prize for question 1", "Episode winner's prize"])
    assert codes(lan) == held
    lan.screenshot(path=str(tmp_path / "prize-en-360.png"), animations="disabled")
    lan.click("#lang")
    expect(lan.locator("#prizes .prize-title")).to_have_text("Bạn đoạt giải!")

    # the desk hands over question 1's prize; then Lan is disqualified: both her codes stop
    # standing, her phone says so, and Minh (question 1's reserve, next in the standings) moves up
    with server.host() as host:
        given = host.post("/api/host/claims/handover", json={"code": held["q1"], "note": "CCCD đã kiểm tra"})
        assert given.status_code == 200, given.text
        assert given.json()["handed_over"]["prize"] == "q1"
    lan_id = standings["Lan"]["player"]
    assert server.cmd("disqualify", player=lan_id, reason="x").status_code == 200
    notice = lan.locator("#prizes .prize-card.is-passed .prize-notice")
    expect(notice).to_have_text(PASSED, timeout=LONG)
    expect(lan.locator("#prizes .prize-code")).to_have_count(0)
    expect(lan.locator("#prizes .prize-qr")).to_have_count(0)
    expect(lan.locator("#b-message")).to_have_text("Cảm ơn bạn đã tham gia!")  # no "you won" any more
    assert stored(lan)[EP]["prizes"] == [] and stored(lan)[EP]["passed"] is True
    assert_contrast(lan)
    assert lan.evaluate("document.scrollingElement.scrollWidth") <= SMALL["width"]
    expect(notice).to_be_in_viewport(ratio=1)
    lan.evaluate("window.scrollTo(0, 0)")
    shot(lan, "viewer-15-prize-passed-on-360")
    lan.reload()  # the notice stays (the server's snapshot has no prize for her now)
    expect(lan.locator("#prizes .prize-notice")).to_have_text(PASSED, timeout=LONG)
    expect(lan.locator("#prizes .prize-code")).to_have_count(0)

    expect(minh.locator("#prizes .prize-title")).to_have_text("Bạn đoạt giải!", timeout=LONG)
    moved = codes(minh)
    assert set(moved) == {"q1", "episode"} and not set(moved.values()) & set(held.values()), moved
    # not only the prizes: the final screen itself is revised (same seq) with the new winner
    expect(minh.locator("#b-winner-name")).to_contain_text("Minh")
    expect(minh.locator("#b-message")).to_have_text("Chúc mừng! Bạn là người chiến thắng!")
    expect(lan.locator("#b-winner-name")).to_contain_text("Minh")
    with server.host() as host:
        for prize, code in moved.items():
            r = host.post("/api/host/claims/check", json={"code": code})
            assert r.status_code == 200 and r.json()["holder"]["name"] == "Minh", r.text
            assert r.json()["prize"] == prize
        old = host.post("/api/host/claims/check", json={"code": held["episode"]})
        assert old.json()["reason"] == "passed_on", old.text
    assert_fits(minh, PHONE)

    # the next episode is loaded: the server no longer sends Minh's codes, his phone keeps them,
    # under the title of the episode they are for; Lan's passed-on notice is not shown there
    assert server.cmd("load", bank="test", episode="short").status_code == 200
    for page in (lan, minh):
        expect(page.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!", timeout=LONG)
    kept = minh.locator("#s-info #prizes .prize-card")
    expect(kept).to_be_visible()
    expect(kept.locator(".prize-kicker")).to_have_text("Test episode")
    assert codes(minh) == moved
    minh.reload()
    expect(minh.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!", timeout=LONG)
    expect(minh.locator("#s-info #prizes .prize-kicker")).to_have_text("Test episode")
    assert codes(minh) == moved
    expect(lan.locator("#prizes")).to_be_hidden()
    minh.set_viewport_size(SMALL)
    assert_fits(minh, SMALL)
    minh.screenshot(path=str(tmp_path / "kept-next-episode-360.png"))  # a look, not a doc screenshot
    # the new episode's questions take the whole screen: no card over them
    assert server.cmd("open", expect=0).status_code == 200
    expect(minh.locator("#s-question")).to_be_visible()
    expect(minh.locator("#prizes")).to_be_hidden()
