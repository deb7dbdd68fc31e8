"""The online contest's organiser page (/static/contest-admin.html): the host token's cookie
session, the counts, participation per unit (red under the threshold, sortable, an accent-blind
filter, 500+ units), the round's winners, the look-alikes explained, the weekly report's
downloads, refresh (button, every 15 s, paused in a hidden tab), English, 768 px, and the
failures (401 → login, 404 → no contest, 503 / network → the last figures stay)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, SHOTS, shot
from tests.conftest import HOST_TOKEN, ServerProc
from tests.contest_files import contest_args

PAGE = "/static/contest-admin.html"
WAIT = 10_000  # ms, every expectation below
DAYS = r"\d\d/\d\d–\d\d/\d\d"  # a round's first and last day


# ---------------------------------------------------------------- participants, through their API
def play(server: ServerProc, full_name: str, unit: str, phone: str, *, finish: bool = True) -> dict[str, Any]:
    """Enter, start (prediction 3) and answer option 0 of every question until done."""
    with httpx.Client(base_url=server.base, timeout=10) as c:
        entered = c.post("/api/contest/enter", json={"full_name": full_name, "unit": unit, "phone": phone})
        assert entered.status_code == 200, entered.text
        c.headers["authorization"] = f"Bearer {entered.json()['token']}"
        started = c.post("/api/contest/start", json={"prediction": 3})
        assert started.status_code == 200, started.text
        aid = started.json()["attempt"]
        if not finish:
            nxt = c.post(f"/api/contest/attempts/{aid}/next")  # one question delivered: in progress
            assert nxt.status_code == 200 and "question" in nxt.json(), nxt.text
            return {}
        for _ in range(20):
            nxt = c.post(f"/api/contest/attempts/{aid}/next")
            assert nxt.status_code == 200, nxt.text
            body = nxt.json()
            if "done" in body:
                return dict(body["done"])
            index = body["question"]["index"]
            answer = c.post(f"/api/contest/attempts/{aid}/answer", json={"index": index, "option": 0})
            assert answer.status_code == 200, answer.text
    raise AssertionError("the attempt never finished")


def overview(server: ServerProc) -> dict[str, Any]:
    with server.host() as c:
        r = c.get("/api/host/contest/overview")
        assert r.status_code == 200, r.text
        return dict(r.json())


def login(page: Any, token: str = HOST_TOKEN) -> None:
    expect(page.locator("#login")).to_be_visible(timeout=WAIT)
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible(timeout=WAIT)


def card(page: Any, name: str) -> Any:
    return page.locator(f'.card[data-card="{name}"] .card-value')


def rows(page: Any) -> Any:
    return page.locator("#units tbody tr:visible")


def row(page: Any, code: str) -> Any:
    return page.locator(f'#units tbody tr[data-code="{code}"]')


def full_shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


# ---------------------------------------------------------------- a page with a filtered console
ALLOWED = ("status of 401", "status of 404", "status of 503", "ERR_CONNECTION_REFUSED", "ERR_EMPTY_RESPONSE")


@pytest.fixture
def own_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Like open_page, for the failure paths: the 404, 503 and refused connections they provoke
    are expected console noise; anything else (a CSP violation, an exception) still fails."""
    contexts: list[Any] = []
    problems: list[str] = []

    def opener(url: str, viewport: dict[str, int] | None = None) -> Any:
        ctx = browser.new_context(viewport=viewport or LAPTOP, locale="vi-VN")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" and not any(s in msg.text for s in ALLOWED) else None)
        page.goto(url)
        return page

    yield opener
    for ctx in contexts:
        ctx.close()
    assert not problems, "browser problems:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the page, from login to 768 px
def test_organiser_page_shows_participation_winners_lookalikes_and_refreshes(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path))
    # kt-anbinh (23 staff): 13 take part → 56.5 %, over the 0.5 threshold; the others stay under it
    for i in range(12):
        play(server, f"Người dự thi Kim Thành {i + 1}", "kt-anbinh", f"09110000{i + 10}")
    play(server, "Trần Thị Bình", "ns-anbinh", "0987654321")
    play(server, "Lê Văn Cường", "kt-anbinh", "0987654321")  # the same phone in another unit: a look-alike
    play(server, "Nguyễn Văn An", "hd-snv", "0912345678")
    play(server, "Nguyễn Văn An", "hd-snv", "0912345679")  # the same name in one unit: another look-alike
    play(server, "Phạm Thị Dung", "hd-snv", "0912000001", finish=False)  # an attempt in progress
    data = overview(server)
    counts = data["counts"]
    assert (counts["people"], counts["in_progress"], counts["participants_in_round"]) == (17, 1, 16)

    page = open_page(server.base + PAGE, LAPTOP, "contest-admin")
    login(page)

    # header: the title, the dates in Vietnam time, the round picked by the server
    expect(page.locator("#c-title")).to_have_text("Cuộc thi trực tuyến thử nghiệm", timeout=WAIT)
    expect(page.locator("#c-dates")).to_have_text(
        re.compile(r"^Mở từ \d\d/\d\d/\d{4} \d\d:\d\d đến \d\d/\d\d/\d{4} \d\d:\d\d \(giờ Việt Nam\)$"), timeout=WAIT)
    expect(page.locator("#c-status")).to_have_text("Đang mở")
    expect(page.locator("#round")).to_have_value(data["round"])
    expect(page.locator("#round option")).to_have_count(len(data["contest"]["rounds"]))
    expect(page.locator("#round option:checked")).to_have_text(re.compile(rf"^Tuần 1 · {DAYS} · đang diễn ra$"))
    expect(page.locator("#round option").last).to_have_text(re.compile(r" · chưa mở$"))
    expect(page.locator("#updated")).to_have_text(re.compile(r"^Cập nhật lúc \d\d:\d\d:\d\d$"))

    # the cards: the API's counts
    expect(card(page, "people")).to_have_text("17")
    expect(card(page, "in_progress")).to_have_text("1")
    expect(card(page, "today")).to_have_text(str(counts["today"]))
    expect(card(page, "participants")).to_have_text("16")
    expect(card(page, "finished")).to_have_text(str(counts["finished_in_round"]))
    expect(card(page, "perfect")).to_have_text(str(counts["perfect_in_round"]))
    expect(card(page, "rate")).to_have_text("9,1 %")  # 16 / 175
    expect(page.locator('.card[data-card="rate"] .card-sub')).to_have_text("16 / 175 CBCCVC")

    # the unit table: administrative order (parent, then name), three rows red under the threshold
    expect(rows(page)).to_have_count(4)
    assert page.locator("#units tbody th").all_inner_texts() == [
        "UBND xã An Bình", "UBND xã An Bình", "UBND phường Trần Phú", "Sở Nội vụ"]
    kt = row(page, "kt-anbinh")
    expect(kt.locator("td")).to_have_text(["Huyện Kim Thành", "23", "13", "56,5 %", "—", "—", ""])
    expect(kt).not_to_have_class(re.compile(r"\bis-under\b"))
    for code in ("ns-anbinh", "tp-tranphu", "hd-snv"):
        expect(row(page, code)).to_have_class(re.compile(r"\bis-under\b"))
        expect(row(page, code).locator(".flag-under")).to_have_text("Dưới ngưỡng")
    expect(row(page, "tp-tranphu").locator("td.rate")).to_have_text("0,0 %")
    page.mouse.move(1, 1)  # (not hovering a row)
    red = page.evaluate("getComputedStyle(document.querySelector('tr[data-code=\"tp-tranphu\"]')).backgroundColor")
    assert red == "rgb(61, 22, 19)", red
    expect(page.locator("#only-under-label")).to_have_text("Chỉ các đơn vị dưới ngưỡng (3)")
    expect(page.locator("#units-shown")).to_have_text("Hiển thị 4/4 đơn vị")

    # winners (internal: they carry phone numbers)
    winners = page.locator("#winners tbody tr")
    expect(winners).to_have_count(len(data["winners"]))
    first = data["winners"][0]
    expect(winners.first.locator("td")).to_have_text(
        ["1", first["full_name"], first["unit"], first["phone"], f"{first['correct']}/4",
         f"{first['time_ms'] / 1000:.2f}".replace(".", ",")])
    expect(page.locator(".internal-badge").first).to_have_text("Nội bộ — có thông tin liên hệ")
    shot(page, "contest-admin-1-overview")

    # sorting by rate: highest first, then lowest first; by name
    page.click("#units button.sort[data-sort=rate]")
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "descending")
    order = page.locator("#units tbody tr").evaluate_all("rs => rs.map(r => r.dataset.code)")
    assert order == ["kt-anbinh", "ns-anbinh", "hd-snv", "tp-tranphu"], order
    page.click("#units button.sort[data-sort=rate]")
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "ascending")
    order = page.locator("#units tbody tr").evaluate_all("rs => rs.map(r => r.dataset.code)")
    assert order == ["tp-tranphu", "hd-snv", "ns-anbinh", "kt-anbinh"], order
    page.click("#units button.sort[data-sort=name]")
    expect(page.locator("#units th[data-sort=name]")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "none")
    order = page.locator("#units tbody tr").evaluate_all("rs => rs.map(r => r.dataset.code)")
    assert order == ["hd-snv", "tp-tranphu", "kt-anbinh", "ns-anbinh"], order  # Sở < UBND p… < UBND x…; then parent

    # the filter ignores accents and đ; the toggle keeps the units under the threshold
    page.fill("#unit-filter", "xa an binh")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#units-shown")).to_have_text("Hiển thị 2/4 đơn vị")
    page.check("#only-under")
    expect(rows(page)).to_have_count(1)
    expect(row(page, "ns-anbinh")).to_be_visible()
    shot(page, "contest-admin-2-filtered")
    page.fill("#unit-filter", "")
    expect(rows(page)).to_have_count(3)
    page.fill("#unit-filter", "TP HAI DUONG")  # the parent, in capitals without accents
    expect(rows(page)).to_have_count(1)
    page.fill("#unit-filter", "qwerty")
    expect(page.locator("#units-none")).to_be_visible()
    page.fill("#unit-filter", "")
    page.uncheck("#only-under")
    expect(rows(page)).to_have_count(4)

    # the next round (not open yet): nobody yet; the previous round's rate and the change in points
    page.select_option("#round", "w2")
    expect(kt.locator("td.previous")).to_have_text("56,5 %", timeout=WAIT)
    expect(kt.locator("td.change")).to_have_text("−56,5")
    expect(kt.locator("td.rate")).to_have_text("0,0 %")
    expect(card(page, "participants")).to_have_text("0")
    expect(page.locator("#dl-xlsx")).to_have_attribute("href", re.compile(r"round=w2"))
    expect(page.locator("#winners-none")).to_be_visible()
    page.select_option("#round", "w1")
    expect(kt.locator("td.rate")).to_have_text("56,5 %", timeout=WAIT)

    # look-alikes, explained in words, the shared detail marked
    looks = page.locator("#lookalikes li")
    expect(looks).to_have_count(2)
    phone = page.locator('#lookalikes li[data-reason="same_phone"]')
    expect(phone.locator(".look-reason")).to_have_text("Cùng số điện thoại ở hai đơn vị")
    expect(phone.locator(".look-name")).to_have_text(["Lê Văn Cường", "Trần Thị Bình"])
    expect(phone.locator(".look-field.is-shared")).to_have_text(["ĐT: 0987654321", "ĐT: 0987654321"])
    name = page.locator('#lookalikes li[data-reason="same_name_in_unit"]')
    expect(name.locator(".look-reason")).to_have_text("Trùng họ tên trong cùng đơn vị")
    expect(name.locator(".look-unit")).to_have_text(["Sở Nội vụ — UBND tỉnh Hải Dương"] * 2)
    expect(page.locator("#look-count")).to_have_text("2 trường hợp")
    page.locator("#look-h").scroll_into_view_if_needed()
    shot(page, "contest-admin-3-lookalikes")

    # downloads: the weekly report, in both languages, through the cookie session
    expect(page.locator("#dl-xlsx")).to_have_attribute("href", f"{data['downloads']['xlsx']}&lang=vi")
    with page.expect_download(timeout=WAIT) as dl:
        page.click("#dl-xlsx")
    assert dl.value.suggested_filename == f"test-online-{data['round']}-tham-gia.xlsx"
    for link, needle in (("#dl-html", "Tỷ lệ tham gia"), ("#dl-html-en", "Participation"), ("#dl-xlsx-en", "")):
        href = page.locator(link).get_attribute("href")
        got = page.request.get(server.base + href, timeout=WAIT)
        assert got.status == 200, (link, got.status)
        assert got.headers["content-disposition"].startswith("attachment;"), got.headers
        if needle:
            assert needle in got.text(), link

    # "Làm mới" picks up a new participant; the filter and the sort stay as they were
    play(server, "Đỗ Minh Đức", "tp-tranphu", "0933000001")
    page.fill("#unit-filter", "tran phu")
    page.click("#refresh")
    expect(card(page, "people")).to_have_text("18", timeout=WAIT)
    expect(row(page, "tp-tranphu").locator("td.participants")).to_have_text("1")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#units th[data-sort=name]")).to_have_attribute("aria-sort", "ascending")
    page.fill("#unit-filter", "")

    # every 15 s by itself (a fake clock), paused while the tab is hidden, at once when it shows again
    page.clock.install()
    page.reload()
    expect(card(page, "people")).to_have_text("18", timeout=WAIT)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/contest/overview" in r.url else None)
    play(server, "Vũ Thị Én", "tp-tranphu", "0933000002")
    page.clock.fast_forward(16_000)
    expect(card(page, "people")).to_have_text("19", timeout=WAIT)
    assert len(asked) == 1, asked
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    play(server, "Hoàng Văn Giang", "tp-tranphu", "0933000003")
    page.clock.fast_forward(40_000)
    page.wait_for_timeout(300)  # (a request would have left by now)
    assert len(asked) == 1, asked
    expect(card(page, "people")).to_have_text("19")
    page.evaluate("""() => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    expect(card(page, "people")).to_have_text("20", timeout=WAIT)
    assert len(asked) == 2, asked

    # English
    page.click("#lang")
    expect(page.locator("#units-h")).to_have_text("Participation per unit")
    expect(page.locator("#c-dates")).to_have_text(re.compile(r"^Open from .* \(Vietnam time\)$"))
    expect(page.locator('.card[data-card="people"] .card-label')).to_have_text("People entered")
    expect(card(page, "rate")).to_have_text("10.9 %")  # 19 / 175
    expect(row(page, "hd-snv").locator(".flag-under")).to_have_text("Under the threshold")
    expect(phone.locator(".look-reason")).to_have_text("Same phone number in two units")
    expect(page.locator("#round option:checked")).to_have_text(re.compile(rf"^Week 1 · {DAYS} · in progress$"))
    expect(page.locator("#updated")).to_have_text(re.compile(r"^Updated at \d\d:\d\d:\d\d$"))
    assert page.evaluate("document.documentElement.lang") == "en"
    shot(page, "contest-admin-5-english")
    page.click("#lang")
    expect(page.locator("#units-h")).to_have_text("Tỷ lệ tham gia theo đơn vị")

    # 768 wide: the page does not scroll sideways; the unit table scrolls inside its box
    page.set_viewport_size({"width": 768, "height": 1024})
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    wrap = page.locator("#units").locator("xpath=..")
    assert wrap.evaluate("w => getComputedStyle(w).overflowX === 'auto'")  # a wide table scrolls in its box
    rate = row(page, "kt-anbinh").locator("td.rate").bounding_box()
    assert rate and rate["x"] + rate["width"] <= 768, rate  # the rate stays in view without scrolling
    for sel in ("#cards", ".toolbar", ".topbar", "#lookalikes", ".downloads"):
        box = page.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 768, (sel, box)
    full_shot(page, "contest-admin-4-768")


# ---------------------------------------------------------------- failures
def test_failures_keep_the_last_figures_or_send_back_to_login(
        make_server: Callable[..., ServerProc], own_page: Callable[..., Any], tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path))
    play(server, "Trần Thị Bình", "ns-anbinh", "0987654321")
    page = own_page(server.base + PAGE)

    # a wrong token is refused at the login form
    expect(page.locator("#login")).to_be_visible(timeout=WAIT)
    shot(page, "contest-admin-0-login")
    page.fill("#login-token", "not-the-token")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Mã quản trị không đúng.", timeout=WAIT)
    login(page)
    expect(card(page, "people")).to_have_text("1", timeout=WAIT)

    # 503: a notice with a retry button; the figures stay
    page.route("**/api/host/contest/overview*", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"error":"unavailable","message":"redis down"}'))
    page.click("#refresh")
    notice = page.locator("#notice")
    expect(notice).to_be_visible(timeout=WAIT)
    expect(notice).to_contain_text("không đọc được dữ liệu (mã 503)")
    expect(notice).to_contain_text("Số liệu đang hiển thị là của lần cập nhật lúc")
    expect(card(page, "people")).to_have_text("1")
    expect(rows(page)).to_have_count(4)
    shot(page, "contest-admin-6-retry")
    page.unroute("**/api/host/contest/overview*")
    play(server, "Lê Văn Cường", "kt-anbinh", "0987654322")
    page.click("#retry")
    expect(notice).to_be_hidden(timeout=WAIT)
    expect(card(page, "people")).to_have_text("2")

    # the session ends (logged out elsewhere, e.g. in the host panel): back to the login form
    assert page.request.post(server.base + "/api/host/logout", timeout=WAIT).status == 200
    page.click("#refresh")
    expect(page.locator("#login")).to_be_visible(timeout=WAIT)
    expect(page.locator("#login-error")).to_have_text("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
    login(page)
    expect(card(page, "people")).to_have_text("2", timeout=WAIT)

    # the server is gone: a network notice, the figures stay
    server.stop()
    page.click("#refresh")
    expect(notice).to_contain_text("không kết nối được máy chủ", timeout=WAIT)
    expect(card(page, "people")).to_have_text("2")

    # a server that runs no contest; logged in at the host panel is logged in here too (one cookie)
    plain = make_server()
    other = own_page(plain.base + "/host")
    expect(other.locator("#login")).to_be_visible(timeout=WAIT)
    other.fill("#login-token", HOST_TOKEN)
    other.click("#login-form button[type=submit]")
    expect(other.locator("#panel")).to_be_visible(timeout=WAIT)
    other.goto(plain.base + PAGE)
    expect(other.locator("#no-contest h2")).to_have_text("Máy chủ này không chạy cuộc thi trực tuyến", timeout=WAIT)
    expect(other.locator("#login")).to_be_hidden()
    expect(other.locator("#dash")).to_be_hidden()
    shot(other, "contest-admin-8-no-contest")


# ---------------------------------------------------------------- 600 units
def test_six_hundred_units_stay_quick_to_filter_and_sort(
        make_server: Callable[..., ServerProc], open_page: Callable[..., Any], tmp_path: Path) -> None:
    args = contest_args(tmp_path)
    lines = ["STT,Mã đơn vị,Đơn vị,Trực thuộc,Số CBCCVC"]
    for i in range(600):
        lines.append(f"{i + 1},u{i:03d},UBND xã Số {i},Huyện Thứ {i % 12},{10 + i % 40}")
    lines.append("601,u-dongngan,UBND phường Đông Ngàn,Thị xã Từ Sơn,1")  # headcount 1: two people → "over"
    (tmp_path / "roster.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    server = make_server(*args)
    play(server, "Nguyễn Thị Hoa", "u-dongngan", "0900000001")
    play(server, "Nguyễn Thị Huệ", "u-dongngan", "0900000002")
    play(server, "Trần Văn Khoa", "u007", "0900000003")

    page = open_page(server.base + PAGE, LAPTOP, "contest-admin-600")
    login(page)
    expect(rows(page)).to_have_count(601, timeout=WAIT)
    over = row(page, "u-dongngan")
    expect(over.locator(".flag-over")).to_have_text("Vượt số CBCCVC — kiểm tra danh sách")
    expect(over.locator("td.rate")).to_have_text("200,0 %")
    # the long table scrolls in its own box, its header kept in view; the page stays short
    wrap = page.locator(".units-wrap")
    page.evaluate("""() => {  // the unit panel just under the sticky top bar, then its box to the last row
        const bar = document.querySelector('.topbar').getBoundingClientRect().bottom;
        scrollTo(0, document.querySelector('#units-h').getBoundingClientRect().top + scrollY - bar - 24);
        const w = document.querySelector('.units-wrap');
        w.scrollTop = w.scrollHeight;
    }""")
    expect(over).to_be_in_viewport()
    bar = page.locator(".topbar").bounding_box()
    head, box = page.locator("#units thead th").first.bounding_box(), wrap.bounding_box()
    assert bar and head and box and abs(head["y"] - box["y"]) < 3 and box["y"] > bar["y"] + bar["height"], (head, box)
    assert box["y"] + box["height"] <= LAPTOP["height"], box  # the whole box fits the screen
    shot(page, "contest-admin-7-600-units")

    took = page.evaluate("""() => {
        const input = document.querySelector('#unit-filter');
        const t0 = performance.now();
        input.value = 'dong ngan';
        input.dispatchEvent(new Event('input'));
        document.body.getBoundingClientRect();
        return performance.now() - t0;
    }""")
    expect(rows(page)).to_have_count(1)
    assert took < 300, f"filtering 601 units took {took:.0f} ms"
    page.fill("#unit-filter", "")
    took = page.evaluate("""() => {
        const t0 = performance.now();
        document.querySelector('#units button.sort[data-sort=participants]').click();
        document.body.getBoundingClientRect();
        return performance.now() - t0;
    }""")
    assert took < 500, f"sorting 601 units took {took:.0f} ms"
    order = page.locator("#units tbody tr").evaluate_all("rs => rs.slice(0, 2).map(r => r.dataset.code)")
    assert order == ["u-dongngan", "u007"], order
    page.fill("#unit-filter", "đông ngàn")
    expect(rows(page)).to_have_count(1)
