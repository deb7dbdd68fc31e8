"""Import and validation messages in English and Vietnamese: one key per message.

The secretariat reads these, so a Vietnamese sheet gets Vietnamese messages: every text a
problem or a command summary shows is looked up here by key, in both languages, and nowhere
else. Placeholders use :meth:`str.format` (``{value!r}`` quotes like Python in English;
Vietnamese uses “…”, the quotation marks of Vietnamese official documents). A count that
needs a plural in English has ``_one`` / ``_other`` keys (Vietnamese has no plural).
"""

from __future__ import annotations

from typing import Any, Final

LANGS: Final = ("en", "vi")

# key -> (English, Vietnamese)
CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # --- where a problem is ---------------------------------------------------------------------
    "loc_sheet": ('sheet "{sheet}"', "trang tính “{sheet}”"),
    "loc_row": ("row {row}", "dòng {row}"),
    "loc_column": ('column {letter} "{header}"', "cột {letter} “{header}”"),
    "loc_column_bare": ("column {letter}", "cột {letter}"),
    "loc_question": ("question {n} ({id})", "câu {n} ({id})"),
    "loc_question_bare": ("question {n}", "câu {n}"),
    "loc_episode": ("episode {n} ({id})", "tập {n} ({id})"),
    "loc_episode_bare": ("episode {n}", "tập {n}"),
    "loc_bank": ("bank", "bank"),
    "loc_line": ("line {line}", "dòng {line}"),
    # --- the file itself ------------------------------------------------------------------------
    "file_not_found": ("file not found", "không tìm thấy tệp"),
    "cannot_read": ("cannot read spreadsheet: {error}", "không đọc được bảng tính: {error}"),
    "cannot_read_file": ("cannot read: {error}", "không đọc được tệp: {error}"),
    "not_utf8_csv": ('not UTF-8: save the sheet as "CSV UTF-8"',
                     "tệp không phải UTF-8: hãy lưu bảng tính dưới dạng “CSV UTF-8”"),
    "not_utf8_text": ("not UTF-8 text (byte {byte}); save as UTF-8",
                      "tệp không phải văn bản UTF-8 (byte {byte}); hãy lưu lại dưới dạng UTF-8"),
    "unsupported_type": ("unsupported file type {suffix!r}: use .xlsx or .csv{hint}",
                         "không hỗ trợ loại tệp “{suffix}”: hãy dùng tệp .xlsx hoặc .csv{hint}"),
    "xls_hint": (" (save .xls as .xlsx)", " (hãy lưu tệp .xls thành .xlsx)"),
    "file_too_big": ("the file is {size} MB; a question sheet is never more than {limit} MB",
                     "tệp nặng {size} MB; một bảng câu hỏi không bao giờ vượt quá {limit} MB"),
    "unpacked_too_big": ("the workbook unpacks to {size} MB of sheet data, more than {limit} MB; "
                         "this is not a plain question sheet",
                         "dữ liệu các trang tính khi giải nén lên tới {size} MB, vượt quá {limit} MB; "
                         "đây không phải một bảng câu hỏi thông thường"),
    "csv_broken": ("cannot read the CSV: {error}", "không đọc được tệp CSV: {error}"),
    "no_question_sheets": ("the workbook has no sheet with questions",
                           "bảng tính không có trang tính nào chứa câu hỏi"),
    "unknown_sheet": ("no sheet named {name!r}; the sheets are: {available}",
                      "không có trang tính nào tên “{name}”; các trang tính hiện có: {available}"),
    "hidden_sheet": ("this sheet is hidden, so its rows would be imported unseen; unhide it "
                     "(right-click the sheet tab → Unhide) or choose the sheets with --sheet",
                     "trang tính này đang bị ẩn nên các dòng của nó sẽ bị nhập mà không ai nhìn thấy; "
                     "hãy bỏ ẩn (nhấp chuột phải vào tên trang tính → Bỏ ẩn) hoặc chọn trang tính bằng --sheet"),
    "not_question_sheet": ("this sheet has content but no header row with the question columns ({required}); "
                           "it is not imported, so delete it or choose the sheets to import with --sheet",
                           "trang tính này có dữ liệu nhưng không có dòng tiêu đề với các cột câu hỏi ({required}); "
                           "trang tính sẽ không được nhập, vì vậy hãy xóa nó hoặc chọn trang tính cần nhập "
                           "bằng --sheet"),
    "too_many_rows": ("more than {limit} filled rows; split the questions into several files",
                      "có hơn {limit} dòng dữ liệu; hãy chia câu hỏi ra nhiều tệp"),
    "too_many_columns": ("cell {cell} is filled, beyond the {limit} columns a question sheet can use; "
                         "clear it",
                         "ô {cell} có dữ liệu, nằm ngoài {limit} cột mà một bảng câu hỏi được dùng; hãy xóa ô này"),
    "merge_too_big": ("merged cells {cells} cover {count} cells, more than {limit}; unmerge them",
                      "vùng ô trộn {cells} gồm {count} ô, vượt quá {limit}; hãy bỏ trộn ô"),
    "merge_across_columns": ("cells {cells} are merged across the columns {columns}; unmerge them "
                             "(Home → Merge & Center) so that each column has its own value",
                             "các ô {cells} được trộn qua nhiều cột ({columns}); hãy bỏ trộn ô "
                             "(Trang đầu → Hợp nhất và Căn giữa) để mỗi cột có giá trị riêng"),
    "merges_too_many": ("the merged cells of this sheet cover {count} cells in all, more than {limit}; "
                        "unmerge them",
                        "các vùng ô trộn của trang tính này gồm tổng cộng {count} ô, vượt quá {limit}; "
                        "hãy bỏ trộn ô"),
    "merge_header_columns": ("header cells {cells} are merged; give each column its own header",
                             "các ô tiêu đề {cells} đang được trộn; hãy đặt cho mỗi cột một tiêu đề riêng"),
    "merge_header": ("cells {cells} merge the header row with question rows; unmerge them",
                     "các ô {cells} trộn dòng tiêu đề với các dòng câu hỏi; hãy bỏ trộn ô"),
    # --- one cell -------------------------------------------------------------------------------
    "formula_no_value": ("is a formula {formula} with no saved value; paste the value instead "
                         "(Copy, then Paste Special → Values)",
                         "là công thức {formula} chưa có giá trị được lưu; hãy dán giá trị thay cho công thức "
                         "(Sao chép, rồi Dán đặc biệt → Giá trị)"),
    "formula_error": ("the formula {formula} shows the error {error}; fix it or type the value",
                      "công thức {formula} đang báo lỗi {error}; hãy sửa công thức hoặc gõ trực tiếp giá trị"),
    "cell_error": ("shows the error {error}; type the value", "ô đang báo lỗi {error}; hãy gõ trực tiếp giá trị"),
    "bidi_control": ("contains an invisible character ({code}) that changes the order the text is shown in; "
                     "retype the cell",
                     "chứa ký tự ẩn ({code}) làm đảo thứ tự hiển thị của chữ; hãy gõ lại ô này"),
    "control_char": ("contains the control character {code}; retype the cell",
                     "chứa ký tự điều khiển {code}; hãy gõ lại ô này"),
    "mixed_script": ("the word {word!r} mixes Latin letters with the {script} letter {char!r} ({code}), "
                     "which looks the same but is a different character; retype the word",
                     "từ “{word}” lẫn chữ cái {script} “{char}” ({code}) vào giữa chữ Latinh: trông giống "
                     "nhưng là ký tự khác; hãy gõ lại từ này"),
    "lookalike_letter": ("{value!r} looks like {latin} but is the {script} letter {code}; "
                         "type the Latin letter {latin}",
                         "“{value}” trông giống {latin} nhưng là chữ cái {script} {code}; hãy gõ lại chữ {latin} "
                         "bằng bàn phím Latinh"),
    "script_cyrillic": ("Cyrillic", "Kirin"),
    "script_greek": ("Greek", "Hy Lạp"),
    # --- the header row -------------------------------------------------------------------------
    "sheet_empty": ("the sheet is empty", "trang tính không có dữ liệu"),
    "unknown_column": ("unknown column {header!r}; see question_banks/README.md",
                       "không nhận ra cột “{header}”; xem danh sách tên cột trong question_banks/README.md"),
    "repeated_column": ("column {header!r} repeats column {other} ({name})",
                        "cột “{header}” trùng với cột {other} ({name})"),
    "missing_column": ("missing column {header!r}", "thiếu cột “{header}”"),
    "no_rows": ("no question rows below the header", "không có dòng câu hỏi nào bên dưới dòng tiêu đề"),
    "bad_language": ("language must be one of {choices}", "ngôn ngữ phải là một trong các giá trị {choices}"),
    # --- one question row -----------------------------------------------------------------------
    "missing_question": ("missing question text", "thiếu nội dung câu hỏi"),
    "option_gap": ("{label} is empty but a later option is filled",
                   "{label} để trống trong khi đáp án sau nó có nội dung"),
    "option_duplicate": ("{label} {value!r} duplicates {other}", "{label} “{value}” trùng với {other}"),
    "too_few_options": ("needs at least {min} options", "cần ít nhất {min} đáp án"),
    "missing_correct": ("missing correct answer (a letter A..F)", "thiếu đáp án đúng (một chữ cái từ A đến F)"),
    "correct_not_letter": ("{value!r} is not a letter A..F", "“{value}” không phải một chữ cái từ A đến F"),
    "correct_unknown_letter": ("unknown letter {letter!r}: option {letter} is empty",
                               "đáp án đúng “{letter}” không dùng được: đáp án {letter} để trống"),
    "time_not_number": ("{value!r} is not a number of seconds", "“{value}” không phải là số giây"),
    "time_out_of_range": ("{value} s is outside {min}..{max} s",
                          "{value} giây nằm ngoài khoảng cho phép từ {min} đến {max} giây"),
    "bad_id": ("id {value!r} may only contain letters, digits, '_', '-', '.'",
               "mã “{value}” chỉ được gồm chữ cái không dấu, chữ số và các dấu '_', '-', '.'"),
    "duplicate_id": ("duplicate id {value!r} (also {other})", "mã “{value}” bị trùng (đã có ở {other})"),
    "duplicate_text": ("same question as {other}", "câu hỏi trùng với {other}"),
    "bad_date": ("{value!r} is not a date like {example}", "“{value}” không phải ngày hợp lệ (ví dụ {example})"),
    "episode_same_id": ("episode {value!r} has the same id {id!r} as {other!r}",
                        "tập “{value}” có cùng mã “{id}” với tập “{other}”"),
    "episode_title_conflict": ("episode {value!r} already has title {title!r} ({other})",
                               "tập “{value}” đã có tên “{title}” ({other})"),
    "episode_date_conflict": ("episode {value!r} already has date {date} ({other})",
                              "tập “{value}” đã có ngày {date} ({other})"),
    "no_episode": ("no episode, while other rows name one ({other}: {name!r}); this question would be in "
                   "no episode and never played: fill the cell in",
                   "chưa ghi tập, trong khi các dòng khác có ghi ({other}: “{name}”); câu hỏi này sẽ không "
                   "thuộc tập nào và không bao giờ được đưa ra thi: hãy điền tập vào ô này"),
    "option_label": ("option {letter}", "đáp án {letter}"),
    # --- the TOML bank file ---------------------------------------------------------------------
    "toml_syntax": ("TOML syntax error: {error}", "lỗi cú pháp TOML: {error}"),
    "unknown_key": ("unknown key {key!r} (allowed: {allowed})", "khóa “{key}” không hợp lệ (được dùng: {allowed})"),
    "missing_key": ("missing {key}", "thiếu {key}"),
    "not_string": ("{key} must be a string, not {type}", "{key} phải là chuỗi ký tự, không phải {type}"),
    "empty_key": ("{key} is empty", "{key} để trống"),
    "bad_id_toml": ("id {value!r} may only contain letters, digits, '_', '-', '.' (max 64 chars)",
                    "mã “{value}” chỉ được gồm chữ cái không dấu, chữ số và các dấu '_', '-', '.' "
                    "(tối đa 64 ký tự)"),
    "time_not_number_toml": ("time limit must be a number of seconds, not {value!r}",
                             "thời gian trả lời phải là số giây, không phải “{value}”"),
    "time_out_of_range_toml": ("time limit {value} s is outside {min}..{max} s",
                               "thời gian trả lời {value} giây nằm ngoài khoảng cho phép từ {min} đến {max} giây"),
    "missing_options": ("missing options", "thiếu các đáp án"),
    "options_not_list": ("options must be a list of strings", "options phải là danh sách các chuỗi ký tự"),
    "option_not_string": ("option {label} must be a string, not {value!r}",
                          "đáp án {label} phải là chuỗi ký tự, không phải “{value}”"),
    "option_empty": ("option {label} is empty", "đáp án {label} để trống"),
    "option_duplicate_toml": ("option {label} {value!r} duplicates option {other}",
                              "đáp án {label} “{value}” trùng với đáp án {other}"),
    "too_few_options_toml": ("needs at least {min} options, has {n}", "cần ít nhất {min} đáp án, hiện có {n}"),
    "too_many_options": ("at most {max} options allowed, has {n}", "chỉ được tối đa {max} đáp án, hiện có {n}"),
    "missing_answer": ('missing answer (a letter such as "B")', "thiếu đáp án đúng (một chữ cái, ví dụ “B”)"),
    "answer_not_letter": ("answer must be one letter A..F, not {value!r}",
                          "đáp án đúng phải là một chữ cái từ A đến F, không phải “{value}”"),
    "answer_out_of_range": ("answer {value!r} is out of range: options are A..{last}",
                            "đáp án đúng “{value}” không có trong các đáp án (chỉ có A đến {last})"),
    "question_not_table": ("each [[questions]] entry must be a table", "mỗi mục [[questions]] phải là một bảng"),
    "episode_not_table": ("each [[episodes]] entry must be a table", "mỗi mục [[episodes]] phải là một bảng"),
    "episodes_not_array": ("episodes must be an array of tables ([[episodes]])",
                           "episodes phải là một mảng các bảng ([[episodes]])"),
    "duplicate_episode_id": ("duplicate episode id {value!r} (also episode {other})",
                             "mã tập “{value}” bị trùng (đã có ở tập {other})"),
    "bad_date_toml": ('date must be an ISO date like "2026-12-05", not {value!r}',
                      "ngày phải viết theo dạng ISO, ví dụ “2026-12-05”, không phải “{value}”"),
    "questions_not_list": ("questions must be a list of question ids", "questions phải là danh sách mã câu hỏi"),
    "episode_empty": ("episode has no questions", "tập không có câu hỏi nào"),
    "unknown_question": ("unknown question id {value!r}", "không có câu hỏi nào mang mã “{value}”"),
    "listed_twice": ("question {value!r} is listed twice", "câu hỏi “{value}” được liệt kê hai lần"),
    "already_used": ("question {value!r} is already used in episode {episode!r}",
                     "câu hỏi “{value}” đã được dùng trong tập “{episode}”"),
    "missing_bank_table": ("missing [bank] table with id, title and language",
                           "thiếu bảng [bank] gồm id, title và language"),
    "bad_language_toml": ("language must be one of {choices}, not {value!r}",
                          "language phải là một trong các giá trị {choices}, không phải “{value}”"),
    "require_source_bool": ("require_source must be true or false", "require_source phải là true hoặc false"),
    "no_questions": ("the bank has no [[questions]]", "ngân hàng không có câu hỏi nào ([[questions]])"),
    "duplicate_question_id": ("duplicate question id {value!r} (also question {other})",
                              "mã câu hỏi “{value}” bị trùng (đã có ở câu {other})"),
    "same_text": ("same text as question {other}", "nội dung trùng với câu {other}"),
    "episodes_empty": ("episodes is empty; remove it to play all questions",
                       "episodes để trống; hãy xóa mục này để thi tất cả câu hỏi"),
    # --- command summaries ----------------------------------------------------------------------
    "count_question_one": ("{n} question", "{n} câu hỏi"),
    "count_question_other": ("{n} questions", "{n} câu hỏi"),
    "count_episode_one": ("{n} episode", "{n} tập"),
    "count_episode_other": ("{n} episodes", "{n} tập"),
    "count_problem_one": ("{n} problem", "{n} lỗi"),
    "count_problem_other": ("{n} problems", "{n} lỗi"),
    "unassigned": ("{count} in no episode, never played: {ids}",
                   "{count} không thuộc tập nào nên sẽ không được thi: {ids}"),
    "validate_ok": ("{path}: OK: {summary}", "{path}: hợp lệ: {summary}"),
    "warning": ("warning: {problem}", "cảnh báo: {problem}"),
    "no_bank_files": ("no bank files found", "không tìm thấy tệp ngân hàng câu hỏi nào"),
    "exists_force": ("{out} exists; pass --force to overwrite it", "{out} đã tồn tại; thêm --force để ghi đè"),
    "nothing_written": ("{sheet}: {problems}, nothing written", "{sheet}: {problems}, chưa ghi tệp nào"),
    "wrote_bank": ("Wrote {out} (bank {bank!r}: {summary})", "Đã ghi {out} (ngân hàng “{bank}”: {summary})"),
    "episode_list": ("{title} ({n})", "{title} ({n})"),
    "sheets_read": ("from sheets {sheets}", "từ trang tính {sheets}"),
    "sheets_skipped": ("not imported (not chosen with --sheet): {sheets}",
                       "không nhập (không được chọn bằng --sheet): {sheets}"),
    "output_suffix": ("{out}: the output must end in .xlsx or .csv", "{out}: tệp xuất phải có đuôi .xlsx hoặc .csv"),
}


class Messages:
    """A catalogue in one language: ``T("key", **params)`` is the formatted text (the banks' by
    default; the online contest's files have their own, :mod:`quiz_engine.contest.messages`)."""

    def __init__(self, lang: str, catalogue: dict[str, tuple[str, str]] | None = None) -> None:
        self.lang = lang if lang in LANGS else "en"
        self._column = LANGS.index(self.lang)
        self._catalogue = CATALOGUE if catalogue is None else catalogue

    def __call__(self, msg: str, /, **params: Any) -> str:
        return self._catalogue[msg][self._column].format(**params)

    def count(self, noun: str, n: int) -> str:
        """``3 questions`` / ``3 câu hỏi``; ``noun`` names a ``count_<noun>_one/_other`` pair."""
        return self(f"count_{noun}_{'one' if n == 1 else 'other'}", n=n)

    def quote(self, text: str) -> str:
        """A name as the messages quote it (sheet names, episode titles)."""
        return f"“{text}”" if self.lang == "vi" else f'"{text}"'


def messages(lang: str | None) -> Messages:
    """The messages of ``lang`` (``vi`` or ``en``; anything else, or None, is English)."""
    return Messages(lang or "en")
