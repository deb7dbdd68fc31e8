"""The overlay's cards are broadcast lower thirds (overlay/overlay.css, issue: long questions left
the frame), measured in real Chromium at 1920×1080:

- every question of every shipped bank (question_banks/) and of the browser test banks (the
  330-character, five-option question among them), at the open and at the reveal: the card —
  timer ring and every option included — inside the title-safe area (90 %: x 96..1824,
  y 54..1026), its top at or below the lower-third line (55 %, y 594) unless the import warned
  about the question; the lobby card and its QR code likewise;
- banks/fit.py (the import warning) agrees with the browser: where it does not warn the card
  does fit at the smallest text, and where it warns it truly does not;
- a bank's [branding] colours and logo reach the cards, and leave with the next episode;
- with reduced motion no animation or transition lasts longer than ~0.

The questions are opened through the host API (as a Stream Deck would); the sweep runs with
reduced motion emulated, so each state is final as soon as it is drawn (the layout is the same:
motion only moves and fades the cards on the way in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from quiz_engine.banks.fit import BOX_HEIGHT, FIT_MIN, estimate, option_scale
from quiz_engine.banks.loader import discover_banks, load_bank
from quiz_engine.banks.model import Bank, Question, letter_for
from tests.browser.conftest import FULL_HD, ROOT, shot
from tests.conftest import ServerProc

SHIPPED = ROOT / "question_banks"
TEST_BANKS = Path(__file__).parent / "banks"
LONG_BANK, LONG_EPISODE, LONG_330 = "long-text", "dai", "long-330"
BRANDED = TEST_BANKS / "branded.toml"

# title-safe (x 96..1824, y 54..1026 of 1920×1080) and the lower third's highest top (55 %)
SAFE_LEFT, SAFE_TOP, SAFE_RIGHT, SAFE_BOTTOM = 96, 54, 1824, 1026
LOWER_TOP = 594
EPS = 0.5  # sub-pixel layout

# every state is final before it is measured: fonts in, a frame drawn, no animation running
SETTLE = """async () => {
  await document.fonts.ready;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  for (let i = 0; i < 20; i++) {
    const running = document.getAnimations().filter((a) => a.playState !== "finished" && a.playState !== "idle");
    if (!running.length) return;
    await Promise.allSettled(running.map((a) => a.finished));
  }
}"""

# a card's box and the boxes of what is in it (visible elements only)
BOXES = """(selector) => {
  const card = document.querySelector(selector);
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const name = (el) => el.id ? "#" + el.id : el.tagName.toLowerCase() + "." + [...el.classList].join(".");
  const parts = [...card.querySelectorAll("*")].filter((el) => el.getClientRects().length)
    .map((el) => [name(el), box(el)]);
  return { card: box(card), fit: card.dataset.fit, scale: Number(card.dataset.scale), parts };
}"""

# the card's height at the smallest text (what banks/fit.py estimates), then back as it was
HEIGHT_AT = """([selector, fit, fitO]) => {
  const card = document.querySelector(selector);
  const props = ["--fit", "--fit-o", "max-height"];
  const how = card.dataset.fit, saved = props.map((p) => card.style.getPropertyValue(p));
  card.dataset.fit = "";  // no cut text (data-clamp) while measuring
  card.style.removeProperty("max-height");
  card.style.setProperty("--fit", String(fit));
  card.style.setProperty("--fit-o", String(fitO));
  const height = card.offsetHeight;
  card.dataset.fit = how;
  props.forEach((p, i) => saved[i] ? card.style.setProperty(p, saved[i]) : card.style.removeProperty(p));
  return height;
}"""

# every element's running animations and its computed durations, for the reduced-motion check
MOTION = """() => {
  const secs = (v) => v.split(",").map((s) => parseFloat(s) * (s.trim().endsWith("ms") ? 0.001 : 1));
  const long = [];
  for (const el of [document.documentElement, ...document.querySelectorAll("*")]) {
    for (const pseudo of [null, "::before", "::after"]) {
      const cs = getComputedStyle(el, pseudo);
      const t = Math.max(...secs(cs.transitionDuration)) + Math.max(...secs(cs.transitionDelay));
      const a = cs.animationName === "none" ? 0
        : Math.max(...secs(cs.animationDuration)) + Math.max(...secs(cs.animationDelay));
      const name = `${el.tagName}.${el.className?.baseVal ?? el.className}${pseudo || ""}`;
      if (t > 0.001 || a > 0.001) long.push(`${name}: transition ${t}s, animation ${a}s`);
    }
  }
  for (const anim of document.getAnimations()) {
    const end = anim.effect?.getComputedTiming().endTime ?? 0;
    const what = anim.animationName || anim.transitionProperty || "";
    if (end > 1) long.push(`${anim.constructor.name} ${what}: ${end} ms`);
  }
  return long;
}"""

# the percentage's room, kept free before the reveal, holds "100%" (the text does not reflow then)
ROOM_FOR_100 = """() => {
  const pct = document.querySelector(".q-opt .pct"), was = pct.textContent;
  pct.textContent = "100%";
  const width = pct.getBoundingClientRect().width, room = parseFloat(getComputedStyle(pct).minWidth);
  const fits = pct.scrollWidth <= pct.clientWidth && width <= room + 0.5;
  pct.textContent = was;
  return fits;
}"""

Box = list[float]


def _inside_safe(box: Box) -> bool:
    left, top, right, bottom = box
    return (left >= SAFE_LEFT - EPS and top >= SAFE_TOP - EPS and right <= SAFE_RIGHT + EPS
            and bottom <= SAFE_BOTTOM + EPS)


def _within(inner: Box, outer: Box) -> bool:
    return (inner[0] >= outer[0] - EPS and inner[1] >= outer[1] - EPS and inner[2] <= outer[2] + EPS
            and inner[3] <= outer[3] + EPS)


def _check_card(page: Any, selector: str, what: str, *, lower_third: bool) -> dict[str, Any]:
    """The card and everything visible in it inside title-safe (and in the card: nothing cut off
    by its rounded panel); its top at or below the lower-third line when ``lower_third``."""
    page.evaluate(SETTLE)
    m: dict[str, Any] = page.evaluate(BOXES, selector)
    card = m["card"]
    assert _inside_safe(card), f"{what}: {selector} {card} leaves title-safe ({m['fit']}, scale {m['scale']})"
    outside = [(name, box) for name, box in m["parts"] if not _within(box, card)]
    assert not outside, f"{what}: parts of {selector} {card} lie outside it: {outside[:5]}"
    if lower_third:
        assert card[1] >= LOWER_TOP - EPS, (f"{what}: {selector} top {card[1]:.1f} above the lower third "
                                            f"({LOWER_TOP}); fit {m['fit']}, scale {m['scale']}")
    return m


def _parts(m: dict[str, Any], name: str) -> list[Box]:
    """The boxes of the parts called ``name`` (an id, or tag.classes: "li.q-opt" also matches
    "li.q-opt.is-correct")."""
    return [box for part, box in m["parts"] if part == name or part.startswith(name + ".")]


def _warned(bank: Bank) -> set[str]:
    """Ids of the questions the import warned about (banks/fit.py)."""
    return {q.id for q in bank.questions if any(w.location.endswith(f"({q.id})") for w in bank.warnings)}


def _all_banks() -> list[Bank]:
    return [load_bank(f) for f in (*discover_banks(SHIPPED), *discover_banks(TEST_BANKS))]


def _overlay(server: ServerProc, open_page: Callable[..., Any], name: str) -> Any:
    page = open_page(f"{server.base}/overlay?token={server.overlay_token}", FULL_HD, name)
    expect(page.locator("body")).to_have_attribute("data-scene", re.compile("lobby|none"))
    return page


@pytest.fixture
def host(make_server: Callable[..., ServerProc]) -> Iterator[tuple[ServerProc, httpx.Client]]:
    """A server with every shipped and browser-test bank, and a host API client."""
    server = make_server("--bank", str(SHIPPED), "--bank", str(TEST_BANKS))
    with server.host() as client:
        yield server, client


def _until(page: Any, condition: Callable[[], bool], what: str, timeout_s: float = 15) -> None:
    """Wait for a condition outside the page (a bot's frames, the host's numbers), polling."""
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting until {what}")


def _post(client: httpx.Client, command: str, **body: object) -> None:
    r = client.post(f"/api/host/{command}", json=body)
    assert r.status_code == 200, (command, body, r.status_code, r.text)


def _load(page: Any, client: httpx.Client, bank: Bank, episode: str) -> None:
    _post(client, "load", bank=bank.id, episode=episode)
    expect(page.locator("body")).to_have_attribute("data-scene", "lobby")
    expect(page.locator("#lobby-title")).to_have_text(bank.episode(episode).title)
    expect(page.locator("#qr")).to_have_attribute("src", re.compile(r"."))
    page.evaluate("document.querySelector('#qr').decode()")


def _open(page: Any, client: httpx.Client, index: int, q: Question, count: int) -> None:
    _post(client, "open", expect=index)
    expect(page.locator("body")).to_have_attribute("data-phase", "question")
    expect(page.locator("#q-num")).to_have_text(f"Câu {index + 1}/{count}")
    expect(page.locator("#q-text")).to_have_text(q.text)
    expect(page.locator("#q-options .q-opt")).to_have_count(len(q.options))


def _reveal(page: Any, client: httpx.Client, q: Question) -> None:
    r = client.post("/api/host/close", json={})
    # refused only if the question's own timer closed it first (a very slow machine): as good
    assert r.status_code == 200 or client.get("/api/host/stats").json()["phase"] == "closed", r.text
    expect(page.locator("body")).to_have_attribute("data-phase", "closed")
    _post(client, "reveal")
    expect(page.locator("#sc-question")).to_have_class(re.compile(r"\bis-revealed\b"))
    expect(page.locator("#ring-answer")).to_have_text(letter_for(q.answer))


def test_every_question_of_every_bank_fits_the_lower_third(
        host: tuple[ServerProc, httpx.Client], open_page: Callable[..., Any]) -> None:
    server, client = host
    page = _overlay(server, open_page, "overlay-layout")
    page.emulate_media(reduced_motion="reduce")
    banks = _all_banks()
    assert {b.id for b in banks} >= {"cchc-2026", "demo-en", "vi-demo", LONG_BANK, "branded"}
    seen: set[tuple[str, str]] = set()
    for bank in banks:
        warned = _warned(bank)
        for episode in bank.episodes:
            _load(page, client, bank, episode.id)
            what = f"{bank.id}/{episode.id} lobby"
            lobby = _check_card(page, "#lobby-card", what, lower_third=True)
            (qr,) = _parts(lobby, "#qr")
            assert _inside_safe(qr) and qr[1] >= LOWER_TOP and qr[2] - qr[0] >= 200, (what, qr)  # scannable
            questions = bank.episode_questions(episode.id)
            for index, q in enumerate(questions):
                what = f"{bank.id}/{episode.id} question {index + 1} ({q.id}, {len(q.text)} characters)"
                _open(page, client, index, q, len(questions))
                opened = _check_card(page, "#q-panel", f"{what} at the open", lower_third=q.id not in warned)
                ring, options = _parts(opened, "#ring"), _parts(opened, "li.q-opt")
                assert len(ring) == 1 and len(options) == len(q.options), (what, ring, options)
                # banks/fit.py agrees with the browser at the smallest text: no missing warning, no false one
                smallest = page.evaluate(HEIGHT_AT, ["#q-panel", FIT_MIN, option_scale(FIT_MIN)])
                assert smallest <= estimate(q.text, q.options).height, (what, smallest, estimate(q.text, q.options))
                assert (q.id in warned) == (smallest > BOX_HEIGHT), (what, smallest, q.id in warned)
                if q.id not in warned:
                    assert opened["fit"] in ("ok", "shrunk") and opened["scale"] >= FIT_MIN, (what, opened["fit"])
                # room for "100%" kept free before the reveal: the card does not jump when it shows
                assert page.evaluate(ROOM_FOR_100), what
                _reveal(page, client, q)
                revealed = _check_card(page, "#q-panel", f"{what} at the reveal", lower_third=q.id not in warned)
                assert len(_parts(revealed, "li.q-opt.is-correct")) == 1, what
                heights = [m["card"][3] - m["card"][1] for m in (opened, revealed)]
                assert abs(heights[0] - heights[1]) <= 1, (what, "the card changes height at the reveal", heights)
                seen.add((bank.id, q.id))
    every = {(b.id, q.id) for b in banks for q in b.questions}
    assert seen == every, f"questions in no episode were not checked: {sorted(every - seen)}"
    # the server said so when it loaded the bank (the same warnings as `bank validate`)
    log = server.log()
    for bank in banks:
        for warning in bank.warnings:
            assert f"bank warning: {warning}" in log
    assert _warned(next(b for b in banks if b.id == LONG_BANK)) == {"too-long", "absurd"}
    assert all(not b.warnings for b in banks if b.id in ("cchc-2026", "demo-en", "vi-demo", "branded"))


def test_the_330_character_question_on_air(
        host: tuple[ServerProc, httpx.Client], open_page: Callable[..., Any]) -> None:
    """The issue's question, with the normal motion: shrunk into the lower third, the ring and all
    five options inside title-safe once the card has slid in."""
    server, client = host
    page = _overlay(server, open_page, "overlay-long")
    bank = load_bank(TEST_BANKS / "long-text.toml")
    q = bank.question(LONG_330)
    assert len(q.text) >= 330 and len(q.options) == 5 and q.id not in _warned(bank)
    _load(page, client, bank, LONG_EPISODE)
    questions = bank.episode_questions(LONG_EPISODE)
    index = questions.index(q)
    _open(page, client, index, q, len(questions))
    m = _check_card(page, "#q-panel", "the 330-character question", lower_third=True)
    assert m["fit"] == "shrunk" and FIT_MIN <= m["scale"] < 1, m
    # still readable on a TV: the question at least 32 px, the options at least 24 px
    sizes = page.evaluate("""() => [getComputedStyle(document.querySelector('#q-text')).fontSize,
        getComputedStyle(document.querySelector('.q-opt .txt')).fontSize].map(parseFloat)""")
    assert sizes[0] >= 32 - EPS and sizes[1] >= 24 - EPS, sizes
    shot(page, "overlay-7-long-question", overlay=True)


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_a_branded_bank_shows_its_colours_and_logo(
        host: tuple[ServerProc, httpx.Client], open_page: Callable[..., Any], bots: Callable[..., Any]) -> None:
    server, client = host
    page = _overlay(server, open_page, "overlay-branded")
    bank = load_bank(BRANDED)
    assert bank.branding is not None and bank.branding.primary and bank.branding.accent
    primary, accent = _rgb(bank.branding.primary), _rgb(bank.branding.accent)
    episode = bank.episodes[0].id
    _load(page, client, bank, episode)
    expect(page.locator("body")).to_have_attribute("data-branded", "yes")
    logo = page.locator("#lobby-card .brand-logo")
    expect(logo).to_be_visible()
    expect(logo).to_have_attribute("src", re.compile(r"^data:image/svg\+xml;base64,"))
    assert page.evaluate("document.querySelector('#lobby-card .brand-logo').decode().then(() => true)")
    assert primary in page.locator("#lobby-card .strip").evaluate("el => getComputedStyle(el).backgroundImage")
    _check_card(page, "#lobby-card", "branded lobby", lower_third=True)

    questions = bank.episode_questions(episode)
    players = [("Thu Hà", 2, 0.25), ("Quốc Bảo", 2, 0.45), ("Ngọc Ánh", 1, 0.1)]  # (name, option, delay)
    made = [bots(server.ws, name, {0: (option, delay)}) for name, option, delay in players]
    _until(page, lambda: all(any(f.get("type") == "welcome" for f in list(b.frames)) for b in made), "the bots joined")
    _open(page, client, 0, questions[0], len(questions))
    expect(page.locator("#q-panel .brand-logo")).to_be_visible()
    assert primary in page.locator("#q-panel .q-head").evaluate("el => getComputedStyle(el).backgroundImage")
    for selector in ("#q-num", ".q-opt .letter"):
        assert page.locator(selector).first.evaluate("el => getComputedStyle(el).backgroundColor") == accent, selector
    assert page.locator("#q-panel .q-head").evaluate("el => getComputedStyle(el).borderBottomColor") == accent
    _check_card(page, "#q-panel", "branded question", lower_third=True)
    _until(page, lambda: client.get("/api/host/stats").json().get("answers", 0) >= len(players), "the answers are in")
    _reveal(page, client, questions[0])
    expect(page.locator("#fastest-name")).to_contain_text("Thu Hà")
    _check_card(page, "#q-panel", "branded question at the reveal", lower_third=True)
    shot(page, "overlay-8-branded", overlay=True)

    # the next show is not branded: the defaults come back, the logo goes
    demo = load_bank(SHIPPED / "demo-en.toml")
    assert demo.branding is None
    _load(page, client, demo, demo.episodes[0].id)
    expect(page.locator("body")).to_have_attribute("data-branded", "no")
    expect(page.locator("#lobby-card .logo-chip")).to_be_hidden()
    assert primary not in page.locator("#lobby-card .strip").evaluate("el => getComputedStyle(el).backgroundImage")


def test_reduced_motion_runs_no_animation(
        host: tuple[ServerProc, httpx.Client], open_page: Callable[..., Any]) -> None:
    """prefers-reduced-motion: reduce (overlay.css): every scene cuts in, nothing slides, fades or
    pops; checked on every element's computed durations and on the running animations, in every
    scene. Without it the same check finds the scene transitions (it measures something)."""
    server, client = host
    page = _overlay(server, open_page, "overlay-motion")
    bank = load_bank(TEST_BANKS / "vi-demo.toml")
    episode = bank.episodes[0].id
    questions = bank.episode_questions(episode)
    _load(page, client, bank, episode)
    assert page.evaluate(MOTION), "with motion, the check should see the scene transitions"
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
    page.evaluate(SETTLE)  # the lobby's slide-in began with motion: let it end
    assert page.evaluate(MOTION) == [], "lobby"
    _open(page, client, 0, questions[0], len(questions))
    assert page.evaluate(MOTION) == [], "question"
    _reveal(page, client, questions[0])
    assert page.evaluate(MOTION) == [], "revealed"
    _post(client, "leaderboard")
    expect(page.locator("body")).to_have_attribute("data-scene", "board")
    assert page.evaluate(MOTION) == [], "leaderboard"
    _check_card(page, ".board-panel", "leaderboard", lower_third=False)
    _post(client, "finish")
    expect(page.locator("body")).to_have_attribute("data-scene", "winner")
    assert page.evaluate(MOTION) == [], "winner"
    _check_card(page, ".winner-panel", "winner", lower_third=False)
    # the cards are where they end up at once: no slide in from below
    assert page.locator("#sc-winner").evaluate("el => getComputedStyle(el).transform") == "none"
