// The online contest's public results page, /contest/results (docs/contest.md § 3 is the contract):
// GET /api/contest (the rounds, the server's `now`) and GET /api/contest/results?round=ID (a closed
// round's top list and the units' participation; 409 not_yet before it closes). Public: no login,
// no participant token read. Only the fields listed below are taken from the answer (rank, name,
// unit, score, time; a unit's participation) and only ever shown through textContent: no phone,
// no e-mail, nothing else a future API field might carry.
import { $, h, clear, show, cssVar } from "./js/dom.js";
import { Retrier, requestJson } from "./js/http.js";

// ---------------------------------------------------------------- strings
const STR = {
  vi: {
    brand: "Cuộc thi trực tuyến",
    "lang.switch": "English",
    "nav.label": "Cuộc thi",
    "nav.enter": "Dự thi",
    "doc.title": "Kết quả",
    kicker: "Kết quả cuộc thi",
    loading: "Đang tải kết quả…",
    "notice.retry": "Thử lại ngay",
    "notice.offline": "Mất kết nối mạng. Đang thử kết nối lại…",
    "notice.unavailable": "Hệ thống đang tạm thời gián đoạn. Đang thử lại…",
    "notice.rate": "Có quá nhiều yêu cầu trong thời gian ngắn. Vui lòng chờ giây lát, hệ thống sẽ tự thử lại.",
    "failed.contest": "Không tải được thông tin cuộc thi. Vui lòng kiểm tra kết nối mạng rồi thử lại.",
    "failed.results": "Không tải được kết quả của vòng thi này. Vui lòng thử lại.",
    "failed.retry": "Thử lại",
    dates: "Thời gian: từ {opens} đến {closes} (giờ Việt Nam)",
    "round.label": "Vòng thi",
    "round.option_wait": "{round} · công bố khi vòng thi kết thúc",
    "round.when": "Từ {opens} đến {closes}",
    "wait.title": "Kết quả công bố khi vòng thi kết thúc",
    "wait.text": "{round} kết thúc lúc {closes} (giờ Việt Nam). Kết quả sẽ được công bố tại đây ngay sau thời điểm này.",
    "wait.open": "Vòng thi đang diễn ra: bạn vẫn có thể tham gia.",
    "wait.upcoming": "{round} bắt đầu lúc {opens}.",
    "wait.enter": "Dự thi ngay",
    "empty.text": "Cuộc thi chưa có vòng thi nào.",
    "stat.participants": "Số người dự thi",
    "stat.rate": "Tỷ lệ tham gia chung",
    "stat.rate_sub": "{p}/{h} CBCCVC",
    "stat.units": "Đơn vị có người dự thi",
    "stat.units_sub": "trên tổng số {n} đơn vị",
    "top.title": "Cá nhân đạt kết quả cao",
    "top.note": "Xếp hạng theo số câu trả lời đúng, rồi tổng thời gian làm bài ít hơn, rồi câu trả lời dự đoán gần đúng hơn, rồi thời điểm nộp bài sớm hơn.",
    "top.note_np": "Xếp hạng theo số câu trả lời đúng, rồi tổng thời gian làm bài ít hơn, rồi thời điểm nộp bài sớm hơn.",
    "top.rank": "Hạng",
    "top.name": "Họ và tên",
    "top.unit": "Đơn vị",
    "top.correct": "Số câu đúng",
    "top.time": "Thời gian",
    "top.score": "{correct}/{questions}",
    "top.secs": "{s} giây",
    "top.empty": "Vòng thi này không có người dự thi hoàn thành bài thi.",
    "units.title": "Tỷ lệ tham gia theo đơn vị",
    "units.note": "Tỷ lệ tham gia = số người dự thi ÷ số CBCCVC của đơn vị.",
    "units.filter": "Lọc đơn vị",
    "units.filter_ph": "Gõ tên đơn vị (không cần dấu)",
    "units.shown": "Hiển thị {shown}/{total} đơn vị",
    "units.none": "Không có đơn vị nào phù hợp với từ khóa đã nhập.",
    "col.unit": "Đơn vị",
    "col.participants": "Người dự thi",
    "col.headcount": "Số CBCCVC",
    "col.rate": "Tỷ lệ",
    back: "← Về trang dự thi",
  },
  en: {
    brand: "Online contest",
    "lang.switch": "Tiếng Việt",
    "nav.label": "Contest",
    "nav.enter": "Take part",
    "doc.title": "Results",
    kicker: "Contest results",
    loading: "Loading the results…",
    "notice.retry": "Retry now",
    "notice.offline": "No network connection. Reconnecting…",
    "notice.unavailable": "The service is briefly unavailable. Retrying…",
    "notice.rate": "Too many requests in a short time. Please wait a moment; the page retries by itself.",
    "failed.contest": "The contest could not be loaded. Please check the network connection and try again.",
    "failed.results": "The results of this round could not be loaded. Please try again.",
    "failed.retry": "Try again",
    dates: "Open from {opens} to {closes} (Vietnam time)",
    "round.label": "Round",
    "round.option_wait": "{round} · published when the round closes",
    "round.when": "From {opens} to {closes}",
    "wait.title": "Published when the round closes",
    "wait.text": "{round} closes at {closes} (Vietnam time). Its results will be published here right after that.",
    "wait.open": "The round is open now: you can still take part.",
    "wait.upcoming": "{round} opens at {opens}.",
    "wait.enter": "Take part now",
    "empty.text": "This contest has no rounds yet.",
    "stat.participants": "Participants",
    "stat.rate": "Overall participation",
    "stat.rate_sub": "{p} of {h} staff",
    "stat.units": "Units taking part",
    "stat.units_sub": "of {n} units",
    "top.title": "Top results",
    "top.note": "Ranked by correct answers, then less total time, then the closest prediction, then the earlier finish.",
    "top.note_np": "Ranked by correct answers, then less total time, then the earlier finish.",
    "top.rank": "Rank",
    "top.name": "Full name",
    "top.unit": "Unit",
    "top.correct": "Correct",
    "top.time": "Time",
    "top.score": "{correct}/{questions}",
    "top.secs": "{s} s",
    "top.empty": "Nobody finished an attempt in this round.",
    "units.title": "Participation by unit",
    "units.note": "Participation rate = participants ÷ the unit's headcount.",
    "units.filter": "Filter the units",
    "units.filter_ph": "Type a unit's name",
    "units.shown": "Showing {shown} of {total} units",
    "units.none": "No unit matches these words.",
    "col.unit": "Unit",
    "col.participants": "Took part",
    "col.headcount": "Staff",
    "col.rate": "Rate",
    back: "← Back to the contest page",
  },
};

const ZONE = "Asia/Ho_Chi_Minh";
const LANG_KEY = "qe.contest.lang";     // shared with the participant page
const WAIT_TIMER_MAX_MS = 6 * 3600 * 1000; // a round closing within 6 h: its results appear by themselves
const NOT_YET_RETRIES = 20;

function storeGet(k) { try { return localStorage.getItem(k); } catch { return null; } }
function storeSet(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } }

const query = new URLSearchParams(location.search);
let lang = pickLang();

function pickLang() {
  const q = query.get("lang");
  if (q === "vi" || q === "en") return q;
  return storeGet(LANG_KEY) === "en" ? "en" : "vi";
}

function t(key, params = {}) {
  const s = STR[lang][key] ?? STR.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// ---------------------------------------------------------------- formatting
const DTF = new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, day: "2-digit", month: "2-digit", year: "numeric",
                                               hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** dd/mm/yyyy HH:mm in Vietnam time (whatever the device's zone), from an ISO string. */
function fmtDate(v) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return "";
  const p = {};
  for (const part of DTF.formatToParts(d)) p[part.type] = part.value;
  return `${p.day}/${p.month}/${p.year}\u00a0${p.hour}:${p.minute}`;
}

const locale = () => (lang === "vi" ? "vi-VN" : "en-GB");
const fmtInt = (n) => new Intl.NumberFormat(locale()).format(n);
const fmtPct = (rate) => `${new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 })
  .format(rate * 100)}\u00a0%`;

/** A time in seconds, one decimal, rounded half up from whole ms (12 350 ms → 12,4 giây). */
function fmtSecs(ms) {
  const tenths = Math.floor((Math.max(0, Number(ms) || 0) + 50) / 100);
  const whole = new Intl.NumberFormat(locale()).format(Math.floor(tenths / 10));
  return t("top.secs", { s: `${whole}${lang === "vi" ? "," : "."}${tenths % 10}` });
}

/** Accents, case and spacing ignored (đ → d), like the unit search of the participant page. */
function fold(s) {
  return String(s ?? "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d")
    .toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** A weekly round's Vietnamese name reads "Week n" in English. */
function roundTitle(r) {
  if (!r) return "";
  if (lang === "en") { const m = /^Tuần (\d+)$/.exec(r.title || ""); if (m) return `Week ${m[1]}`; }
  return r.title || r.id;
}

/** A unit's label is "name — parent": the parent shown lighter (the text stays the label). */
function unitLabel(label, cls) {
  const text = String(label ?? "");
  const at = text.lastIndexOf(" — ");
  if (at <= 0) return h(`span.${cls}`, {}, text);
  return h(`span.${cls}`, {}, h("span.u-name", {}, text.slice(0, at)), " — ",
           h("span.u-parent", {}, text.slice(at + 3)));
}

// ---------------------------------------------------------------- state
const S = {
  info: null,          // GET /api/contest
  offset: 0,           // the server's clock − this device's (ms)
  round: null,         // the chosen round's id
  view: "loading",     // loading | failed | wait | empty | results
  failed: "",          // the failure's message key
  data: null,          // the chosen round's results (only the fields shown)
  cache: new Map(),    // round id → results (a closed round's results do not change)
  seq: 0,              // drops an answer to a superseded request
  timer: 0,
  notYet: 0,           // 409s in a row for a round the clock says closed
  sort: { key: "rate", dir: -1 },
  rows: [],            // the units' rows {u, key, el}
};
const serverNow = () => Date.now() + S.offset;
const rounds = () => (S.info && Array.isArray(S.info.rounds) ? S.info.rounds : []);
const roundById = (id) => rounds().find((r) => r.id === id) || null;
const isClosed = (r) => serverNow() >= Date.parse(r.closes);

// ---------------------------------------------------------------- network
/** One public JSON request, no credentials (js/http.js). */
const api = (path) => requestJson(path, { credentials: "omit", onNow: (now) => { S.offset = now - Date.now(); } });
let noticeKey = null;
const retrier = new Retrier((key) => showNotice(key));
/** Repeat a request while the network or the server is in trouble, at most `tries` times. */
const reliable = (request, tries = 6) => retrier.run(request, tries);

function showNotice(key) {
  noticeKey = key;
  show($("#notice"), !!key);
  if (key) $("#notice-text").textContent = t(key);
}

// ---------------------------------------------------------------- rendering
const VIEWS = ["loading", "failed", "wait", "empty", "results"];

function setView(view) {
  S.view = view;
  document.body.dataset.view = view;
  render();
}

function render() {
  applyStatic();
  for (const v of VIEWS) show($(`#v-${v}`), v === S.view);
  $("#v-loading").setAttribute("aria-busy", S.view === "loading" ? "true" : "false");
  if (!S.info) {
    if (S.view === "failed") $("#failed-text").textContent = t(S.failed);
    return;
  }
  const c = S.info;
  $("#title").textContent = c.title;
  $("#dates").textContent = t("dates", { opens: fmtDate(c.opens), closes: fmtDate(c.closes) });
  renderPicker();
  if (S.view === "failed") $("#failed-text").textContent = t(S.failed);
  else if (S.view === "wait") renderWait();
  else if (S.view === "results") renderResults();
}

function applyStatic() {
  document.documentElement.lang = lang;
  document.title = S.info ? `${t("doc.title")} — ${S.info.title}` : `${t("doc.title")} — ${t("brand")}`;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-ph]")) el.placeholder = t(el.dataset.ph);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  const btn = $("#lang");
  btn.textContent = t("lang.switch");
  btn.lang = lang === "vi" ? "en" : "vi";
  if (noticeKey) $("#notice-text").textContent = t(noticeKey);
}

function renderPicker() {
  const list = rounds();
  show($("#picker"), list.length > 0);
  const select = $("#round");
  if (select.options.length !== list.length) {
    clear(select);
    for (const r of list) select.append(h("option", { value: r.id }));
  }
  list.forEach((r, i) => {
    const opt = select.options[i];
    opt.value = r.id;
    opt.textContent = isClosed(r) ? roundTitle(r) : t("round.option_wait", { round: roundTitle(r) });
    opt.dataset.state = isClosed(r) ? "closed" : "wait";
  });
  if (S.round) select.value = S.round;
  const r = roundById(S.round);
  $("#round-when").textContent = r ? t("round.when", { opens: fmtDate(r.opens), closes: fmtDate(r.closes) }) : "";
}

function renderWait() {
  const r = roundById(S.round);
  if (!r) return;
  $("#wait-text").textContent = t("wait.text", { round: roundTitle(r), closes: fmtDate(r.closes) });
  const now = serverNow();
  const open = now >= Date.parse(r.opens) && now < Date.parse(r.closes);
  const upcoming = now < Date.parse(r.opens);
  const state = $("#wait-state");
  state.textContent = open ? t("wait.open") : upcoming ? t("wait.upcoming", { round: roundTitle(r),
                                                                                 opens: fmtDate(r.opens) }) : "";
  state.className = `wait-state${open ? " is-open" : ""}`;
  show(state, open || upcoming);
  show($("#wait-enter"), open);
}

function renderResults() {
  const d = S.data;
  if (!d) return;
  const c = S.info;
  // the counts
  const headcount = d.units.reduce((n, u) => n + u.headcount, 0);
  const inUnits = d.units.reduce((n, u) => n + u.participants, 0);
  const active = d.units.filter((u) => u.participants > 0).length;
  $("#stat-participants").textContent = fmtInt(d.participants);
  $("#stat-rate").textContent = headcount ? fmtPct(inUnits / headcount) : "—";
  $("#stat-rate-sub").textContent = t("stat.rate_sub", { p: fmtInt(inUnits), h: fmtInt(headcount) });
  $("#stat-units").textContent = fmtInt(active);
  $("#stat-units-sub").textContent = t("stat.units_sub", { n: fmtInt(d.units.length) });

  // the top list
  $("#top-note").textContent = t(c.prediction ? "top.note" : "top.note_np");
  const body = clear($("#top tbody"));
  for (const p of d.top) {
    const tr = h("tr", { class: p.rank <= 3 ? `is-top is-top-${p.rank}` : null },
      h("td.col-rank", {}, h("span.rank", {}, String(p.rank))),
      h("td.col-who", {}, h("span.who-name", {}, p.name), unitLabel(p.unit, "who-unit")),
      h("td.num.col-result", {}, h("span.res-pair", {},
        h("span.score", {}, t("top.score", { correct: p.correct, questions: c.questions })),
        h("span.time", {}, fmtSecs(p.time_ms)))));
    body.append(tr);
  }
  show($("#top"), d.top.length > 0);
  show($("#top-empty"), d.top.length === 0);

  // the units (rows rebuilt on every render: a language switch changes their numbers)
  S.rows = d.units.map((u, i) => ({ u, i, key: fold(u.unit), el: unitRow(u) }));
  applyUnitView();
}

function unitRow(u) {
  const fill = h("span.fill");
  cssVar(fill, "--pct", Math.min(1, Math.max(0, u.rate))); // CSSOM: allowed by the CSP
  const tr = h("tr", { class: u.participants > u.headcount ? "is-over" : null },
    h("th.unit-cell", { scope: "row" }, unitLabel(u.unit, "unit-label")),
    h("td.num.participants", {}, fmtInt(u.participants)),
    h("td.num.headcount", {}, fmtInt(u.headcount)),
    h("td.num.rate", {}, h("span.rate-cell", {}, h("span.rate-val", {}, fmtPct(u.rate)),
                                              h("span.bar", { "aria-hidden": "true" }, fill))));
  return tr;
}

function sortedRows() {
  const { key, dir } = S.sort;
  const coll = new Intl.Collator(lang === "vi" ? "vi" : "en", { sensitivity: "base", numeric: true });
  const byName = (a, b) => coll.compare(a.u.unit, b.u.unit);
  const num = (k) => (a, b) => dir * (a.u[k] - b.u[k]);
  const cmp = {
    name: (a, b) => dir * byName(a, b),
    participants: (a, b) => num("participants")(a, b) || num("rate")(a, b) || byName(a, b),
    headcount: (a, b) => num("headcount")(a, b) || byName(a, b),
    rate: (a, b) => num("rate")(a, b) || num("participants")(a, b) || byName(a, b),
  }[key];
  return [...S.rows].sort(cmp);
}

/** Sorting moves the rows; filtering only hides them (cheap with hundreds of units). */
function applyUnitView() {
  const frag = document.createDocumentFragment();
  for (const r of sortedRows()) frag.append(r.el);
  $("#units tbody").replaceChildren(frag);
  for (const th of document.querySelectorAll("#units th[data-sort]")) {
    const on = th.dataset.sort === S.sort.key;
    th.setAttribute("aria-sort", on ? (S.sort.dir > 0 ? "ascending" : "descending") : "none");
    th.querySelector(".arrow").textContent = on ? (S.sort.dir > 0 ? "▲" : "▼") : "↕";
  }
  filterRows();
}

function filterRows() {
  const words = fold($("#unit-filter").value).split(" ").filter(Boolean);
  let shown = 0;
  for (const r of S.rows) {
    const visible = words.every((w) => r.key.includes(w));
    r.el.hidden = !visible;
    if (visible) shown += 1;
  }
  show($("#units-none"), shown === 0 && S.rows.length > 0);
  $("#units-shown").textContent = t("units.shown", { shown: fmtInt(shown), total: fmtInt(S.rows.length) });
}

// ---------------------------------------------------------------- the results of a round
/** Only the fields this page shows, whatever else an answer might carry. */
function pickResults(data) {
  const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  return {
    participants: num(data.participants),
    top: (Array.isArray(data.top) ? data.top : []).map((p) => ({
      rank: num(p.rank), name: String(p.name ?? ""), unit: String(p.unit ?? ""), correct: num(p.correct),
      time_ms: num(p.time_ms),
    })),
    units: (Array.isArray(data.units) ? data.units : []).map((u) => ({
      unit: String(u.unit ?? ""), participants: num(u.participants), headcount: num(u.headcount), rate: num(u.rate),
    })),
  };
}

function defaultRound() {
  const list = rounds();
  const closed = list.filter(isClosed);
  if (closed.length) return closed[closed.length - 1].id;
  return (S.info.round && roundById(S.info.round) ? S.info.round : null) || (list[0] ? list[0].id : null);
}

function keepInUrl(id) {
  const params = new URLSearchParams(location.search);
  params.set("round", id);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

async function chooseRound(id, remember = true) {
  clearTimeout(S.timer);
  S.round = id;
  if (remember && id) keepInUrl(id);
  const r = roundById(id);
  if (!r) return setView("empty");
  if (!isClosed(r)) {
    S.notYet = 0;
    waitFor(r, Date.parse(r.closes) - serverNow() + 1500);
    return setView("wait");
  }
  if (S.cache.has(id)) {
    S.data = S.cache.get(id);
    return setView("results");
  }
  const seq = ++S.seq;
  setView("loading");
  const res = await reliable(() => api(`/api/contest/results?round=${encodeURIComponent(id)}`));
  if (seq !== S.seq || S.round !== id) return undefined;
  if (res.status === 200 && res.data && Array.isArray(res.data.units)) {
    S.notYet = 0;
    S.data = pickResults(res.data);
    S.cache.set(id, S.data);
    return setView("results");
  }
  if (res.status === 409) { // the server's clock says not yet (closed a moment ago): ask again shortly
    if (++S.notYet <= NOT_YET_RETRIES) waitFor(r, 3000);
    return setView("wait");
  }
  S.failed = "failed.results";
  return setView("failed");
}

/** While a round is not closed, its card waits; near its closing the page asks again by itself. */
function waitFor(r, ms) {
  if (ms > WAIT_TIMER_MAX_MS) return;
  S.timer = setTimeout(() => { if (S.round === r.id) chooseRound(r.id, false); }, Math.max(1000, ms));
}

// ---------------------------------------------------------------- start
async function boot() {
  setView("loading");
  const r = await reliable(() => api("/api/contest"));
  if (r.status !== 200 || !r.data.id) {
    S.failed = "failed.contest";
    return setView("failed");
  }
  S.info = r.data;
  if (r.data.language === "en" && !storeGet(LANG_KEY) && !query.get("lang")) lang = "en";
  const asked = query.get("round");
  return chooseRound(asked && roundById(asked) ? asked : defaultRound(), !!asked && !!roundById(asked));
}

function bind() {
  $("#lang").addEventListener("click", () => {
    lang = lang === "vi" ? "en" : "vi";
    storeSet(LANG_KEY, lang);
    render();
  });
  $("#notice-retry").addEventListener("click", () => retrier.wake());
  $("#failed-retry").addEventListener("click", () => (S.info ? chooseRound(S.round, false) : boot()));
  $("#round").addEventListener("change", (e) => chooseRound(e.target.value));
  $("#unit-filter").addEventListener("input", filterRows);
  for (const btn of document.querySelectorAll("#units button.sort")) {
    btn.addEventListener("click", () => {
      const key = btn.dataset.sort;
      if (S.sort.key === key) S.sort.dir = -S.sort.dir;
      else S.sort = { key, dir: key === "name" ? 1 : -1 }; // numbers: highest first
      applyUnitView();
    });
  }
}

bind();
boot();
