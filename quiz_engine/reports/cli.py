"""CLI commands for the secretariat: results, participation, audit, season show/sync.

``quiz_engine.cli`` owns the parser and the Redis connection (``_store``); the command
bodies live here so the report code stays in one package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from quiz_engine.reports import FORMATS, LAYOUTS, limit_top, render, report_name

HTML_TOP_DEFAULT = 20


def _emit(data: dict[str, Any], args: argparse.Namespace) -> int:
    """Write a report: -o FILE, else stdout for csv/json, else a file named after the report."""
    fmt = args.format
    if fmt == "html" and "standings" in data and getattr(args, "top", None) is None:  # results only
        data = limit_top(data, HTML_TOP_DEFAULT)
    payload = render(data, fmt, lang=args.lang, layout=getattr(args, "layout", "long"))
    out = args.output
    if not out and fmt in ("csv", "json"):
        text = payload.decode("utf-8-sig")
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    path = Path(out or f"{report_name(data)}.{fmt}")
    path.write_bytes(payload)
    print(f"wrote {path}")
    return 0


def _subject_error(args: argparse.Namespace) -> str | None:
    if bool(args.episode) == bool(args.season):
        return "give an EPISODE id (e.g. cchc-2026.tap-1) or --season BANK, not both"
    return None


async def results_command(args: argparse.Namespace) -> int:
    from quiz_engine.cli import _store
    from quiz_engine.reports import season_results
    from quiz_engine.results import episode_results

    if err := _subject_error(args):
        print(f"error: {err}", file=sys.stderr)
        return 2
    async with _store(args) as store:
        one_prize = args.one_prize  # None: each episode's own rule
        if args.season:
            data = await season_results(store, args.season, one_prize, reserves=args.reserves,
                                        one_episode_prize=args.one_episode_prize)
        else:
            data = await episode_results(store, args.episode, one_prize, reserves=args.reserves)
            if not data.get("phase"):
                print(f"error: episode {args.episode!r} not found", file=sys.stderr)
                return 1
    return _emit(limit_top(data, args.top), args)


async def participation_command(args: argparse.Namespace) -> int:
    from quiz_engine.cli import _store
    from quiz_engine.reports import episode_participation, season_participation

    if err := _subject_error(args):
        print(f"error: {err}", file=sys.stderr)
        return 2
    async with _store(args) as store:
        if args.season:
            data = await season_participation(store, args.season)
        else:
            data = await episode_participation(store, args.episode)
    return _emit(data, args)


async def audit_command(args: argparse.Namespace) -> int:
    from quiz_engine.cli import _store
    from quiz_engine.reports.audit import audit_csv, audit_text, question_audit

    async with _store(args) as store:
        rows = await question_audit(store, args.episode, args.question - 1)
    if not any(r["kind"] in ("ans", "rej", "open") for r in rows):
        print(f"no audit entries for question {args.question} of {args.episode}", file=sys.stderr)
        return 1
    text = audit_csv(rows) if args.format == "csv" else audit_text(rows)
    return _write_text(text, args.output, bom=args.format == "csv")


def _write_text(text: str, output: str | None, bom: bool) -> int:
    if output:
        Path(output).write_text(text, encoding="utf-8-sig" if bom else "utf-8")
        print(f"wrote {output}")
    else:
        sys.stdout.write(text)
    return 0


def _library(args: argparse.Namespace) -> Any:
    from quiz_engine.library import BankLibrary

    return BankLibrary([Path(b) for b in (args.bank or ["question_banks"])])


async def season_show_command(args: argparse.Namespace) -> int:
    from quiz_engine.cli import _store
    from quiz_engine.reports.sync import season_show

    bank = _library(args).bank(args.bank_id)
    async with _store(args) as store:
        info = await season_show(store, bank)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(info, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    print(f"{info['bank']}: {info['title']}")
    for ep in info["episodes"]:
        state = f"{ep['phase']}, {ep['next']} of {len(ep['questions'])} played" if ep["created"] else "not created yet"
        state += ", loaded on the server" if ep["loaded"] else ""
        print(f"\n  {ep['key']}  {ep['title']}  {ep['date'] or ''}  [{state}]")
        for q in ep["questions"]:
            diff = q["file_differs"]
            note = ""
            if diff:
                can = q["status"] in ("unplayed", "new in file")
                verb = "sync will replace" if can else "PLAYED: cannot change"
                note = f"  <- bank file differs ({', '.join(diff)}): {verb}" if ep["created"] else ""
            answers = f"{q['answers']} answers" if q.get("answers") else ""
            print(f"    {q['index'] + 1:>2}. {q['id']:<16} {q['status']:<12} {answers:<14}{note}")
    for key in info["orphans"]:
        print(f"\n  {key}  [created in Redis, no longer in the bank file]")
    return 0


async def season_sync_command(args: argparse.Namespace) -> int:
    from quiz_engine.cli import _store
    from quiz_engine.reports.sync import season_sync

    bank_id, sep, episode = args.target.partition("/")
    if not sep:
        bank_id, _, episode = args.target.partition(".")
    if not episode:
        print("error: give BANK/EPISODE, e.g. cchc-2026/tap-2", file=sys.stderr)
        return 2
    bank = _library(args).bank(bank_id)
    async with _store(args) as store:
        result = await season_sync(store, bank, episode, actor="cli")
    changed = ", ".join(str(i + 1) for i in result["changed"]) or "none (already up to date)"
    print(f"{result['episode']}: {result['next']} question(s) played and kept; replaced: {changed}; "
          f"now {result['count']} question(s)")
    return 0


def add_report_arguments(p: argparse.ArgumentParser, winners: bool) -> None:
    """Arguments shared by ``results`` and ``participation``."""
    p.add_argument("episode", nargs="?", help="episode id BANK.EPISODE, e.g. cchc-2026.tap-1")
    p.add_argument("--season", metavar="BANK", help="every created episode of this bank instead of one episode")
    p.add_argument("--format", choices=FORMATS, default="csv", help="csv (default), json, xlsx or html")
    p.add_argument("-o", "--output", help="write here (default: stdout for csv/json, REPORT-ID.xlsx/.html)")
    p.add_argument("--lang", choices=["vi", "en"], default=None,
                   help="labels and CSV headers (default: the bank's language)")
    if not winners:
        p.add_argument("--layout", choices=LAYOUTS, default="long",
                       help="csv: long (one number per row, default) or wide (one row per player, one column "
                       "per question)")
    if winners:
        p.add_argument("--top", type=int, default=None,
                       help=f"standings rows to include (default: all; html: {HTML_TOP_DEFAULT})")
        p.add_argument("--one-episode-prize", action="store_true",
                       help="season: one episode prize per person per season (next in order gets it)")


def add_report_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    common_redis: Callable[[argparse.ArgumentParser], None],
    wrap: Callable[[Callable[[argparse.Namespace], Any]], Callable[[argparse.Namespace], int]],
) -> None:
    """Add ``participation`` and ``season show|sync`` to the CLI."""
    part = sub.add_parser(
        "participation",
        help="participation report of an episode or a season",
        description="Players joined / answered / answered all, per-question correct rate and drop-off, "
        "players per unit. Definitions: docs/reports.md.",
    )
    add_report_arguments(part, winners=False)
    common_redis(part)
    part.set_defaults(func=wrap(participation_command))

    season = sub.add_parser(
        "season",
        help="season definition: played/unplayed questions, sync unplayed ones from the bank file",
        description="Bank files define the episodes. A question can be replaced before it is played, never after.",
    )
    commands = season.add_subparsers(dest="season_command", metavar="COMMAND", required=True)
    show = commands.add_parser("show", help="episodes of a bank with each question's status in Redis")
    show.add_argument("bank_id", metavar="BANK", help="bank id, e.g. cchc-2026")
    show.add_argument("--format", choices=["text", "json"], default="text")
    sync = commands.add_parser(
        "sync",
        help="replace a created episode's unplayed questions with the bank file's",
        description="Copies the bank file's questions into an episode already created in Redis for every "
        "question not yet opened or skipped; refuses, naming the question, if a played one would change.",
    )
    sync.add_argument("target", metavar="BANK/EPISODE", help="e.g. cchc-2026/tap-2")
    for p, fn in ((show, season_show_command), (sync, season_sync_command)):
        p.add_argument("--bank", action="append", help="bank file or folder (repeatable; default ./question_banks)")
        common_redis(p)
        p.set_defaults(func=wrap(fn))
