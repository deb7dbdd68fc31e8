"""Checks the contest pages' browser tests share: the page fits the screen, text contrast, dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from quiz_engine.contest.model import ZONE

SMALL = {"width": 360, "height": 640}
NAM_SACH = "UBND xã An Bình — Huyện Nam Sách"  # a roster unit of tests/contest_files.py


CONTRAST_JS = """() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return { r: 0, g: 0, b: 0, a: 0 };
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bot) => ({ r: top.r * top.a + bot.r * (1 - top.a), g: top.g * top.a + bot.g * (1 - top.a),
                                b: top.b * top.a + bot.b * (1 - top.a), a: 1 });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || el.closest(".visually-hidden, [hidden]")) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) bg = over(c, bg);
    }
    const fg = over(parse(getComputedStyle(el).color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const disabled = !!el.closest("button:disabled");
    out.push({ tag: el.tagName, cls: String(el.className), text: el.textContent.trim().slice(0, 40),
               ratio: (hi + 0.05) / (lo + 0.05), disabled });
  }
  return out;
}"""

# Every visible element inside the viewport's width (nothing cut, nothing scrolls sideways).
OVERFLOW_JS = """(width) => {
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.getClientRects().length || el.closest("[hidden], .visually-hidden")) continue;
    const r = el.getBoundingClientRect();
    const where = `${el.tagName}.${el.className}`;
    if (r.width && (r.left < -0.5 || r.right > width + 0.5)) bad.push(`${where} ${r.left}-${r.right}`);
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible"
        && !["INPUT", "HTML", "BODY"].includes(el.tagName)) bad.push(`${where} scrolls`);
  }
  return bad;
}"""


def assert_fits(page: Any, viewport: dict[str, int]) -> None:
    width = viewport["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, "the page scrolls sideways"
    bad = page.evaluate(OVERFLOW_JS, width)
    assert not bad, f"outside the screen's width: {bad}"


def assert_contrast(page: Any, what: str) -> None:
    parts = page.evaluate(CONTRAST_JS)
    assert parts, f"{what}: nothing measured"
    for p in parts:
        if p["disabled"]:
            continue
        assert p["ratio"] >= 4.5, f"{what}: {p['tag']}.{p['cls']} {p['text']!r} contrast {p['ratio']:.2f}"


def vn(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(ZONE).strftime("%d/%m/%Y %H:%M")
