"""``quiz-engine bank …`` commands: validate, import, export and show question banks.

Every command returns an exit code (0 ok, 1 invalid input) instead of raising, so the
secretariat sees a list of problems rather than a traceback. ``import`` speaks the language
of the sheet's headers (or ``--lang``), ``validate`` English unless ``--lang vi``; every text
comes from :mod:`quiz_engine.banks.messages`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from quiz_engine.banks.loader import (
    discover_banks,
    dump_bank,
    load_bank,
)
from quiz_engine.banks.messages import LANGS, Messages, messages
from quiz_engine.banks.model import LANGUAGES, Bank, Question, letter_for
from quiz_engine.banks.sheets import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    SheetError,
    export_sheet,
    read_sheet_bank,
    write_template,
)
from quiz_engine.errors import BankError, NotFound


def _print_problems(error: BankError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)


def _print_warnings(bank: Bank, T: Messages, file: TextIO) -> None:
    """What validation noticed but does not refuse (a question too long for the overlay: banks/fit.py)."""
    for warning in bank.warnings:
        print(T("warning", problem=warning), file=file)


def _summary(bank: Bank, T: Messages | None = None) -> str:
    """``14 questions, 2 episodes``, plus the questions in no episode (they are never played)."""
    T = T or messages("en")
    text = f"{T.count('question', len(bank.questions))}, {T.count('episode', len(bank.episodes))}"
    used = {qid for e in bank.episodes for qid in e.question_ids}
    unused = [q.id for q in bank.questions if q.id not in used]
    if unused:
        shown = ", ".join(unused[:10]) + (" …" if len(unused) > 10 else "")
        text += "; " + T("unassigned", count=T.count("question", len(unused)), ids=shown)
    return text


def _episodes(bank: Bank, T: Messages) -> str:
    """``Tập 1 (10), Tập 2 (4)``: how many questions each episode got, to check at a glance."""
    return ", ".join(T("episode_list", title=e.title, n=len(e.question_ids)) for e in bank.episodes)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each file (a directory means every bank in it); print problems or OK."""
    files: list[Path] = []
    for name in args.files:
        path = Path(name)
        files.extend(discover_banks(path) if path.is_dir() else [path])
    T = messages(args.lang)
    if not files:
        print(T("no_bank_files"), file=sys.stderr)
        return 1
    failed = False
    for path in files:
        try:
            bank = load_bank(path, args.lang)
        except BankError as error:
            failed = True
            for problem in error.problems:
                print(problem)
            continue
        print(T("validate_ok", path=path, summary=_summary(bank, T)))
        _print_warnings(bank, T, sys.stdout)  # warnings only: the exit code stays 0
    return 1 if failed else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Convert a sheet to a TOML bank file."""
    sheet = Path(args.sheet)
    out = Path(args.output) if args.output else sheet.with_suffix(".toml")
    if out.exists() and not args.force:
        print(messages(args.lang)("exists_force", out=out), file=sys.stderr)
        return 1
    try:
        result = read_sheet_bank(sheet, bank_id=args.id, title=args.title, language=args.language, lang=args.lang,
                                 sheets=args.sheet_names)
    except BankError as error:
        _print_problems(error)
        T = messages(error.lang if isinstance(error, SheetError) else args.lang)
        print(T("nothing_written", sheet=sheet, problems=T.count("problem", len(error.problems))), file=sys.stderr)
        return 1
    bank, T = result.bank, messages(result.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_bank(bank), encoding="utf-8")
    summary = _summary(bank, T)
    if not bank.has_default_episodes:
        summary += f": {_episodes(bank, T)}"
    if len(result.sheets) > 1 or result.skipped:
        summary += "; " + T("sheets_read", sheets=", ".join(T.quote(n) for n in result.sheets))
    if result.skipped:
        summary += "; " + T("sheets_skipped", sheets=", ".join(T.quote(n) for n in result.skipped))
    print(T("wrote_bank", out=out, bank=bank.id, summary=summary))
    _print_warnings(bank, T, sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write a TOML bank as a sheet in the import layout."""
    out = Path(args.output)
    if out.suffix.lower() not in (*EXCEL_SUFFIXES, *CSV_SUFFIXES):
        print(messages("en")("output_suffix", out=out), file=sys.stderr)
        return 1
    try:
        bank = load_bank(args.bank)
        export_sheet(bank, out)
    except BankError as error:
        _print_problems(error)
        return 1
    print(f"Wrote {out} ({_summary(bank)})")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Write the example sheet to start a new bank from."""
    out = Path(args.output)
    T = messages("en")
    if out.suffix.lower() not in (*EXCEL_SUFFIXES, *CSV_SUFFIXES):
        print(T("output_suffix", out=out), file=sys.stderr)
        return 1
    if out.exists() and not args.force:
        print(T("exists_force", out=out), file=sys.stderr)
        return 1
    write_template(out)
    print(f"Wrote {out}")
    return 0


def _format_question(number: int, question: Question) -> list[str]:
    lines = [f"  {number}. [{question.id}] {question.text}  ({question.time_limit:g} s)"]
    for index, option in enumerate(question.options):
        mark = "*" if index == question.answer else " "
        lines.append(f"     {mark} {letter_for(index)}. {option}")
    if question.source:
        lines.append(f"       source: {question.source}")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    """Print a bank's episodes and questions, the correct option marked with '*'."""
    try:
        bank = load_bank(args.file)
        episodes = [bank.episode(args.episode)] if args.episode else list(bank.episodes)
    except BankError as error:
        _print_problems(error)
        return 1
    except NotFound as error:
        print(error, file=sys.stderr)
        return 1
    lines = [f"{bank.title} [{bank.id}, {bank.language}]: {_summary(bank)}"]
    for episode in episodes:
        date = f", {episode.date}" if episode.date else ""
        lines.append("")
        lines.append(f"Episode {episode.id}: {episode.title}{date}")
        for number, question in enumerate(bank.episode_questions(episode.id), start=1):
            lines.extend(_format_question(number, question))
    if not args.episode:
        used = {qid for e in bank.episodes for qid in e.question_ids}
        unused = [q for q in bank.questions if q.id not in used]
        if unused:
            lines.append("")
            lines.append("Not in any episode")
            for number, question in enumerate(unused, start=1):
                lines.extend(_format_question(number, question))
    print("\n".join(lines))
    return 0


def add_bank_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``bank validate|import|export|show`` to a CLI; each sets ``func`` → exit code."""
    bank = subparsers.add_parser(
        "bank",
        help="validate, import, export, show question banks",
        description="Work with question banks (TOML files in question_banks/).",
    )
    commands = bank.add_subparsers(dest="bank_command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="check bank files and list every problem",
        description=(
            "Check bank files. Prints each problem as 'file: question N (id) [field]: message' "
            "and 'file: OK: N questions, M episodes' for valid files. Exit code 1 if any "
            "problem is found."
        ),
    )
    validate.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="bank .toml file, or a directory of them",
    )
    validate.add_argument("--lang", choices=LANGS, default=None, help="language of the messages (default: en)")
    validate.set_defaults(func=cmd_validate)

    imp = commands.add_parser(
        "import",
        help="convert a .xlsx/.csv sheet to a bank .toml file",
        description=(
            "Read questions from a spreadsheet (see question_banks/template.xlsx) and write a "
            "bank TOML file. Every sheet of a workbook is imported (or named in an error); problems "
            "are reported by sheet, row and column, in Vietnamese when the headers are Vietnamese; "
            "nothing is written unless the whole workbook is valid."
        ),
    )
    imp.add_argument("sheet", metavar="SHEET", help="the .xlsx or .csv file")
    imp.add_argument(
        "-o",
        "--output",
        metavar="OUT.toml",
        help="where to write (default: SHEET with .toml)",
    )
    imp.add_argument("--id", help="bank id (default: from the file name)")
    imp.add_argument("--title", help="bank title (default: from the file name)")
    imp.add_argument(
        "--language",
        choices=LANGUAGES,
        default="vi",
        help="language of the questions (default: vi); also how dates and numbers are shown",
    )
    imp.add_argument("--lang", choices=LANGS, default=None,
                     help="language of the messages (default: the language of the sheet's headers)")
    imp.add_argument("--sheet", dest="sheet_names", action="append", metavar="NAME",
                     help="import only this sheet of the workbook (repeatable)")
    imp.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    imp.set_defaults(func=cmd_import)

    export = commands.add_parser(
        "export",
        help="write a bank as a .xlsx/.csv sheet",
        description=(
            "Write a bank as a spreadsheet in the same layout that 'bank import' reads, e.g. "
            "to hand it to the secretariat for review."
        ),
    )
    export.add_argument("bank", metavar="BANK.toml", help="the bank file")
    export.add_argument("output", metavar="OUT", help="OUT.xlsx or OUT.csv")
    export.set_defaults(func=cmd_export)

    template = commands.add_parser(
        "template",
        help="write an example .xlsx/.csv sheet to fill in",
        description=(
            "Write the sheet template (bilingual headers, three example rows) that "
            "'bank import' reads. The same file is in question_banks/template.xlsx."
        ),
    )
    template.add_argument("output", metavar="OUT", help="OUT.xlsx or OUT.csv")
    template.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    template.set_defaults(func=cmd_template)

    show = commands.add_parser(
        "show",
        help="list a bank's episodes and questions",
        description="Print episodes and questions; '*' marks the correct option.",
    )
    show.add_argument("file", metavar="FILE", help="the bank .toml file")
    show.add_argument("--episode", metavar="ID", help="show only this episode")
    show.set_defaults(func=cmd_show)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (``python -m quiz_engine.banks.cli bank …``)."""
    parser = argparse.ArgumentParser(prog="quiz-engine")
    add_bank_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
