"""``quiz-engine contest …``: the online contest's commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quiz_engine.contest.loader import load_contest
from quiz_engine.contest.messages import messages
from quiz_engine.contest.roster import read_roster
from quiz_engine.contest.verify import verify
from quiz_engine.library import BankLibrary


def add_contest_commands(sub: Any, common_redis: Callable[[argparse.ArgumentParser], None]) -> None:
    contest = sub.add_parser("contest", help="the online contest (self-paced, open for weeks)",
                             description="Commands of the online contest mode (docs/contest.md).")
    commands = contest.add_subparsers(dest="contest_command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "check", help="validate a contest file (and a unit roster)",
        description="Validate a contest file against the bank it draws from, and optionally the unit roster "
        "spreadsheet; print every problem (file, place, key) or a summary. Exit 1 on any problem.")
    check.add_argument("file", help="the contest file (.toml)")
    check.add_argument("--banks", default="question_banks", help="the bank folder (default: question_banks)")
    check.add_argument("--roster", help="the unit roster (.xlsx or .csv)")
    check.set_defaults(func=_check)
    audit = commands.add_parser(
        "verify", help="recompute every draw, answer and score from the audit",
        description="Replay the contest's audit stream in Redis: every draw re-derived from the secret, every "
        "answer re-timed from its delivery and re-marked, every result re-added, and compared with the stored "
        "results. Exit 1 on any difference.")
    audit.add_argument("file", help="the contest file (.toml)")
    audit.add_argument("--banks", default="question_banks", help="the bank folder (default: question_banks)")
    common_redis(audit)
    audit.set_defaults(func=lambda args: asyncio.run(_verify(args)))


def _check(args: argparse.Namespace) -> int:
    library = BankLibrary([Path(args.banks)])
    contest = load_contest(args.file, library.bank)
    T = messages(contest.language)
    fmt = "%d/%m/%Y %H:%M"
    print(T("contest_ok", path=args.file, title=contest.title, opens=contest.opens.strftime(fmt),
            closes=contest.closes.strftime(fmt), rounds=len(contest.rounds), questions=contest.questions_per_attempt,
            pools=len(contest.pools), attempts=contest.attempts_per_round, counts=T(f"counts_{contest.counts.value}")))
    for r in contest.rounds:
        print(f"  {r.id}: {r.title}, {r.opens.strftime(fmt)} – {r.closes.strftime(fmt)}")
    if args.roster:
        roster = read_roster(args.roster, contest.language)
        print(T("roster_ok", path=args.roster, units=len(roster.units), headcount=roster.headcount))
    return 0


async def _verify(args: argparse.Namespace) -> int:
    library = BankLibrary([Path(args.banks)])
    contest = load_contest(args.file, library.bank)
    from quiz_engine.cli import _store  # the CLI owns the Redis connection of offline commands

    async with _store(args) as store:
        secret = await store.stored_secret()
        if not secret:
            print("error: this Redis holds no server secret (no server has run on it)", file=sys.stderr)
            return 2
        c = store.contest(contest.id)
        result = verify(contest, library.bank(contest.bank), secret, await c.audit(),
                        {r.id: await c.finished(r.id) for r in contest.rounds})
    print(f"{contest.id}: {'OK' if result.ok else 'DIFFERENCES'}: {result.attempts} attempts, "
          f"{result.finished} finished, {result.answers} answers")
    for line in result.diffs:
        print(f"  {line}")
    for line in result.notes:
        print(f"  note: {line}")
    return 0 if result.ok else 1
