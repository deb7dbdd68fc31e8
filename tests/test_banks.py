"""Question-bank model, TOML loader/validator and the `bank` CLI commands."""

from __future__ import annotations

import argparse
import copy
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from quiz_engine.banks import Bank, EpisodeDef, Question
from quiz_engine.banks.cli import add_bank_commands
from quiz_engine.banks.loader import (
    discover_banks,
    dump_bank,
    load_bank,
    parse_bank,
    validate_bank_file,
)
from quiz_engine.banks.model import match_key
from quiz_engine.errors import BankError, BankProblem, NotFound

BANKS = Path(__file__).resolve().parent.parent / "question_banks"
CCHC = BANKS / "cchc-2026.toml"
DEMO = BANKS / "demo-en.toml"


# ------------------------------------------------------------------ shipped banks


def test_cchc_bank_is_a_full_valid_season() -> None:
    assert validate_bank_file(CCHC) == []
    bank = load_bank(CCHC)
    assert bank.language == "vi"
    assert len(bank.episodes) == 4
    assert len(bank.questions) == 40
    for episode in bank.episodes:
        questions = bank.episode_questions(episode.id)
        assert len(questions) == 10
        for q in questions:
            assert len(q.options) == 4
            assert 0 <= q.answer < len(q.options)
            assert q.source.strip(), f"{q.id} has no source"
            assert q.time_limit == 15.0


def test_cchc_bank_has_no_duplicates_and_varied_answers() -> None:
    bank = load_bank(CCHC)
    texts = [match_key(q.text) for q in bank.questions]
    assert len(set(texts)) == len(texts)
    used = [qid for e in bank.episodes for qid in e.question_ids]
    assert len(set(used)) == len(used) == 40
    for episode in bank.episodes:
        letters = {q.answer_letter for q in bank.episode_questions(episode.id)}
        assert letters == {"A", "B", "C", "D"}, episode.id


def test_cchc_text_is_nfc_and_round_trips_unchanged() -> None:
    raw = CCHC.read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", raw)
    bank = load_bank(CCHC)
    again = parse_bank(dump_bank(bank))
    assert again == bank
    assert again.to_dict() == bank.to_dict()
    assert again.title == "Cuộc thi tìm hiểu cải cách hành chính 2026"
    assert "Cổng Dịch vụ công quốc gia" in again.question("q21").text


def test_demo_bank_is_valid() -> None:
    assert validate_bank_file(DEMO) == []
    bank = load_bank(DEMO)
    assert bank.language == "en"
    assert [e.id for e in bank.episodes] == ["demo"]
    assert len(bank.episode_questions("demo")) == 5
    assert parse_bank(dump_bank(bank)) == bank


def test_discover_banks_finds_shipped_banks() -> None:
    assert discover_banks(BANKS) == sorted([CCHC, DEMO])


# ------------------------------------------------------------------ model


def _small_bank() -> Bank:
    q1 = Question("q1", "One?", ("a", "b"), 1)
    q2 = Question("q2", "Two?", ("a", "b", "c"), 2, 20.0, "src")
    return Bank("b", "B", "en", (q1, q2), (EpisodeDef("e1", "E1", ("q2", "q1"), "2026-12-05"),))


def test_bank_lookups() -> None:
    bank = _small_bank()
    assert bank.question("q2").answer_letter == "C"
    assert [q.id for q in bank.episode_questions("e1")] == ["q2", "q1"]
    with pytest.raises(NotFound):
        bank.question("nope")
    with pytest.raises(NotFound):
        bank.episode("nope")
    with pytest.raises(NotFound):
        bank.episode_questions("nope")


def test_to_dict_is_plain_json() -> None:
    data = _small_bank().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["questions"][1]["answer"] == 2
    assert data["questions"][1]["options"] == ["a", "b", "c"]
    assert data["episodes"][0] == {
        "id": "e1",
        "title": "E1",
        "question_ids": ["q2", "q1"],
        "date": "2026-12-05",
    }


def test_dump_round_trips_explicit_episodes_dates_and_fractional_time() -> None:
    bank = _small_bank()
    assert parse_bank(dump_bank(bank)) == bank
    odd = Bank("b", "B", "vi", (Question("x", "X?", ("1", "2"), 0, 7.5),), ())
    back = parse_bank(dump_bank(Bank(odd.id, odd.title, odd.language, odd.questions, (EpisodeDef("e", "e", ("x",)),))))
    assert back.questions[0].time_limit == 7.5


# ------------------------------------------------------------------ validation

BASE: dict[str, Any] = {
    "bank": {"id": "t", "title": "Test", "language": "en"},
    "questions": [
        {"id": "q1", "text": "First?", "options": ["A1", "B1", "C1"], "answer": "A"},
        {"id": "q2", "text": "Second?", "options": ["A2", "B2", "C2", "D2"], "answer": "B"},
        {"id": "q3", "text": "Third?", "options": ["A3", "B3"], "answer": "B"},
    ],
}


def _doc(**changes: Any) -> dict[str, Any]:
    """BASE with question 2 changed (None deletes a key)."""
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            doc["questions"][1].pop(key, None)
        else:
            doc["questions"][1][key] = value
    return doc


def _problems(doc: dict[str, Any] | str) -> list[BankProblem]:
    text = doc if isinstance(doc, str) else tomli_w.dumps(doc)
    with pytest.raises(BankError) as info:
        parse_bank(text, "bank.toml")
    assert str(info.value)  # the message lists the problems
    return info.value.problems


QUESTION_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing text", {"text": None}, "text", "missing"),
    ("empty text", {"text": "   "}, "text", "empty"),
    ("text not a string", {"text": 5}, "text", "string"),
    ("one option", {"options": ["only"], "answer": "A"}, "options", "at least 2"),
    ("seven options", {"options": list("abcdefg"), "answer": "A"}, "options", "at most 6"),
    ("options not a list", {"options": "a, b"}, "options", "list"),
    ("empty option", {"options": ["x", " ", "z"]}, "options", "option B is empty"),
    ("duplicate option", {"options": ["Paris", "Rome", "  paris "]}, "options", "duplicates option A"),
    (
        "duplicate option after NFC",
        {"options": ["Hà Nội", unicodedata.normalize("NFD", "hà  nội"), "Huế"]},
        "options",
        "duplicates option A",
    ),
    ("answer missing", {"answer": None}, "answer", "missing answer"),
    ("answer out of range", {"answer": "E"}, "answer", "out of range"),
    ("answer not a letter", {"answer": 2}, "answer", "one letter"),
    ("answer two letters", {"answer": "AB"}, "answer", "one letter"),
    ("answer beyond F", {"answer": "G"}, "answer", "one letter"),
    ("time limit not a number", {"time_limit": "15"}, "time_limit", "number"),
    ("time limit boolean", {"time_limit": True}, "time_limit", "number"),
    ("time limit too short", {"time_limit": 3}, "time_limit", "outside 5..120"),
    ("time limit too long", {"time_limit": 120.5}, "time_limit", "outside 5..120"),
    ("duplicate id", {"id": "q1"}, "id", "duplicate question id"),
    ("bad id", {"id": "câu 2"}, "id", "may only contain"),
    ("missing id", {"id": None}, "id", "missing id"),
    ("duplicate text", {"text": " first? "}, "text", "same text as question 1"),
    ("unknown key", {"hint": "x"}, "hint", "unknown key"),
    ("source not a string", {"source": 1}, "source", "string"),
]


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [case[1:] for case in QUESTION_CASES],
    ids=[case[0] for case in QUESTION_CASES],
)
def test_question_rule_names_question_number_and_field(changes: dict[str, Any], field: str, needle: str) -> None:
    problems = _problems(_doc(**changes))
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == "bank.toml"
    assert problem.location.startswith("question 2")
    assert problem.field == field
    assert needle in problem.message
    assert str(problem).startswith("bank.toml: question 2")
    assert f"[{field}]" in str(problem)


def test_location_carries_the_question_id() -> None:
    (problem,) = _problems(_doc(answer="Z"))
    assert problem.location == "question 2 (q2)"


EPISODE_CASES: list[tuple[str, list[dict[str, Any]], str, str, str]] = [
    (
        "unknown question",
        [{"id": "e1", "title": "E", "questions": ["q1", "q9"]}],
        "episode 1 (e1)",
        "questions",
        "unknown question id 'q9'",
    ),
    (
        "same question twice",
        [{"id": "e1", "title": "E", "questions": ["q1", "q2", "q1"]}],
        "episode 1 (e1)",
        "questions",
        "listed twice",
    ),
    (
        "question in two episodes",
        [
            {"id": "e1", "title": "E1", "questions": ["q1", "q2"]},
            {"id": "e2", "title": "E2", "questions": ["q3", "q2"]},
        ],
        "episode 2 (e2)",
        "questions",
        "already used in episode 'e1'",
    ),
    (
        "empty episode",
        [{"id": "e1", "title": "E", "questions": []}],
        "episode 1 (e1)",
        "questions",
        "no questions",
    ),
    (
        "duplicate episode id",
        [
            {"id": "e1", "title": "E1", "questions": ["q1"]},
            {"id": "e1", "title": "E2", "questions": ["q2"]},
        ],
        "episode 2 (e1)",
        "id",
        "duplicate episode id",
    ),
    (
        "bad date",
        [{"id": "e1", "title": "E", "date": "5/12/2026", "questions": ["q1"]}],
        "episode 1 (e1)",
        "date",
        "ISO date",
    ),
    (
        "unknown episode key",
        [{"id": "e1", "title": "E", "questions": ["q1"], "host": "x"}],
        "episode 1 (e1)",
        "host",
        "unknown key",
    ),
]


@pytest.mark.parametrize(
    ("episodes", "location", "field", "needle"),
    [case[1:] for case in EPISODE_CASES],
    ids=[case[0] for case in EPISODE_CASES],
)
def test_episode_rules(episodes: list[dict[str, Any]], location: str, field: str, needle: str) -> None:
    doc = copy.deepcopy(BASE)
    doc["episodes"] = episodes
    problems = _problems(doc)
    assert len(problems) == 1, problems
    assert problems[0].location == location
    assert problems[0].field == field
    assert needle in problems[0].message


BANK_CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("unknown top-level key", {"extra": {"x": 1}}, "", "extra", "unknown key"),
    ("missing bank table", {"bank": None}, "bank", "", "missing [bank]"),
    ("bad language", {"bank": {"id": "t", "title": "T", "language": "fr"}}, "bank", "language", "one of"),
    ("unknown bank key", {"bank": {"id": "t", "title": "T", "language": "en", "x": 1}}, "bank", "x", "unknown"),
    ("no questions", {"questions": []}, "", "questions", "no [[questions]]"),
]


@pytest.mark.parametrize(
    ("changes", "location", "field", "needle"),
    [case[1:] for case in BANK_CASES],
    ids=[case[0] for case in BANK_CASES],
)
def test_bank_level_rules(changes: dict[str, Any], location: str, field: str, needle: str) -> None:
    doc = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    problems = _problems(doc)
    assert len(problems) == 1, problems
    assert (problems[0].location, problems[0].field) == (location, field)
    assert needle in problems[0].message


def test_toml_syntax_error_gives_line_number() -> None:
    text = '[bank]\nid = "t"\ntitle = "T"\nlanguage = \n'
    (problem,) = _problems(text)
    assert problem.location == "line 4"
    assert "TOML syntax error" in problem.message


def test_require_source() -> None:
    doc = copy.deepcopy(BASE)
    doc["bank"]["require_source"] = True
    for q in doc["questions"]:
        q["source"] = "Nghị định"
    doc["questions"][2]["source"] = ""
    del doc["questions"][0]["source"]
    problems = _problems(doc)
    assert [(p.location, p.field) for p in problems] == [
        ("question 1 (q1)", "source"),
        ("question 3 (q3)", "source"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    doc = copy.deepcopy(BASE)
    doc["questions"][0]["answer"] = "D"
    doc["questions"][1]["options"] = ["x", "x"]
    doc["questions"][2]["time_limit"] = 500
    doc["questions"][2]["text"] = ""
    doc["episodes"] = [{"id": "e", "title": "E", "questions": ["q1", "zz"]}]
    problems = _problems(doc)
    assert [(p.location, p.field) for p in problems] == [
        ("question 1 (q1)", "answer"),
        ("question 2 (q2)", "options"),
        ("question 3 (q3)", "text"),
        ("question 3 (q3)", "time_limit"),
        ("episode 1 (e)", "questions"),
    ]


def test_text_is_normalized_to_nfc() -> None:
    doc = copy.deepcopy(BASE)
    decomposed = unicodedata.normalize("NFD", "Cải cách hành chính?")
    doc["questions"][0]["text"] = decomposed
    doc["questions"][0]["options"] = [unicodedata.normalize("NFD", "Đúng"), "Sai"]
    bank = parse_bank(tomli_w.dumps(doc))
    assert bank.questions[0].text == "Cải cách hành chính?"
    assert bank.questions[0].options[0] == "Đúng"


def test_defaults_main_episode_and_time_limit() -> None:
    bank = parse_bank(tomli_w.dumps(BASE))
    assert bank.episodes == (EpisodeDef("main", "Test", ("q1", "q2", "q3")),)
    assert bank.questions[0].time_limit == 15.0
    assert bank.questions[0].source == ""
    assert "[[episodes]]" not in dump_bank(bank)
    assert parse_bank(dump_bank(bank)) == bank


def test_lowercase_answer_and_toml_date_accepted() -> None:
    text = tomli_w.dumps(_doc(answer="c")) + (
        '\n[[episodes]]\nid = "e"\ntitle = "E"\ndate = 2026-12-05\nquestions = ["q2"]\n'
    )
    bank = parse_bank(text)
    assert bank.question("q2").answer == 2
    assert bank.episode("e").date == "2026-12-05"


def test_load_and_validate_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    (problem,) = validate_bank_file(missing)
    assert "not found" in problem.message
    latin = tmp_path / "latin.toml"
    latin.write_bytes("title = 'Hà Nội'".encode("latin-1", "replace") + b"\xff")
    (problem,) = validate_bank_file(latin)
    assert "UTF-8" in problem.message
    with pytest.raises(BankError):
        load_bank(latin)


def test_discover_banks_skips_non_bank_toml(tmp_path: Path) -> None:
    (tmp_path / "b.toml").write_text(tomli_w.dumps(BASE), encoding="utf-8")
    (tmp_path / "a-broken.toml").write_text("[bank\n", encoding="utf-8")
    (tmp_path / "config.toml").write_text("port = 1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert discover_banks(tmp_path) == [tmp_path / "a-broken.toml", tmp_path / "b.toml"]
    assert discover_banks(tmp_path / "missing") == []


# ------------------------------------------------------------------ CLI


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="quiz-engine")
    add_bank_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_cli_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["bank", "validate", str(CCHC), str(DEMO)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{CCHC}: OK: 40 questions, 4 episodes",
        f"{DEMO}: OK: 5 questions, 1 episode",
    ]


def test_cli_validate_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    doc = _doc(answer="E", time_limit=2)
    bad.write_text(tomli_w.dumps(doc), encoding="utf-8")
    assert _run(["bank", "validate", str(bad), str(DEMO)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{bad}: question 2 (q2) [answer]: ")
    assert out[1].startswith(f"{bad}: question 2 (q2) [time_limit]: ")
    assert out[2] == f"{DEMO}: OK: 5 questions, 1 episode"


def test_cli_validate_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["bank", "validate", str(BANKS)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_cli_show_marks_correct_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["bank", "show", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "Episode demo: Demo episode" in out
    assert "* B. Paris" in out
    assert "  A. Lyon" in out
    assert _run(["bank", "show", str(CCHC), "--episode", "tap-2"]) == 0
    out = capsys.readouterr().out
    assert "Tập 2" in out and "Tập 1" not in out
    assert _run(["bank", "show", str(CCHC), "--episode", "nope"]) == 1


def test_cli_help_for_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("validate", "import", "export", "show", "template"):
        with pytest.raises(SystemExit) as info:
            _run(["bank", command, "--help"])
        assert info.value.code == 0
        assert "usage:" in capsys.readouterr().out
