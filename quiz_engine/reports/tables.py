"""Reports as plain tables (one per section), the shape XLSX sheets and CSV rows are made from.

Keeping one table builder means the spreadsheet, the CSV and the numbers the tests check
can never disagree about what a section contains. The CSV writers are here too: results in
English column names (the API's long-standing format) or Vietnamese ones, times in seconds
with three decimals, phones as text Excel keeps (:func:`~quiz_engine.reports.safe.csv_phone`);
participation as tidy long rows or one row per player (``wide``).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any, Literal

from quiz_engine.reports.labels import flag_text, labels, on_off
from quiz_engine.reports.safe import csv_phone, csv_writer
from quiz_engine.results import shown_name

Kind = Literal["text", "int", "seconds", "pct"]


@dataclass
class Table:
    """One section: a sheet in XLSX. Seconds are floats, rates fractions (formatted by the writer)."""

    name: str  # sheet name (≤ 31 chars, no []:*?/\)
    columns: list[tuple[str, Kind]]
    rows: list[list[Any]] = field(default_factory=list)
    title: str = ""  # the printed heading of the sheet (the list's name)


@dataclass
class Heading:
    """What a printed list carries above and below its table: who, what, when, and signatures."""

    contest: str  # the organiser's contest (bank title)
    report: str  # the report's title, when a sheet has none of its own
    lines: list[str]  # episode or season, date, rules, when it was made
    place_date: str  # "……, ngày 05 tháng 12 năm 2026", above the signatures
    signatures: list[tuple[str, str]]  # (role, hint): "Người lập biểu", "(Ký, ghi rõ họ tên)"


def _sec(ms: Any) -> float | None:
    return None if ms is None or ms == "" else round(float(ms) / 1000, 3)


def _person_cols(L: dict[str, str]) -> list[tuple[str, Kind]]:
    return [(L["full_name"], "text"), (L["name"], "text"), (L["unit"], "text"), (L["phone"], "text")]


def _person(p: dict[str, Any]) -> list[Any]:
    return [p["full_name"], shown_name(p), p["unit"], p["phone"]]


def flags_text(p: dict[str, Any], lang: str) -> str:
    """The review flags of one row (the "Cần xem xét" column), in ``lang``."""
    return "; ".join(flag_text(f, lang) for f in p.get("flags", []))


def episode_label(title: str, episode: str, L: dict[str, str]) -> str:
    """``Tập 1: Thể chế (cchc-2026.tap-1)``: the label word only when the title lacks it
    (a title "Tập 1: …" under "Tập:" read "Tập: Tập 1: …")."""
    word = L["episode"].casefold()
    named = title if title.casefold().startswith(word) else f"{L['episode']}: {title}"
    return f"{named} ({episode})" if episode and episode != title else named


def _question_prizes(episodes: list[dict[str, Any]], L: dict[str, str], with_episode: bool, lang: str) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["question"], "int"), (L["text"], "text"), (L["place"], "text"), *_person_cols(L),
             (L["time_s"], "seconds"), (L["flags"], "text"), (L["player"], "text")]
    t = Table(L["sheet_question_prizes"], cols, title=L["title_question_prizes"])
    for res in episodes:
        lead = [res["episode"]] if with_episode else []
        for q in res["questions"]:
            entries = ([q["winner"]] if q["winner"] else []) + q["reserves"]
            if not entries:
                why = L["voided"] if q["voided"] else L["no_correct"]
                t.rows.append([*lead, q["index"] + 1, q["text"], why, "", "", "", "", None, "", ""])
            for place, p in enumerate(entries):
                label = L["winner"] if place == 0 else L["reserve_n"].format(n=place)
                t.rows.append([*lead, q["index"] + 1, q["text"], label, *_person(p), _sec(p["time_ms"]),
                               flags_text(p, lang), p["player"]])
    return t


def _standings(name: str, items: list[tuple[str, list[dict[str, Any]]]], L: dict[str, str],
               with_episode: bool, lang: str, with_count: bool = False, title: str = "") -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["rank"], "int"), *_person_cols(L), (L["correct"], "int"), (L["total_time_s"], "seconds")]
    if with_count:
        cols.append((L["episodes_played"], "int"))
    cols += [(L["flags"], "text"), (L["player"], "text")]
    t = Table(name, cols, title=title or L["title_standings"])
    for ep, standings in items:
        for s in standings:
            row: list[Any] = [ep] if with_episode else []
            row += [s["rank"], *_person(s), s["correct"], _sec(s["time_ms"])]
            if with_count:
                row.append(s.get("episodes", 0))
            t.rows.append([*row, flags_text(s, lang), s["player"]])
    return t


def _disqualified(items: list[dict[str, Any]], L: dict[str, str], with_episode: bool) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    t = Table(L["disqualified"], [*cols, *_person_cols(L), (L["reason"], "text"), (L["player"], "text")],
              title=L["title_disqualified"])
    for d in items:
        t.rows.append([*([d["episode"]] if with_episode else []), *_person(d), d["reason"], d["player"]])
    return t


def handover_time(ms: Any) -> str:
    """When a prize was handed over, as the organisers' lists show it (server's local time)."""
    if not isinstance(ms, int):
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).astimezone().strftime("%d/%m/%Y %H:%M")


def prize_label(prize: str, L: dict[str, str]) -> str:
    return L["prize_episode"] if prize == "episode" else L["prize_q"].format(n=prize.removeprefix("q"))


def prize_rows(results: dict[str, Any], L: dict[str, str]) -> list[dict[str, Any]]:
    """Every prize of an episode with its holder, the claim code's check part and the handover;
    then any handover to someone who no longer holds the prize (disqualified since)."""
    held = [(f"q{q['index'] + 1}", q["winner"]) for q in results["questions"] if q["winner"]]
    if results.get("episode_winner"):
        held.append(("episode", results["episode_winner"]))
    rows = []
    for prize, p in held:
        claim = p.get("claim") or {}  # results made before claim codes have none
        given = claim.get("handed_over") or {}
        rows.append({"prize": prize_label(prize, L), "person": p, "check": claim.get("check", ""),
                     "at": handover_time(given.get("at")) if given else L["not_handed_over"],
                     "by": given.get("by", ""), "note": given.get("note", "")})
    for h in results.get("handovers", []):
        if not h.get("current"):
            rows.append({"prize": f"{prize_label(str(h['prize']), L)} — {L['passed_on']}", "person": h,
                         "check": "…" + str(h.get("check", "")), "at": handover_time(h.get("at")),
                         "by": h.get("by", ""), "note": h.get("note", "")})
    return rows


def _prize_handovers(results: dict[str, Any], L: dict[str, str]) -> Table:
    t = Table(L["prize_handovers"], [(L["prize"], "text"), *_person_cols(L), (L["claim_check"], "text"),
                                     (L["handed_over_at"], "text"), (L["handed_over_by"], "text"),
                                     (L["note"], "text"), (L["signature"], "text"), (L["player"], "text")],
              title=L["title_prize_handovers"])
    for r in prize_rows(results, L):
        t.rows.append([r["prize"], *_person(r["person"]), r["check"], r["at"], r["by"], r["note"], "",
                       r["person"]["player"]])
    return t


def winners_tables(results: dict[str, Any], lang: str = "vi") -> list[Table]:
    """Sheets of the winners report (episode or season)."""
    L = labels(lang)
    if results.get("kind") != "season_results":
        return [
            _question_prizes([results], L, False, lang),
            _standings(L["standings"], [("", results["standings"])], L, False, lang),
            _prize_handovers(results, L),
            _disqualified(results["disqualified"], L, False),
        ]
    eps = results["episodes"]
    prizes = Table(L["episode_prizes"], [(L["episode"], "text"), (L["place"], "text"), *_person_cols(L),
                                         (L["correct"], "int"), (L["total_time_s"], "seconds"), (L["flags"], "text"),
                                         (L["player"], "text")], title=L["title_episode_prizes"])
    for ep in eps:
        entries = ([ep["episode_prize"]["winner"]] if ep["episode_prize"]["winner"] else [])
        for place, p in enumerate(entries + ep["episode_prize"]["reserves"]):
            label = L["winner"] if place == 0 else L["reserve_n"].format(n=place)
            prizes.rows.append([ep["episode"], label, *_person(p), p["correct"], _sec(p["time_ms"]),
                                flags_text(p, lang), p["player"]])
    return [
        prizes,
        _standings(L["season_standings"][:31], [("", results["standings"])], L, False, lang, with_count=True,
                   title=L["title_season_standings"]),
        _question_prizes(eps, L, True, lang),
        _standings(L["standings"], [(e["episode"], e["standings"]) for e in eps], L, True, lang),
        _disqualified(results["disqualified"], L, True),
    ]


def _question_table(questions: list[dict[str, Any]], L: dict[str, str], with_episode: bool) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["question"], "int"), (L["text"], "text"), (L["status"], "text"), (L["answer_key"], "text"),
             (L["reached"], "int"), (L["answers"], "int"), (L["correct_answers"], "int"), (L["wrong"], "int"),
             (L["correct_rate"], "pct"), (L["rejected"], "int"), (L["median_correct"], "seconds"),
             (L["started"], "int"), (L["dropped_after"], "int")]
    t = Table(L["per_question"], cols, title=L["title_per_question"])
    for q in questions:
        lead = [q["episode"]] if with_episode else []
        status = L.get(q["status"], q["status"])
        if "answers" not in q:
            t.rows.append([*lead, q["index"] + 1, q["text"], status, q["correct_option"]] + [None] * 9)
            continue
        t.rows.append([*lead, q["index"] + 1, q["text"], status, q["correct_option"], q["reached"], q["answers"],
                       q["correct"], q["wrong"], q["correct_rate"], sum(q["rejected"].values()),
                       _sec(q["median_correct_ms"]), q["started"], q["dropped_after"]])
    return t


def participation_tables(report: dict[str, Any], lang: str = "vi") -> list[Table]:
    """Sheets of the participation report (episode or season)."""
    L = labels(lang)
    s = report["summary"]
    summary = Table(L["summary"], [(L["summary"], "text"), (L["total"], "int")], title=L["title_summary"])
    if report.get("kind") == "season_participation":
        summary.rows = [[L["episodes_played"], s["episodes"]], [L["season_players"], s["joined"]],
                        [L["present"], s["present"]], [L["joined_every"], s["joined_every_episode"]]]
        eps = Table(L["episode"], [(L["episode"], "text"), (L["text"], "text"), (L["date"], "text"),
                                   (L["questions"], "int"), (L["present"], "int"), (L["joined"], "int"),
                                   (L["answered_one"], "int"), (L["answered_all"], "int"), (L["answers"], "int"),
                                   (L["correct_answers"], "int")])
        for e in report["episodes"]:
            es = e["summary"]
            eps.rows.append([e["episode"], e["title"], e.get("date") or "", e["opened"], es["present"], es["joined"],
                             es["answered_one"], es["answered_all"], es["answers"], es["correct"]])
        unit_cols: list[tuple[str, Kind]] = [("#", "int"), (L["unit"], "text"), (L["players"], "int")]
        units = Table(L["units"], unit_cols + [(e["episode"], "int") for e in report["episodes"]],
                      title=L["title_units"])
        for i, u in enumerate(report["units"]):
            units.rows.append([i + 1, u["unit"] or L["no_unit"], u["players"], *u["per_episode"]])
        return [summary, eps, _question_table(report["questions"], L, True), units]
    summary.rows = [[L["present"], s["present"]], [L["joined"], s["joined"]], [L["answered_one"], s["answered_one"]],
                    [L["answered_all"], s["answered_all"]], [L["answers"], s["answers"]],
                    [L["correct_answers"], s["correct"]]]
    units = Table(L["units"], [("#", "int"), (L["unit"], "text"), (L["players"], "int"), (L["present"], "int"),
                               (L["answered_all"], "int")], title=L["title_units"])
    for i, u in enumerate(report["units"]):
        units.rows.append([i + 1, u["unit"] or L["no_unit"], u["players"], u["present"], u["answered_all"]])
    tables = [summary, _question_table(report["questions"], L, False), units]
    if report.get("sources"):
        by_src = Table(L["sources"], [(L["source"], "text"), ("src", "text"), (L["players"], "int"),
                                      (L["present"], "int"), (L["answered_one_short"], "int"),
                                      (L["answered_all"], "int")], title=L["sources"])
        for r in report["sources"]:
            by_src.rows.append([r["label"] if r["src"] else L["no_source"], r["src"], r["players"], r["present"],
                                r["answered_one"], r["answered_all"]])
        tables.append(by_src)
    return tables


# --- CSV ------------------------------------------------------------------------------------------

RESULTS_CSV_COLUMNS = ["section", "question", "place", "player", "name", "full_name", "unit", "phone", "time_s",
                       "correct_answers", "note"]
SEASON_CSV_COLUMNS = ["section", "episode", "question", "place", "player", "name", "full_name", "unit", "phone",
                      "time_s", "correct_answers", "note"]
# the Vietnamese header of each column (labels.py keys)
_CSV_LABELS = {"section": "section", "episode": "episode", "question": "question", "place": "place",
               "player": "player", "name": "name", "full_name": "full_name", "unit": "unit", "phone": "phone",
               "time_s": "time_s", "correct_answers": "correct", "note": "note"}
_SECTIONS = {"question": "sheet_question_prizes", "standings": "standings", "disqualified": "disqualified",
             "episode_prize": "episode_prizes", "season_standings": "season_standings"}


def seconds_text(ms: Any) -> str:
    """A response time in seconds with three decimals (``4.310``); "" when there is none."""
    return "" if ms is None or ms == "" else f"{float(ms) / 1000:.3f}"


class _ResultsCsv:
    """One results CSV in one language: English keeps the machine names (``question``,
    ``winner``, ``review …``); Vietnamese uses the sheet labels (``Giải từng câu``, ``Đoạt giải``)."""

    def __init__(self, columns: list[str], lang: str) -> None:
        self.lang = lang
        self.L = labels(lang)
        self.buf = io.StringIO()
        self.w = csv_writer(self.buf)  # formula-safe cells (reports/safe.py)
        self.w.writerow(columns if lang == "en" else [self.L[_CSV_LABELS[c]] for c in columns])

    def section(self, name: str) -> str:
        return name if self.lang == "en" else self.L[_SECTIONS[name]]

    def place(self, place: int) -> str:
        if self.lang == "en":
            return "winner" if place == 1 else "reserve"
        return self.L["winner"] if place == 1 else self.L["reserve_n"].format(n=place - 1)

    def note(self, parts: list[str], p: dict[str, Any]) -> str:
        sep = " " if self.lang == "en" else " — "  # English keeps "review too_fast: …", as the API always had
        review = [f"{self.L['review']}{sep}{flag_text(f, self.lang)}" for f in p.get("flags", [])]
        return "; ".join([*parts, *review])

    def claim(self, p: dict[str, Any]) -> list[str]:
        """The claim code's check part and the handover, for a prize holder's row."""
        c = p.get("claim")
        if not c:
            return []
        given = c["handed_over"]
        state = (f"{self.L['handed_over_at'].lower()} {handover_time(given['at'])} ({given.get('by', '')})"
                 if given else self.L["not_handed_over"].lower())
        return [f"{self.L['claim_check'].lower()} {c['check']}", state]

    def nobody(self, voided: bool) -> str:
        if self.lang == "en":
            return "voided" if voided else "no correct answer"
        return self.L["voided"] if voided else self.L["no_correct"]

    @staticmethod
    def person(p: dict[str, Any]) -> list[Any]:
        return [p["player"], p["name"], p["full_name"], p["unit"], csv_phone(str(p["phone"] or ""))]

    def text(self) -> str:
        return self.buf.getvalue()


def results_csv(results: dict[str, Any], lang: str = "en") -> str:
    """An episode's results in one CSV with a ``section`` column: question winners and reserves
    (``place`` 1 is the winner), the standings, the disqualified. Times are seconds (3 decimals)."""
    out = _ResultsCsv(RESULTS_CSV_COLUMNS, lang)
    w = out.w
    for q in results["questions"]:
        entries = ([q["winner"]] if q["winner"] else []) + q["reserves"]
        if not entries:
            w.writerow([out.section("question"), q["index"] + 1, "", "", "", "", "", "", "", "",
                        out.nobody(q["voided"])])
        for place, p in enumerate(entries, 1):
            w.writerow([out.section("question"), q["index"] + 1, place, *out.person(p), seconds_text(p["time_ms"]), "",
                        out.note([out.place(place), *out.claim(p)], p)])
    winner = (results.get("episode_winner") or {}).get("player")
    for s in results["standings"]:
        claim = out.claim(results["episode_winner"]) if s["player"] == winner else []
        w.writerow([out.section("standings"), "", s["rank"], *out.person(s), seconds_text(s["time_ms"]), s["correct"],
                    out.note(claim, s)])
    for d in results["disqualified"]:
        w.writerow([out.section("disqualified"), "", "", *out.person(d), "", "", d["reason"]])
    return out.text()


def season_results_csv(results: dict[str, Any], lang: str = "en") -> str:
    """The season in one CSV, same columns as the episode CSV plus ``episode``.

    Sections: ``episode_prize``, ``season_standings``, ``question`` (winners and reserves of
    every episode), ``standings`` (per episode) and ``disqualified``.
    """
    out = _ResultsCsv(SEASON_CSV_COLUMNS, lang)
    w = out.w
    L = out.L
    for ep in results["episodes"]:
        prize = ep["episode_prize"]
        for place, p in enumerate(([prize["winner"]] if prize["winner"] else []) + prize["reserves"], 1):
            w.writerow([out.section("episode_prize"), ep["episode"], "", place, *out.person(p),
                        seconds_text(p["time_ms"]), p["correct"], out.note([out.place(place)], p)])
    for s in results["standings"]:
        n = s.get("episodes", 0)
        played = f"episodes={n}" if lang == "en" else f"{L['episodes_played']}: {n}"
        w.writerow([out.section("season_standings"), "", "", s["rank"], *out.person(s), seconds_text(s["time_ms"]),
                    s["correct"], out.note([played], s)])
    for ep in results["episodes"]:
        for q in ep["questions"]:
            entries = ([q["winner"]] if q["winner"] else []) + q["reserves"]
            if not entries:
                w.writerow([out.section("question"), ep["episode"], q["index"] + 1, "", "", "", "", "", "", "", "",
                            out.nobody(q["voided"])])
            for place, p in enumerate(entries, 1):
                w.writerow([out.section("question"), ep["episode"], q["index"] + 1, place, *out.person(p),
                            seconds_text(p["time_ms"]), "", out.note([out.place(place)], p)])
        for s in ep["standings"]:
            w.writerow([out.section("standings"), ep["episode"], "", s["rank"], *out.person(s),
                        seconds_text(s["time_ms"]), s["correct"], out.note([], s)])
    for d in results["disqualified"]:
        w.writerow([out.section("disqualified"), d["episode"], "", "", *out.person(d), "", "", d["reason"]])
    return out.text()


PARTICIPATION_CSV_COLUMNS = ["section", "episode", "item", "label", "metric", "value"]


def participation_csv(report: dict[str, Any]) -> str:
    """Participation as tidy rows (section, episode, item, label, metric, value): one number
    per row, so a spreadsheet pivot table or a script can regroup it any way."""
    buf = io.StringIO()
    w = csv_writer(buf)  # formula-safe cells (reports/safe.py)
    w.writerow(PARTICIPATION_CSV_COLUMNS)
    season = report.get("kind") == "season_participation"
    for metric, value in report["summary"].items():
        w.writerow(["summary", "" if season else report["episode"], "", "", metric, value])
    if season:
        for e in report["episodes"]:
            for metric, value in e["summary"].items():
                w.writerow(["episode", e["episode"], "", e["title"], metric, value])
    for q in report["questions"]:
        ep = q.get("episode", report.get("episode", ""))
        w.writerow(["question", ep, q["index"] + 1, q["text"], "status", q["status"]])
        for metric in ("reached", "answers", "correct", "wrong", "correct_rate", "median_correct_ms", "started",
                       "dropped_after"):
            if metric in q:
                w.writerow(["question", ep, q["index"] + 1, q["text"], metric, "" if q[metric] is None else q[metric]])
        for reason, n in q.get("rejected", {}).items():
            w.writerow(["question", ep, q["index"] + 1, q["text"], f"rejected_{reason}", n])
    for u in report["units"]:
        w.writerow(["unit", "", "", u["unit"], "players", u["players"]])
        if season:
            for e, n in zip(report["episodes"], u["per_episode"], strict=True):
                w.writerow(["unit", e["episode"], "", u["unit"], "players", n])
        else:
            w.writerow(["unit", "", "", u["unit"], "present", u["present"]])
            w.writerow(["unit", "", "", u["unit"], "answered_all", u["answered_all"]])
    for r in report.get("sources") or []:  # per join source: item = the tag ("" = the plain link)
        for metric in ("players", "present", "answered_one", "answered_all"):
            w.writerow(["source", report.get("episode", ""), r["src"], r["label"], metric, r[metric]])
    return buf.getvalue()


def participation_wide_csv(report: dict[str, Any], lang: str = "en") -> str:
    """One row per player, one column per opened question (the option they chose, "" for none).

    A column is headed with the question and its key (``Q3 (B)``), then the player's number of
    answers and correct answers, the first and last question they answered, and the question
    they dropped off after (docs/reports.md). Players are named by display name and unit only.
    """
    L = labels(lang)
    season = report.get("kind") == "season_participation"
    questions = [q for q in report["questions"] if "answers" in q]
    episodes = {e["episode"]: i for i, e in enumerate(report.get("episodes", []))}
    keys: list[Any] = []
    heads: list[str] = []
    for q in questions:
        key = q["correct_option"] + (f", {L['voided']}" if q["status"] == "voided" else "")
        if season:
            keys.append((episodes[q["episode"]], q["index"]))
            heads.append(L["wide_episode_question"].format(episode=q["episode"], n=q["index"] + 1, key=key))
        else:
            keys.append(q["index"])
            heads.append(L["wide_question"].format(n=q["index"] + 1, key=key))
    numbers = {k: (q["index"] + 1 if not season else f"{q['episode']} {q['index'] + 1}")
               for k, q in zip(keys, questions, strict=True)}
    buf = io.StringIO()
    w = csv_writer(buf)  # formula-safe cells (reports/safe.py): names and units come from viewers
    tail = [L["answered_count"], "correct", L["first_answered"], L["last_answered"], "dropped_after"]
    if lang != "en":
        tail = [L["answered_count"], L["correct"], L["first_answered"], L["last_answered"], L["dropped_after_q"]]
    w.writerow([*(("player", "name", "unit") if lang == "en" else (L["player"], L["name"], L["unit"])), *heads,
                *tail])
    for p in report.get("_per_player", []):
        answered = [k for k in keys if k in p["answers"]]
        dropped = p.get("dropped_after")
        w.writerow([p["player"], shown_name(p), p["unit"] or L["no_unit"], *(p["answers"].get(k, "") for k in keys),
                    len(answered), p["correct"], numbers[answered[0]] if answered else "",
                    numbers[answered[-1]] if answered else "",
                    "" if dropped is None or season else dropped + 1])
    return buf.getvalue()


def _date(iso: str | None, lang: str) -> str:
    if not iso:
        return ""
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return day.strftime("%d/%m/%Y") if lang != "en" else day.isoformat()


def report_heading(data: dict[str, Any], lang: str, now: dt.datetime | None = None) -> Heading:
    """The title block and the signature block of a printed report (Vietnamese administrative
    lists carry the contest, what the list is, for which episode and date, and who drew it up
    and approved it, with room to sign)."""
    L = labels(lang)
    now = now or dt.datetime.now().astimezone()
    kind = data.get("kind", "results")
    contest = str(data.get("bank_title") or data.get("bank") or data.get("season") or "")
    lines: list[str] = []
    if "season" in kind:
        count = len(data.get("episodes", []))
        lines.append(f"{L['season']}: {data['season']} ({L['season_of'].format(n=count)})")
        report = L["season_participation_title" if "participation" in kind else "season_winners_title"]
    else:
        lines.append(episode_label(str(data.get("title") or data["episode"]), data["episode"], L))
        if data.get("date"):
            lines.append(f"{L['broadcast_date']}: {_date(data['date'], lang)}")
        report = L["participation_title" if "participation" in kind else "winners_title"]
    if "one_prize_per_person" in data:
        rules = [f"{L['one_prize']}: {on_off(data['one_prize_per_person'], L)}"]
        if "one_episode_prize_per_season" in data:
            rules.append(f"{L['one_episode_prize']}: {L['on'] if data['one_episode_prize_per_season'] else L['off']}")
        lines.append(f"{L['rules']}: {'; '.join(rules)}")
    lines.append(f"{L['generated']}: {now.strftime('%d/%m/%Y %H:%M')}")
    place_date = L["place_date"].format(day=now.day, month=now.month, year=now.year, month_name=now.strftime("%B"))
    signatures = [(L["prepared_by"], L["prepared_hint"]), (L["head_of_unit"], L["head_hint"])]
    return Heading(contest, report, lines, place_date, signatures)
