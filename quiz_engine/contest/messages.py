"""The online contest's validation messages, English and Vietnamese (the banks' convention:
:mod:`quiz_engine.banks.messages`; Vietnamese quotes with “…”)."""

from __future__ import annotations

from typing import Final

from quiz_engine.banks.messages import Messages

# key -> (English, Vietnamese)
CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # --- where ---------------------------------------------------------------------------------
    "loc_contest": ("[contest]", "[contest]"),
    "loc_round": ("round {n} ({id})", "vòng {n} ({id})"),
    "loc_round_bare": ("round {n}", "vòng {n}"),
    "loc_pool": ("pool {n} ({id})", "nhóm câu hỏi {n} ({id})"),
    "loc_pool_bare": ("pool {n}", "nhóm câu hỏi {n}"),
    "loc_prediction": ("[prediction]", "[prediction]"),
    "loc_line": ("line {line}", "dòng {line}"),
    "loc_row": ("row {row}", "dòng {row}"),
    "loc_column": ('column {letter} "{header}"', "cột {letter} “{header}”"),
    # --- the file ------------------------------------------------------------------------------
    "file_not_found": ("file not found", "không tìm thấy tệp"),
    "not_utf8_text": ("not UTF-8 text (byte {byte}); save as UTF-8",
                      "tệp không phải văn bản UTF-8 (byte {byte}); hãy lưu lại dưới dạng UTF-8"),
    "toml_syntax": ("not valid TOML: {error}", "không đúng cú pháp TOML: {error}"),
    "file_too_big": ("the file is {size} KB; a contest file is never more than {limit} KB",
                     "tệp nặng {size} KB; một tệp cuộc thi không bao giờ vượt quá {limit} KB"),
    "unknown_key": ("unknown key {key!r}; the keys here are: {allowed}",
                    "khóa “{key}” không hợp lệ; các khóa dùng được ở đây: {allowed}"),
    "missing_key": ("{key!r} is missing", "thiếu “{key}”"),
    "empty_key": ("{key!r} is empty", "“{key}” đang để trống"),
    "not_string": ("{key!r} must be text, not {type}", "“{key}” phải là văn bản, không phải {type}"),
    "not_table": ("{key!r} must be a table ([{key}])", "“{key}” phải là một bảng ([{key}])"),
    "bad_id": ("{value!r} is not a valid id: letters, digits, '.', '_' or '-', at most 64, starting with a "
               "letter or digit",
               "“{value}” không phải mã hợp lệ: chỉ gồm chữ không dấu, chữ số, '.', '_' hoặc '-', tối đa 64 ký "
               "tự, bắt đầu bằng chữ hoặc số"),
    "not_integer": ("{key!r} must be a whole number, not {value!r}",
                    "“{key}” phải là số nguyên, không phải “{value}”"),
    "out_of_range": ("{key!r} is {value}; it must be from {min} to {max}",
                     "“{key}” bằng {value}; giá trị phải từ {min} đến {max}"),
    "not_choice": ("{key!r} is {value!r}; choose one of: {choices}",
                   "“{key}” bằng “{value}”; hãy chọn một trong: {choices}"),
    # --- [contest] -----------------------------------------------------------------------------
    "no_contest_table": ("the file has no [contest] table", "tệp không có bảng [contest]"),
    "unknown_bank": ("no bank {bank!r} in the bank folder; the banks there are: {available}",
                     "không có ngân hàng câu hỏi “{bank}” trong thư mục ngân hàng; hiện có: {available}"),
    "bad_datetime": ("{key!r} must be a date and time such as 2026-11-18T07:30:00 (local time, "
                     "Asia/Ho_Chi_Minh), not {value!r}",
                     "“{key}” phải là ngày và giờ, ví dụ 2026-11-18T07:30:00 (giờ Việt Nam), không phải "
                     "“{value}”"),
    "date_without_time": ("{key!r} is a date without a time of day; write e.g. {example}",
                          "“{key}” là ngày nhưng thiếu giờ; hãy viết ví dụ {example}"),
    "closes_before_opens": ("'closes' ({closes}) must be after 'opens' ({opens})",
                            "thời điểm kết thúc “closes” ({closes}) phải sau thời điểm mở “opens” ({opens})"),
    "too_long_open": ("the contest is open for {days} days; at most {limit}",
                      "cuộc thi mở trong {days} ngày; tối đa {limit} ngày"),
    "no_time_limit": ("set 'time_per_question' or 'time_per_attempt' (or both): the server times every attempt",
                      "hãy đặt “time_per_question” hoặc “time_per_attempt” (hoặc cả hai): máy chủ tính giờ mọi "
                      "lượt thi"),
    "attempt_shorter_than_questions": (
        "'time_per_attempt' ({attempt} s) is shorter than {n} questions need at {min} s each",
        "“time_per_attempt” ({attempt} giây) ngắn hơn thời gian tối thiểu cho {n} câu hỏi ({min} giây mỗi câu)"),
    "unknown_field": ("{value!r} is not an entry field; the fields are: {fields}",
                      "“{value}” không phải trường thông tin dự thi; các trường có: {fields}"),
    "not_identity": ("{value!r} cannot say who a person is; use: {fields}",
                     "“{value}” không xác định được một người; hãy dùng: {fields}"),
    "no_identity": ("nothing in 'required' says who a person is: require one of {fields} and name it in 'identity'",
                    "không trường nào trong “required” xác định được một người: hãy yêu cầu một trong {fields} và "
                    "ghi nó vào “identity”"),
    "identity_not_required": ("identity field {value!r} must also be in 'required'",
                              "trường định danh “{value}” cũng phải có trong “required”"),
    "not_list": ("{key!r} must be a list such as [\"phone\"]", "“{key}” phải là danh sách, ví dụ [\"phone\"]"),
    "threshold_percent": ("'participation_threshold' is a share from 0 to 1 (write 0.8 for 80 %), not {value}",
                          "“participation_threshold” là tỷ lệ từ 0 đến 1 (80 % viết là 0.8), không phải {value}"),
    # --- rounds --------------------------------------------------------------------------------
    "rounds_kind": ("'rounds' must be \"weekly\" or [[rounds]] tables", "“rounds” phải là \"weekly\" hoặc các bảng "
                    "[[rounds]]"),
    "too_many_rounds": ("{n} rounds; at most {limit}", "{n} vòng; tối đa {limit} vòng"),
    "round_outside": ("the round runs {opens} – {closes}, outside the contest ({c_opens} – {c_closes})",
                      "vòng thi kéo dài {opens} – {closes}, nằm ngoài thời gian cuộc thi ({c_opens} – {c_closes})"),
    "round_empty": ("the round closes ({closes}) before it opens ({opens})",
                    "vòng thi kết thúc ({closes}) trước khi mở ({opens})"),
    "round_overlap": ("the round opens ({opens}) before round {other} closes ({closes}): rounds must not overlap "
                      "and go in order",
                      "vòng thi mở ({opens}) trước khi vòng {other} kết thúc ({closes}): các vòng không được chồng "
                      "lên nhau và phải theo thứ tự"),
    "duplicate_round": ("round id {value!r} is used twice (also round {other})",
                        "mã vòng “{value}” bị dùng hai lần (cả ở vòng {other})"),
    # --- pools ---------------------------------------------------------------------------------
    "no_pools": ("no [[pools]]: say which of the bank's questions an attempt draws from",
                 "chưa có [[pools]]: hãy cho biết mỗi lượt thi rút câu hỏi từ những câu nào của ngân hàng"),
    "pool_source": ("give the pool 'questions' or 'episodes' (one of the two)",
                    "hãy cho nhóm câu hỏi “questions” hoặc “episodes” (một trong hai)"),
    "unknown_question": ("no question {value!r} in bank {bank!r}", "ngân hàng “{bank}” không có câu hỏi “{value}”"),
    "unknown_episode": ("no episode {value!r} in bank {bank!r}; its episodes are: {available}",
                        "ngân hàng “{bank}” không có tập “{value}”; các tập hiện có: {available}"),
    "question_in_two_pools": ("question {value!r} is also in pool {other}: an attempt could draw it twice",
                              "câu hỏi “{value}” cũng nằm trong nhóm {other}: một lượt thi có thể rút trùng câu"),
    "draw_too_many": ("'draw' is {draw}, but the pool holds {n}",
                      "“draw” bằng {draw} nhưng nhóm chỉ có {n} câu hỏi"),
    "too_many_questions": ("an attempt would have {n} questions; at most {limit}",
                           "mỗi lượt thi sẽ có {n} câu hỏi; tối đa {limit} câu"),
    "duplicate_pool": ("pool id {value!r} is used twice (also pool {other})",
                       "mã nhóm “{value}” bị dùng hai lần (cả ở nhóm {other})"),
    # --- the unit roster -----------------------------------------------------------------------
    "roster_no_header": ("no sheet has a header row with the roster columns ({required})",
                         "không trang tính nào có dòng tiêu đề với các cột danh sách đơn vị ({required})"),
    "roster_empty": ("the roster has a header but no units", "danh sách có dòng tiêu đề nhưng chưa có đơn vị nào"),
    "roster_no_name": ("the unit has no name", "đơn vị chưa có tên"),
    "roster_bad_headcount": ("the headcount {value!r} is not a whole number from 1 to {max}",
                             "số CBCCVC “{value}” không phải số nguyên từ 1 đến {max}"),
    "roster_formula": ("{value!r} starts like a formula (=, + or @); a spreadsheet opening the reports would "
                       "run it: retype the name",
                       "“{value}” bắt đầu như một công thức (=, + hoặc @); bảng tính mở báo cáo sẽ chạy nó: hãy "
                       "gõ lại tên"),
    "roster_too_long": ("{n} characters; a unit name has at most {limit}",
                        "{n} ký tự; tên đơn vị tối đa {limit} ký tự"),
    "roster_duplicate": ("{name!r} under {parent!r} is already on the list ({where}); names that differ only in "
                         "accents, case or spacing are the same unit",
                         "“{name}” thuộc “{parent}” đã có trong danh sách ({where}); các tên chỉ khác dấu, chữ "
                         "hoa/thường hoặc khoảng trắng được coi là cùng một đơn vị"),
    "roster_duplicate_code": ("the code {code!r} is already used ({where})", "mã “{code}” đã được dùng ({where})"),
    "roster_ok": ("{path}: OK: {units} units, {headcount} staff", "{path}: hợp lệ: {units} đơn vị, {headcount} người"),
    # --- summaries -----------------------------------------------------------------------------
    "contest_ok": ("{path}: OK: {title!r}, {opens} – {closes}, {rounds} rounds, {questions} questions per attempt "
                   "from {pools} pools, {attempts} attempts per round ({counts} counts)",
                   "{path}: hợp lệ: “{title}”, {opens} – {closes}, {rounds} vòng, {questions} câu mỗi lượt từ "
                   "{pools} nhóm, {attempts} lượt mỗi vòng (tính lượt {counts})"),
    "counts_best": ("the best", "tốt nhất"),
    "counts_first": ("the first", "đầu tiên"),
    "problems": ("{path}: {n} problem(s), nothing changed", "{path}: {n} lỗi, chưa thay đổi gì"),
}


def messages(lang: str | None) -> Messages:
    """The contest messages in ``lang`` (``vi`` or ``en``; anything else English)."""
    return Messages(lang or "en", CATALOGUE)
