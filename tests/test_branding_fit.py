"""A bank's [branding] (banks/branding.py) and the overlay fit warning (banks/fit.py): clear errors
for a bad colour or logo (file, field, what is wrong), warnings — not errors — for a question too
long for the overlay's lower third, printed by `bank validate` / `bank import` and the server's
load log. The browser side of both is tests/browser/test_overlay_layout.py."""

from __future__ import annotations

import base64
import logging
import struct
import zlib
from pathlib import Path

import pytest
import tomli_w

from quiz_engine.banks.branding import MAX_LOGO_BYTES, parse_branding
from quiz_engine.banks.fit import BOX_HEIGHT, FIT_MIN, estimate, fit_warning
from quiz_engine.banks.loader import discover_banks, dump_bank, load_bank, parse_bank
from quiz_engine.errors import BankError, BankProblem
from quiz_engine.library import BankLibrary, episode_meta
from tests.test_bank_import import _run

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "question_banks"
BROWSER_BANKS = ROOT / "tests" / "browser" / "banks"

# the issue's question: 330+ characters and five options; it must fit (shrunk), without a warning
LONG_330 = ("Theo Chương trình tổng thể cải cách hành chính nhà nước giai đoạn 2021–2030 ban hành kèm theo "
            "Nghị quyết số 76/NQ-CP của Chính phủ, để đến năm 2025 mức độ hài lòng của người dân và doanh "
            "nghiệp đối với sự phục vụ của cơ quan hành chính nhà nước đạt tối thiểu 90 %, các bộ, ngành và "
            "địa phương cần ưu tiên thực hiện nhóm giải pháp nào?")
LONG_OPTIONS = ["Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính", "Cắt giảm quy định về hoạt động kinh doanh",
                "Nâng cao chất lượng Bộ phận Một cửa các cấp", "Siết chặt kỷ luật, kỷ cương hành chính",
                "Thực hiện đồng bộ tất cả các giải pháp trên"]
TOO_LONG = "Cải cách hành chính là một nhiệm vụ trọng tâm, xuyên suốt của cả hệ thống chính trị. " * 12 + "Đúng không?"


def png(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def doc(branding: object = None, *, text: str = "Thủ đô của Việt Nam?",
        options: list[str] | None = None) -> dict[str, object]:
    d: dict[str, object] = {"bank": {"id": "b", "title": "Bank", "language": "vi"}}
    if branding is not None:
        d["branding"] = branding
    d["questions"] = [{"id": "q1", "text": text, "options": options or ["Hà Nội", "Huế", "Đà Nẵng"], "answer": "A"}]
    return d


def write(tmp_path: Path, d: dict[str, object], name: str = "bank.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(d), encoding="utf-8")
    return path


def problems(path: Path, lang: str | None = None) -> list[BankProblem]:
    with pytest.raises(BankError) as err:
        load_bank(path, lang)
    return list(err.value.problems)




# ------------------------------------------------------------------ branding: valid


def test_branding_with_a_logo_file_beside_the_bank(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.png").write_bytes(png())
    bank = load_bank(write(tmp_path, doc({"logo": "img/logo.png", "primary": "#0B3D91", "accent": " #ffc83d "})))
    b = bank.branding
    assert b is not None and (b.primary, b.accent, b.logo) == ("#0b3d91", "#ffc83d", "img/logo.png")
    assert b.logo_url == "data:image/png;base64," + base64.b64encode(png()).decode()
    # the overlay gets the colours and the logo as a data: URL, never the file name
    assert b.public() == {"primary": "#0b3d91", "accent": "#ffc83d", "logo": b.logo_url}
    assert episode_meta(bank, "main")["branding"] == b.public()
    # written back as it was given, and read back equal
    text = dump_bank(bank)
    assert '[branding]\nlogo = "img/logo.png"' in text
    assert parse_bank(text, str(tmp_path / "again.toml")) == bank


def test_branding_is_optional_and_partial(tmp_path: Path) -> None:
    assert load_bank(write(tmp_path, doc())).branding is None
    bank = load_bank(write(tmp_path, doc({"accent": "#ff6f3c"})))
    assert bank.branding is not None and bank.branding.public() == {"accent": "#ff6f3c"}
    assert episode_meta(load_bank(write(tmp_path, doc())), "main")["branding"] is None


def test_a_logo_as_a_data_url_needs_no_file() -> None:
    url = "data:image/png;base64," + base64.b64encode(png()).decode()
    branding, issues = parse_branding({"logo": url}, None)
    assert issues == [] and branding is not None and branding.logo_url == url


def test_an_svg_logo(tmp_path: Path) -> None:
    (tmp_path / "logo.svg").write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    bank = load_bank(write(tmp_path, doc({"logo": "logo.svg"})))
    assert bank.branding is not None and bank.branding.logo_url is not None
    assert bank.branding.logo_url.startswith("data:image/svg+xml;base64,")


def test_the_browser_test_branded_bank() -> None:
    bank = load_bank(BROWSER_BANKS / "branded.toml")
    assert bank.branding is not None and bank.branding.primary == "#7b1fa2"  # written #7B1FA2
    assert bank.branding.logo_url and bank.branding.logo_url.startswith("data:image/svg+xml;base64,")


# ------------------------------------------------------------------ branding: errors say file, field, what


@pytest.mark.parametrize("value", ["#12345", "red", "#gggggg", "0b3d91", "#0b3d91ff", 255, True])
def test_a_bad_colour(tmp_path: Path, value: object) -> None:
    path = write(tmp_path, doc({"primary": value}))
    (p,) = problems(path)
    assert (p.file, p.location, p.field) == (str(path), "branding", "primary")
    assert "#rrggbb" in p.message and str(value)[:6] in p.message
    assert str(p).startswith(f"{path}: branding [primary]: primary must be a colour written #rrggbb")


def test_a_missing_logo(tmp_path: Path) -> None:
    path = write(tmp_path, doc({"logo": "logo.png"}))
    (p,) = problems(path)
    assert (p.location, p.field) == ("branding", "logo")
    assert p.message == "logo file 'logo.png' not found beside the bank"
    (vi,) = problems(path, "vi")
    assert vi.message == "không tìm thấy tệp logo “logo.png” cạnh tệp ngân hàng"


def test_an_oversized_logo(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(png() + b"\x00" * MAX_LOGO_BYTES)
    (p,) = problems(write(tmp_path, doc({"logo": "logo.png"})))
    assert p.field == "logo"
    assert p.message == f"the logo is 129 KB; at most {MAX_LOGO_BYTES // 1024} KB (a logo, not a photo)"
    big = "data:image/png;base64," + base64.b64encode(png() + b"\x00" * MAX_LOGO_BYTES).decode()
    _, issues = parse_branding({"logo": big}, None)
    assert issues and "at most 128 KB" in issues[0][1]


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("logo.png", b"GIF89a not a png", "PNG"),
    ("logo.jpg", b"<html>oops</html>", "JPEG"),
    ("logo.svg", b"\x89PNG\r\n\x1a\n", "SVG+XML"),
    ("logo.webp", b"just text", "WEBP"),
])
def test_a_logo_that_is_not_the_image_it_says(tmp_path: Path, name: str, content: bytes, kind: str) -> None:
    (tmp_path / name).write_bytes(content)
    (p,) = problems(write(tmp_path, doc({"logo": name})))
    assert p.field == "logo" and p.message == f"the logo is not a {kind} image (its content does not match)"


@pytest.mark.parametrize(("logo", "says"), [
    ("../logo.png", "must be a file beside the bank"),
    ("/etc/logo.png", "must be a file beside the bank"),
    ("C:\\logo.png", "must be a file beside the bank"),
    ("logo.bmp", "must be a .png, .jpg, .webp, .gif or .svg file"),
    ("", "must be a file name beside the bank or a data:image/"),
    (42, "must be a file name beside the bank or a data:image/"),
    ("data:text/html;base64,PGI+", "a logo data: URL must be data:image/png"),
    ("data:image/png;base64,@@@", "a logo data: URL must be data:image/png"),
])
def test_a_bad_logo_reference(tmp_path: Path, logo: object, says: str) -> None:
    (p,) = problems(write(tmp_path, doc({"logo": logo})))
    assert (p.location, p.field) == ("branding", "logo") and says in p.message, p


def test_a_bad_branding_table_and_every_problem_at_once(tmp_path: Path) -> None:
    (p,) = problems(write(tmp_path, {**doc(), "branding": "blue"}))
    assert p.location == "branding" and p.message == "[branding] must be a table with logo, primary and accent"
    d = doc({"primary": "blue", "accent": "#fff", "colour": "#000000", "logo": "nope.png"})
    d["questions"][0]["answer"] = "Z"  # type: ignore[index]
    found = {(p.location, p.field) for p in problems(write(tmp_path, d))}
    assert found == {("question 1 (q1)", "answer"), ("branding", "primary"), ("branding", "accent"),
                     ("branding", "colour"), ("branding", "logo")}


def test_validate_names_the_file_and_field_of_a_branding_error(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, doc({"accent": "yellow"}))
    assert _run(["bank", "validate", str(path)]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{path}: branding [accent]: accent must be a colour written #rrggbb, such as \"#0b3d91\", not 'yellow'")


# ------------------------------------------------------------------ fit: a warning, not an error


def test_the_issues_330_character_five_option_question_fits() -> None:
    assert len(LONG_330) >= 330
    assert fit_warning(LONG_330, LONG_OPTIONS) is None
    assert estimate(LONG_330, LONG_OPTIONS, 1).height > BOX_HEIGHT  # it fits only shrunk
    assert estimate(LONG_330, LONG_OPTIONS, FIT_MIN).height <= BOX_HEIGHT


def test_estimates_grow_with_the_text_and_the_scale() -> None:
    short = estimate("Hai cộng hai?", ["3", "4"])
    assert short.fits and short.text_lines == 1 and short.option_lines == (1, 1)
    assert estimate(LONG_330, LONG_OPTIONS, 1).height > estimate(LONG_330, LONG_OPTIONS, 0.8).height
    assert estimate(TOO_LONG, LONG_OPTIONS).height > estimate(LONG_330, LONG_OPTIONS).height
    # a word longer than the box breaks inside (overflow-wrap: anywhere) instead of overflowing
    assert estimate("x" * 400, ["a", "b"]).text_lines > 1


def test_a_question_too_long_to_fit_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, doc(text=TOO_LONG, options=LONG_OPTIONS))
    bank = load_bank(path)  # loaded: a warning does not refuse the bank
    (w,) = bank.warnings
    assert (w.file, w.location, w.field) == (str(path), "question 1 (q1)", "text")
    assert w.message.startswith("too long for the overlay's lower third: at the smallest text size it needs about ")
    assert f"of the {BOX_HEIGHT} px" in w.message and "shorten the question or its options" in w.message
    (vi,) = load_bank(path, "vi").warnings
    assert vi.location == "câu 1 (q1)" and vi.message.startswith("quá dài so với khung phụ đề")


def test_validate_prints_fit_warnings_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, doc(text=TOO_LONG, options=LONG_OPTIONS))
    assert _run(["bank", "validate", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: OK: 1 question, 1 episode"
    assert out[1].startswith(f"warning: {path}: question 1 (q1) [text]: too long for the overlay's lower third")
    assert len(out) == 2
    assert _run(["bank", "validate", "--lang", "vi", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"cảnh báo: {path}: câu 1 (q1) [text]: quá dài")
    # with an error elsewhere the file fails as before, and says only its problems
    bad = write(tmp_path, {**doc(text=TOO_LONG, options=LONG_OPTIONS), "branding": {"primary": "x"}}, "bad.toml")
    assert _run(["bank", "validate", str(bad)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{bad}: branding [primary]: primary must be a colour written #rrggbb, such as \"#0b3d91\", not 'x'"]


def test_import_prints_fit_warnings_and_writes_the_bank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = tmp_path / "sheet.csv"
    header = "Tập / Episode,Câu hỏi / Question,Đáp án A / Option A,Đáp án B / Option B,Đáp án đúng / Correct\n"
    sheet.write_text(header + f'Tập 1,"{TOO_LONG}",Đúng,Sai,A\nTập 1,Hai cộng hai?,4,5,A\n', encoding="utf-8")
    out = tmp_path / "sheet.toml"
    assert _run(["bank", "import", str(sheet), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert out.exists() and "Đã ghi" in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("cảnh báo: ") and "quá dài so với khung phụ đề" in line


def test_the_server_logs_fit_warnings_when_it_loads_a_bank(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(tmp_path, doc(text=TOO_LONG, options=LONG_OPTIONS))
    with caplog.at_level(logging.WARNING, logger="quiz_engine.library"):
        BankLibrary([tmp_path])
    (record,) = [r for r in caplog.records if "bank warning" in r.getMessage()]
    assert record.levelno == logging.WARNING and "too long for the overlay's lower third" in record.getMessage()


def test_shipped_banks_fit_the_overlay() -> None:
    """No fit warning for the banks that ship or that the browser tests play, unless truly too
    long (tests/browser/test_overlay_layout.py measures each question in Chromium)."""
    for path in (*discover_banks(SHIPPED), *discover_banks(BROWSER_BANKS)):
        bank = load_bank(path)
        expected = {"too-long", "absurd"} if bank.id == "long-text" else set()
        assert {w.location.split("(")[-1].rstrip(")") for w in bank.warnings} == expected, (path, bank.warnings)
