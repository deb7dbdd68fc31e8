// Viewer phone page: join, answer, see the result. Protocol: docs/protocol.md (/ws/viewer).
// The whole screen is a function of `state`; every frame updates state then calls render().
import { t, applyI18n, toggleLang, onLangChange, letter, fmtTime, fmtInt, who } from "./i18n/index.js";
import { QuizSocket, SeqTracker, PHASE_FRAMES } from "./js/socket.js";
import { $, h, clear, show, cssVar } from "./js/dom.js";
import { applyPhaseFrame } from "./js/phase.js";

const TOKEN_KEY = "qe.viewer.token";
const PROFILE_KEY = "qe.viewer.profile";
const PRIZES_KEY = "qe.viewer.prizes"; // {episode id: {title, prizes, passed, at}} — the claim codes
const PRIZES_KEEP = 5;                 // episodes kept
const PRIZES_MAX_AGE = 60 * 86400e3;   // a code is kept 60 days (the desk may be days after the show)
const FIELDS = ["name", "full_name", "unit", "phone"];
const MAX = { name: 32, full_name: 80, unit: 80, phone: 20 };
const PHONE_RE = /^\+?[0-9][0-9 .\-]{5,18}[0-9]$/; // same rule as the server

const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { v === null ? localStorage.removeItem(k) : localStorage.setItem(k, v); } catch { /* private mode */ } },
};

const state = {
  conn: "connecting",        // connecting | open | reconnecting | closed
  connInfo: {},
  required: [],
  hello: false,
  joined: !!store.get(TOKEN_KEY),   // we have an identity (token) — shown as joined while resuming
  live: false,                      // welcome received on the current socket
  resuming: false,
  joining: false,
  profile: JSON.parse(store.get(PROFILE_KEY) || "null"),
  phase: "connecting",       // idle lobby waiting question closed revealed leaderboard finished
  until: null,
  episode: null,
  question: null,            // question frame (index, count, text, options, time_limit, release_at, deadline)
  closed: null,
  result: null,              // reveal frame
  top: [],
  players: 0,
  winner: null,
  standing: null,
  you: null,                 // {question, option, status: pending|accepted|rejected, time_ms, reason}
  notice: "",                // transient non-answer status (rate limited, …)
};

let refN = 0;
const nextRef = (p) => `${p}${++refN}`;
const seq = new SeqTracker();

// Heartbeat: a silent network loss (socket still "open", nothing gets through) must show within
// a few seconds while a question is open, so the phone pings every 1.5 s then (and right after
// sending an answer) and every 5 s otherwise; a ping unanswered for 2.5 s (3 s outside a
// question) closes the socket and the resume path takes over. Worst case to notice: 4 s in a
// question, 8 s otherwise.
const PACE = { question: [1500, 2500], idle: [5000, 3000] };
const ACK_OVERDUE_MS = 2000; // an answer sent this long ago without an ack is shown as "not sent yet"

const sock = new QuizSocket("/ws/viewer", {
  onFrame,
  onStatus(s) {
    state.conn = s.status;
    state.connInfo = s;
    if (s.status !== "open") state.hello = false;
    renderConn();
    render();
  },
  onVisible() { sock.send({ type: "sync", ref: nextRef("s") }); },
}, { pingEvery: PACE.idle[0], pongTimeout: PACE.idle[1], connectTimeout: 8000 });

// ---------------------------------------------------------------- frames
function onFrame(f) {
  switch (f.type) {
    case "hello": return onHello(f);
    case "snapshot": return onSnapshot(f);
    case "welcome": return onWelcome(f);
    case "ack": return onAck(f);
    case "standing": state.standing = f; return render();
    case "prizes": return onPrizes(f.episode, f.prizes, true);
    case "waiting": return onWaiting(f);
    case "error": return onError(f);
    default:
      if (PHASE_FRAMES.has(f.type)) return onPhase(f);
  }
}

function onHello(f) {
  state.hello = true;
  state.required = Array.isArray(f.required) ? f.required : [];
  const token = store.get(TOKEN_KEY);
  state.live = false;
  if (token) {
    state.resuming = true;
    sock.send({ type: "resume", token, ref: nextRef("r") });
  } else if (state.joining) {
    // the socket dropped while joining: send the form again
    submitJoin();
  }
  render();
}

function onWelcome(f) {
  state.joined = true;
  state.live = true;
  state.resuming = false;
  state.joining = false;
  state.joinError = "";
  store.set(TOKEN_KEY, f.token);
  state.profile = { ...(f.profile || state.profile), tag: f.tag };
  store.set(PROFILE_KEY, JSON.stringify(state.profile));
  render();
}

function onSnapshot(f) {
  seq.snapshot(f.seq);
  sock.clock.roughSync(f.now);
  if (f.settings && Array.isArray(f.settings.required)) state.required = f.settings.required;
  state.episode = f.episode || null;
  state.phase = f.phase || "idle";
  state.until = f.until ?? null;
  const q = f.question || null;
  if (q) state.question = { ...q, release_at: f.release_at ?? q.release_at, deadline: f.deadline ?? q.deadline };
  else if (!["question", "closed", "revealed"].includes(state.phase)) state.question = null;
  state.closed = f.closed || null;
  state.result = f.result || null;
  state.top = f.top || [];
  state.players = f.players || 0;
  state.played = f.played ?? state.players; // answered at all (players: ranked, with a correct answer)
  state.winner = f.winner || null;
  if (f.standing) state.standing = f.standing;
  if (state.phase === "lobby" || state.phase === "idle") state.standing = f.standing || null;
  if (state.episode && Array.isArray(f.prizes)) onPrizes(state.episode.id, f.prizes, false, false);
  forgetIfReplayed();
  if ("you" in f && state.question) {
    const idx = state.question.index;
    const pending = state.you && state.you.question === idx && state.you.status === "pending" ? state.you : null;
    if (f.you) {
      state.you = { question: idx, option: f.you.option, time_ms: f.you.time_ms, status: "accepted" };
    } else if (pending && state.phase === "question") {
      // tapped while offline (or the ack was lost): the server has nothing, send it now
      state.you = pending;
      sendAnswer();
    } else {
      state.you = null;
    }
  } else if (!state.question) {
    state.you = null;
  }
  render();
}

/** A question opened in the studio; under the stream delay it reaches this phone at `until`.
 * The frame carries the seq this phone is at (the question's minus one): any other means a
 * missed phase, which the question frame's own seq check repairs when it arrives. */
function onWaiting(f) {
  if (typeof f.until !== "number" || (typeof f.seq === "number" && seq.last !== null && f.seq !== seq.last)) return;
  if (state.phase === "question" || state.phase === "closed") return; // never hide an open question
  state.phase = "waiting";
  state.until = f.until;
  render();
}

function onPhase(f) {
  if (!seq.accept(f.seq)) {
    sock.send({ type: "sync", ref: nextRef("s") });
    return;
  }
  if (f.type === "lobby" || (f.type === "question" && (!state.you || state.you.question !== f.index))) {
    state.you = null; // a new question (or a new episode): nothing locked in yet
  }
  applyPhaseFrame(state, f);
  forgetIfReplayed();
  render();
}

// ---------------------------------------------------------------- prizes (claim codes)
// The server sends the whole list of prizes this player holds once the final results are out
// (a `prizes` frame, and `snapshot.prizes` on a reconnect), and again when it changes: an empty
// list means a prize passed on (disqualification) and its code no longer stands. The list is
// kept on the phone per episode, so the code is still there after a reload, offline at the
// prize desk, or once the next episode is on air.
function loadPrizes() {
  let all;
  try { all = JSON.parse(store.get(PRIZES_KEY) || "{}"); } catch { all = {}; }
  if (!all || typeof all !== "object" || Array.isArray(all)) all = {};
  const now = Date.now();
  for (const [id, e] of Object.entries(all)) {
    if (!e || !Array.isArray(e.prizes) || !(now - (e.at || 0) < PRIZES_MAX_AGE)) delete all[id];
  }
  return all;
}

function savePrizes(all) {
  const ids = Object.keys(all).sort((a, b) => (all[b].at || 0) - (all[a].at || 0));
  for (const id of ids.slice(PRIZES_KEEP)) delete all[id];
  store.set(PRIZES_KEY, ids.length ? JSON.stringify(all) : null);
}

let prizeBook = loadPrizes();

const validPrize = (p) => p && typeof p.code === "string" && typeof p.prize === "string";

/** The player's prizes in `episode` are now `list` (`pushed`: a `prizes` frame, not a snapshot). */
function onPrizes(episode, list, pushed, draw = true) {
  if (!episode || !Array.isArray(list)) return;
  const prizes = list.filter(validPrize).map((p) => ({
    prize: p.prize, question: Number.isInteger(p.question) ? p.question : null, code: p.code,
    qr: typeof p.qr === "string" ? p.qr : "",
  }));
  const before = prizeBook[episode];
  const lost = !!before && before.prizes.some((old) => !prizes.some((p) => p.code === old.code));
  if (prizes.length || lost || pushed || before?.passed) {
    // an empty `prizes` frame is only ever sent to a former holder: their code no longer stands.
    // The notice stays until the list gains a code (a reinstated player gets theirs back).
    const same = !!before && prizes.every((p) => before.prizes.some((old) => old.code === p.code));
    const passed = lost || (!!before?.passed && same) || (pushed && !prizes.length);
    const title = state.episode && state.episode.id === episode ? state.episode.title : before?.title;
    prizeBook[episode] = { title: title || episode, prizes, passed, at: Date.now() };
  } else {
    return; // a finished episode this player won nothing in
  }
  savePrizes(prizeBook);
  // the prizes changed after the results were out (a disqualification): the board, the winner
  // and this player's standing changed with them, and only a snapshot brings those
  if (pushed && before) sock.send({ type: "sync", ref: nextRef("s") });
  if (draw) render();
}

/** The episode is being played again (reset by the host): its old codes are void. */
function forgetIfReplayed() {
  const id = state.episode?.id;
  if (id && prizeBook[id] && ["lobby", "question", "closed", "revealed", "leaderboard"].includes(state.phase)) {
    delete prizeBook[id];
    savePrizes(prizeBook);
  }
}

function onAck(f) {
  const you = state.you;
  if (!you || you.question !== f.question) {
    if (f.ok || f.reason === "duplicate") {
      state.you = { question: f.question, option: f.option, time_ms: f.time_ms, status: "accepted" };
      render();
    }
    return;
  }
  if (f.ok) {
    Object.assign(you, { status: "accepted", option: f.option ?? you.option, time_ms: f.time_ms, reason: null });
  } else if (f.reason === "duplicate" && you.status === "pending" && (f.option ?? you.option) === you.option) {
    // our own answer, sent twice across a reconnect (the first copy got through late): it is
    // on record; a snapshot brings its time
    Object.assign(you, { status: "accepted", reason: null });
    sock.send({ type: "sync", ref: nextRef("s") });
  } else if (f.reason === "duplicate") {
    // the first answer is final: show the one on record
    Object.assign(you, { status: "accepted", option: f.option ?? you.option, reason: "duplicate" });
  } else if (f.reason === "invalid_option") {
    state.you = null;
    state.notice = t("reject.invalid_option");
  } else if (f.reason === "try_again") {
    you.status = "pending";
    you.reason = "try_again";
    you.tries = (you.tries || 0) + 1;
    if (you.tries <= 5) setTimeout(sendAnswer, 400 * you.tries);
  } else {
    Object.assign(you, { status: "rejected", reason: f.reason || "unknown" });
  }
  render();
}

function onError(f) {
  if (f.code === "bad_token") {
    store.set(TOKEN_KEY, null);
    state.resuming = false;
    state.joined = false;
    state.live = false;
    state.joinError = t("error.bad_token");
  } else if (state.joining && (f.code === "bad_field" || f.code === "already_joined")) {
    state.joining = false;
    serverFieldError(f.message || "");
  } else if (f.code === "not_joined") {
    // the server does not know us on this socket: resume (or join again)
    const token = store.get(TOKEN_KEY);
    if (token && !state.resuming) {
      state.resuming = true;
      sock.send({ type: "resume", token, ref: nextRef("r") });
    } else if (!token) {
      state.joined = false;
    }
  } else if (f.code === "rate_limited") {
    state.notice = t("error.rate_limited");
  } else if (f.code === "unavailable") {
    state.notice = t("error.unavailable");
    state.joining = false;
  }
  render();
}

// ---------------------------------------------------------------- join form
const form = $("#join-form");

function fieldValue(name) { return ($(`#f-${name}`).value || "").trim(); }

function fieldLabel(name) { return t(`join.${name}`).toLowerCase(); }

function validate(name) {
  const v = fieldValue(name);
  const required = name === "name" || state.required.includes(name);
  if (!v) return required ? t("join.err.required", { field: fieldLabel(name) }) : "";
  if ([...v].length > MAX[name]) return t("join.err.too_long", { n: MAX[name] });
  if (name === "phone" && !PHONE_RE.test(v)) return t("join.err.phone");
  return "";
}

function setFieldError(name, msg) {
  const input = $(`#f-${name}`);
  $(`#e-${name}`).textContent = msg;
  if (msg) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function serverFieldError(message) {
  const m = /'(\w+)'/.exec(message);
  const name = m && FIELDS.includes(m[1]) ? m[1] : null;
  let text = t("join.err.server", { message });
  if (name) {
    if (/required|empty/.test(message)) text = t("join.err.required", { field: fieldLabel(name) });
    else if (/long/.test(message)) text = t("join.err.too_long", { n: MAX[name] });
    else if (name === "phone") text = t("join.err.phone");
    setFieldError(name, text);
    $(`#f-${name}`).focus();
  } else {
    $("#join-error").textContent = text;
  }
}

let triedSubmit = false;
for (const name of FIELDS) {
  const input = $(`#f-${name}`);
  input.value = (state.profile && state.profile[name]) || "";
  const check = () => { if (triedSubmit) setFieldError(name, validate(name)); };
  input.addEventListener("blur", check);
  input.addEventListener("input", () => { if ($(`#e-${name}`).textContent) check(); });
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  triedSubmit = true;
  $("#join-error").textContent = "";
  let first = null;
  for (const name of FIELDS) {
    const msg = validate(name);
    setFieldError(name, msg);
    if (msg && !first) first = name;
  }
  if (first) {
    $(`#f-${first}`).focus();
    return;
  }
  state.joining = true;
  submitJoin();
  render();
});

function submitJoin() {
  const frame = { type: "join", ref: nextRef("j") };
  // the page's own join link (/?src=TAG): which simulcast page this player came from
  const src = new URLSearchParams(location.search).get("src");
  if (src) frame.src = src.slice(0, 32);
  for (const name of FIELDS) {
    const v = fieldValue(name);
    if (v) frame[name] = v;
  }
  state.profile = { ...frame };
  delete state.profile.type;
  delete state.profile.ref;
  store.set(PROFILE_KEY, JSON.stringify(state.profile));
  sock.send(frame); // if the socket is down, onHello sends it again
}

// ---------------------------------------------------------------- answering
function choose(option) {
  const q = state.question;
  if (!q || state.phase !== "question" || !state.joined) return;
  if (state.you && state.you.question === q.index) return; // locked on the first tap
  if (sock.clock.remaining(q.deadline) <= 0) return;
  state.you = { question: q.index, option, status: "pending" };
  state.notice = "";
  if (navigator.vibrate) try { navigator.vibrate(20); } catch { /* ignore */ }
  sendAnswer();
  render();
}

function sendAnswer() {
  const you = state.you;
  if (!you || you.status !== "pending" || !state.live) return; // resent after the resume snapshot
  if (sock.send({ type: "answer", question: you.question, option: you.option, ref: nextRef("a") })) {
    you.sentAt = Date.now();
    sock.ping(); // the answer is the moment the link matters most: check it now
    // no ack by then: show it as "not sent yet" (the link may be dead before the heartbeat knows)
    clearTimeout(you.overdue);
    you.overdue = setTimeout(render, ACK_OVERDUE_MS + 50);
  }
}

/** pending answer: "sending" (just sent on a live socket) or "unsent" (offline, or no ack in time). */
function pendingKind(you) {
  if (!you || you.status !== "pending") return null;
  if (state.conn !== "open" || !you.sentAt) return "unsent";
  return Date.now() - you.sentAt >= ACK_OVERDUE_MS ? "unsent" : "sending";
}

// ---------------------------------------------------------------- wake lock
let wakeLock = null;
async function wantWake(on) {
  if (!("wakeLock" in navigator)) return;
  try {
    if (on && !wakeLock && document.visibilityState === "visible") {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => { wakeLock = null; });
    } else if (!on && wakeLock) {
      const w = wakeLock;
      wakeLock = null;
      await w.release();
    }
  } catch { wakeLock = null; /* not allowed (battery saver, iframe…) */ }
}
document.addEventListener("visibilitychange", () => wantWake(state.phase === "question"));

// ---------------------------------------------------------------- rendering
const screens = { join: $("#s-join"), info: $("#s-info"), question: $("#s-question"), board: $("#s-board") };

function showScreen(name) {
  for (const [k, el] of Object.entries(screens)) show(el, k === name);
  // the question screens are laid out to fit the screen (viewer.css, "fit")
  document.body.classList.toggle("is-fit", name === "question");
  renderPrizes(name);
}

// ---------------------------------------------------------------- the prize card
const qrCache = new Map(); // code -> its parsed <svg>

/** The server's QR (inline SVG, made by the server) as a node, scalable by CSS; null if unusable. */
function qrSvg(p) {
  if (!p.qr) return null;
  if (!qrCache.has(p.code)) {
    let svg = null;
    try {
      const doc = new DOMParser().parseFromString(p.qr, "image/svg+xml");
      const root = doc.documentElement;
      if (root && root.localName === "svg" && root.namespaceURI === "http://www.w3.org/2000/svg"
          && !doc.getElementsByTagName("parsererror").length) {
        for (const el of root.querySelectorAll("script, foreignObject, style")) el.remove();
        for (const el of [root, ...root.querySelectorAll("*")]) {
          for (const a of [...el.attributes]) if (/^on|^style$|href$/i.test(a.name)) el.removeAttribute(a.name);
        }
        const w = parseFloat(root.getAttribute("width"));
        const hgt = parseFloat(root.getAttribute("height"));
        if (!root.getAttribute("viewBox") && w > 0 && hgt > 0) root.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
        root.removeAttribute("width"); // the size is the page's (viewer.css .prize-qr svg)
        root.removeAttribute("height");
        root.setAttribute("shape-rendering", "crispEdges");
        root.setAttribute("aria-hidden", "true");
        root.setAttribute("focusable", "false");
        svg = document.importNode(root, true);
      }
    } catch { svg = null; }
    qrCache.set(p.code, svg);
  }
  const svg = qrCache.get(p.code);
  return svg ? svg.cloneNode(true) : null;
}

function prizeLabel(p) {
  if (p.prize === "episode") return t("viewer.prize.episode");
  const n = p.question != null ? p.question + 1 : p.prize.replace(/^q/, "");
  return t("viewer.prize.q", { n });
}

function prizeCard(entry, own, n) {
  const kicker = own ? null : h("p.prize-kicker", {}, entry.title);
  if (!entry.prizes.length) {
    return h("section.prize-card.is-passed", { role: "status" }, kicker,
      h("p.prize-notice", {}, t("viewer.prize.passed")));
  }
  const titleId = `prize-title-${n}`;
  return h("section.prize-card", { "aria-labelledby": titleId }, kicker,
    h("h2.prize-title", { id: titleId }, t("viewer.prize.title")),
    h("p.prize-how", {}, t("viewer.prize.how")), // first: on screen even above two codes
    h("ul.prize-list", {}, entry.prizes.map((p) => {
      const qr = qrSvg(p);
      return h("li.prize", {},
        h("p.prize-label", {}, prizeLabel(p)),
        h("p.prize-code", {},
          h("span.visually-hidden", {}, `${t("viewer.prize.code")}: `),
          h("span.code", { translate: "no", dataset: { prize: p.prize } }, p.code)),
        qr ? h("div.prize-qr", { role: "img", "aria-label": t("viewer.prize.qr", { code: p.code }) }, qr) : null);
    })),
    entry.passed ? h("p.prize-notice", { role: "status" }, t("viewer.prize.passed")) : null);
}

let prizesKey = "";
/**
 * The prize card: on the final screen of the episode (under its title, the board below it),
 * and on the waiting screens — the codes kept from an earlier episode, with its title, so a
 * winner can still claim once the next episode is on. Never over a question.
 */
function renderPrizes(screen) {
  const box = $("#prizes");
  const current = state.episode?.id || null;
  const where = screen === "board" && state.phase === "finished" ? screens.board
    : screen === "info" && state.joined ? screens.info : null;
  const shown = [];
  if (where) {
    if (current && prizeBook[current]) shown.push([current, prizeBook[current]]);
    const others = Object.entries(prizeBook).filter(([id, e]) => id !== current && e.prizes.length)
      .sort((a, b) => (b[1].at || 0) - (a[1].at || 0));
    shown.push(...others);
  }
  show(box, shown.length > 0);
  if (!shown.length) return;
  if (where === screens.board && box.previousElementSibling !== $("#b-title")) $("#b-title").after(box);
  if (where === screens.info && box.parentElement !== screens.info) screens.info.append(box);
  box.classList.toggle("is-info", where === screens.info);
  const key = JSON.stringify([t("viewer.prize.title"), current,
    shown.map(([id, e]) => [id, e.title, e.passed, e.prizes.map((p) => p.code)])]);
  if (key === prizesKey) return;
  prizesKey = key;
  clear(box);
  shown.forEach(([id, e], n) => box.append(prizeCard(e, id === current, n)));
}

function renderConn() {
  const el = $("#conn");
  const text = $("#conn-text");
  const retry = $("#conn-retry");
  const s = state.connInfo;
  document.body.classList.toggle("is-offline", state.conn !== "open");
  el.classList.remove("is-final");
  retry.hidden = true;
  if (state.conn === "open") {
    show(el, false);
  } else if (state.conn === "closed") {
    show(el, true);
    el.classList.add("is-final");
    if (s.code === 4010) {
      text.textContent = t("conn.replaced");
      retry.textContent = t("conn.use_here");
    } else if (s.code === 4009) {
      text.textContent = t("conn.rate");
      retry.textContent = t("conn.retry");
    } else {
      text.textContent = s.code === 1000 ? t("conn.closed") : t("conn.refused", { code: s.code });
      retry.textContent = t("conn.retry");
    }
    retry.hidden = false;
  } else {
    // connecting / reconnecting: show the banner only once we have been connected before
    show(el, state.conn === "reconnecting");
    text.textContent = t("conn.reconnecting");
  }
  if (!state.hello && state.phase === "connecting") render();
}
$("#conn-retry").addEventListener("click", () => sock.retry());

function render() {
  document.body.dataset.phase = state.phase;
  sock.setPace(...PACE[state.phase === "question" ? "question" : "idle"]);
  const me = state.joined && state.profile ? t("you.as", { name: who(state.profile) }) : "";
  $("#me").textContent = me;

  wantWake(state.phase === "question" && state.joined);

  if (!state.joined) return state.hello ? renderJoin() : renderInfo("connecting");
  if (state.phase === "connecting") return renderInfo("connecting");
  switch (state.phase) {
    case "question":
    case "closed":
    case "revealed":
      if (state.question) return renderQuestion();
      return renderInfo("waiting");
    case "leaderboard":
    case "finished":
      return renderBoard();
    default:
      return renderInfo(state.phase);
  }
}

function renderJoin() {
  showScreen("join");
  const asked = FIELDS.filter((name) => name === "name" || state.required.includes(name));
  // three or four fields: hints become placeholders so the button stays on the first screen
  const compact = asked.length >= 3;
  form.classList.toggle("is-compact", compact);
  for (const name of FIELDS) {
    const required = asked.includes(name);
    const field = form.querySelector(`[data-field="${name}"]`);
    const input = $(`#f-${name}`);
    field.classList.toggle("is-required", required);
    input.required = required;
    input.setAttribute("aria-required", String(required));
    input.placeholder = compact ? t(`join.${name}_ph`) : ""; // the hint, said shorter
    input.setAttribute("aria-describedby", compact ? `e-${name}` : `h-${name} e-${name}`);
    // only the fields this show requires are asked for
    show(field, required);
  }
  $("#join-error").textContent = state.joinError || "";
  const btn = $("#join-submit");
  btn.disabled = state.joining;
  btn.textContent = state.joining ? t("join.sending") : t("join.submit");
  renderStanding();
}

function renderInfo(kind) {
  showScreen("info");
  const icon = $("#info-icon");
  icon.classList.toggle("is-pulse", kind === "waiting" || kind === "connecting");
  // stream delay: the phase is on air already and reaches this phone at `until`
  screens.info.classList.toggle("is-coming", kind === "waiting");
  show($("#info-cue"), kind === "waiting");
  const map = {
    connecting: ["", t("conn.connecting"), "", "⏳"],
    idle: ["", t("phase.idle"), t("viewer.idle"), "📺"],
    lobby: [state.episode?.title || "", t("viewer.lobby.title"), t("viewer.lobby.text"), "✓"],
    waiting: [state.episode?.title || "", t("viewer.waiting.title"), t("viewer.waiting.text"), "⏱"],
  };
  const [kicker, title, text, sym] = map[kind] || map.idle;
  $("#info-kicker").textContent = kicker;
  $("#info-title").textContent = title;
  $("#info-text").textContent = text;
  icon.dataset.icon = sym;
  renderStanding();
}

let optionsKey = "";
function renderQuestion() {
  showScreen("question");
  const q = state.question;
  const sec = screens.question;
  const open = state.phase === "question";
  const revealed = state.phase === "revealed" && state.result && state.result.index === q.index;
  sec.classList.toggle("is-open", open);
  $("#q-num").textContent = t("viewer.qnum", { n: q.index + 1, count: q.count ?? state.episode?.count ?? "?" });
  $("#q-phase").textContent = open ? "" : t(`phase.${state.phase}`);
  if ($("#q-text").textContent !== q.text) {
    $("#q-text").textContent = q.text;
    $("#q-text").scrollTop = 0;
    sec.classList.remove("is-expanded");
  }

  // options: rebuild only when the question changes, then just toggle classes
  const list = $("#q-options");
  const key = `${q.episode}|${q.index}|${q.options.join("\u0001")}|${t("letters")}`;
  if (key !== optionsKey) {
    optionsKey = key;
    clear(list);
    q.options.forEach((text, i) => {
      list.append(h("button.opt", { type: "button", dataset: { option: i }, onclick: () => choose(i) },
        h("span.opt-letter", { "aria-hidden": "true" }, letter(i)),
        h("span.visually-hidden", {}, `${letter(i)}. `),
        h("span.opt-text", {}, text),
        h("span.opt-tag", {})));
    });
  }
  const you = state.you && state.you.question === q.index ? state.you : null;
  const pending = pendingKind(you);
  const correct = revealed ? state.result.correct : null;
  list.classList.toggle("is-locked", !!you || !open);
  list.classList.toggle("is-revealed", !!revealed);
  for (const btn of list.children) {
    const i = Number(btn.dataset.option);
    const chosen = !!you && you.option === i;
    btn.classList.toggle("is-chosen", chosen);
    btn.classList.toggle("is-pending", chosen && !!pending);
    btn.classList.toggle("is-unsent", chosen && pending === "unsent");
    btn.classList.toggle("is-correct", correct === i);
    btn.disabled = !open || !!you || !state.joined;
    btn.setAttribute("aria-pressed", String(chosen));
    const tags = [];
    if (correct === i) tags.push(`✓ ${t("viewer.correct_label")}`);
    else if (chosen && revealed) tags.push(`✗ ${t("viewer.your_choice")}`);
    else if (chosen && pending === "unsent") tags.push(t("viewer.unsent_tag"));
    else if (chosen && pending === "sending") tags.push(t("viewer.sending_tag"));
    else if (chosen) tags.push(t("viewer.your_choice"));
    btn.querySelector(".opt-tag").textContent = tags.join(" ");
  }

  // status line under the options
  const status = $("#q-status");
  status.className = "status";
  let msg = "";
  const offline = state.conn !== "open";
  if (open) {
    if (!you) {
      msg = offline ? t("viewer.offline_pick") : state.notice || t("viewer.pick");
      if (offline) status.classList.add("is-warn");
    } else if (you.status === "pending") {
      if (you.reason === "try_again") msg = t("reject.try_again");
      else if (pending === "sending") msg = t("viewer.sending", { letter: letter(you.option) });
      else msg = t(offline ? "viewer.unsent_offline" : "viewer.unsent_wait", { letter: letter(you.option) });
      if (pending === "unsent") status.classList.add("is-warn");
    } else if (you.status === "accepted") {
      msg = you.reason === "duplicate" ? t("reject.duplicate")
        : you.time_ms == null ? t("viewer.accepted_short", { letter: letter(you.option) })
          : t("viewer.accepted", { letter: letter(you.option), time: fmtTime(you.time_ms) });
      status.classList.add("is-ok");
    } else {
      msg = t(`reject.${you.reason}`, { reason: you.reason });
      if (msg === `reject.${you.reason}`) msg = t("reject.unknown", { reason: you.reason });
      status.classList.add("is-bad");
    }
  } else if (state.phase === "closed") {
    if (state.closed?.voided) msg = t("viewer.voided");
    else if (you && you.status === "rejected") { msg = t(`reject.${you.reason}`, { reason: you.reason }); status.classList.add("is-bad"); }
    else msg = `${t("viewer.closed.title")} ${you ? t("viewer.closed.answered", { letter: letter(you.option) }) : t("viewer.closed.none")} ${t("viewer.closed.text")}`;
  } else if (revealed && state.result.voided) {
    msg = t("viewer.voided");
  }
  status.textContent = msg;

  // result card
  const card = $("#q-result");
  show(card, !!revealed && !state.result.voided);
  if (revealed && !state.result.voided) {
    const r = state.result;
    const mine = you && you.status === "accepted" ? you : null;
    const right = mine && mine.option === r.correct;
    card.className = `result ${mine ? (right ? "is-right" : "is-wrong") : ""}`;
    $("#r-verdict").textContent = mine ? (right ? t("viewer.result.right") : t("viewer.result.wrong")) : t("viewer.result.none");
    $("#r-correct").textContent = t("viewer.result.correct_is", { letter: letter(r.correct), text: q.options[r.correct] ?? "" });
    $("#r-time").textContent = mine && mine.time_ms != null ? t("viewer.result.your_time", { time: fmtTime(mine.time_ms) }) : "";
    $("#r-fastest").textContent = r.fastest
      ? t("viewer.result.fastest", { name: who(r.fastest), time: fmtTime(r.fastest.time_ms) })
      : t("viewer.result.no_fastest");
  }
  renderStanding();
  fitQuestion();
  tick();
}

/**
 * Make the question screen fit: try smaller type and compact options (data-fit 0→3) until the
 * question text no longer has to scroll; if it still does, it scrolls in its own box, faded at
 * the bottom, with a "more" button that shows it whole.
 */
function fitQuestion() {
  const sec = screens.question;
  if (sec.hidden) return;
  const qt = $("#q-text");
  const more = $("#q-more");
  const expanded = sec.classList.contains("is-expanded");
  if (!expanded) {
    show(more, false);
    const over = () => qt.scrollHeight > qt.clientHeight + 1 || sec.scrollHeight > sec.clientHeight + 1;
    let level = 0;
    sec.dataset.fit = "0";
    while (level < 3 && over()) sec.dataset.fit = String(++level);
  }
  const clamped = expanded || qt.scrollHeight > qt.clientHeight + 1;
  qt.classList.toggle("is-clamped", clamped && !expanded);
  show(more, clamped);
  more.textContent = expanded ? t("viewer.less") : t("viewer.more");
  more.setAttribute("aria-expanded", String(expanded));
  markEnd();
}

function markEnd() {
  const qt = $("#q-text");
  qt.classList.toggle("at-end", qt.scrollTop + qt.clientHeight >= qt.scrollHeight - 2);
}

$("#q-more").addEventListener("click", () => {
  screens.question.classList.toggle("is-expanded");
  fitQuestion();
  if (!screens.question.classList.contains("is-expanded")) screens.question.scrollTop = 0;
});
$("#q-text").addEventListener("scroll", markEnd, { passive: true });
$("#q-text").addEventListener("click", () => {
  if ($("#q-text").classList.contains("is-clamped")) $("#q-more").click();
});
addEventListener("resize", () => fitQuestion());
document.fonts?.ready.then(() => fitQuestion());

function renderBoard() {
  showScreen("board");
  const finished = state.phase === "finished";
  $("#b-kicker").textContent = state.episode?.title || "";
  $("#b-title").textContent = finished ? t("viewer.finished.title") : t("viewer.leaderboard.title");
  const w = finished ? state.winner : null;
  show($("#b-winner"), !!w);
  if (w) {
    $("#b-winner-name").textContent = who(w);
    $("#b-winner-meta").textContent = [w.unit, t("count.correct", { n: w.correct }), fmtTime(w.time_ms)].filter(Boolean).join(" · ");
  }
  // (a prize that passed on since — a disqualification after the show — is no win to cheer)
  const passedOn = finished && !!state.episode && prizeBook[state.episode.id]?.prizes.length === 0;
  const mineWon = finished && w && state.standing && state.standing.rank === 1 && !state.standing.disqualified
    && !passedOn;
  $("#b-message").textContent = finished ? (mineWon ? t("viewer.finished.you_won") : t("viewer.finished.thanks"))
    : (state.top.length ? t("count.played_ranked", { n: fmtInt(state.played ?? state.players), m: fmtInt(state.players) }) : t("viewer.no_players"));
  const list = clear($("#b-top"));
  for (const row of state.top.slice(0, 10)) {
    list.append(h("li", {},
      h("span.top-rank", {}, String(row.rank)),
      h("span.top-name", {}, row.name, row.tag ? h("span.tag", {}, ` #${row.tag}`) : null,
        row.unit ? h("span.top-unit", {}, row.unit) : null),
      h("span.top-score", {}, h("b", {}, t("count.correct", { n: row.correct })), h("span", {}, fmtTime(row.time_ms)))));
  }
  renderStanding();
}

function renderStanding() {
  const el = $("#standing");
  const s = state.standing;
  const visible = state.joined && !!s && ["revealed", "leaderboard", "finished", "lobby"].includes(state.phase);
  show(el, visible);
  if (!visible) return;
  let text;
  if (s.disqualified) text = t("viewer.standing.dq");
  else if (s.rank == null) text = t("viewer.standing.unranked");
  else text = t("viewer.standing", { rank: s.rank, players: fmtInt(s.players), correct: s.correct, time: fmtTime(s.time_ms) });
  $("#standing-text").textContent = text;
}

// countdown: smooth bar via rAF, whole seconds in the number
let raf = 0;
function tick() {
  cancelAnimationFrame(raf);
  const q = state.question;
  const secsEl = $("#q-secs");
  const fill = $("#timebar-fill");
  if (!q || state.phase !== "question") {
    secsEl.textContent = "0";
    cssVar(fill, "--frac", 0);
    return;
  }
  const total = Math.max(1, (q.time_limit || 15) * 1000);
  // a clock estimate a few ms off must never show more time than the question has
  const left = Math.min(total, sock.clock.remaining(q.deadline));
  const secs = Math.ceil(left / 1000);
  if (secsEl.textContent !== String(secs)) {
    secsEl.textContent = String(secs);
    $("#q-timer").setAttribute("aria-label", t("viewer.time_left", { s: secs }));
  }
  const low = left <= 5000;
  $("#q-timer").classList.toggle("is-low", low);
  fill.parentElement.classList.toggle("is-low", low);
  cssVar(fill, "--frac", Math.min(1, left / total).toFixed(4));
  if (left <= 0) {
    // time is up on our clock: stop taking taps; the server's `closed` frame follows
    for (const b of $("#q-options").children) b.disabled = true;
    return;
  }
  raf = requestAnimationFrame(tick);
}
// rAF pauses in background tabs; make sure the number is right when we come back
setInterval(() => { if (state.phase === "question" && document.visibilityState === "visible") tick(); }, 1000);

// ---------------------------------------------------------------- start
$("#lang").addEventListener("click", toggleLang);
onLangChange(() => { optionsKey = ""; render(); renderConn(); });
applyI18n();
render();
sock.connect();

// for tests and debugging: read-only view of the state
window.__viewer = { state, clock: sock.clock };
