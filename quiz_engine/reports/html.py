"""Printable HTML reports (A4), standalone: inline CSS, charts as data URIs, no scripts.

They are downloaded files (CLI ``-o`` or the host panel's attachment download), not pages
served under the app's CSP, so the inline ``<style>`` is fine; the images are data URIs,
which that CSP would allow anyway. Every value is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from quiz_engine.reports import charts
from quiz_engine.reports.labels import labels, on_off
from quiz_engine.reports.tables import episode_label, prize_rows
from quiz_engine.results import shown_name

UNIT_CHART_MAX = 20
HARD_BELOW = 0.3

CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans", "DejaVu Sans", "Segoe UI", Arial, sans-serif; font-size: 10pt; color: #1a202c;
       margin: 0 auto; max-width: 190mm; line-height: 1.35; background: #fff; }
header.report { border-bottom: 2px solid #2b6cb0; margin-bottom: 10px; padding: 6px 0 8px; }
header.report .org { font-size: 9pt; color: #4a5568; text-transform: uppercase; letter-spacing: .04em; }
h1 { font-size: 17pt; margin: 2px 0 4px; color: #1a365d; }
h2 { font-size: 12.5pt; margin: 16px 0 6px; color: #1a365d; border-bottom: 1px solid #cbd5e0; padding-bottom: 2px;
     break-after: avoid; }
h3 { font-size: 11pt; margin: 12px 0 4px; break-after: avoid; }
.meta { font-size: 9pt; color: #4a5568; }
.meta span + span::before { content: " · "; }
.note { font-size: 8.5pt; color: #4a5568; margin: 2px 0 6px; }
.confidential { font-size: 8.5pt; color: #9b2c2c; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 8.8pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 1px solid #cbd5e0; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #edf2f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.sign { min-width: 7em; }
td.qtext { min-width: 55mm; }
td.nowrap { white-space: nowrap; }
tr.qhead td { background: #f7fafc; font-weight: 600; }
tr.win td { font-weight: 600; background: #f0fff4; }
tr.hard td.rate { color: #c53030; font-weight: 700; }
.muted { color: #718096; font-style: italic; }
.cards { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 4px; }
.card { flex: 1 1 0; min-width: 38mm; border: 1px solid #cbd5e0; border-radius: 4px; padding: 5px 8px; }
.card b { display: block; font-size: 16pt; color: #2b6cb0; }
.card span { font-size: 8.5pt; color: #4a5568; }
figure { margin: 6px 0 10px; break-inside: avoid; }
.charts { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: flex-end; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 9pt; font-weight: 600; margin-bottom: 2px; }
section.episode { break-before: page; }
ul.defs { font-size: 8.5pt; color: #4a5568; padding-left: 16px; }
@media screen { body { padding: 12px 16px 32px; } }
"""


class Fmt:
    """Numbers the way a Vietnamese (or English) reader expects them."""

    def __init__(self, lang: str) -> None:
        self.vi = lang != "en"

    def int(self, n: int | None) -> str:
        if n is None:
            return "–"
        s = f"{n:,}"
        return s.replace(",", ".") if self.vi else s

    def seconds(self, ms: float | str | None) -> str:
        if ms is None or ms == "":
            return "–"
        s = f"{float(ms) / 1000:,.3f}"
        return s.translate(str.maketrans(",.", ".,")) if self.vi else s

    def pct(self, rate: float | None) -> str:
        if rate is None:
            return "–"
        s = f"{100 * rate:.1f}%"
        return s.replace(".", ",") if self.vi else s


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _header(org: str, title: str, subtitle: str, meta: Iterable[str], confidential: str = "") -> str:
    spans = "".join(f"<span>{_e(m)}</span>" for m in meta if m)
    conf = f'<div class="confidential">{_e(confidential)}</div>' if confidential else ""
    return (
        f'<header class="report"><div class="org">{_e(org)}</div><h1>{_e(title)}</h1>'
        f'<div class="meta"><span>{_e(subtitle)}</span>{spans}</div>{conf}</header>'
    )


def _table(head: Sequence[tuple[str, bool]], rows: Iterable[str]) -> str:
    ths = "".join(f'<th{" class=num" if num else ""}>{_e(h)}</th>' for h, num in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _td(value: Any, num: bool = False, cls: str = "") -> str:
    classes = " ".join(c for c in ("num" if num else "", cls) if c)
    return f'<td class="{classes}">{_e(value)}</td>' if classes else f"<td>{_e(value)}</td>"


def _of(part: int, whole: int) -> str:
    return f"{part}/{whole}"


def _nw(value: Any) -> str:
    """A cell that must not wrap (phone numbers, dates, episode names)."""
    return _td(value, cls="nowrap")


def _generated(lang: str, now: dt.datetime | None) -> str:
    now = now or dt.datetime.now().astimezone()
    return f"{labels(lang)['generated']}: {now.strftime('%d/%m/%Y %H:%M')}"


# --- winners ----------------------------------------------------------------------------------


def _question_winner_rows(res: dict[str, Any], lang: str) -> list[str]:
    L, f = labels(lang), Fmt(lang)
    rows = []
    for q in res["questions"]:
        letter = "ABCDEF"[q["correct"]] if 0 <= q["correct"] < 6 else q["correct"]
        info = f"{L['answer_key']} {letter} · {f.int(q['answers'])} {L['answers'].lower()}, " + (
            f"{f.int(q['correct_answers'])} {L['correct_answers'].lower()}"
        )
        rows.append(
            f'<tr class="qhead"><td class="num">{q["index"] + 1}</td>'
            f'<td colspan="6">{_e(q["text"])} <span class="muted">({_e(info)})</span></td></tr>'
        )
        entries = ([q["winner"]] if q["winner"] else []) + q["reserves"]
        if not entries:
            why = L["voided"] if q["voided"] else L["no_correct"]
            rows.append(f'<tr><td></td><td colspan="6" class="muted">{_e(why)}</td></tr>')
        for place, p in enumerate(entries):
            label = L["winner"] if place == 0 else L["reserve_n"].format(n=place)
            rows.append(
                f'<tr class="{"win" if place == 0 else ""}"><td></td>{_td(label)}{_td(p["full_name"])}'
                f'{_td(shown_name(p))}{_td(p["unit"])}{_nw(p["phone"])}{_td(f.seconds(p["time_ms"]), True)}</tr>'
            )
    return rows


def _standing_rows(standings: list[dict[str, Any]], lang: str, with_episodes: bool = False) -> list[str]:
    f = Fmt(lang)
    return [
        f"<tr{' class=win' if s['rank'] == 1 else ''}>{_td(s['rank'], True)}{_td(s['full_name'])}{_td(shown_name(s))}"
        f"{_td(s['unit'])}{_nw(s['phone'])}{_td(f.int(s['correct']), True)}"
        f"{_td(f.seconds(s['time_ms']), True)}"
        + (_td(s.get("episodes", ""), True) if with_episodes else "")
        + "</tr>"
        for s in standings
    ]


def _standings_block(res: dict[str, Any], lang: str, note_key: str, title_key: str = "standings",
                     with_episodes: bool = False) -> str:
    L, f = labels(lang), Fmt(lang)
    total = res.get("standings_total", len(res["standings"]))
    title = L[title_key]
    if total > len(res["standings"]):
        title += " — " + L["top_of"].format(n=len(res["standings"]), total=f.int(total))
    head = [(L["rank"], True), (L["full_name"], False), (L["name"], False), (L["unit"], False),
            (L["phone"], False), (L["correct"], True), (L["total_time_s"], True)]
    if with_episodes:
        head.append((L["episodes_played"], True))
    rows = _standing_rows(res["standings"], lang, with_episodes)
    body = _table(head, rows) if rows else f'<p class="muted">{_e(L["none"])}</p>'
    return f'<h2>{_e(title)}</h2><p class="note">{_e(L[note_key])}</p>{body}'


def _dq_block(items: list[dict[str, Any]], lang: str, with_episode: bool = False) -> str:
    L = labels(lang)
    if not items:
        return f'<h2>{_e(L["disqualified"])}</h2><p class="muted">{_e(L["none"])}</p>'
    head = ([(L["episode"], False)] if with_episode else []) + [
        (L["full_name"], False), (L["name"], False), (L["unit"], False), (L["phone"], False), (L["reason"], False)]
    rows = [
        "<tr>" + (_td(d["episode"]) if with_episode else "") + f"{_td(d['full_name'])}{_td(shown_name(d))}"
        f"{_td(d['unit'])}{_nw(d['phone'])}{_td(d['reason'])}</tr>"
        for d in items
    ]
    return f'<h2>{_e(L["disqualified"])}</h2>' + _table(head, rows)


def _question_winners_block(res: dict[str, Any], lang: str) -> str:
    L = labels(lang)
    head = [(L["question"], True), (L["place"], False), (L["full_name"], False), (L["name"], False),
            (L["unit"], False), (L["phone"], False), (L["time_s"], True)]
    rows = _question_winner_rows(res, lang)
    body = _table(head, rows) if rows else f'<p class="muted">{_e(L["none"])}</p>'
    return f'<h2>{_e(L["question_winners"])}</h2><p class="note">{_e(L["question_winners_note"])}</p>{body}'


def _prizes_block(res: dict[str, Any], lang: str) -> str:
    """The prize handover list: each prize, its holder, the code's check part, the handover, and
    a blank column to sign in when printed."""
    L = labels(lang)
    head = [(L["prize"], False), (L["full_name"], False), (L["name"], False), (L["unit"], False),
            (L["phone"], False), (L["claim_check"], False), (L["handed_over_at"], False),
            (L["handed_over_by"], False), (L["signature"], False)]
    rows = [
        f"<tr>{_td(r['prize'])}{_td(r['person']['full_name'])}{_td(shown_name(r['person']))}"
        f"{_td(r['person']['unit'])}{_nw(r['person']['phone'])}{_nw(r['check'])}"
        f"{_td(r['at'] + (' — ' + r['note'] if r['note'] else ''))}{_td(r['by'])}"
        f'<td class="sign"></td></tr>'
        for r in prize_rows(res, L)
    ]
    body = _table(head, rows) if rows else f'<p class="muted">{_e(L["none"])}</p>'
    return f'<h2>{_e(L["title_prize_handovers"])}</h2><p class="note">{_e(L["prize_handovers_note"])}</p>{body}'


def _rules(res: dict[str, Any], lang: str) -> str:
    L = labels(lang)
    items = [f"{L['one_prize']}: {on_off(res.get('one_prize_per_person'), L)}"]
    if "one_episode_prize_per_season" in res:
        items.append(f"{L['one_episode_prize']}: {L['on'] if res['one_episode_prize_per_season'] else L['off']}")
    return f'<p class="note">{_e(L["rules"])}: {_e("; ".join(items))}</p>'


def winners_html(results: dict[str, Any], lang: str = "vi", now: dt.datetime | None = None) -> str:
    """The winners report of an episode (``episode_results``) or a season (``season_results``)."""
    L = labels(lang)
    if results.get("kind") == "season_results":
        return _season_winners_html(results, lang, now)
    ep_label = episode_label(results["title"], results["episode"], L)
    header = _header(results.get("bank_title") or results.get("bank", ""), L["winners_title"], ep_label,
                     [f"{L['date']}: {results['date']}" if results.get("date") else "", _generated(lang, now)],
                     L["confidential"])
    body = (header + _rules(results, lang) + _question_winners_block(results, lang)
            + _standings_block(results, lang, "standings_note") + _prizes_block(results, lang)
            + _dq_block(results["disqualified"], lang))
    return _page(f"{L['winners_title']} — {results['title']}", body, lang)


def _season_winners_html(results: dict[str, Any], lang: str, now: dt.datetime | None) -> str:
    L, f = labels(lang), Fmt(lang)
    header = _header(results.get("bank_title", ""), L["season_winners_title"], f"{L['season']}: {results['season']}",
                     [_generated(lang, now)], L["confidential"])
    rows = []
    for ep in results["episodes"]:
        prize = ep["episode_prize"]
        entries = ([prize["winner"]] if prize["winner"] else []) + prize["reserves"]
        if not entries:
            rows.append(f'<tr>{_td(ep["title"])}<td colspan="6" class="muted">{_e(L["none"])}</td></tr>')
        for place, p in enumerate(entries):
            label = L["winner"] if place == 0 else L["reserve_n"].format(n=place)
            rows.append(
                f'<tr class="{"win" if place == 0 else ""}">{_td(ep["title"] if place == 0 else "")}{_td(label)}'
                f'{_td(p["full_name"])}{_td(p["unit"])}{_nw(p["phone"])}{_td(f.int(p["correct"]), True)}'
                f'{_td(f.seconds(p["time_ms"]), True)}</tr>'
            )
    prizes = f'<h2>{_e(L["episode_prizes"])}</h2>' + _table(
        [(L["episode"], False), (L["place"], False), (L["full_name"], False), (L["unit"], False),
         (L["phone"], False), (L["correct"], True), (L["total_time_s"], True)], rows)
    body = (header + _rules(results, lang) + prizes
            + _standings_block(results, lang, "season_standings_note", "season_standings", with_episodes=True)
            + _dq_block(results["disqualified"], lang, with_episode=True))
    for ep in results["episodes"]:
        meta = " · ".join(x for x in (ep["episode"], ep.get("date") or "") if x)
        body += (f'<section class="episode"><h2>{_e(episode_label(ep["title"], "", L))}</h2>'
                 f'<p class="meta">{_e(meta)}</p>' + _question_winners_block(ep, lang).replace("<h2>", "<h3>", 1)
                 .replace("</h2>", "</h3>", 1)
                 + _standings_block(ep, lang, "standings_note").replace("<h2>", "<h3>", 1).replace("</h2>", "</h3>", 1)
                 + "</section>")
    return _page(f"{L['season_winners_title']} — {results['season']}", body, lang)


# --- participation ----------------------------------------------------------------------------


def _cards(items: Sequence[tuple[str, int]], lang: str) -> str:
    f = Fmt(lang)
    return '<div class="cards">' + "".join(
        f'<div class="card"><b>{_e(f.int(v))}</b><span>{_e(label)}</span></div>' for label, v in items
    ) + "</div>"


def _figure(caption: str, uri: str) -> str:
    return f'<figure><figcaption>{_e(caption)}</figcaption><img src="{_e(uri)}" alt="{_e(caption)}"></figure>'


def _unit_name(row: dict[str, Any], lang: str) -> str:
    return row["unit"] or labels(lang)["no_unit"]


def _units_chart(units: list[dict[str, Any]], lang: str) -> str:
    L = labels(lang)
    shown = [u for u in units if u["players"]][:UNIT_CHART_MAX]
    rest = [u for u in units if u["players"]][UNIT_CHART_MAX:]
    names = [_unit_name(u, lang) for u in shown]
    values = [u["players"] for u in shown]
    if rest:
        names.append(L["other_units"].format(n=len(rest)))
        values.append(sum(u["players"] for u in rest))
    return _figure(L["chart_units"], charts.horizontal_bars(names, values)) if values else ""


def _question_rows(questions: list[dict[str, Any]], lang: str, with_episode: bool = False) -> list[str]:
    L, f = labels(lang), Fmt(lang)
    rows = []
    for q in questions:
        lead = (_td(q["episode_title"], cls="nowrap") if with_episode else "") + _td(q["index"] + 1, True)
        if "answers" not in q:
            rows.append(f"<tr>{lead}{_td(q['text'] or '–', cls='qtext')}<td colspan='7' class='muted'>"
                        f"{_e(L[q['status']])}</td></tr>")
            continue
        rate = q["correct_rate"]
        hard = rate is not None and rate < HARD_BELOW
        status = f" ({L['voided']})" if q["status"] == "voided" else ""
        rows.append(
            f"<tr{' class=hard' if hard else ''}>{lead}{_td(q['text'] + status, cls='qtext')}{_td(q['correct_option'])}"
            f"{_td(f.int(q['reached']), True)}{_td(f.int(q['answers']), True)}{_td(f.int(q['correct']), True)}"
            f"{_td(f.pct(rate), True, 'rate')}{_td(f.int(sum(q['rejected'].values())), True)}"
            f"{_td(f.seconds(q['median_correct_ms']), True)}</tr>"
        )
    return rows


def _question_head(lang: str, with_episode: bool = False) -> list[tuple[str, bool]]:
    L = labels(lang)
    return ([(L["episode"], False)] if with_episode else []) + [
        (L["question"], True), (L["text"], False), (L["answer_key"], False), (L["reached"], True),
        (L["answers"], True), (L["correct_answers"], True), (L["correct_rate"], True), (L["rejected"], True),
        (L["median_correct"], True)]


def _definitions(lang: str) -> str:
    L = labels(lang)
    items = "".join(f"<li>{_e(L[k])}</li>" for k in ("def_present", "def_joined", "def_all", "def_rate", "def_drop"))
    return f'<h2>{_e(L["definitions"])}</h2><ul class="defs">{items}</ul>'


def participation_html(report: dict[str, Any], lang: str = "vi", now: dt.datetime | None = None) -> str:
    """The participation report of an episode or (``kind == season_participation``) a season."""
    if report.get("kind") == "season_participation":
        return _season_participation_html(report, lang, now)
    L, f = labels(lang), Fmt(lang)
    s = report["summary"]
    header = _header(report.get("bank_title") or report.get("bank", ""), L["participation_title"],
                     episode_label(report["title"], report["episode"], L),
                     [f"{L['date']}: {report['date']}" if report.get("date") else "", _generated(lang, now)])
    cards = _cards([(L["present"], s["present"]), (L["joined"], s["joined"]),
                    (L["answered_one"], s["answered_one"]), (L["answered_all"], s["answered_all"])], lang)
    played = [q for q in report["questions"] if "answers" in q]
    cats = [f"{L['question']} {q['index'] + 1}" for q in played]
    figs = ""
    if played:
        figs += '<div class="charts">' + _figure(L["chart_answers"], charts.grouped_bars(cats, [
            (L["reached"], [q["reached"] for q in played], charts.GREY),
            (L["answers"], [q["answers"] for q in played], charts.BLUE),
            (L["correct_answers"], [q["correct"] for q in played], charts.GREEN)]))
        figs += _figure(L["chart_rate"], charts.rate_bars(cats, [q["correct_rate"] for q in played], HARD_BELOW))
        figs += "</div>"
    per_q = f'<h2>{_e(L["per_question"])}</h2>' + _table(_question_head(lang),
                                                          _question_rows(report["questions"], lang))
    drop = ""
    if len(played) > 1:
        drop = _figure(L["chart_dropoff"], charts.simple_bars(cats[:-1], [q["dropped_after"] for q in played[:-1]]))
        drop = f'<h2>{_e(L["dropoff_title"])}</h2>' + drop
    units_rows = [
        f"<tr>{_td(i + 1, True)}{_td(_unit_name(u, lang))}{_td(f.int(u['players']), True)}"
        f"{_td(f.int(u['present']), True)}{_td(f.int(u['answered_all']), True)}</tr>"
        for i, u in enumerate(report["units"])
    ]
    units = (f'<h2>{_e(L["units"])}</h2>' + _units_chart(report["units"], lang)
             + _table([("#", True), (L["unit"], False), (L["players"], True), (L["present_short"], True),
                       (L["answered_all"], True)], units_rows))
    body = (header + f'<h2>{_e(L["summary"])}</h2>' + cards + f'<p class="note">{_e(L["questions"])}: '
            f'{_e(f.int(report["opened"]))} / {_e(f.int(report["count"]))} · {_e(L["answers"])}: '
            f'{_e(f.int(s["answers"]))} · {_e(L["correct_answers"])}: {_e(f.int(s["correct"]))}</p>'
            + figs + per_q + drop + units + _sources_section(report.get("sources") or [], lang) + _definitions(lang))
    return _page(f"{L['participation_title']} — {report['title']}", body, lang)


def _sources_section(rows: list[dict[str, Any]], lang: str) -> str:
    """Players per join source (one per simulcast page), with a bar chart of who joined."""
    if not rows:
        return ""
    L, f = labels(lang), Fmt(lang)
    names = [r["label"] if r["src"] else L["no_source"] for r in rows]
    chart = _figure(L["sources"], charts.horizontal_bars(names, [r["players"] for r in rows]))
    body = [f"<tr>{_td(n)}{_td(r['src'])}{_td(f.int(r['players']), True)}{_td(f.int(r['present']), True)}"
            f"{_td(f.int(r['answered_one']), True)}{_td(f.int(r['answered_all']), True)}</tr>"
            for n, r in zip(names, rows, strict=True)]
    head = [(L["source"], False), ("src", False), (L["players"], True), (L["present_short"], True),
            (L["answered_one_short"], True), (L["answered_all"], True)]
    return f'<h2>{_e(L["sources"])}</h2>' + chart + _table(head, body)


def _season_participation_html(report: dict[str, Any], lang: str, now: dt.datetime | None) -> str:
    L, f = labels(lang), Fmt(lang)
    s = report["summary"]
    header = _header(report.get("bank_title", ""), L["season_participation_title"],
                     f"{L['season']}: {report['season']}", [_generated(lang, now)])
    cards = _cards([(L["season_players"], s["joined"]), (L["present"], s["present"]),
                    (L["joined_every"], s["joined_every_episode"]), (L["episodes_played"], s["episodes"])], lang)
    eps = report["episodes"]
    cats = [e["title"] for e in eps]
    fig = _figure(L["chart_episodes"], charts.grouped_bars(cats, [
        (L["present"].split(" (")[0], [e["summary"]["present"] for e in eps], charts.GREY),
        (L["joined"].split(" (")[0], [e["summary"]["joined"] for e in eps], charts.BLUE),
        (L["answered_all"], [e["summary"]["answered_all"] for e in eps], charts.GREEN)])) if eps else ""
    ep_rows = [
        f"<tr>{_nw(e['title'])}{_nw(e.get('date') or '')}{_td(_of(e['opened'], e['count']), True)}"
        f"{_td(f.int(e['summary']['present']), True)}{_td(f.int(e['summary']['joined']), True)}"
        f"{_td(f.int(e['summary']['answered_one']), True)}{_td(f.int(e['summary']['answered_all']), True)}</tr>"
        for e in eps
    ]
    ep_table = _table([(L["episode"], False), (L["date"], False), (L["questions"], True), (L["present_short"], True),
                       (L["joined_short"], True), (L["answered_one_short"], True), (L["answered_all"], True)],
                      ep_rows)
    played = [q for q in report["questions"] if q.get("correct_rate") is not None]
    hardest = sorted(played, key=lambda q: (q["correct_rate"], -q["answers"]))[:5]
    hard = (f'<h2>{_e(L["hardest"])}</h2>' + _table(_question_head(lang, True), _question_rows(hardest, lang, True))
            if hardest else "")
    unit_head = [("#", True), (L["unit"], False), (L["players"], True)] + [(e["title"], True) for e in eps]
    unit_rows = [
        f"<tr>{_td(i + 1, True)}{_td(_unit_name(u, lang))}{_td(f.int(u['players']), True)}"
        + "".join(_td(f.int(n), True) for n in u["per_episode"]) + "</tr>"
        for i, u in enumerate(report["units"])
    ]
    units = f'<h2>{_e(L["units"])}</h2>' + _units_chart(report["units"], lang) + _table(unit_head, unit_rows)
    all_q = (f'<section class="episode"><h2>{_e(L["per_question"])}</h2>'
             + _table(_question_head(lang, True), _question_rows(report["questions"], lang, True)) + "</section>")
    body = (header + f'<h2>{_e(L["summary"])}</h2>' + cards + fig + ep_table + hard + units + all_q
            + _definitions(lang))
    return _page(f"{L['season_participation_title']} — {report['season']}", body, lang)


# --- the building blocks other reports use (the online contest's weekly report) ---------------
page, header, table, td, generated, escape_text = _page, _header, _table, _td, _generated, _e
