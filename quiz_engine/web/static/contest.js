// The online contest's participant page (docs/contest.md § 3 "API" is the contract).
// Screens: loading → home (contest, round, participant or the way in, rules) → entry form →
// prediction → questions → result → review. The server holds every attempt: a reload, a lost
// network or a 503 never loses one; the page retries and resumes where the server says it is.
// Server and spreadsheet text (questions, units, names) only ever goes through textContent.
import { $, h, clear, show } from "./js/dom.js";
import { Retrier, requestJson, transient } from "./js/http.js";

// ---------------------------------------------------------------- strings
const STR = {
  vi: {
    brand: "Cuộc thi trực tuyến",
    "lang.switch": "English",
    loading: "Đang tải thông tin cuộc thi…",
    back: "Quay lại",
    "notice.retry": "Thử lại ngay",
    "notice.offline": "Mất kết nối mạng. Đang thử kết nối lại… Bài làm của bạn vẫn được máy chủ lưu giữ.",
    "notice.unavailable": "Hệ thống đang tạm thời gián đoạn. Đang thử lại… Bài làm của bạn không bị mất.",
    "notice.rate": "Có quá nhiều yêu cầu trong thời gian ngắn. Vui lòng chờ giây lát, hệ thống sẽ tự thử lại.",
    "notice.failed": "Không tải được thông tin cuộc thi. Vui lòng kiểm tra kết nối mạng rồi thử lại.",
    "home.kicker": "Cuộc thi trực tuyến",
    "home.dates": "Thời gian: từ {opens} đến {closes} (giờ Việt Nam)",
    "home.round_open": "Đang diễn ra",
    "home.round_until": "{round} — kết thúc lúc {closes}",
    "home.not_open": "Cuộc thi chưa bắt đầu",
    "home.not_open_text": "Cuộc thi sẽ mở lúc {opens}. Kính mời quay lại vào thời gian này.",
    "home.between": "Hiện chưa có vòng thi nào đang mở",
    "home.between_text": "{round} sẽ mở lúc {opens}.",
    "home.closed": "Cuộc thi đã kết thúc",
    "home.closed_text": "Cuộc thi đã kết thúc lúc {closes}. Trân trọng cảm ơn quý vị đã quan tâm, tham gia.",
    "home.hello": "Xin chào, {name}",
    "home.tries": "{round}: bạn đã thi {used}/{total} lượt, còn {left} lượt.",
    "home.tries_none": "{round}: bạn đã sử dụng hết {total} lượt thi. Hẹn gặp lại bạn ở vòng tiếp theo.",
    "home.start": "Bắt đầu làm bài",
    "home.start_n": "Bắt đầu lượt thi thứ {n}",
    "home.resume": "Tiếp tục lượt thi đang làm",
    "home.start_note": "Thời gian được tính ngay khi câu hỏi hiện ra; tải lại trang không làm dừng đồng hồ.",
    "home.results": "Kết quả của bạn",
    "home.public_results": "Xem kết quả các vòng đã kết thúc",
    "home.result_line": "{round} · lượt {n}",
    "home.result_score": "{correct}/{questions} câu đúng",
    "home.result_meta": "Thời gian {time} · nộp bài lúc {at}",
    "home.result_review": "Xem đáp án",
    "home.not_me": "Không phải bạn? Đăng ký lại",
    "home.enter": "Đăng ký dự thi",
    "home.lookup": "Tra cứu kết quả của bạn",
    "home.enter_note": "Đã đăng ký trên thiết bị khác? Nhập lại đúng thông tin đã khai để tiếp tục với kết quả của bạn.",
    "msg.limit": "Bạn đã sử dụng hết số lượt thi của vòng này.",
    "msg.closed": "Hiện không có vòng thi nào đang mở, nên chưa thể bắt đầu lượt thi.",
    "msg.busy": "Hệ thống đang bận, vui lòng bấm lại sau giây lát.",
    "msg.welcome_back": "Chào mừng bạn quay lại. Kết quả các lượt thi trước của bạn vẫn được giữ nguyên.",
    "msg.entered": "Đăng ký thành công. Chúc bạn đạt kết quả tốt!",
    "msg.stale": "Phiên dự thi trên thiết bị này đã hết hiệu lực. Vui lòng đăng ký lại.",
    "msg.attempt_gone": "Không tìm thấy lượt thi này. Vui lòng kiểm tra lại kết quả bên dưới.",
    "msg.error": "Đã có lỗi xảy ra. Vui lòng thử lại.",
    "rules.title": "Thể lệ",
    "rules.questions": "Mỗi lượt thi gồm {n} câu hỏi trắc nghiệm, mỗi câu chọn một đáp án.",
    "rules.per_question": "Thời gian trả lời mỗi câu: {t}.",
    "rules.per_attempt": "Thời gian tối đa cho cả lượt thi: {t}.",
    "rules.attempts": "Mỗi vòng thi, mỗi người được dự thi tối đa {n} lượt; {counts}.",
    "rules.attempts_one": "Mỗi vòng thi, mỗi người được dự thi 1 lượt.",
    "rules.counts_best": "kết quả cao nhất được tính",
    "rules.counts_first": "chỉ kết quả lượt thi đầu tiên được tính",
    "rules.timeout_q": "Hết thời gian của một câu mà chưa chọn đáp án, câu đó được tính là không trả lời và hệ thống tự chuyển sang câu tiếp theo.",
    "rules.timeout_a": "Hết thời gian của lượt thi, các câu chưa trả lời được tính là không trả lời và lượt thi kết thúc.",
    "rules.once": "Mỗi câu chỉ được chọn một lần, không sửa lại được. Kết quả đúng, sai không hiển thị trong khi làm bài.",
    "rules.reveal_after_attempt": "Đáp án được công bố ngay sau khi bạn hoàn thành lượt thi.",
    "rules.reveal_after_round": "Đáp án được công bố sau khi vòng thi kết thúc.",
    "rules.reveal_never": "Cuộc thi không công bố đáp án.",
    "rules.ranking": "Xếp hạng: nhiều câu đúng hơn; nếu bằng nhau, tổng thời gian ít hơn; tiếp đến là câu trả lời dự đoán gần đúng hơn.",
    "rules.ranking_np": "Xếp hạng: nhiều câu đúng hơn; nếu bằng nhau, tổng thời gian ít hơn.",
    "rules.rounds": "Cuộc thi gồm {n} vòng: {list}.",
    "entry.title": "Thông tin dự thi",
    "entry.intro": "Vui lòng khai đúng thông tin để Ban Tổ chức ghi nhận kết quả của bạn và tỷ lệ tham gia của đơn vị.",
    "entry.submit": "Tiếp tục",
    "entry.privacy": "Thông tin của bạn chỉ dùng cho cuộc thi. Kết quả công bố chỉ gồm họ tên, đơn vị và số câu đúng.",
    "field.full_name": "Họ và tên",
    "field.unit": "Đơn vị",
    "field.phone": "Số điện thoại",
    "field.staff_id": "Mã cán bộ",
    "field.email": "Email",
    "field.position": "Chức vụ",
    "ph.full_name": "Ví dụ: Nguyễn Văn An",
    "ph.unit": "Gõ tên đơn vị để tìm",
    "ph.phone": "Ví dụ: 0912345678",
    "ph.email": "ten@donvi.gov.vn",
    "ph.position": "Ví dụ: Chuyên viên",
    "hint.unit": "Chọn đơn vị trong danh sách; không cần gõ dấu (ví dụ: “xa an binh”).",
    "hint.phone": "Dùng để nhận biết bạn ở các lượt thi sau.",
    "unit.clear": "Xóa đơn vị đã chọn",
    "unit.none": "Không tìm thấy đơn vị phù hợp. Hãy thử gõ ít từ hơn hoặc kiểm tra lại chính tả.",
    "unit.count": "{n} đơn vị phù hợp. Chọn đơn vị của bạn trong danh sách.",
    "unit.more": "Hiển thị {n} đơn vị đầu tiên; gõ thêm để thu hẹp.",
    "unit.error": "Chưa tải được danh sách đơn vị. Hãy gõ lại để thử lần nữa.",
    "unit.picked": "Đã chọn: {label}",
    "err.missing": "Vui lòng nhập {field}.",
    "err.missing_unit": "Vui lòng chọn đơn vị trong danh sách.",
    "err.not_picked": "Vui lòng chọn một đơn vị trong danh sách gợi ý (không tự gõ tên đơn vị).",
    "err.too_long": "{Field} quá dài (tối đa 120 ký tự).",
    "err.unknown_unit": "Đơn vị này không có trong danh sách. Vui lòng chọn lại.",
    "err.bad_phone": "Số điện thoại chưa đúng: cần 10 chữ số, bắt đầu bằng số 0 (ví dụ 0912345678).",
    "err.bad_email": "Địa chỉ email chưa đúng (ví dụ: ten@donvi.gov.vn).",
    "err.formula": "{Field} không được bắt đầu bằng dấu =, + hoặc @.",
    "err.mixed_script": "{Field} có ký tự lạ (chữ Hy Lạp hoặc chữ Kirin lẫn vào). Vui lòng gõ lại bằng bàn phím tiếng Việt.",
    "err.bidi_control": "{Field} có ký tự điều khiển ẩn. Vui lòng xóa và gõ lại.",
    "err.control_char": "{Field} có ký tự điều khiển ẩn. Vui lòng xóa và gõ lại.",
    "err.invalid": "{Field} chưa hợp lệ. Vui lòng kiểm tra lại.",
    "predict.kicker": "Trước khi bắt đầu",
    "predict.title": "Câu hỏi dự đoán",
    "predict.hint": "Nhập một số nguyên (ví dụ: 120). Câu trả lời dự đoán dùng để xếp hạng khi bằng điểm.",
    "predict.start": "Bắt đầu làm bài",
    "predict.missing": "Vui lòng nhập số dự đoán của bạn.",
    "predict.bad": "Số dự đoán phải là một số nguyên, không âm.",
    "predict.range": "Số dự đoán phải là số nguyên từ 0 đến {max}.",
    "before.n": "Lượt thi gồm {n} câu hỏi.",
    "before.time": "Thời gian được tính từ lúc mỗi câu hỏi hiện ra trên màn hình.",
    "q.num": "Câu {n}/{count}",
    "q.seconds": "giây",
    "q.attempt_left": "Lượt thi còn {t}",
    "q.sending": "Đang gửi câu trả lời…",
    "q.sent": "Đã ghi nhận câu trả lời. Đang tải câu tiếp theo…",
    "q.loading": "Đang tải câu hỏi…",
    "q.ten": "Còn 10 giây.",
    "q.time_up": "Hết thời gian trả lời câu này. Đang chuyển sang câu tiếp theo…",
    "q.time_up_short": "Hết giờ!",
    "q.timer_label": "Thời gian còn lại của câu hỏi",
    "done.kicker": "Kết quả lượt thi",
    "done.title_complete": "Bạn đã hoàn thành lượt thi",
    "done.title_time_up": "Lượt thi đã hết thời gian",
    "done.score_unit": "câu đúng",
    "done.time": "Tổng thời gian làm bài: {time}",
    "done.why_complete": "Bạn đã trả lời hết các câu hỏi của lượt thi. Trân trọng cảm ơn bạn đã tham gia.",
    "done.why_time_up": "Thời gian làm bài đã hết; các câu chưa trả lời được tính là không trả lời.",
    "done.left": "Bạn còn {n} lượt thi trong {round}.",
    "done.left_none": "Bạn đã sử dụng hết các lượt thi của {round}.",
    "done.review": "Xem đáp án",
    "done.home": "Về trang chính",
    "done.note_after_round": "Đáp án sẽ được công bố sau khi vòng thi kết thúc.",
    "done.note_never": "Cuộc thi không công bố đáp án.",
    "review.kicker": "Đáp án",
    "review.title": "Đáp án lượt thi",
    "review.summary": "Bạn trả lời đúng {correct}/{questions} câu.",
    "review.q": "Câu {n}",
    "review.right": "Đúng",
    "review.wrong": "Chưa đúng",
    "review.none": "Không trả lời",
    "review.none_text": "Bạn chưa chọn đáp án cho câu này (hết thời gian).",
    "review.correct_tag": "Đáp án đúng",
    "review.chosen_tag": "Bạn chọn",
    "review.time": "Thời gian: {time}",
    "review.source": "Căn cứ: {source}",
    "review.not_yet": "Đáp án chưa được công bố. Vui lòng xem lại sau khi vòng thi kết thúc.",
  },
  en: {
    brand: "Online contest",
    "lang.switch": "Tiếng Việt",
    loading: "Loading the contest…",
    back: "Back",
    "notice.retry": "Retry now",
    "notice.offline": "No network connection. Reconnecting… The server keeps your attempt.",
    "notice.unavailable": "The service is temporarily unavailable. Retrying… Your attempt is not lost.",
    "notice.rate": "Too many requests in a short time. Please wait a moment; the page will retry by itself.",
    "notice.failed": "The contest could not be loaded. Please check your connection and try again.",
    "home.kicker": "Online contest",
    "home.dates": "Open from {opens} to {closes} (Vietnam time)",
    "home.round_open": "Open now",
    "home.round_until": "{round} — closes at {closes}",
    "home.not_open": "The contest has not opened yet",
    "home.not_open_text": "The contest opens at {opens}. Please come back then.",
    "home.between": "No round is open at the moment",
    "home.between_text": "{round} opens at {opens}.",
    "home.closed": "The contest is closed",
    "home.closed_text": "The contest closed at {closes}. Thank you for your interest and participation.",
    "home.hello": "Hello, {name}",
    "home.tries": "{round}: you have used {used} of {total} attempts; {left} left.",
    "home.tries_none": "{round}: you have used all {total} attempts. See you in the next round.",
    "home.start": "Start the attempt",
    "home.start_n": "Start attempt {n}",
    "home.resume": "Resume your attempt",
    "home.start_note": "The clock starts as soon as a question appears; reloading the page does not stop it.",
    "home.results": "Your results",
    "home.public_results": "Results of the closed rounds",
    "home.result_line": "{round} · attempt {n}",
    "home.result_score": "{correct}/{questions} correct",
    "home.result_meta": "Time {time} · finished {at}",
    "home.result_review": "Answers",
    "home.not_me": "Not you? Enter again",
    "home.enter": "Enter the contest",
    "home.lookup": "Look up your results",
    "home.enter_note": "Entered on another device? Enter the same details again to continue with your results.",
    "msg.limit": "You have used all the attempts of this round.",
    "msg.closed": "No round is open now, so an attempt cannot start.",
    "msg.busy": "The server is busy; please tap again in a moment.",
    "msg.welcome_back": "Welcome back. The results of your earlier attempts are kept.",
    "msg.entered": "You are entered. Good luck!",
    "msg.stale": "Your entry on this device is no longer valid. Please enter again.",
    "msg.attempt_gone": "This attempt was not found. Please check your results below.",
    "msg.error": "Something went wrong. Please try again.",
    "rules.title": "Rules",
    "rules.questions": "Each attempt has {n} multiple-choice questions; pick one option for each.",
    "rules.per_question": "Time for each question: {t}.",
    "rules.per_attempt": "Time for the whole attempt: at most {t}.",
    "rules.attempts": "Each person may make up to {n} attempts per round; {counts}.",
    "rules.attempts_one": "Each person may make one attempt per round.",
    "rules.counts_best": "the best one counts",
    "rules.counts_first": "only the first one counts",
    "rules.timeout_q": "When a question's time runs out before you pick an option, it counts as unanswered and the next question comes.",
    "rules.timeout_a": "When the attempt's time runs out, the questions left count as unanswered and the attempt ends.",
    "rules.once": "You can pick only once per question. Whether an answer is right is not shown during the attempt.",
    "rules.reveal_after_attempt": "The correct answers are shown as soon as you finish an attempt.",
    "rules.reveal_after_round": "The correct answers are shown after the round closes.",
    "rules.reveal_never": "This contest does not publish the answers.",
    "rules.ranking": "Ranking: more correct answers; then less total time; then the closer prediction.",
    "rules.ranking_np": "Ranking: more correct answers; then less total time.",
    "rules.rounds": "The contest has {n} rounds: {list}.",
    "entry.title": "Your details",
    "entry.intro": "Please enter your details correctly so the organisers can record your result and your unit's participation.",
    "entry.submit": "Continue",
    "entry.privacy": "Your details are used for this contest only. Published results show only the name, the unit and the score.",
    "field.full_name": "Full name",
    "field.unit": "Unit",
    "field.phone": "Phone number",
    "field.staff_id": "Staff ID",
    "field.email": "Email",
    "field.position": "Position",
    "ph.full_name": "e.g. Nguyễn Văn An",
    "ph.unit": "Type to search for your unit",
    "ph.phone": "e.g. 0912345678",
    "ph.email": "name@agency.gov.vn",
    "ph.position": "e.g. Officer",
    "hint.unit": "Pick your unit from the list; accents are not needed (e.g. “xa an binh”).",
    "hint.phone": "Used to recognise you in later attempts.",
    "unit.clear": "Clear the chosen unit",
    "unit.none": "No unit matches. Try fewer words or check the spelling.",
    "unit.count": "{n} matching units. Pick yours from the list.",
    "unit.more": "Showing the first {n} units; type more to narrow the list.",
    "unit.error": "The list of units could not be loaded. Type again to retry.",
    "unit.picked": "Chosen: {label}",
    "err.missing": "Please enter your {field}.",
    "err.missing_unit": "Please pick your unit from the list.",
    "err.not_picked": "Please pick a unit from the suggestions (the unit cannot be typed freely).",
    "err.too_long": "{Field} is too long (at most 120 characters).",
    "err.unknown_unit": "This unit is not in the list. Please pick it again.",
    "err.bad_phone": "This is not a valid phone number: 10 digits starting with 0 (e.g. 0912345678).",
    "err.bad_email": "This is not a valid email address (e.g. name@agency.gov.vn).",
    "err.formula": "{Field} must not start with =, + or @.",
    "err.mixed_script": "{Field} contains look-alike letters from another alphabet (Greek or Cyrillic). Please type it again.",
    "err.bidi_control": "{Field} contains a hidden text-direction character. Please delete it and type again.",
    "err.control_char": "{Field} contains a hidden control character. Please delete it and type again.",
    "err.invalid": "{Field} is not valid. Please check it.",
    "predict.kicker": "Before you start",
    "predict.title": "Prediction question",
    "predict.hint": "Enter a whole number (e.g. 120). The prediction breaks ties in the ranking.",
    "predict.start": "Start the attempt",
    "predict.missing": "Please enter your prediction.",
    "predict.bad": "The prediction must be a whole number, not negative.",
    "predict.range": "The prediction must be a whole number from 0 to {max}.",
    "before.n": "The attempt has {n} questions.",
    "before.time": "Each question's time counts from the moment it appears on the screen.",
    "q.num": "Question {n}/{count}",
    "q.seconds": "s",
    "q.attempt_left": "Attempt: {t} left",
    "q.sending": "Sending your answer…",
    "q.sent": "Answer recorded. Loading the next question…",
    "q.loading": "Loading the question…",
    "q.ten": "10 seconds left.",
    "q.time_up": "Time is up for this question. Moving on to the next one…",
    "q.time_up_short": "Time is up!",
    "q.timer_label": "Time left for this question",
    "done.kicker": "Attempt result",
    "done.title_complete": "You have finished the attempt",
    "done.title_time_up": "The attempt's time is up",
    "done.score_unit": "correct",
    "done.time": "Total time: {time}",
    "done.why_complete": "You answered every question of the attempt. Thank you for taking part.",
    "done.why_time_up": "The time ran out; the questions left count as unanswered.",
    "done.left": "You have {n} attempt(s) left in {round}.",
    "done.left_none": "You have used all the attempts of {round}.",
    "done.review": "See the answers",
    "done.home": "Back to the home page",
    "done.note_after_round": "The correct answers are shown after the round closes.",
    "done.note_never": "This contest does not publish the answers.",
    "review.kicker": "Answers",
    "review.title": "The attempt's answers",
    "review.summary": "You answered {correct} of {questions} questions correctly.",
    "review.q": "Question {n}",
    "review.right": "Correct",
    "review.wrong": "Not correct",
    "review.none": "No answer",
    "review.none_text": "You did not pick an option for this question (time ran out).",
    "review.correct_tag": "Correct answer",
    "review.chosen_tag": "Your choice",
    "review.time": "Time: {time}",
    "review.source": "Source: {source}",
    "review.not_yet": "The answers are not published yet. Please look again after the round closes.",
  },
};
const FIELD_LABEL_LOWER = {
  vi: { full_name: "họ và tên", unit: "đơn vị", phone: "số điện thoại", staff_id: "mã cán bộ", email: "email",
        position: "chức vụ" },
  en: { full_name: "full name", unit: "unit", phone: "phone number", staff_id: "staff ID", email: "email",
        position: "position" },
};
const FIELDS = ["full_name", "unit", "phone", "staff_id", "email", "position"];
const REASONS = new Set(["missing", "too_long", "unknown_unit", "bad_phone", "bad_email", "formula", "mixed_script",
                         "bidi_control", "control_char"]);
const ZONE = "Asia/Ho_Chi_Minh";
const GRACE_MS = 1500;       // the server's network grace after a limit (docs/contest.md § 2), if it does not say
const grace = () => (S.info && Number.isFinite(S.info.grace_ms) ? S.info.grace_ms : GRACE_MS);
const LANG_KEY = "qe.contest.lang";

// ---------------------------------------------------------------- storage (private mode safe)
function storeGet(k) { try { return localStorage.getItem(k); } catch { return null; } }
function storeSet(k, v) {
  try { if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch { /* private mode */ }
}
const store = { get: storeGet, set: storeSet };

let lang = pickLang();

function pickLang() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q === "vi" || q === "en") return q;
  const saved = store.get(LANG_KEY);
  return saved === "en" ? "en" : "vi";
}

function t(key, params = {}) {
  let s = STR[lang][key] ?? STR.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

function fieldWords(name) {
  const lower = FIELD_LABEL_LOWER[lang][name] || name;
  return { field: lower, Field: lower.charAt(0).toUpperCase() + lower.slice(1) };
}

// ---------------------------------------------------------------- formatting
const DTF = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, day: "2-digit", month: "2-digit", year: "numeric",
                                               hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** dd/mm/yyyy HH:mm in Vietnam time, from an ISO string or server ms. */
function fmtDate(v) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return "";
  const p = {};
  for (const part of DTF.formatToParts(d)) p[part.type] = part.value;
  return `${p.day}/${p.month}/${p.year}\u00a0${p.hour}:${p.minute}`; // the time stays with its date
}

function fmtDecimal(x) {
  const s = x.toFixed(1);
  return lang === "vi" ? s.replace(".", ",") : s;
}

/** A measured duration: 12,3 giây · 1 phút 05 giây. */
function fmtDuration(ms) {
  const total = Math.max(0, Number(ms) || 0) / 1000;
  if (total < 60) return lang === "vi" ? `${fmtDecimal(total)} giây` : `${fmtDecimal(total)} s`;
  const m = Math.floor(total / 60);
  const s = String(Math.floor(total % 60)).padStart(2, "0");
  return lang === "vi" ? `${m} phút ${s} giây` : `${m} min ${s} s`;
}

/** A configured limit in seconds: 30 giây · 10 phút · 1 phút 30 giây. */
function fmtLimit(secs) {
  const m = Math.floor(secs / 60), s = secs % 60;
  if (lang === "vi") {
    if (m === 0) return `${s} giây`;
    return s ? `${m} phút ${s} giây` : `${m} phút`;
  }
  if (m === 0) return `${s} seconds`;
  return s ? `${m} min ${s} s` : `${m} minute${m > 1 ? "s" : ""}`;
}

/** A countdown: 25 · 1:05 · 1:02:03 (with minutes, 0:25). */
function fmtClock(ms, minutes = false) {
  const secs = Math.max(0, Math.ceil(ms / 1000));
  if (secs < 60 && !minutes) return String(secs);
  const hh = Math.floor(secs / 3600), mm = Math.floor((secs % 3600) / 60), ss = String(secs % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

const letter = (i) => "ABCDEF"[i] ?? String(i + 1);

// ---------------------------------------------------------------- state
const S = {
  info: null,            // GET /api/contest
  offset: 0,             // server clock − this device's clock (ms), from the last `now`
  token: null,
  profile: null,         // {full_name, unit_label} kept with the token (GET /me has no unit label)
  me: null,              // GET /api/contest/me
  screen: "loading",
  homeMsg: null,         // {key, kind}
  attempt: null,         // the attempt id in progress or just finished
  q: null,               // the current question (from `next`)
  chosen: null,          // the option tapped for the current question
  timeUp: false,
  announced: false,      // "10 seconds left" said for this question
  qgen: 0,               // bumps on every new request for a question: late replies are dropped
  done: null,
  review: null,          // {questions}, or {notYet: true}
  reviewFrom: "done",
  entryError: null,      // {field, reason}
  predictError: null,    // {key, params}
  unit: null,            // the unit picked in the form {code, label, name, parent}
  busy: false,
};
const keys = {
  token: () => `qe.contest.${S.info.id}.token`,
  profile: () => `qe.contest.${S.info.id}.profile`,
};
const serverNow = () => Date.now() + S.offset;

// ---------------------------------------------------------------- network
/** One JSON request with the participant's token: {status, data} (js/http.js). */
const api = (method, path, body) => requestJson(path, {
  method, body, token: S.token, onNow: (now) => { S.offset = now - Date.now(); } });
const retrier = new Retrier((key) => showNotice(key));
/** Repeat a request while the network or the server is in trouble, with a notice and a "retry now" button. */
const reliable = (request) => retrier.run(request);

let noticeKey = null;
function showNotice(key) {
  noticeKey = key;
  const box = $("#notice");
  show(box, !!key);
  if (key) $("#notice-text").textContent = t(key);
}

// ---------------------------------------------------------------- screens
const SCREENS = ["loading", "home", "entry", "predict", "question", "done", "review"];

function go(screen, focus = true) {
  S.screen = screen;
  document.body.dataset.screen = screen;
  for (const name of SCREENS) show($(`#s-${name}`), name === screen);
  render();
  if (focus) {
    const target = { home: "#home-title", entry: "#entry-title", predict: "#f-prediction", done: "#done-title",
                     review: "#review-title" }[screen];
    if (target) $(target).focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }
}

function render() {
  applyStatic();
  $("#me").textContent = S.token && S.profile ? S.profile.full_name : "";
  if (noticeKey) $("#notice-text").textContent = t(noticeKey);
  switch (S.screen) {
    case "home": return renderHome();
    case "entry": return renderEntry();
    case "predict": return renderPredict();
    case "question": return renderQuestionChrome();
    case "done": return renderDone();
    case "review": return renderReview();
    default: return undefined;
  }
}

function applyStatic() {
  document.documentElement.lang = lang;
  document.title = S.info ? `${S.info.title} — ${t("brand")}` : t("brand");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-ph]")) el.placeholder = t(el.dataset.ph);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  const btn = $("#lang");
  btn.textContent = t("lang.switch");
  btn.lang = lang === "vi" ? "en" : "vi";
}

// ---------------------------------------------------------------- home
function roundById(id) { return (S.info.rounds || []).find((r) => r.id === id) || null; }
function roundTitle(id) { const r = roundById(id); return r ? r.title : id; }

function renderHome() {
  const c = S.info;
  $("#home-title").textContent = c.title;
  $("#home-dates").textContent = t("home.dates", { opens: fmtDate(c.opens), closes: fmtDate(c.closes) });

  // the round, or why nothing is open
  const box = clear($("#home-round"));
  const now = serverNow();
  const current = c.round ? roundById(c.round) : null;
  box.className = "round-card";
  if (current) {
    box.classList.add("is-open");
    box.append(h("p.round-state", {}, t("home.round_open")),
               h("p.round-title", {}, t("home.round_until", { round: current.title, closes: fmtDate(current.closes) })));
  } else if (now < Date.parse(c.opens)) {
    box.classList.add("is-waiting");
    box.append(h("p.round-state", {}, t("home.not_open")),
               h("p.round-title", {}, t("home.not_open_text", { opens: fmtDate(c.opens) })));
  } else if (now >= Date.parse(c.closes)) {
    box.classList.add("is-closed");
    box.append(h("p.round-state", {}, t("home.closed")),
               h("p.round-title", {}, t("home.closed_text", { closes: fmtDate(c.closes) })));
  } else {
    const upcoming = (c.rounds || []).find((r) => Date.parse(r.opens) > now);
    box.classList.add("is-waiting");
    box.append(h("p.round-state", {}, t("home.between")));
    if (upcoming) box.append(h("p.round-title", {}, t("home.between_text", { round: upcoming.title,
                                                                               opens: fmtDate(upcoming.opens) })));
  }

  const msg = $("#home-msg");
  show(msg, !!S.homeMsg);
  if (S.homeMsg) {
    msg.textContent = t(S.homeMsg.key);
    msg.className = `msg is-${S.homeMsg.kind || "info"}`;
  }

  const me = S.token ? S.me : null;
  show($("#home-person"), !!me);
  show($("#home-guest"), !me);
  if (me) renderPerson(me, current);
  else $("#go-entry").textContent = t(now >= Date.parse(c.closes) ? "home.lookup" : "home.enter");

  renderRules();
}

function renderPerson(me, current) {
  const name = (me.profile && me.profile.full_name) || (S.profile && S.profile.full_name) || "";
  $("#person-hello").textContent = t("home.hello", { name });
  const label = (S.profile && S.profile.unit === me.profile.unit && S.profile.unit_label) || me.profile.unit_label
    || me.profile.unit || "";
  $("#person-unit").textContent = label;
  const total = S.info.attempts_per_round;
  const tries = $("#person-tries");
  const start = $("#start");
  const canStart = !!current && (me.open_attempt || me.attempts_left > 0);
  if (current) {
    tries.textContent = me.attempts_left > 0 || me.open_attempt
      ? t("home.tries", { round: current.title, used: me.tries, total, left: me.attempts_left })
      : t("home.tries_none", { round: current.title, total });
  } else tries.textContent = "";
  show(tries, !!current);
  show(start, canStart);
  show($("#start-note"), canStart && !me.open_attempt);
  start.disabled = S.busy;
  start.textContent = me.open_attempt ? t("home.resume")
    : me.tries > 0 ? t("home.start_n", { n: me.tries + 1 }) : t("home.start");

  const results = me.results || [];
  show($("#results"), results.length > 0);
  const list = clear($("#results-list"));
  for (const r of [...results].reverse()) {
    const n = String(r.attempt).split(":").pop();
    const li = h("li.result-item", {},
      h("span.result-round", {}, t("home.result_line", { round: roundTitle(r.round), n })),
      h("span.result-score", {}, t("home.result_score", { correct: r.correct, questions: r.questions })),
      h("p.result-meta", {}, t("home.result_meta", { time: fmtDuration(r.time_ms), at: fmtDate(r.finished_at) })));
    if (reviewOpen(r.round)) {
      li.append(h("button.btn.btn-small.btn-ghost.result-review", {
        type: "button", onclick: () => openReview(r.attempt, "home"),
      }, t("home.result_review")));
    }
    list.append(li);
  }
}

/** Whether the answers of an attempt in that round may be shown now (the server decides; this
 * only saves a button that would be refused). */
function reviewOpen(roundId) {
  const reveal = S.info.reveal;
  if (reveal === "after_attempt") return true;
  if (reveal === "after_round") {
    const r = roundById(roundId);
    return !!r && serverNow() >= Date.parse(r.closes);
  }
  return false;
}

function renderRules() {
  const c = S.info;
  const items = [t("rules.questions", { n: c.questions })];
  if (c.time_per_question) items.push(t("rules.per_question", { t: fmtLimit(c.time_per_question) }));
  if (c.time_per_attempt) items.push(t("rules.per_attempt", { t: fmtLimit(c.time_per_attempt) }));
  if (c.time_per_question) items.push(t("rules.timeout_q"));
  if (c.time_per_attempt) items.push(t("rules.timeout_a"));
  items.push(t("rules.once"));
  items.push(c.attempts_per_round > 1
    ? t("rules.attempts", { n: c.attempts_per_round, counts: t(c.counts === "first" ? "rules.counts_first"
                                                                                      : "rules.counts_best") })
    : t("rules.attempts_one"));
  if ((c.rounds || []).length > 1) {
    items.push(t("rules.rounds", { n: c.rounds.length, list: c.rounds.map((r) => r.title).join(", ") }));
  }
  items.push(t(`rules.reveal_${c.reveal}`));
  items.push(t(c.prediction ? "rules.ranking" : "rules.ranking_np"));
  const ul = clear($("#rules"));
  for (const text of items) ul.append(h("li", {}, text));
}

// ---------------------------------------------------------------- loading the contest and the person
async function boot() {
  applyStatic();
  bind();
  const r = await reliable(() => api("GET", "/api/contest"));
  if (r.status !== 200 || !r.data.id) {
    $("#loading-text").textContent = t("notice.failed");
    $("#s-loading").setAttribute("aria-busy", "false");
    return;
  }
  S.info = r.data;
  // an English contest opens in English unless the participant chose (or the link says) otherwise
  if (r.data.language === "en" && !store.get(LANG_KEY) && !new URLSearchParams(location.search).get("lang")) {
    lang = "en";
    applyStatic();
  }
  lookUpLinkUnit();  // not awaited: the page comes up at once, the unit joins the form when known
  S.token = store.get(keys.token());
  try { S.profile = JSON.parse(store.get(keys.profile()) || "null"); } catch { S.profile = null; }
  if (!S.token) return go("home");
  await loadMe(true);
}

/** GET /me; with resume, an attempt in progress continues at once (its clock is running). */
async function loadMe(resume) {
  const r = await reliable(() => api("GET", "/api/contest/me"));
  if (r.status === 401) return forget("msg.stale");
  if (r.status !== 200) {
    S.homeMsg = { key: "msg.error", kind: "bad" };
    return go("home");
  }
  S.me = r.data;
  if (S.me.profile && S.profile && S.profile.unit !== S.me.profile.unit) S.profile = null;
  if (!S.profile && S.me.profile) S.profile = { full_name: S.me.profile.full_name, unit: S.me.profile.unit };
  if (resume && S.me.open_attempt) return runAttempt(S.me.open_attempt);
  if (S.screen !== "home") go("home");
  else render();
  return undefined;
}

async function refreshHome(msg = null) {
  S.homeMsg = msg;
  const r = await reliable(() => api("GET", "/api/contest"));
  if (r.status === 200 && r.data.id) S.info = r.data;
  if (S.token) await loadMe(false);
  else go("home");
}

function forget(msgKey = null) {
  if (S.info) {
    store.set(keys.token(), null);
    store.set(keys.profile(), null);
  }
  S.token = null; S.profile = null; S.me = null; S.attempt = null; S.homeMsg = null;
  stopTimers();
  return openEntry(msgKey);
}

// ---------------------------------------------------------------- entry form
function openEntry(msgKey = null) {
  S.entryError = null;
  S.entryMsg = typeof msgKey === "string" ? msgKey : null;
  go("entry");
  presetUnit();
}

function renderEntry() {
  show($("#entry-msg"), !!S.entryMsg);
  $("#entry-msg").textContent = S.entryMsg ? t(S.entryMsg) : "";
  const required = new Set(S.info.required || ["full_name", "unit"]);
  for (const name of FIELDS) {
    const box = document.querySelector(`.field[data-field="${name}"]`);
    show(box, required.has(name));
    const input = $(`#f-${name}`);
    input.required = required.has(name);
    const err = S.entryError && S.entryError.field === name ? S.entryError : null;
    $(`#e-${name}`).textContent = err ? entryMessage(err) : "";
    if (err) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  const formErr = S.entryError && !FIELDS.includes(S.entryError.field) ? S.entryError : null;
  $("#entry-error").textContent = formErr ? (formErr.key ? t(formErr.key) : t("msg.error")) : "";
  $("#entry-submit").disabled = S.busy;
  renderPicked();
}

function entryMessage(err) {
  if (err.key) return t(err.key, fieldWords(err.field));
  if (err.reason === "missing") return t(err.field === "unit" ? "err.missing_unit" : "err.missing", fieldWords(err.field));
  return t(REASONS.has(err.reason) ? `err.${err.reason}` : "err.invalid", fieldWords(err.field));
}

function setEntryError(err) {
  S.entryError = err;
  renderEntry();
  const input = err && FIELDS.includes(err.field) ? $(`#f-${err.field}`) : null;
  if (input) input.focus();
}

async function submitEntry(ev) {
  ev.preventDefault();
  if (S.busy) return;
  const required = S.info.required || ["full_name", "unit"];
  const body = {};
  for (const name of required) {
    if (name === "unit") {
      if (!S.unit) {
        const typed = $("#f-unit").value.trim();
        return setEntryError({ field: "unit", key: typed ? "err.not_picked" : "err.missing_unit" });
      }
      body.unit = S.unit.code;
      continue;
    }
    const value = $(`#f-${name}`).value.trim();
    if (!value) return setEntryError({ field: name, reason: "missing" });
    body[name] = value;
  }
  S.busy = true;
  renderEntry();
  const r = await reliable(() => api("POST", "/api/contest/enter", body));
  S.busy = false;
  if (r.status === 200 && r.data.token) {
    S.token = r.data.token;
    const p = r.data.profile || {};
    S.profile = { full_name: p.full_name || body.full_name, unit: p.unit || body.unit,
                  unit_label: p.unit_label || (S.unit && S.unit.label) };
    store.set(keys.token(), S.token);
    store.set(keys.profile(), JSON.stringify(S.profile));
    S.entryError = null;
    S.entryMsg = null;
    S.homeMsg = { key: r.data.new === false ? "msg.welcome_back" : "msg.entered", kind: "ok" };
    await loadMe(false);
    return undefined;
  }
  if (r.status === 400 && r.data.error === "entry" && FIELDS.includes(r.data.field)) {
    if (r.data.field === "unit") clearUnit(false);
    return setEntryError({ field: r.data.field, reason: r.data.reason });
  }
  return setEntryError({ field: "", key: "msg.error" });
}

// the unit picker: a combobox over GET /api/contest/units?q=…, the pick stores the unit's code
const unitUI = { timer: 0, seq: 0, items: [], active: -1, open: false };

// a unit's own link (/contest?unit=CODE, the QR code printed for that unit): the form opens with
// the unit chosen (the participant can still change it); an unknown code leaves the plain search
const LINK_UNIT = (new URLSearchParams(location.search).get("unit") || "").trim().slice(0, 80);
let linkUnit = null;   // {code, label, name, parent} once GET /api/contest/units?code=… has found it

async function lookUpLinkUnit() {
  if (!LINK_UNIT) return;
  for (let i = 0; i < 3; i++) {
    const r = await api("GET", `/api/contest/units?code=${encodeURIComponent(LINK_UNIT)}`);
    if (r.status === 200) {
      const u = Array.isArray(r.data.units) ? r.data.units[0] : null;
      if (u && u.code) linkUnit = { code: u.code, label: u.label || u.name, name: u.name, parent: u.parent };
      if (linkUnit && S.screen === "entry") presetUnit();
      return;
    }
    if (!transient(r.status)) return;
    await new Promise((resolve) => { setTimeout(resolve, 1000 * (i + 1)); });
  }
}

/** The link's unit into an untouched form (nothing picked, nothing typed). */
function presetUnit() {
  if (!linkUnit || S.unit || $("#f-unit").value.trim()) return;
  S.unit = { ...linkUnit };
  const input = $("#f-unit");
  input.value = S.unit.label;
  input.classList.add("is-picked");
  closeList();
  renderEntry();
}

function clearUnit(keepText = true) {
  S.unit = null;
  if (!keepText) $("#f-unit").value = "";
  $("#f-unit").classList.remove("is-picked");
  renderPicked();
}

function renderPicked() {
  const picked = $("#unit-picked");
  show(picked, !!S.unit);
  picked.textContent = S.unit ? t("unit.picked", { label: S.unit.label }) : "";
  show($("#unit-clear"), !!S.unit || !!$("#f-unit").value);
  renderUnitMsg();
}

function renderUnitMsg() {
  const m = $("#unit-msg");
  if (!unitUI.open) { m.textContent = ""; return; }
  if (unitUI.error) m.textContent = t("unit.error");
  else if (!unitUI.items.length) m.textContent = t("unit.none");
  else if (!unitUI.query && unitUI.items.length >= 20) m.textContent = t("unit.more", { n: unitUI.items.length });
  else m.textContent = t("unit.count", { n: unitUI.items.length });
}

function searchUnitsSoon() {
  clearTimeout(unitUI.timer);
  unitUI.timer = setTimeout(searchUnits, 200);
}

async function searchUnits() {
  const q = $("#f-unit").value.trim();
  const seq = ++unitUI.seq;
  const r = await api("GET", `/api/contest/units?q=${encodeURIComponent(q)}`);
  if (seq !== unitUI.seq || S.unit) return;  // a later search, or a pick, came first
  unitUI.error = r.status !== 200 || !Array.isArray(r.data.units);
  unitUI.query = q;
  unitUI.items = unitUI.error ? [] : r.data.units;
  unitUI.active = -1;
  openList();
}

function openList() {
  const list = clear($("#unit-list"));
  unitUI.items.forEach((u, i) => {
    const li = h("li.combo-opt", { id: `unit-opt-${i}`, role: "option", "aria-selected": "false",
                                  dataset: { code: u.code } },
                 h("span.combo-name", {}, u.name),
                 u.parent ? h("span.combo-parent", {}, u.parent) : null);
    li.setAttribute("aria-label", u.label || u.name);
    li.addEventListener("mousedown", (e) => e.preventDefault()); // keep the focus in the input
    li.addEventListener("click", () => pickUnit(i));
    list.append(li);
  });
  unitUI.open = true;
  show(list, unitUI.items.length > 0);
  $("#f-unit").setAttribute("aria-expanded", unitUI.items.length ? "true" : "false");
  $("#f-unit").removeAttribute("aria-activedescendant");
  renderUnitMsg();
}

function closeList() {
  unitUI.open = false;
  unitUI.active = -1;
  show($("#unit-list"), false);
  $("#f-unit").setAttribute("aria-expanded", "false");
  $("#f-unit").removeAttribute("aria-activedescendant");
  renderUnitMsg();
}

function moveActive(step) {
  if (!unitUI.items.length) return;
  const n = unitUI.items.length;
  unitUI.active = unitUI.active < 0 ? (step > 0 ? 0 : n - 1) : (unitUI.active + step + n) % n;
  document.querySelectorAll("#unit-list .combo-opt").forEach((li, i) => {
    li.setAttribute("aria-selected", i === unitUI.active ? "true" : "false");
    li.classList.toggle("is-active", i === unitUI.active);
  });
  const el = $(`#unit-opt-${unitUI.active}`);
  $("#f-unit").setAttribute("aria-activedescendant", el.id);
  el.scrollIntoView({ block: "nearest" });
}

function pickUnit(i) {
  const u = unitUI.items[i];
  if (!u) return;
  clearTimeout(unitUI.timer);
  unitUI.seq++;
  S.unit = { code: u.code, label: u.label || u.name, name: u.name, parent: u.parent };
  const input = $("#f-unit");
  input.value = S.unit.label;
  input.classList.add("is-picked");
  closeList();
  if (S.entryError && S.entryError.field === "unit") S.entryError = null;
  renderEntry();
}

function onUnitKey(e) {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    if (!unitUI.open) { searchUnits(); return; }
    moveActive(e.key === "ArrowDown" ? 1 : -1);
  } else if (e.key === "Enter") {
    if (unitUI.open && unitUI.active >= 0) { e.preventDefault(); pickUnit(unitUI.active); }
    else if (unitUI.open && unitUI.items.length === 1) { e.preventDefault(); pickUnit(0); }
    else if (!S.unit) e.preventDefault(); // Enter in the search box searches, it does not submit
  } else if (e.key === "Escape" && unitUI.open) {
    e.preventDefault();
    closeList();
  }
}

// ---------------------------------------------------------------- starting an attempt
function onStart() {
  if (!S.me || S.busy) return;
  if (S.me.open_attempt) return runAttempt(S.me.open_attempt);
  if (S.info.prediction) {
    S.predictError = null;
    $("#f-prediction").value = "";
    return go("predict");
  }
  return startAttempt(null);
}

function renderPredict() {
  $("#predict-label").textContent = S.info.prediction || "";
  const err = S.predictError;
  $("#e-prediction").textContent = err ? t(err.key, err.params) : "";
  if (err) $("#f-prediction").setAttribute("aria-invalid", "true");
  else $("#f-prediction").removeAttribute("aria-invalid");
  const ul = clear($("#predict-rules"));
  ul.append(h("li", {}, t("before.n", { n: S.info.questions })));
  if (S.info.time_per_question) ul.append(h("li", {}, t("rules.per_question", { t: fmtLimit(S.info.time_per_question) })));
  if (S.info.time_per_attempt) ul.append(h("li", {}, t("rules.per_attempt", { t: fmtLimit(S.info.time_per_attempt) })));
  ul.append(h("li", {}, t("before.time")));
  $("#predict-submit").disabled = S.busy;
}

function submitPrediction(ev) {
  ev.preventDefault();
  const raw = $("#f-prediction").value.trim().replace(/[\s.,]/g, "");
  let err = null;
  if (!raw) err = { key: "predict.missing" };
  else if (!/^\d{1,10}$/.test(raw) || !Number.isSafeInteger(Number(raw))) err = { key: "predict.bad" };
  if (err) {
    S.predictError = err;
    renderPredict();
    $("#f-prediction").focus();
    return;
  }
  S.predictError = null;
  startAttempt(Number(raw));
}

async function startAttempt(prediction) {
  S.busy = true;
  render();
  const r = await reliable(() => api("POST", "/api/contest/start", prediction === null ? {} : { prediction }));
  S.busy = false;
  if (r.status === 200 && r.data.attempt) return runAttempt(r.data.attempt);
  if (r.status === 401) return forget("msg.stale");
  const reason = r.data && r.data.reason;
  if (r.status === 409 && reason === "in_progress" && r.data.attempt) return runAttempt(r.data.attempt);
  if ((r.status === 409 && reason === "bad_prediction") || (r.status === 400 && S.screen === "predict")) {
    const top = S.info.prediction_max ?? (/(\d+)\s*$/.exec((r.data && r.data.message) || "") || [])[1];
    S.predictError = top != null ? { key: "predict.range", params: { max: top } } : { key: "predict.bad" };
    renderPredict();
    $("#f-prediction").focus();
    return undefined;
  }
  const key = { limit: "msg.limit", closed: "msg.closed", busy: "msg.busy" }[reason] || "msg.error";
  return refreshHome({ key, kind: "warn" }).then(() => go("home"));
}

// ---------------------------------------------------------------- the attempt
let ticker = 0;
let pollTimer = 0;

function stopTimers() {
  clearInterval(ticker);
  clearTimeout(pollTimer);
  ticker = 0;
  pollTimer = 0;
}

function runAttempt(aid) {
  S.attempt = aid;
  S.q = null;
  S.done = null;
  S.homeMsg = null;
  $("#q-text").textContent = "";
  clear($("#q-options"));
  $("#q-status").textContent = t("q.loading");
  go("question", false);
  return fetchNext();
}

const attemptPath = (aid, what) => `/api/contest/attempts/${encodeURIComponent(aid)}/${what}`;

/** Ask the server for the attempt's current question (or its result). Whatever went before
 * (an answer, a refusal, a time-out, a reload), this is how the page resyncs. */
async function fetchNext() {
  const gen = ++S.qgen;
  clearTimeout(pollTimer);
  const aid = S.attempt;
  const r = await reliable(() => api("POST", attemptPath(aid, "next")));
  if (gen !== S.qgen || S.attempt !== aid) return;
  if (r.status === 200 && r.data.question) return showQuestion(r.data.question);
  if (r.status === 200 && r.data.done) return showDone(r.data.done);
  if (r.status === 401) { stopTimers(); return forget("msg.stale"); }
  stopTimers();
  return refreshHome({ key: r.status === 404 ? "msg.attempt_gone" : "msg.error", kind: "warn" });
}

function showQuestion(q) {
  const same = S.q && S.q.attempt === q.attempt && S.q.index === q.index;
  if (same && (S.timeUp || S.chosen !== null)) {
    // still this question on the server: it closes at its deadline plus the grace; ask again
    S.q = q;
    const left = q.deadline ? q.deadline - serverNow() : 0;
    if (S.timeUp && left > 1000) { // our clock estimate was early: the question is still open
      S.timeUp = false;
      S.chosen = null;
      renderOptions();
      $("#q-status").textContent = "";
    } else {
      const wait = q.deadline ? Math.max(600, q.deadline + grace() + 300 - serverNow()) : 1000;
      pollTimer = setTimeout(fetchNext, Math.min(wait, 5000));
    }
    startTicker();
    return;
  }
  S.q = q;
  S.chosen = null;
  S.timeUp = false;
  S.announced = q.deadline > 0 && q.deadline - serverNow() <= 10500; // nothing to announce past 10 s
  $("#q-text").textContent = q.text;
  $("#q-status").textContent = "";
  $("#q-announce").textContent = "";
  renderOptions();
  renderQuestionChrome();
  startTicker();
  if (!same) $("#q-text").focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function renderOptions() {
  const box = clear($("#q-options"));
  box.classList.toggle("is-locked", S.chosen !== null || S.timeUp);
  S.q.options.forEach((text, i) => {
    const chosen = S.chosen === i;
    const btn = h("button.opt", { type: "button", dataset: { option: String(i) }, onclick: () => choose(i) },
                  h("span.opt-letter", { "aria-hidden": "true" }, letter(i)),
                  h("span.opt-text", {}, text));
    btn.setAttribute("aria-label", `${letter(i)}. ${text}`);
    btn.setAttribute("aria-pressed", chosen ? "true" : "false");
    if (chosen) btn.classList.add("is-chosen");
    btn.disabled = S.chosen !== null || S.timeUp;
    box.append(btn);
  });
}

function renderQuestionChrome() {
  const q = S.q;
  if (!q) { $("#q-num").textContent = ""; return; }
  $("#q-num").textContent = t("q.num", { n: q.index + 1, count: q.count });
  $("#q-timer").setAttribute("aria-label", t("q.timer_label"));
  if (S.timeUp) $("#q-status").textContent = t("q.time_up");
  else if (S.chosen !== null) $("#q-status").textContent = t(S.sent ? "q.sent" : "q.sending");
  for (const [i, btn] of [...document.querySelectorAll("#q-options .opt")].entries()) {
    btn.setAttribute("aria-label", `${letter(i)}. ${q.options[i]}`);
  }
  tick();
}

function startTicker() {
  clearInterval(ticker);
  ticker = setInterval(tick, 200);
  tick();
}

function tick() {
  const q = S.q;
  if (!q || S.screen !== "question") return;
  const now = serverNow();
  const timer = $("#q-timer");
  if (q.deadline > 0) {
    const left = Math.max(0, q.deadline - now);
    const total = Math.max(1, q.deadline - q.delivered_at);
    const secs = fmtClock(left);
    if ($("#q-secs").textContent !== secs) $("#q-secs").textContent = secs;
    $("#q-unit").textContent = left < 60000 ? t("q.seconds") : "";
    $("#timebar-fill").style.setProperty("--frac", String(Math.min(1, left / total)));
    const low = left <= 10000;
    timer.classList.toggle("is-low", low);
    $("#timebar-fill").parentElement.classList.toggle("is-low", low);
    show(timer, true);
    if (low && left > 0 && !S.announced && S.chosen === null) {
      S.announced = true;
      $("#q-announce").textContent = t("q.ten");
    }
    if (left <= 0 && !S.timeUp && S.chosen === null) onTimeUp();
  } else show(timer, false);
  const att = $("#q-attempt");
  if (q.attempt_deadline > 0 && q.attempt_deadline !== q.deadline) {
    att.textContent = t("q.attempt_left", { t: fmtClock(q.attempt_deadline - now, true) });
    show(att, true);
  } else if (q.attempt_deadline > 0 && q.deadline === q.attempt_deadline && q.attempt_deadline - now > 0) {
    show(att, false); // the question's own countdown is the attempt's
  } else show(att, false);
}

function onTimeUp() {
  S.timeUp = true;
  renderOptions();
  $("#q-status").textContent = t("q.time_up");
  $("#q-announce").textContent = t("q.time_up_short") + " " + t("q.time_up");
  // the server closes the question at its deadline plus the grace: ask for the next one then
  const wait = Math.max(0, S.q.deadline + grace() + 300 - serverNow());
  clearTimeout(pollTimer);
  pollTimer = setTimeout(fetchNext, wait);
}

async function choose(i) {
  if (S.chosen !== null || S.timeUp || !S.q || S.screen !== "question") return;
  const q = S.q;
  const gen = S.qgen;
  S.chosen = i;
  S.sent = false;
  renderOptions();
  $(`#q-options .opt[data-option="${i}"]`).classList.add("is-pending");
  $("#q-status").textContent = t("q.sending");
  const r = await reliable(() => api("POST", attemptPath(q.attempt, "answer"), { index: q.index, option: i }));
  if (gen !== S.qgen || S.attempt !== q.attempt) return;
  if (r.status === 401) { stopTimers(); forget("msg.stale"); return; }
  // recorded, or refused (answered / not_current / time_up / finished…): either way the server
  // says what comes next. Right or wrong is never told here.
  S.sent = true;
  const pending = $(`#q-options .opt[data-option="${i}"]`);
  if (pending) pending.classList.remove("is-pending");
  if (r.status === 200) $("#q-status").textContent = t("q.sent");
  fetchNext();
}

// ---------------------------------------------------------------- result and review
function showDone(done) {
  stopTimers();
  S.done = done;
  S.q = null;
  S.review = null;
  go("done");
  // the attempts left: from the server (background; the result is on screen already)
  reliable(() => api("GET", "/api/contest/me")).then((r) => {
    if (r.status === 200) { S.me = r.data; if (S.screen === "done") renderDone(); }
  });
}

function renderDone() {
  const d = S.done;
  if (!d) return;
  $("#done-title").textContent = t(d.why === "time_up" ? "done.title_time_up" : "done.title_complete");
  $("#done-score").textContent = `${d.correct}/${d.questions}`;
  $("#done-score-unit").textContent = t("done.score_unit");
  $("#done-time").textContent = t("done.time", { time: fmtDuration(d.time_ms) });
  $("#done-why").textContent = t(d.why === "time_up" ? "done.why_time_up" : "done.why_complete");
  const left = $("#done-left");
  const me = S.me;
  const fresh = me && !me.open_attempt && (me.results || []).some((r) => r.attempt === S.attempt);
  if (fresh && me.round) {
    left.textContent = me.attempts_left > 0 ? t("done.left", { n: me.attempts_left, round: roundTitle(me.round) })
      : t("done.left_none", { round: roundTitle(me.round) });
    show(left, true);
  } else show(left, false);
  show($("#done-review"), !!d.review);
  const note = $("#done-review-note");
  const noteKey = !d.review ? (S.info.reveal === "never" ? "done.note_never" : "done.note_after_round") : null;
  show(note, !!noteKey);
  if (noteKey) note.textContent = t(noteKey);
}

async function openReview(aid, from) {
  S.reviewFrom = from;
  S.attempt = aid;
  const r = await reliable(() => api("GET", attemptPath(aid, "review")));
  if (r.status === 200 && Array.isArray(r.data.questions)) S.review = { questions: r.data.questions };
  else if (r.status === 409) S.review = { notYet: true };
  else if (r.status === 401) { forget("msg.stale"); return; }
  else { S.homeMsg = { key: "msg.error", kind: "bad" }; go("home"); return; }
  go("review");
}

function renderReview() {
  const rv = S.review;
  const list = clear($("#review-list"));
  if (!rv) return;
  if (rv.notYet) {
    $("#review-summary").textContent = t("review.not_yet");
    return;
  }
  const correct = rv.questions.filter((q) => q.chosen === q.correct).length;
  $("#review-summary").textContent = t("review.summary", { correct, questions: rv.questions.length });
  rv.questions.forEach((q, n) => {
    const verdict = q.chosen < 0 ? "none" : q.chosen === q.correct ? "right" : "wrong";
    const opts = h("ul.rv-options");
    q.options.forEach((text, i) => {
      const li = h("li.rv-opt", {}, h("span.opt-letter", { "aria-hidden": "true" }, letter(i)),
                   h("span.rv-opt-text", {}, h("span.visually-hidden", {}, `${letter(i)}. `), text));
      const tags = h("span.rv-tags");
      if (i === q.correct) { li.classList.add("is-correct"); tags.append(h("span.rv-tag.is-correct", {}, `✓ ${t("review.correct_tag")}`)); }
      if (i === q.chosen) { li.classList.add("is-chosen"); tags.append(h("span.rv-tag.is-chosen", {}, t("review.chosen_tag"))); }
      if (tags.childNodes.length) li.append(tags);
      opts.append(li);
    });
    const item = h(`li.rv-item.is-${verdict}`, {},
      h("div.rv-head", {}, h("span.rv-num", {}, t("review.q", { n: n + 1 })),
        h(`span.rv-verdict.is-${verdict}`, {}, t(`review.${verdict}`))),
      h("p.rv-text", {}, q.text),
      opts,
      verdict === "none" ? h("p.rv-note", {}, t("review.none_text")) : null,
      h("p.rv-meta", {}, t("review.time", { time: fmtDuration(q.time_ms) })),
      q.source ? h("p.rv-meta", {}, t("review.source", { source: q.source })) : null);
    list.append(item);
  });
}

// ---------------------------------------------------------------- wiring
function bind() {
  $("#lang").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    store.set(LANG_KEY, lang);
    render();
  });
  $("#notice-retry").addEventListener("click", () => retrier.wake());
  $("#go-entry").addEventListener("click", () => openEntry());
  $("#not-me").addEventListener("click", () => forget());
  $("#start").addEventListener("click", onStart);
  $("#entry-form").addEventListener("submit", submitEntry);
  $("#entry-back").addEventListener("click", () => go("home"));
  $("#predict-form").addEventListener("submit", submitPrediction);
  $("#predict-back").addEventListener("click", () => go("home"));
  $("#done-review").addEventListener("click", () => openReview(S.attempt, "done"));
  $("#done-home").addEventListener("click", () => { S.attempt = null; refreshHome(null).then(() => go("home")); });
  $("#review-home").addEventListener("click", () => { S.attempt = null; refreshHome(null).then(() => go("home")); });

  for (const name of FIELDS) {
    if (name === "unit") continue;
    $(`#f-${name}`).addEventListener("input", () => {
      if (S.entryError && S.entryError.field === name) { S.entryError = null; renderEntry(); }
    });
  }
  const unit = $("#f-unit");
  unit.addEventListener("input", () => {
    if (S.unit) clearUnit();
    if (S.entryError && S.entryError.field === "unit") { S.entryError = null; renderEntry(); }
    renderPicked();
    searchUnitsSoon();
  });
  unit.addEventListener("focus", () => { if (!S.unit) searchUnitsSoon(); });
  unit.addEventListener("keydown", onUnitKey);
  unit.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== unit) closeList(); }, 150));
  $("#unit-clear").addEventListener("click", () => {
    clearUnit(false);
    closeList();
    unit.focus();
  });
  $("#f-prediction").addEventListener("input", () => {
    if (S.predictError) { S.predictError = null; renderPredict(); }
  });
  // a phone that wakes up or comes back to the tab: resync the question at once
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || S.screen !== "question" || !S.attempt) return;
    if (S.chosen !== null && !S.sent) return; // the answer's own request resyncs when it returns
    fetchNext();
  });
}

boot();
