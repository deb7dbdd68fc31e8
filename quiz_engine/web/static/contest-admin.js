// The organiser's page of the online contest (docs/contest.md): participation per unit, the round's
// winners, the look-alikes to review and the weekly report, from GET /api/host/contest/overview.
// Login: the host token and the cookie session of the host panel (/host), so one login serves both.
// CSP: no inline script or style; every name from a spreadsheet or an entry form goes through
// textContent (never innerHTML).

import { hostRequest } from "./js/http.js";

const REFRESH_MS = 15_000;
const ZONE = "Asia/Ho_Chi_Minh";
const LANG_KEY = "qe.lang"; // shared with the host panel and the viewer page

// ---------------------------------------------------------------- strings
const STRINGS = {
  vi: {
    "doc.title": "Ban tổ chức — Cuộc thi trực tuyến",
    "brand": "Cuộc thi trực tuyến · Trang ban tổ chức",
    "lang.switch": "English",
    "login.title": "Đăng nhập ban tổ chức",
    "login.help": "Nhập mã quản trị của máy chủ (cùng mã với bảng điều khiển chương trình trực tiếp).",
    "login.token": "Mã quản trị",
    "login.submit": "Đăng nhập",
    "login.wrong": "Mã quản trị không đúng.",
    "login.empty": "Vui lòng nhập mã quản trị.",
    "login.rate": "Nhập sai quá nhiều lần. Vui lòng chờ một phút rồi thử lại.",
    "login.failed": "Không đăng nhập được (mã lỗi {status}). Vui lòng thử lại.",
    "login.expired": "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.",
    "logout": "Đăng xuất",
    "host_link": "Bảng điều khiển trực tiếp",
    "dates": "Mở từ {opens} đến {closes} (giờ Việt Nam)",
    "status.before": "Chưa mở",
    "status.open": "Đang mở",
    "status.closed": "Đã kết thúc",
    "round.label": "Vòng",
    "round.current": "đang diễn ra",
    "round.future": "chưa mở",
    "refresh": "Làm mới",
    "updated": "Cập nhật lúc {time}",
    "updating": "Đang cập nhật…",
    "loading": "Đang tải số liệu…",
    "retry": "Thử lại ngay",
    "cards.label": "Số liệu tổng hợp",
    "card.people": "Người đã đăng ký",
    "card.people.sub": "toàn cuộc thi",
    "card.in_progress": "Lượt thi đang làm",
    "card.in_progress.sub": "ngay lúc này",
    "card.today": "Lượt thi bắt đầu hôm nay",
    "card.today.sub": "từ 00:00 giờ Việt Nam",
    "card.participants": "Người dự thi trong vòng",
    "card.finished": "Lượt thi hoàn thành",
    "card.finished.sub": "trong vòng",
    "card.perfect": "Lượt thi đúng tất cả",
    "card.perfect.sub": "đúng {n}/{n} câu",
    "card.rate": "Tỷ lệ tham gia chung",
    "card.rate.sub": "{p} / {h} CBCCVC",
    "units.title": "Tỷ lệ tham gia theo đơn vị",
    "units.round": "{round} · tỷ lệ = số người dự thi ÷ số CBCCVC của đơn vị",
    "units.filter": "Tìm đơn vị",
    "units.filter_ph": "Tìm đơn vị (không cần gõ dấu)…",
    "units.only_under": "Chỉ các đơn vị dưới ngưỡng ({n})",
    "units.shown": "Hiển thị {shown}/{total} đơn vị",
    "units.none": "Không có đơn vị nào phù hợp.",
    "col.unit": "Đơn vị",
    "col.parent": "Trực thuộc",
    "col.headcount": "Số CBCCVC",
    "col.participants": "Đã tham gia",
    "col.rate": "Tỷ lệ",
    "col.previous": "Vòng trước",
    "col.change": "Thay đổi (điểm %)",
    "col.flags": "Ghi chú",
    "col.rank": "Hạng",
    "col.full_name": "Họ và tên",
    "col.phone": "Số điện thoại",
    "col.correct": "Số câu đúng",
    "col.time": "Thời gian (giây)",
    "flag.under": "Dưới ngưỡng",
    "flag.under_title": "Tỷ lệ tham gia dưới ngưỡng {p} của cuộc thi",
    "flag.over": "Vượt số CBCCVC — kiểm tra danh sách",
    "internal": "Nội bộ — có thông tin liên hệ",
    "winners.title": "Người có kết quả cao nhất vòng",
    "winners.help": "Xếp hạng: nhiều câu đúng hơn, rồi tổng thời gian ít hơn, rồi dự đoán gần đúng hơn. Không công bố số điện thoại.",
    "winners.none": "Chưa có lượt thi nào hoàn thành trong vòng này.",
    "look.title": "Đăng ký cần rà soát",
    "look.help": "Mỗi cặp dưới đây đang được tính là hai người khác nhau. Đề nghị xác minh với đơn vị trước khi công nhận kết quả hoặc trao giải.",
    "look.none": "Không có đăng ký nào cần rà soát.",
    "look.count": "{n} trường hợp",
    "look.at": "Ghi nhận lúc {time}",
    "reason.same_phone": "Cùng số điện thoại ở hai đơn vị",
    "reason.same_phone.unit": "Cùng số điện thoại trong cùng đơn vị",
    "reason.same_staff_id": "Cùng mã số cán bộ ở hai đơn vị",
    "reason.same_staff_id.unit": "Cùng mã số cán bộ trong cùng đơn vị",
    "reason.same_email": "Cùng địa chỉ thư điện tử ở hai đơn vị",
    "reason.same_email.unit": "Cùng địa chỉ thư điện tử trong cùng đơn vị",
    "reason.same_name_in_unit": "Trùng họ tên trong cùng đơn vị",
    "reason.other": "Cần rà soát ({reason})",
    "field.phone": "ĐT",
    "field.staff_id": "Mã CB",
    "field.email": "Thư điện tử",
    "dl.title": "Tải báo cáo tuần",
    "dl.round": "Báo cáo tỷ lệ tham gia theo đơn vị — {round}",
    "dl.vi": "Tiếng Việt",
    "dl.en": "English",
    "dl.xlsx": "Bảng tính Excel (.xlsx)",
    "dl.html": "Bản in (.html)",
    "dl.links": "Đường dẫn",
    "dl.qr": "Mã QR của từng đơn vị (bản in)",
    "dl.public": "Trang kết quả công khai",
    "err.network": "Lúc {time}: không kết nối được máy chủ.",
    "err.unavailable": "Lúc {time}: máy chủ tạm thời không đọc được dữ liệu (mã 503).",
    "err.rate": "Lúc {time}: máy chủ đang bận (mã 429).",
    "err.other": "Lúc {time}: máy chủ báo lỗi {status} — {message}",
    "err.kept": "Số liệu đang hiển thị là của lần cập nhật lúc {last}.",
    "err.none_yet": "Chưa tải được số liệu nào.",
    "err.again": "Sẽ tự thử lại sau 15 giây.",
    "nocontest.title": "Máy chủ này không chạy cuộc thi trực tuyến",
    "nocontest.help": "Trang này chỉ dùng khi máy chủ được khởi động kèm tệp cuộc thi và danh sách đơn vị, ví dụ:",
  },
  en: {
    "doc.title": "Organisers — Online contest",
    "brand": "Online contest · Organisers' page",
    "lang.switch": "Tiếng Việt",
    "login.title": "Organisers' login",
    "login.help": "Enter the server's host token (the same token as the live show's host panel).",
    "login.token": "Host token",
    "login.submit": "Log in",
    "login.wrong": "Wrong host token.",
    "login.empty": "Please enter the host token.",
    "login.rate": "Too many wrong tokens. Please wait a minute and try again.",
    "login.failed": "Could not log in (error {status}). Please try again.",
    "login.expired": "Your session has expired. Please log in again.",
    "logout": "Log out",
    "host_link": "Live show panel",
    "dates": "Open from {opens} to {closes} (Vietnam time)",
    "status.before": "Not open yet",
    "status.open": "Open",
    "status.closed": "Closed",
    "round.label": "Round",
    "round.current": "in progress",
    "round.future": "not open yet",
    "refresh": "Refresh",
    "updated": "Updated at {time}",
    "updating": "Updating…",
    "loading": "Loading…",
    "retry": "Retry now",
    "cards.label": "Totals",
    "card.people": "People entered",
    "card.people.sub": "whole contest",
    "card.in_progress": "Attempts in progress",
    "card.in_progress.sub": "right now",
    "card.today": "Attempts started today",
    "card.today.sub": "since 00:00 Vietnam time",
    "card.participants": "Participants in the round",
    "card.finished": "Finished attempts",
    "card.finished.sub": "in the round",
    "card.perfect": "All-correct attempts",
    "card.perfect.sub": "{n}/{n} correct",
    "card.rate": "Overall participation",
    "card.rate.sub": "{p} / {h} staff",
    "units.title": "Participation per unit",
    "units.round": "{round} · rate = participants ÷ the unit's headcount",
    "units.filter": "Find a unit",
    "units.filter_ph": "Find a unit (accents optional)…",
    "units.only_under": "Only units under the threshold ({n})",
    "units.shown": "Showing {shown}/{total} units",
    "units.none": "No unit matches.",
    "col.unit": "Unit",
    "col.parent": "Parent",
    "col.headcount": "Headcount",
    "col.participants": "Participants",
    "col.rate": "Rate",
    "col.previous": "Previous round",
    "col.change": "Change (pp)",
    "col.flags": "Notes",
    "col.rank": "Rank",
    "col.full_name": "Full name",
    "col.phone": "Phone",
    "col.correct": "Correct",
    "col.time": "Time (s)",
    "flag.under": "Under the threshold",
    "flag.under_title": "Participation under the contest's threshold of {p}",
    "flag.over": "More than the headcount — check the roster",
    "internal": "Internal — contact details",
    "winners.title": "Best results of the round",
    "winners.help": "Ranking: more correct answers, then less total time, then the closer prediction. Do not publish phone numbers.",
    "winners.none": "No finished attempt in this round yet.",
    "look.title": "Entries to review",
    "look.help": "Each pair below counts as two different people. Please check with the units before confirming results or awarding prizes.",
    "look.none": "Nothing to review.",
    "look.count": "{n} to review",
    "look.at": "Recorded at {time}",
    "reason.same_phone": "Same phone number in two units",
    "reason.same_phone.unit": "Same phone number in the same unit",
    "reason.same_staff_id": "Same staff id in two units",
    "reason.same_staff_id.unit": "Same staff id in the same unit",
    "reason.same_email": "Same e-mail address in two units",
    "reason.same_email.unit": "Same e-mail address in the same unit",
    "reason.same_name_in_unit": "Same full name in the same unit",
    "reason.other": "To review ({reason})",
    "field.phone": "Phone",
    "field.staff_id": "Staff id",
    "field.email": "E-mail",
    "dl.title": "Weekly report",
    "dl.round": "Participation per unit — {round}",
    "dl.vi": "Tiếng Việt",
    "dl.en": "English",
    "dl.xlsx": "Excel workbook (.xlsx)",
    "dl.html": "Printable (.html)",
    "dl.links": "Links",
    "dl.qr": "Each unit's QR code (to print)",
    "dl.public": "Public results page",
    "err.network": "At {time}: cannot reach the server.",
    "err.unavailable": "At {time}: the server cannot read its data right now (code 503).",
    "err.rate": "At {time}: the server is busy (code 429).",
    "err.other": "At {time}: the server answered {status} — {message}",
    "err.kept": "The figures shown are from the update at {last}.",
    "err.none_yet": "No figures loaded yet.",
    "err.again": "Retrying in 15 seconds.",
    "nocontest.title": "This server runs no online contest",
    "nocontest.help": "This page works when the server is started with a contest file and a unit roster, e.g.:",
  },
};

function pickLang() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl && STRINGS[fromUrl]) return fromUrl;
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && STRINGS[saved]) return saved;
  } catch { /* storage may be blocked */ }
  return "vi";
}

let lang = pickLang();

function t(key, params) {
  let s = STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

function applyI18n() {
  document.documentElement.lang = lang;
  document.title = t("doc.title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

// ---------------------------------------------------------------- small helpers
const $ = (sel) => document.querySelector(sel);

/** el("td.num", "text", child…): strings become text nodes, never HTML. */
function el(tag, ...children) {
  const [name, ...classes] = tag.split(".");
  const node = document.createElement(name);
  if (classes.length) node.className = classes.join(" ");
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Accents, case and spacing ignored (đ → d), as the units search of the participants' page. */
function fold(s) {
  return String(s ?? "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
    .toLowerCase().replace(/\s+/g, " ").trim();
}

const locale = () => (lang === "vi" ? "vi-VN" : "en-GB");
const fmtInt = (n) => new Intl.NumberFormat(locale()).format(n);
const fmtDec = (n, digits) => new Intl.NumberFormat(locale(), { minimumFractionDigits: digits,
  maximumFractionDigits: digits }).format(n);
const fmtPct = (rate) => `${fmtDec(rate * 100, 1)} %`;

function parts(ms) {
  const f = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  return Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
}
/** dd/mm/yyyy HH:mm, Vietnam time (the contest's zone, whatever the computer's). */
function fmtDateTime(ms) { const p = parts(ms); return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`; }
function fmtDay(ms) { const p = parts(ms); return `${p.day}/${p.month}`; }
function fmtClock(ms) { const p = parts(ms); return `${p.hour}:${p.minute}:${p.second}`; }

/** The contest's weekly rounds are named in its language ("Tuần 3"): English reads "Week 3". */
function roundTitle(r) {
  if (!r) return "";
  if (lang === "en") { const m = /^Tuần (\d+)$/.exec(r.title); if (m) return `Week ${m[1]}`; }
  return r.title || r.id;
}

// ---------------------------------------------------------------- state
const state = {
  csrf: null,
  data: null,          // the last overview that arrived
  lastOk: 0,           // server time (ms) of that overview
  chosenRound: "",     // "" = the round the server picks (the open one)
  defaultRound: "",    // that pick, as last seen
  seq: 0,              // drops answers to superseded requests (a round changed meanwhile)
  timer: 0,
  loading: false,
  sort: { key: "", dir: 1 }, // "" = the API's administrative order (parent, then name)
  rows: [],            // [{u, key, el}] built once per overview
  started: false,
};

// ---------------------------------------------------------------- HTTP
const api = (path, { method = "GET", body } = {}) => hostRequest(path, { method, body, csrf: state.csrf });

// ---------------------------------------------------------------- login / session
async function boot() {
  applyI18n();
  const r = await api("/api/host/session");
  if (r.ok && r.data.csrf) {
    state.csrf = r.data.csrf;
    startDash();
  } else {
    showLogin(r.status === 401 ? "" : t("login.failed", { status: r.status || "—" }));
  }
}

function showLogin(error = "") {
  stopTimer();
  state.started = false;
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = error;
  $("#login-token").focus();
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("#login-token").value.trim();
  if (!token) { $("#login-error").textContent = t("login.empty"); return; }
  const r = await api("/api/host/login", { method: "POST", body: { token } });
  if (r.ok && r.data.csrf) {
    state.csrf = r.data.csrf;
    $("#login-token").value = "";
    $("#login-error").textContent = "";
    startDash();
  } else {
    $("#login-error").textContent = r.status === 401 ? t("login.wrong")
      : r.status === 429 ? t("login.rate") : t("login.failed", { status: r.status || "—" });
  }
});

$("#logout").addEventListener("click", async () => {
  await api("/api/host/logout", { method: "POST" });
  state.csrf = null;
  state.data = null;
  showLogin();
});

function startDash() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#dash").hidden = false;
  $("#no-contest").hidden = true;
  $(".top-main").hidden = false;
  state.started = true;
  load();
}

// ---------------------------------------------------------------- loading + auto-refresh
function stopTimer() { clearTimeout(state.timer); state.timer = 0; }

function schedule() {
  stopTimer();
  if (!state.started || document.hidden) return; // paused while the tab is hidden
  state.timer = setTimeout(load, REFRESH_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!state.started) return;
  if (document.hidden) stopTimer();
  else if (!state.loading) load(); // back on the tab: fresh figures at once, then every 15 s
});

async function load() {
  stopTimer();
  const seq = ++state.seq;
  state.loading = true;
  if (!state.data) $("#updated").textContent = t("updating");
  $("#updated").classList.add("is-busy"); // (the last time stays: no flicker every 15 s)
  $("#refresh").disabled = true;
  const q = state.chosenRound ? `?round=${encodeURIComponent(state.chosenRound)}` : "";
  const r = await api(`/api/host/contest/overview${q}`);
  if (seq !== state.seq) return; // a newer request is under way
  state.loading = false;
  $("#refresh").disabled = false;
  $("#updated").classList.remove("is-busy");
  if (r.ok) {
    state.data = r.data;
    state.lastOk = r.data.now || Date.now();
    state.skew = state.lastOk - Date.now(); // the server's clock, for the time of a later failure
    if (!state.chosenRound) state.defaultRound = r.data.round;
    $("#notice").hidden = true;
    $("#updated").classList.remove("is-stale");
    render();
    schedule();
    return;
  }
  if (r.status === 401) { state.csrf = null; showLogin(t("login.expired")); return; }
  if (r.status === 404) { showNoContest(); return; }
  if (r.status === 400 && state.chosenRound) { state.chosenRound = ""; load(); return; } // a round that left
  showProblem(r);
  schedule();
}

function showNoContest() {
  stopTimer();
  state.started = false;
  $("#dash").hidden = true;
  $("#notice").hidden = true;
  $("#no-contest").hidden = false;
  $("#updated").textContent = "";
  $(".top-main").hidden = true; // no contest: no title, no rounds to pick
}

function showProblem(r) {
  const time = fmtClock(Date.now() + (state.skew || 0));
  const first = r.status === 0 ? t("err.network", { time })
    : r.status === 503 ? t("err.unavailable", { time })
      : r.status === 429 ? t("err.rate", { time })
        : t("err.other", { status: r.status, time, message: r.data?.message || r.data?.error || "" });
  const kept = state.data ? t("err.kept", { last: fmtClock(state.lastOk) }) : t("err.none_yet");
  $("#notice-text").textContent = `${first} ${kept} ${t("err.again")}`;
  $("#notice").hidden = false;
  $("#updated").textContent = state.data ? t("updated", { time: fmtClock(state.lastOk) }) : "";
  $("#updated").classList.toggle("is-stale", !!state.data);
}

$("#refresh").addEventListener("click", () => load());
$("#retry").addEventListener("click", () => load());
$("#round").addEventListener("change", (ev) => {
  // the server's own pick (the open round) is followed as the weeks go by; another round stays chosen
  state.chosenRound = ev.target.value === state.defaultRound ? "" : ev.target.value;
  load();
});

// ---------------------------------------------------------------- render
function render() {
  const d = state.data;
  if (!d) return;
  $("#loading").hidden = true;
  $("#updated").textContent = t("updated", { time: fmtClock(state.lastOk) });
  renderHeader(d);
  renderCards(d);
  buildUnitRows(d);
  applyUnitView();
  renderWinners(d);
  renderLookalikes(d);
  renderDownloads(d);
}

function currentRound(d) { return d.contest.rounds.find((r) => r.id === d.round); }

function renderHeader(d) {
  const c = d.contest;
  const opens = Date.parse(c.opens);
  const closes = Date.parse(c.closes);
  $("#c-title").textContent = c.title;
  $("#c-dates").textContent = t("dates", { opens: fmtDateTime(opens), closes: fmtDateTime(closes) });
  const status = d.now < opens ? "before" : d.now >= closes ? "closed" : "open";
  const badge = $("#c-status");
  badge.textContent = t(`status.${status}`);
  badge.dataset.status = status;

  const sel = $("#round");
  sel.disabled = false;
  sel.replaceChildren(...c.rounds.map((r) => {
    const ro = Date.parse(r.opens);
    const rc = Date.parse(r.closes);
    const when = d.now < ro ? ` · ${t("round.future")}` : d.now < rc ? ` · ${t("round.current")}` : "";
    // the last day of the round: a week closes on Monday 00:00, so it ends on the Sunday
    const opt = el("option", `${roundTitle(r)} · ${fmtDay(ro)}–${fmtDay(Math.max(ro, rc - 1))}${when}`);
    opt.value = r.id;
    opt.selected = r.id === d.round;
    return opt;
  }));
}

function card(key, value, sub, extra = "") {
  const node = el(`div.card${extra ? `.${extra}` : ""}`, el("span.card-label", t(key)), el("b.card-value", value),
    el("span.card-sub", sub));
  node.dataset.card = key.replace("card.", "");
  return node;
}

function renderCards(d) {
  const n = d.counts;
  const r = currentRound(d);
  const participants = (d.units || []).reduce((s, u) => s + u.participants, 0);
  $("#cards").replaceChildren(
    card("card.rate", fmtPct(n.overall_rate), t("card.rate.sub", { p: fmtInt(participants), h: fmtInt(n.headcount) }),
      "card-rate"),
    card("card.people", fmtInt(n.people), t("card.people.sub")),
    card("card.in_progress", fmtInt(n.in_progress), t("card.in_progress.sub")),
    card("card.today", fmtInt(n.today), t("card.today.sub")),
    card("card.participants", fmtInt(n.participants_in_round), roundTitle(r)),
    card("card.finished", fmtInt(n.finished_in_round), `${t("card.finished.sub")} · ${roundTitle(r)}`),
    card("card.perfect", fmtInt(n.perfect_in_round), t("card.perfect.sub", { n: d.contest.questions })),
  );
}

// --- units: rows built once per overview; filtering and sorting only move or hide them
function flagBadge(kind) {
  const badge = el(`span.flag.flag-${kind}`, t(`flag.${kind}`));
  const threshold = state.data && state.data.threshold;
  if (kind === "under" && typeof threshold === "number" && threshold > 0) {
    badge.title = t("flag.under_title", { p: fmtPct(threshold) }); // the threshold itself, on hover and for AT
  }
  return badge;
}

function unitRow(u) {
  const tr = document.createElement("tr");
  tr.dataset.code = u.code;
  if (u.under) tr.classList.add("is-under");
  if (u.over) tr.classList.add("is-over");
  const bar = el("span.bar", el("span.fill"));
  bar.firstChild.style.setProperty("--pct", String(Math.min(1, Math.max(0, u.rate)))); // CSSOM: allowed by the CSP
  const change = u.previous === null || u.previous === undefined ? null : (u.rate - u.previous) * 100;
  const changeCell = el("td.num.change", change === null ? "—" : `${change > 0 ? "+" : change < 0 ? "−" : "±"}${fmtDec(Math.abs(change), 1)}`);
  if (change !== null) changeCell.dataset.trend = change > 0.05 ? "up" : change < -0.05 ? "down" : "flat";
  const flags = el("td.flags");
  if (u.under) flags.append(flagBadge("under"));
  if (u.over) flags.append(flagBadge("over"));
  tr.append(
    el("th.unit-name", u.name, el("span.unit-sub", u.parent)), // the parent under the name when narrow
    el("td.parent", u.parent),
    el("td.num", fmtInt(u.headcount)),
    el("td.num.participants", fmtInt(u.participants)),
    el("td.num.rate", el("span.rate-cell", bar, el("span.rate-val", fmtPct(u.rate)))),
    el("td.num.previous", u.previous === null || u.previous === undefined ? "—" : fmtPct(u.previous)),
    changeCell,
    flags,
  );
  tr.firstChild.scope = "row";
  return tr;
}

function buildUnitRows(d) {
  state.rows = (d.units || []).map((u, i) => ({ u, i, key: fold(`${u.name} ${u.parent} ${u.code}`), el: unitRow(u) }));
  const under = state.rows.filter((r) => r.u.under).length;
  $("#only-under-label").textContent = t("units.only_under", { n: fmtInt(under) });
  $("#units-round").textContent = t("units.round", { round: roundTitle(currentRound(d)) });
}

const collator = () => new Intl.Collator(lang === "vi" ? "vi" : "en", { sensitivity: "base", numeric: true });

function sorted(rows) {
  const { key, dir } = state.sort;
  if (!key) return rows;
  const coll = collator();
  const byName = (a, b) => coll.compare(a.u.name, b.u.name) || coll.compare(a.u.parent, b.u.parent);
  const cmp = key === "name" ? (a, b) => dir * byName(a, b)
    : key === "participants" ? (a, b) => dir * (a.u.participants - b.u.participants) || dir * (a.u.rate - b.u.rate) || byName(a, b)
      : (a, b) => dir * (a.u.rate - b.u.rate) || dir * (a.u.participants - b.u.participants) || byName(a, b);
  return [...rows].sort(cmp);
}

/** Sorting moves the rows (one fragment); filtering only hides and shows them: cheap with 500+ units. */
function applyUnitView() {
  const frag = document.createDocumentFragment();
  for (const r of sorted(state.rows)) frag.append(r.el);
  $("#units tbody").replaceChildren(frag);
  filterRows();
  for (const th of document.querySelectorAll("#units th[data-sort]")) {
    const on = th.dataset.sort === state.sort.key;
    th.setAttribute("aria-sort", on ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
    th.querySelector(".arrow").textContent = on ? (state.sort.dir > 0 ? "▲" : "▼") : "↕";
  }
}

function filterRows() {
  const words = fold($("#unit-filter").value).split(" ").filter(Boolean);
  const onlyUnder = $("#only-under").checked;
  let shown = 0;
  for (const r of state.rows) {
    const visible = (!onlyUnder || r.u.under) && words.every((w) => r.key.includes(w));
    if (r.el.hidden === visible) r.el.hidden = !visible;
    if (visible) shown += 1;
  }
  $("#units-none").hidden = shown > 0 || state.rows.length === 0;
  $("#units-shown").textContent = t("units.shown", { shown: fmtInt(shown), total: fmtInt(state.rows.length) });
}

$("#unit-filter").addEventListener("input", filterRows);
$("#only-under").addEventListener("change", filterRows);

for (const btn of document.querySelectorAll("#units button.sort")) {
  btn.addEventListener("click", () => {
    const key = btn.dataset.sort;
    if (state.sort.key === key) state.sort.dir = -state.sort.dir;
    else state.sort = { key, dir: key === "name" ? 1 : -1 }; // numbers: highest first
    applyUnitView();
  });
}

// --- winners
function renderWinners(d) {
  const qs = d.contest.questions;
  const rows = (d.winners || []).map((w) => {
    const tr = el("tr",
      el("td.num.rank", fmtInt(w.rank)),
      el("td.name", w.full_name),
      el("td.unit", w.unit),
      el("td.phone", w.phone || "—"),
      el("td.num", `${fmtInt(w.correct)}/${fmtInt(qs)}`),
      el("td.num", fmtDec(w.time_ms / 1000, 2)),
    );
    if (w.rank <= 3) tr.classList.add(`is-top${w.rank}`);
    return tr;
  });
  $("#winners tbody").replaceChildren(...rows);
  $("#winners").hidden = rows.length === 0;
  $("#winners-none").hidden = rows.length > 0;
}

// --- look-alikes: the reason in words, the two entries side by side, what they share marked
const REASON_FIELD = { same_phone: "phone", same_staff_id: "staff_id", same_email: "email" };

function reasonText(x) {
  const field = REASON_FIELD[x.reason];
  if (field) return t(`reason.${x.reason}${x.a.unit === x.b.unit ? ".unit" : ""}`);
  if (x.reason === "same_name_in_unit") return t("reason.same_name_in_unit");
  return t("reason.other", { reason: x.reason });
}

function person(p, shared) {
  const name = el("span.look-name", p.full_name);
  if (shared === "name") name.classList.add("is-shared");
  const unit = el("span.look-unit", p.unit || "—");
  const details = el("span.look-details");
  for (const f of ["phone", "staff_id", "email"]) {
    if (!p[f]) continue;
    const v = el("span.look-field", el("span.look-key", `${t(`field.${f}`)}: `), p[f]);
    if (shared === f) v.classList.add("is-shared");
    details.append(v);
  }
  return el("div.look-person", name, unit, details);
}

function renderLookalikes(d) {
  const list = [...(d.lookalikes || [])].reverse(); // newest first
  const items = list.map((x) => {
    const shared = REASON_FIELD[x.reason] || (x.reason === "same_name_in_unit" ? "name" : "");
    const li = el("li.look",
      el("p.look-reason", reasonText(x)),
      el("div.look-pair", person(x.a, shared), person(x.b, shared)),
      el("p.look-at", t("look.at", { time: fmtDateTime(x.at) })));
    li.dataset.reason = x.reason;
    return li;
  });
  $("#lookalikes").replaceChildren(...items);
  $("#look-none").hidden = items.length > 0;
  $("#look-count").textContent = items.length ? t("look.count", { n: fmtInt(items.length) }) : "";
  $("#look-count").hidden = items.length === 0;
}

// --- downloads: plain links (GET, the cookie session goes along)
function withLang(url, l) {
  const u = new URL(url, location.origin);
  u.searchParams.set("lang", l);
  return u.pathname + u.search;
}

function renderDownloads(d) {
  const dl = d.downloads || {};
  $("#dl-round").textContent = t("dl.round", { round: roundTitle(currentRound(d)) });
  for (const fmt of ["xlsx", "html"]) {
    if (!dl[fmt]) continue;
    $(`#dl-${fmt}`).href = withLang(dl[fmt], "vi");
    $(`#dl-${fmt}-en`).href = withLang(dl[fmt], "en");
  }
}

// ---------------------------------------------------------------- language
function toggleLang() {
  lang = lang === "vi" ? "en" : "vi";
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* ignore */ }
  applyI18n();
  if (state.data) render();
  else if (!$("#notice").hidden) $("#notice").hidden = true;
}
$("#lang").addEventListener("click", toggleLang);
$("#login-lang").addEventListener("click", toggleLang);

boot();
