"""The online contest's weekly report (the seeds: each unit reports its staff's participation every
week; rewards for the best people and the units with the highest rate): pure data, then the
printable list as xlsx sheets and as one standalone HTML page with its chart.

Per unit: unit, parent, headcount, participants this round, rate, change from the previous
round (percentage points), and a flag when under the contest's threshold (or over 100 %: the
roster's headcount needs checking). Then the round's winners with full name, unit and contact
(the organiser's copy: the public results page never shows contacts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quiz_engine.contest.model import ZONE, Contest
from quiz_engine.contest.ranking import Result, perfect_entries, rank_overall, rank_round, unit_lines
from quiz_engine.contest.roster import Roster
from quiz_engine.reports import charts
from quiz_engine.reports import html as H
from quiz_engine.reports.tables import Heading, Kind, Table
from quiz_engine.reports.xlsx import workbook_bytes

WINNERS = 10

L: dict[str, dict[str, str]] = {
    "vi": {
        "title": "BÁO CÁO TÌNH HÌNH THAM GIA CUỘC THI", "round": "Vòng", "period": "Thời gian",
        "generated": "Lập lúc", "unit": "Đơn vị", "parent": "Trực thuộc", "headcount": "Số CBCCVC",
        "participants": "Số người dự thi", "rate": "Tỷ lệ tham gia", "prev": "Tỷ lệ vòng trước",
        "change": "Thay đổi (điểm %)", "flag": "Ghi chú", "under": "Dưới ngưỡng {t}", "over": "Vượt số CBCCVC",
        "rank": "Hạng", "name": "Họ và tên", "phone": "Điện thoại", "email": "Email", "correct": "Số câu đúng",
        "time": "Thời gian (giây)", "sheet_units": "Tỷ lệ tham gia", "sheet_winners": "Người đạt kết quả cao",
        "sheet_overall": "Xếp hạng chung", "overall_title": "Xếp hạng chung cuộc tính đến vòng này",
        "average": "Điểm trung bình", "by_average": "Đơn vị có điểm trung bình cao nhất",
        "winners": "Danh sách cá nhân đạt kết quả cao nhất", "units_title": "Tỷ lệ tham gia theo đơn vị",
        "people": "người dự thi", "attempts": "lượt thi hoàn thành", "perfect": "lượt đúng tất cả",
        "under_count": "đơn vị dưới ngưỡng", "overall": "tỷ lệ chung", "chart": "Tỷ lệ tham gia (%)",
        "none": "Chưa có ai dự thi vòng này.", "confidential": "Có thông tin liên hệ: chỉ dùng nội bộ ban tổ chức.",
        "place_date": "……………, ngày {d:02d} tháng {m:02d} năm {y}", "prepared": "Người lập biểu",
        "prepared_hint": "(Ký, ghi rõ họ tên)", "head": "Trưởng ban tổ chức", "head_hint": "(Ký tên, đóng dấu)",
    },
    "en": {
        "title": "CONTEST PARTICIPATION REPORT", "round": "Round", "period": "Period", "generated": "Generated",
        "unit": "Unit", "parent": "Parent", "headcount": "Headcount", "participants": "Participants",
        "rate": "Participation", "prev": "Previous round", "change": "Change (points)", "flag": "Note",
        "under": "Under {t}", "over": "Over the headcount", "rank": "Rank", "name": "Full name", "phone": "Phone",
        "email": "E-mail", "correct": "Correct", "time": "Time (s)", "sheet_units": "Participation",
        "sheet_overall": "Overall", "overall_title": "Overall ranking up to this round",
        "average": "Average score", "by_average": "Units with the best average score",
        "sheet_winners": "Best results", "winners": "Best individual results", "units_title": "Participation by unit",
        "people": "participants", "attempts": "finished attempts", "perfect": "all-correct attempts",
        "under_count": "units under the threshold", "overall": "overall rate", "chart": "Participation (%)",
        "none": "Nobody has taken part in this round yet.",
        "confidential": "Holds contact details: for the organisers only.", "place_date": "……………, {y}-{m:02d}-{d:02d}",
        "prepared": "Prepared by", "prepared_hint": "(signature, full name)", "head": "Head of the organising board",
        "head_hint": "(signature, seal)",
    },
}


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    parent: str
    headcount: int
    participants: int
    rate: float
    previous: float | None  # the previous round's rate (None: this is the first round)
    under: bool
    over: bool
    average: float = 0.0  # mean counted score of its participants (the units' second ranking)

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.rate - self.previous


@dataclass(frozen=True)
class Winner:
    rank: int
    person: str
    name: str
    unit: str
    phone: str
    email: str
    correct: int
    time_ms: int


@dataclass(frozen=True)
class Weekly:
    contest: Contest
    round_id: str
    units: tuple[UnitRow, ...]  # administrative order: parent, then name
    winners: tuple[Winner, ...]
    people: int
    attempts: int
    perfect: int
    made: dt.datetime
    standings: tuple[Winner, ...] = ()  # the whole contest so far (every round up to this one, summed)

    @property
    def overall(self) -> float:
        heads = sum(u.headcount for u in self.units)
        return sum(u.participants for u in self.units) / heads if heads else 0.0


def weekly(contest: Contest, roster: Roster, results: Mapping[str, Sequence[Result]], people: Mapping[str, Any],
           round_id: str, made: dt.datetime | None = None, winners: int = WINNERS) -> Weekly:
    """The report of ``round_id`` (``results``: every round's finished attempts so far)."""
    ids = [r.id for r in contest.rounds]
    if round_id not in ids:
        raise ValueError(f"no round {round_id!r}; the rounds are {', '.join(ids)}")
    at = ids.index(round_id)
    this = list(results.get(round_id, ()))
    lines = unit_lines(roster.units, this, contest.counts, contest.participation_threshold)
    before = ({x.unit.code: x.rate for x in unit_lines(roster.units, results.get(ids[at - 1], ()), contest.counts, 0)}
              if at > 0 else {})
    rows = sorted((UnitRow(x.unit.code, x.unit.name, x.unit.parent, x.unit.headcount, x.participants, x.rate,
                           before.get(x.unit.code) if at > 0 else None, x.under, x.over, x.average) for x in lines),
                  key=lambda u: (u.parent, u.name))
    made = made or dt.datetime.now(ZONE)

    def winner(rank: int, person: str, correct: int, time_ms: int) -> Winner:
        who = people.get(person, {})
        unit = roster.unit(str(who.get("unit", "")))
        return Winner(rank, person, str(who.get("full_name", "?")), unit.label if unit else "",
                      str(who.get("phone", "")), str(who.get("email", "")), correct, time_ms)

    top = [winner(x.rank, x.result.person, x.result.correct, x.result.time_ms)
           for x in rank_round(this, contest.counts, actual(contest, round_id, this, made))[:winners]]
    so_far = [(results.get(r, ()), actual(contest, r, results.get(r, ()), made)) for r in ids[: at + 1]]
    overall = [winner(x.rank, x.person, x.correct, x.time_ms) for x in rank_overall(so_far, contest.counts)[:winners]]
    return Weekly(contest, round_id, tuple(rows), tuple(top), len({r.person for r in this}), len(this),
                  perfect_entries(this, contest.questions_per_attempt), made, tuple(overall))  # standings


def actual(contest: Contest, round_id: str, results: Sequence[Result], now: dt.datetime) -> int | None:
    """The round's real count the prediction is compared with — known once the round has closed
    (entries with every question right), None before: no tie-break by prediction until then."""
    r = contest.round(round_id)
    if contest.prediction is None or r is None or now < r.closes:
        return None
    return perfect_entries(results, contest.questions_per_attempt)


def _heading(w: Weekly, lang: str) -> Heading:
    T = L[lang]
    r = w.contest.round(w.round_id)
    assert r is not None
    fmt = "%d/%m/%Y %H:%M"
    lines = [f"{T['round']}: {r.title}", f"{T['period']}: {r.opens.strftime(fmt)} – {r.closes.strftime(fmt)}",
             f"{T['generated']}: {w.made.strftime(fmt)}"]
    place = T["place_date"].format(d=w.made.day, m=w.made.month, y=w.made.year)
    return Heading(w.contest.title, T["title"], lines, place,
                   [(T["prepared"], T["prepared_hint"]), (T["head"], T["head_hint"])])


def _decimal(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def _flag(u: UnitRow, w: Weekly, lang: str) -> str:
    T = L[lang]
    notes = [T["under"].format(t=f"{100 * w.contest.participation_threshold:.0f}%")] if u.under else []
    if u.over:
        notes.append(T["over"])
    return "; ".join(notes)


def tables(w: Weekly, lang: str = "vi") -> list[Table]:
    T = L[lang]
    units = Table(T["sheet_units"], [(T["unit"], "text"), (T["parent"], "text"), (T["headcount"], "int"),
                                     (T["participants"], "int"), (T["rate"], "pct"), (T["prev"], "pct"),
                                     (T["change"], "pct"), (T["average"], "seconds"), (T["flag"], "text")],
                  title=T["units_title"])
    for u in w.units:
        units.rows.append([u.name, u.parent, u.headcount, u.participants, u.rate, u.previous, u.change,
                           round(u.average, 2) if u.participants else None, _flag(u, w, lang)])
    mail = any(x.email for x in w.winners)  # the column only when someone gave one
    columns: list[tuple[str, Kind]] = [(T["rank"], "int"), (T["name"], "text"), (T["unit"], "text"),
                                       (T["phone"], "text")]
    if mail:
        columns.append((T["email"], "text"))
    columns += [(T["correct"], "int"), (T["time"], "seconds")]
    people = Table(T["sheet_winners"], columns, title=T["winners"])
    for x in w.winners:
        people.rows.append([x.rank, x.name, x.unit, x.phone, *([x.email] if mail else []), x.correct,
                            round(x.time_ms / 1000, 3)])
    overall = Table(T["sheet_overall"], list(columns), title=T["overall_title"])
    for x in w.standings:
        overall.rows.append([x.rank, x.name, x.unit, x.phone, *([x.email] if mail else []), x.correct,
                             round(x.time_ms / 1000, 3)])
    return [units, people, overall]


def xlsx(w: Weekly, lang: str = "vi") -> bytes:
    return workbook_bytes(tables(w, lang), f"{w.contest.title} — {w.round_id}", _heading(w, lang))


def html(w: Weekly, lang: str = "vi") -> str:
    T, F = L[lang], H.Fmt(lang)
    head = _heading(w, lang)
    cards = "".join(f'<div class="card"><b>{H.escape_text(v)}</b><span>{H.escape_text(k)}</span></div>' for v, k in (
        (F.int(w.people), T["people"]), (F.int(w.attempts), T["attempts"]), (F.int(w.perfect), T["perfect"]),
        (F.pct(w.overall), T["overall"]), (F.int(sum(u.under for u in w.units)), T["under_count"])))
    body = [H.header(head.contest, head.report, head.lines[0], head.lines[1:], T["confidential"]),
            f'<div class="cards">{cards}</div>']
    shown = sorted(w.units, key=lambda u: (-u.rate, -u.participants, u.name, u.parent))  # as by_participation
    if shown:
        chart = charts.rate_hbars([f"{u.name} — {u.parent}" if u.parent else u.name for u in shown],
                                  [u.rate for u in shown], w.contest.participation_threshold)
        body.append(f'<figure><figcaption>{H.escape_text(T["chart"])}</figcaption>'
                    f'<img alt="{H.escape_text(T["chart"])}" src="{chart}"></figure>')
    rows = []
    for u in w.units:
        change = "–" if u.change is None else f"{100 * u.change:+.1f}".replace(".", "," if lang == "vi" else ".")
        cls = ' class="hard"' if u.under or u.over else ""
        rows.append(f"<tr{cls}>{H.td(u.name)}{H.td(u.parent)}{H.td(F.int(u.headcount), True)}"
                    f"{H.td(F.int(u.participants), True)}{H.td(F.pct(u.rate), True, 'rate')}"
                    f"{H.td(F.pct(u.previous), True)}{H.td(change, True)}"
                    f"{H.td(_decimal(u.average, lang) if u.participants else '–', True)}{H.td(_flag(u, w, lang))}</tr>")
    body.append(f"<h2>{H.escape_text(T['units_title'])}</h2>")
    body.append(H.table([(T["unit"], False), (T["parent"], False), (T["headcount"], True), (T["participants"], True),
                         (T["rate"], True), (T["prev"], True), (T["change"], True), (T["average"], True),
                         (T["flag"], False)], rows))
    best = sorted((u for u in w.units if u.participants), key=lambda u: (-u.average, -u.rate, u.name, u.parent))
    if best:
        body.append(f"<h2>{H.escape_text(T['by_average'])}</h2>")
        body.append(H.table([(T["rank"], True), (T["unit"], False), (T["parent"], False), (T["participants"], True),
                             (T["average"], True)],
                            [f"<tr>{H.td(i, True)}{H.td(u.name)}{H.td(u.parent)}{H.td(F.int(u.participants), True)}"
                             f"{H.td(_decimal(u.average, lang), True)}</tr>"
                             for i, u in enumerate(best[:10], start=1)]))
    body.append(f"<h2>{H.escape_text(T['winners'])}</h2>")
    if w.winners:
        mail = any(x.email for x in w.winners)
        body.append(H.table([(T["rank"], True), (T["name"], False), (T["unit"], False), (T["phone"], False),
                             *([(T["email"], False)] if mail else []), (T["correct"], True), (T["time"], True)],
                            [f"<tr>{H.td(x.rank, True)}{H.td(x.name)}{H.td(x.unit)}{H.td(x.phone, cls='nowrap')}"
                             f"{H.td(x.email) if mail else ''}{H.td(x.correct, True)}"
                             f"{H.td(F.seconds(x.time_ms), True)}</tr>" for x in w.winners]))
    else:
        body.append(f'<p class="muted">{H.escape_text(T["none"])}</p>')
    if w.standings and w.round_id != w.contest.rounds[0].id:
        body.append(f"<h2>{H.escape_text(T['overall_title'])}</h2>")
        body.append(H.table([(T["rank"], True), (T["name"], False), (T["unit"], False), (T["phone"], False),
                             (T["correct"], True), (T["time"], True)],
                            [f"<tr>{H.td(x.rank, True)}{H.td(x.name)}{H.td(x.unit)}{H.td(x.phone, cls='nowrap')}"
                             f"{H.td(x.correct, True)}{H.td(F.seconds(x.time_ms), True)}</tr>" for x in w.standings]))
    return H.page(f"{w.contest.title} — {head.lines[0]}", "\n".join(body), lang)

