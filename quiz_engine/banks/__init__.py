"""Question banks: the model, the TOML loader and the spreadsheet importer.

The server needs only :func:`load_bank` / :func:`discover_banks` and the model classes;
:mod:`quiz_engine.banks.sheets` (openpyxl) and :mod:`quiz_engine.banks.cli` are imported
on demand so that loading a bank stays cheap and pure.
"""

from quiz_engine.banks.loader import (
    discover_banks,
    dump_bank,
    load_bank,
    parse_bank,
    validate_bank_file,
)
from quiz_engine.banks.model import Bank, EpisodeDef, Question

__all__ = [
    "Bank",
    "EpisodeDef",
    "Question",
    "discover_banks",
    "dump_bank",
    "load_bank",
    "parse_bank",
    "validate_bank_file",
]
