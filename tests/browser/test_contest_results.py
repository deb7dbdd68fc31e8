"""The online contest's public results page (/contest/results) and a unit's own link
(/contest?unit=CODE), in a real browser on a real server and Redis.

Results: a contest whose first round closes ~25 s after the server starts. Participants take part
through the API while it is open; the page, opened before the close, says the results come when the
round closes, then shows them by itself once it has. Checked: the default round (the last closed),
the top list against the API, the counts, no phone number anywhere on the page, the units' table
(sorted, filtered without accents), the second round's "not yet" state, English, the link back to
/contest, 360×640 and 1440×900. Unit link: the entry form comes up with the unit chosen; an unknown
code leaves the plain search. Saves docs/screenshots/contest-results-*.png, contest-unit-link-*.png.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from quiz_engine.contest.model import ZONE
from tests.browser.conftest import LAPTOP, shot
from tests.browser.contest_checks import NAM_SACH, SMALL, assert_contrast, assert_fits, vn
from tests.conftest import ServerProc
from tests.contest_files import BANKS, ROSTER_CSV, contest_args

LONG = 15_000
CLOSE_AFTER_S = 25  # the first round closes this long after the contest file is written
WAIT = "công bố khi vòng thi kết thúc"
PEOPLE = [  # full name, unit, phone
    ("Nguyễn Thị Lan", "ns-anbinh", "0912345678"),
    ("Trần Văn Bình", "ns-anbinh", "0987654321"),
    ("Lê Hoàng Đức", "hd-snv", "0903111222"),
    ("Phạm Thu Hà", "kt-anbinh", "0934555666"),
    ("Đỗ Minh Quân", "hd-snv", "0977888999"),
]
SNV = "Sở Nội vụ — UBND tỉnh Hải Dương"
TRAN_PHU = "UBND phường Trần Phú — TP Hải Dương"
KIM_THANH = "UBND xã An Bình — Huyện Kim Thành"
BY_RATE = [NAM_SACH, KIM_THANH, SNV, TRAN_PHU]  # 2/25, 1/23, 2/85, 0/42
BY_NAME = [SNV, TRAN_PHU, KIM_THANH, NAM_SACH]


def write_contest(folder: Path, r1_closes: dt.datetime) -> list[str]:
    """The ``serve`` arguments of a contest (as tests/contest_files.py's) with two explicit rounds:
    "r1" from the opening (two days ago) to ``r1_closes``, "r2" from there to the closing."""
    now = dt.datetime.now(ZONE).replace(microsecond=0)
    opens, closes = now - dt.timedelta(days=2), now + dt.timedelta(days=20)

    def local(t: dt.datetime) -> str:  # Vietnam time, without an offset
        return t.replace(tzinfo=None).isoformat()

    pools = "".join(f'\n[[pools]]\nid = "p{i}"\ntitle = "Chủ đề {i}"\nepisodes = ["tap-{i}"]\ndraw = 1\n'
                    for i in range(1, 5))
    text = f"""[contest]
id = "test-online"
title = "Cuộc thi trực tuyến thử nghiệm"
bank = "cchc-2026"
language = "vi"
opens = {local(opens)}
closes = {local(closes)}
attempts = 2
counts = "best"
time_per_question = 30
time_per_attempt = 600
required = ["full_name", "unit", "phone"]
reveal = "after_round"
participation_threshold = 0.5

[[rounds]]
id = "r1"
title = "Vòng 1"
opens = {local(opens)}
closes = {local(r1_closes)}

[[rounds]]
id = "r2"
title = "Vòng 2"
opens = {local(r1_closes)}
closes = {local(closes)}
{pools}
[prediction]
text = "Vòng này có bao nhiêu lượt thi trả lời đúng tất cả các câu?"
"""
    contest = folder / "results.contest.toml"
    contest.write_text(text, encoding="utf-8")
    roster = folder / "roster.csv"
    roster.write_text(ROSTER_CSV, encoding="utf-8")
    return ["--bank", str(BANKS), "--contest", str(contest), "--roster", str(roster)]


def take_part(base: str, full_name: str, unit: str, phone: str, attempts: int = 1, think: float = 0.2) -> None:
    """Enter and finish ``attempts`` attempts through the API (options picked by a fixed pattern,
    each after ``think`` seconds, so the times differ)."""
    with httpx.Client(base_url=base, timeout=10) as c:
        entered = c.post("/api/contest/enter", json={"full_name": full_name, "unit": unit, "phone": phone})
        assert entered.status_code == 200, entered.text
        c.headers["authorization"] = f"Bearer {entered.json()['token']}"
        for n in range(attempts):
            started = c.post("/api/contest/start", json={"prediction": 3 + n})
            assert started.status_code == 200, started.text
            aid = started.json()["attempt"]
            got = c.post(f"/api/contest/attempts/{aid}/next").json()
            while "question" in got:
                q = got["question"]
                pick = (q["index"] + len(full_name) + n) % len(q["options"])
                time.sleep(think)
                answered = c.post(f"/api/contest/attempts/{aid}/answer", json={"index": q["index"], "option": pick})
                assert answered.status_code == 200, answered.text
                got = c.post(f"/api/contest/attempts/{aid}/next").json()
            assert "done" in got, got


def secs_text(ms: int, lang: str = "vi") -> str:
    tenths = (ms + 50) // 100
    return f"{tenths // 10},{tenths % 10} giây" if lang == "vi" else f"{tenths // 10}.{tenths % 10} s"


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def assert_tables_fit(page: Any) -> None:
    """Each table inside its card (not only inside the screen)."""
    for table, card in (("#top", ".panel-top"), ("#units", ".panel-units")):
        t, c = page.locator(table).bounding_box(), page.locator(card).bounding_box()
        assert t is not None and c is not None and t["x"] >= c["x"] and t["x"] + t["width"] <= c["x"] + c["width"], \
            f"{table} is wider than its card: {t} in {c}"


def unit_order(page: Any) -> list[str]:
    return [plain(t) for t in page.locator("#units tbody tr:visible th").all_inner_texts()]


def test_results_page_closed_round_units_not_yet_english(make_server: Callable[..., ServerProc],
                                                          open_page: Callable[..., Any], tmp_path: Path) -> None:
    r1_closes = dt.datetime.now(ZONE).replace(microsecond=0) + dt.timedelta(seconds=CLOSE_AFTER_S)
    server = make_server(*write_contest(tmp_path, r1_closes))
    base = server.base
    with ThreadPoolExecutor(len(PEOPLE)) as pool:  # 5 people at once, 6 attempts
        for done in [pool.submit(take_part, base, name, unit, phone, 2 if i == 0 else 1, 0.15 + 0.17 * i)
                     for i, (name, unit, phone) in enumerate(PEOPLE)]:
            done.result()
    assert dt.datetime.now(ZONE) < r1_closes - dt.timedelta(seconds=8), "too slow: round 1 closed already"

    # --- before the close: nothing is closed, the open round is shown as "published when it closes"
    early = open_page(base + "/contest/results", SMALL, "results-early")
    expect(early.locator("#v-wait")).to_be_visible()
    expect(early.locator("#round")).to_have_value("r1")
    expect(early.locator("#round option")).to_have_text([f"Vòng 1 · {WAIT}", f"Vòng 2 · {WAIT}"])
    expect(early.locator("#wait-title")).to_have_text("Kết quả công bố khi vòng thi kết thúc")
    expect(early.locator("#wait-text")).to_contain_text(f"Vòng 1 kết thúc lúc {vn(r1_closes.isoformat())}")
    expect(early.locator("#wait-state")).to_have_text("Vòng thi đang diễn ra: bạn vẫn có thể tham gia.")
    expect(early.locator("#v-results")).to_be_hidden()
    refused = httpx.get(base + "/api/contest/results", params={"round": "r1"}, timeout=10)
    assert refused.status_code == 409 and refused.json()["reason"] == "not_yet"

    # --- the close (bounded wait): the API publishes, the open page shows the results by itself
    deadline = time.monotonic() + 60
    while True:
        res = httpx.get(base + "/api/contest/results", params={"round": "r1"}, timeout=10)
        if res.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert res.status_code == 200, res.text
    data = res.json()
    expect(early.locator("#v-results")).to_be_visible(timeout=LONG)
    expect(early.locator("#round option").first).to_have_text("Vòng 1")

    # nothing private in what the API sends
    raw = json.dumps(data, ensure_ascii=False)
    assert not any(phone in raw for _, _, phone in PEOPLE) and "phone" not in raw and "email" not in raw
    assert data["participants"] == len(PEOPLE) and len(data["top"]) == len(PEOPLE)

    # --- a fresh visit: the default is the last closed round
    page = open_page(base + "/contest/results", SMALL, "results")
    expect(page.locator("#v-results")).to_be_visible(timeout=LONG)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#title")).to_have_text("Cuộc thi trực tuyến thử nghiệm")
    expect(page.locator("#round")).to_have_value("r1")
    expect(page.locator("#round option")).to_have_text(["Vòng 1", f"Vòng 2 · {WAIT}"])
    expect(page.locator("#stat-participants")).to_have_text("5")
    expect(page.locator("#stat-units")).to_have_text("3")

    # the top list, row by row as the API ranks it: rank, name, unit, correct of 4, time with a comma
    rows = page.locator("#top tbody tr")
    expect(rows).to_have_count(len(data["top"]))
    for i, p in enumerate(data["top"]):
        row = rows.nth(i)
        expect(row.locator(".rank")).to_have_text(str(p["rank"]))
        expect(row.locator(".who-name")).to_have_text(p["name"])
        expect(row.locator(".who-unit")).to_have_text(p["unit"])
        expect(row.locator(".score")).to_have_text(f"{p['correct']}/4")
        expect(row.locator(".time")).to_have_text(secs_text(p["time_ms"]))
    assert {p["name"] for p in data["top"]} == {name for name, _, _ in PEOPLE}

    # no phone number anywhere: not in the text, not in the markup, no long run of digits
    text, html = page.locator("body").inner_text(), page.content()
    for _, _, phone in PEOPLE:
        assert phone not in text and phone not in html and phone[1:] not in html
    assert not re.search(r"\d{9,}", text) and not re.search(r"\d[\d .]{8,}\d", text.replace("\xa0", " "))

    # the units: by rate (highest first), as the API counts them
    expect(page.locator("#units tbody tr")).to_have_count(4)
    assert unit_order(page) == BY_RATE
    api_units = {u["unit"]: u for u in data["units"]}
    assert api_units[NAM_SACH]["participants"] == 2 and api_units[NAM_SACH]["headcount"] == 25
    first = page.locator("#units tbody tr").first
    expect(first.locator(".participants")).to_have_text("2")
    expect(first.locator(".headcount")).to_have_text("25")
    assert plain(first.locator(".rate-val").inner_text()) == "8,0 %"
    assert plain(page.locator("#units tbody tr").nth(2).locator(".rate-val").inner_text()) == "2,4 %"  # 2/85
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#units-shown")).to_have_text("Hiển thị 4/4 đơn vị")
    assert_fits(page, SMALL)
    assert_tables_fit(page)
    assert_contrast(page, "results")
    shot(page, "contest-results-360")

    page.click("#units button[data-sort=rate]")
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "ascending")
    assert unit_order(page) == BY_RATE[::-1]
    page.click("#units button[data-sort=name]")
    expect(page.locator("#units th[data-sort=name]")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#units th[data-sort=rate]")).to_have_attribute("aria-sort", "none")
    assert unit_order(page) == BY_NAME
    page.click("#units button[data-sort=rate]")
    assert unit_order(page) == BY_RATE

    # the filter: accents, case and đ ignored, every word must match
    for typed, expected in (("an binh", [NAM_SACH, KIM_THANH]), ("ĐƯƠNG", [SNV, TRAN_PHU]),
                            ("Nam  SACH", [NAM_SACH]), ("so noi vu", [SNV]), ("tràn phu", [TRAN_PHU])):
        page.fill("#unit-filter", typed)
        expect(page.locator("#units tbody tr:visible")).to_have_count(len(expected))
        assert unit_order(page) == expected, typed
    expect(page.locator("#units-shown")).to_have_text("Hiển thị 1/4 đơn vị")
    page.fill("#unit-filter", "khong co don vi nay")
    expect(page.locator("#units tbody tr:visible")).to_have_count(0)
    expect(page.locator("#units-none")).to_be_visible()
    page.fill("#unit-filter", "an binh")
    page.locator("#units").scroll_into_view_if_needed()
    assert_fits(page, SMALL)
    shot(page, "contest-results-units-360")
    page.fill("#unit-filter", "")
    expect(page.locator("#units tbody tr:visible")).to_have_count(4)

    # --- round 2 is open: "published when the round closes", never an error
    page.evaluate("window.scrollTo(0, 0)")
    page.select_option("#round", "r2")
    expect(page.locator("#v-wait")).to_be_visible()
    expect(page.locator("#v-results")).to_be_hidden()
    expect(page.locator("#v-failed")).to_be_hidden()
    r2 = next(r for r in httpx.get(base + "/api/contest", timeout=10).json()["rounds"] if r["id"] == "r2")
    expect(page.locator("#wait-text")).to_contain_text(f"Vòng 2 kết thúc lúc {vn(r2['closes'])}")
    expect(page.locator("#wait-enter")).to_have_attribute("href", "/contest")
    assert "round=r2" in page.url
    assert httpx.get(base + "/api/contest/results", params={"round": "r2"}, timeout=10).status_code == 409
    assert_fits(page, SMALL)
    assert_contrast(page, "not yet")
    shot(page, "contest-results-not-yet-360")
    page.reload()  # the link keeps the round
    expect(page.locator("#v-wait")).to_be_visible()
    expect(page.locator("#round")).to_have_value("r2")
    page.select_option("#round", "r1")
    expect(page.locator("#v-results")).to_be_visible()

    # --- English, and back
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#top-title")).to_have_text("Top results")
    expect(page.locator("#units-title")).to_have_text("Participation by unit")
    expect(page.locator("#round option")).to_have_text(["Vòng 1", "Vòng 2 · published when the round closes"])
    expect(rows.first.locator(".time")).to_have_text(secs_text(data["top"][0]["time_ms"], "en"))
    assert plain(page.locator("#units tbody tr").first.locator(".rate-val").inner_text()) == "8.0 %"
    expect(page.locator("#to-contest")).to_have_text("Take part")
    expect(page.locator("#lang")).to_have_text("Tiếng Việt")
    assert_fits(page, SMALL)
    assert_tables_fit(page)
    shot(page, "contest-results-en-360")
    page.click("#lang")
    expect(page.locator("#top-title")).to_have_text("Cá nhân đạt kết quả cao")

    # --- the way back to the participant page
    expect(page.locator("#to-contest")).to_have_text("Dự thi")
    expect(page.locator("#to-contest")).to_have_attribute("href", "/contest")
    expect(page.locator("#back")).to_have_attribute("href", "/contest")
    page.click("#to-contest")
    expect(page.locator("#s-home")).to_be_visible(timeout=LONG)
    assert page.url == base + "/contest"

    # --- a desktop: the counts across, the top list and the units side by side
    desk = open_page(base + "/contest/results", LAPTOP, "results-desktop")
    expect(desk.locator("#v-results")).to_be_visible(timeout=LONG)
    top, units = desk.locator(".panel-top").bounding_box(), desk.locator(".panel-units").bounding_box()
    assert top is not None and units is not None and units["x"] >= top["x"] + top["width"]
    assert abs(top["y"] - units["y"]) < 2
    assert_fits(desk, LAPTOP)
    assert_tables_fit(desk)
    assert_contrast(desk, "desktop")
    text = desk.locator("body").inner_text()
    assert not any(phone in text for _, _, phone in PEOPLE)
    shot(desk, "contest-results-1440")


def test_unit_link_preselects_the_unit(make_server: Callable[..., ServerProc], open_page: Callable[..., Any],
                                       tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path))
    qr = httpx.get(server.base + "/contest/qr.svg", params={"unit": "ns-anbinh"}, timeout=10)
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    # the unit's own link: the form comes up with the unit chosen; entering needs no search
    page = open_page(server.base + "/contest?unit=ns-anbinh", SMALL, "unit-link")
    expect(page.locator("#s-home")).to_be_visible()
    page.click("#go-entry")
    expect(page.locator("#s-entry")).to_be_visible()
    expect(page.locator("#f-unit")).to_have_value(NAM_SACH)
    expect(page.locator("#f-unit")).to_have_class(re.compile(r"\bis-picked\b"))
    expect(page.locator("#unit-picked")).to_have_text(f"Đã chọn: {NAM_SACH}")
    expect(page.locator("#unit-clear")).to_be_visible()
    expect(page.locator("#unit-list")).to_be_hidden()
    expect(page.locator("#h-unit")).to_be_hidden()
    page.fill("#f-full_name", "Nguyễn Thị Lan")
    page.fill("#f-phone", "0912345678")
    assert_fits(page, SMALL)
    assert_contrast(page, "unit link")
    shot(page, "contest-unit-link-360")
    page.click("#entry-submit")
    expect(page.locator("#home-person")).to_be_visible(timeout=LONG)
    expect(page.locator("#person-unit")).to_have_text(NAM_SACH)
    token = page.evaluate("localStorage.getItem('qe.contest.test-online.token')")
    me = httpx.get(server.base + "/api/contest/me", headers={"authorization": f"Bearer {token}"}, timeout=10).json()
    assert me["profile"]["unit"] == "ns-anbinh"

    # the participant can still change it: typing searches again, another unit is picked
    other = open_page(server.base + "/contest?unit=ns-anbinh", SMALL, "unit-link-change")
    other.click("#go-entry")
    expect(other.locator("#unit-picked")).to_have_text(f"Đã chọn: {NAM_SACH}")
    other.fill("#f-unit", "an binh kim thanh")
    expect(other.locator("#unit-picked")).to_be_hidden()
    other.locator("#unit-list .combo-opt", has_text="Kim Thành").click(timeout=LONG)
    expect(other.locator("#unit-picked")).to_have_text(f"Đã chọn: {KIM_THANH}")
    other.click("#unit-clear")
    expect(other.locator("#f-unit")).to_have_value("")
    expect(other.locator("#unit-picked")).to_be_hidden()

    # an unknown code: ignored quietly, the plain search
    unknown = open_page(server.base + "/contest?unit=khong-co-ma-nay", SMALL, "unit-link-unknown")
    unknown.click("#go-entry")
    expect(unknown.locator("#s-entry")).to_be_visible()
    expect(unknown.locator("#f-unit")).to_have_value("")
    expect(unknown.locator("#unit-picked")).to_be_hidden()
    expect(unknown.locator("#h-unit")).to_be_visible()
    expect(unknown.locator("#entry-msg")).to_be_hidden()
    expect(unknown.locator("#e-unit")).to_be_empty()
    assert_fits(unknown, SMALL)
    shot(unknown, "contest-unit-link-unknown-360")
    unknown.fill("#f-unit", "xa an binh")
    expect(unknown.locator("#unit-list .combo-opt")).to_have_count(2, timeout=LONG)
