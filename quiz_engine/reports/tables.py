"""Reports as plain tables (one per section), the shape XLSX sheets and CSV rows are made from.

Keeping one table builder means the spreadsheet, the CSV and the numbers the tests check
can never disagree about what a section contains.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

from quiz_engine.reports.labels import labels
from quiz_engine.reports.safe import csv_writer
from quiz_engine.results import shown_name

Kind = Literal["text", "int", "seconds", "pct"]


@dataclass
class Table:
    """One section: a sheet in XLSX. Seconds are floats, rates fractions (formatted by the writer)."""

    name: str  # sheet name (≤ 31 chars, no []:*?/\)
    columns: list[tuple[str, Kind]]
    rows: list[list[Any]] = field(default_factory=list)


def _sec(ms: Any) -> float | None:
    return None if ms is None or ms == "" else round(float(ms) / 1000, 3)


def _person_cols(L: dict[str, str]) -> list[tuple[str, Kind]]:
    return [(L["full_name"], "text"), (L["name"], "text"), (L["unit"], "text"), (L["phone"], "text")]


def _person(p: dict[str, Any]) -> list[Any]:
    return [p["full_name"], shown_name(p), p["unit"], p["phone"]]


def _question_prizes(episodes: list[dict[str, Any]], L: dict[str, str], with_episode: bool) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["question"], "int"), (L["text"], "text"), (L["place"], "text"), *_person_cols(L),
             (L["time_s"], "seconds"), (L["flags"], "text"), (L["player"], "text")]
    t = Table(L["sheet_question_prizes"], cols)
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
                               "; ".join(p.get("flags", [])), p["player"]])
    return t


def _standings(name: str, items: list[tuple[str, list[dict[str, Any]]]], L: dict[str, str],
               with_episode: bool, with_count: bool = False) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["rank"], "int"), *_person_cols(L), (L["correct"], "int"), (L["total_time_s"], "seconds")]
    if with_count:
        cols.append((L["episodes_played"], "int"))
    cols += [(L["flags"], "text"), (L["player"], "text")]
    t = Table(name, cols)
    for ep, standings in items:
        for s in standings:
            row: list[Any] = [ep] if with_episode else []
            row += [s["rank"], *_person(s), s["correct"], _sec(s["time_ms"])]
            if with_count:
                row.append(s.get("episodes", 0))
            t.rows.append([*row, "; ".join(s.get("flags", [])), s["player"]])
    return t


def _disqualified(items: list[dict[str, Any]], L: dict[str, str], with_episode: bool) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    t = Table(L["disqualified"], [*cols, *_person_cols(L), (L["reason"], "text"), (L["player"], "text")])
    for d in items:
        t.rows.append([*([d["episode"]] if with_episode else []), *_person(d), d["reason"], d["player"]])
    return t


def winners_tables(results: dict[str, Any], lang: str = "vi") -> list[Table]:
    """Sheets of the winners report (episode or season)."""
    L = labels(lang)
    if results.get("kind") != "season_results":
        return [
            _question_prizes([results], L, False),
            _standings(L["standings"], [("", results["standings"])], L, False),
            _disqualified(results["disqualified"], L, False),
        ]
    eps = results["episodes"]
    prizes = Table(L["episode_prizes"], [(L["episode"], "text"), (L["place"], "text"), *_person_cols(L),
                                         (L["correct"], "int"), (L["total_time_s"], "seconds"), (L["player"], "text")])
    for ep in eps:
        entries = ([ep["episode_prize"]["winner"]] if ep["episode_prize"]["winner"] else [])
        for place, p in enumerate(entries + ep["episode_prize"]["reserves"]):
            label = L["winner"] if place == 0 else L["reserve_n"].format(n=place)
            prizes.rows.append([ep["episode"], label, *_person(p), p["correct"], _sec(p["time_ms"]), p["player"]])
    return [
        prizes,
        _standings(L["season_standings"][:31], [("", results["standings"])], L, False, with_count=True),
        _question_prizes(eps, L, True),
        _standings(L["standings"], [(e["episode"], e["standings"]) for e in eps], L, True),
        _disqualified(results["disqualified"], L, True),
    ]


def _question_table(questions: list[dict[str, Any]], L: dict[str, str], with_episode: bool) -> Table:
    cols: list[tuple[str, Kind]] = [(L["episode"], "text")] if with_episode else []
    cols += [(L["question"], "int"), (L["text"], "text"), (L["status"], "text"), (L["answer_key"], "text"),
             (L["reached"], "int"), (L["answers"], "int"), (L["correct_answers"], "int"), (L["wrong"], "int"),
             (L["correct_rate"], "pct"), (L["rejected"], "int"), (L["median_correct"], "seconds"),
             (L["started"], "int"), (L["dropped_after"], "int")]
    t = Table(L["per_question"], cols)
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
    summary = Table(L["summary"], [(L["summary"], "text"), (L["total"], "int")])
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
        units = Table(L["units"], unit_cols + [(e["episode"], "int") for e in report["episodes"]])
        for i, u in enumerate(report["units"]):
            units.rows.append([i + 1, u["unit"] or L["no_unit"], u["players"], *u["per_episode"]])
        return [summary, eps, _question_table(report["questions"], L, True), units]
    summary.rows = [[L["present"], s["present"]], [L["joined"], s["joined"]], [L["answered_one"], s["answered_one"]],
                    [L["answered_all"], s["answered_all"]], [L["answers"], s["answers"]],
                    [L["correct_answers"], s["correct"]]]
    units = Table(L["units"], [("#", "int"), (L["unit"], "text"), (L["players"], "int"), (L["present"], "int"),
                               (L["answered_all"], "int")])
    for i, u in enumerate(report["units"]):
        units.rows.append([i + 1, u["unit"] or L["no_unit"], u["players"], u["present"], u["answered_all"]])
    return [summary, _question_table(report["questions"], L, False), units]


# --- CSV ------------------------------------------------------------------------------------------

SEASON_CSV_COLUMNS = ["section", "episode", "question", "place", "player", "name", "full_name", "unit", "phone",
                      "time_ms", "correct_answers", "note"]


def season_results_csv(results: dict[str, Any]) -> str:
    """The season in one CSV, same columns as the episode CSV plus ``episode``.

    Sections: ``episode_prize``, ``season_standings``, ``question`` (winners and reserves of
    every episode), ``standings`` (per episode) and ``disqualified``.
    """
    buf = io.StringIO()
    w = csv_writer(buf)  # formula-safe cells (reports/safe.py)
    w.writerow(SEASON_CSV_COLUMNS)

    def person(p: dict[str, Any]) -> list[Any]:
        return [p["player"], p["name"], p["full_name"], p["unit"], p["phone"]]

    for ep in results["episodes"]:
        prize = ep["episode_prize"]
        for place, p in enumerate(([prize["winner"]] if prize["winner"] else []) + prize["reserves"], 1):
            w.writerow(["episode_prize", ep["episode"], "", place, *person(p), p["time_ms"], p["correct"],
                        "winner" if place == 1 else "reserve"])
    for s in results["standings"]:
        w.writerow(["season_standings", "", "", s["rank"], *person(s), s["time_ms"], s["correct"],
                    f"episodes={s.get('episodes', 0)}"])
    for ep in results["episodes"]:
        for q in ep["questions"]:
            entries = ([q["winner"]] if q["winner"] else []) + q["reserves"]
            if not entries:
                w.writerow(["question", ep["episode"], q["index"] + 1, "", "", "", "", "", "", "", "",
                            "voided" if q["voided"] else "no correct answer"])
            for place, p in enumerate(entries, 1):
                w.writerow(["question", ep["episode"], q["index"] + 1, place, *person(p), p["time_ms"], "",
                            "winner" if place == 1 else "reserve"])
        for s in ep["standings"]:
            w.writerow(["standings", ep["episode"], "", s["rank"], *person(s), s["time_ms"], s["correct"], ""])
    for d in results["disqualified"]:
        w.writerow(["disqualified", d["episode"], "", "", *person(d), "", "", d["reason"]])
    return buf.getvalue()


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
    return buf.getvalue()
