// OBS overlay: a read-only client of /ws/overlay?token=T (docs/protocol.md).
// Everything on screen is rebuilt from the server's snapshot on (re)connect, so OBS's
// "refresh browser when scene becomes active" and a mid-question reload come back right.
// The correct option is only ever drawn from a `reveal` frame (or a revealed snapshot).
import { t, applyI18n, letter, fmtTime, fmtInt, who } from "/static/i18n/index.js";
import { QuizSocket, SeqTracker, PHASE_FRAMES } from "/static/js/socket.js";
import { $, $$, h, clear, show, cssVar } from "/static/js/dom.js";
import { applyPhaseFrame } from "/static/js/phase.js";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const RING_C = 2 * Math.PI * 52; // circumference of the ring's circle (r=52)
const still = matchMedia("(prefers-reduced-motion: reduce)");

// The lower-third box (overlay.css): title-safe is y 54..1026 of 1080 (90 %), and the question
// and lobby cards stay below LOWER_TOP (55 %) so the host's face is free. The text shrinks to fit
// (--fit, and --fit-o for the options) but never below FIT_MIN / FIT_OPTIONS; quiz_engine/banks/fit.py
// warns at import about any question that would not fit the box even then (keep these and the
// sizes in overlay.css in step with it: tests/browser/test_overlay_layout.py checks that they are).
const SAFE_TOP = 54;
const SAFE_BOTTOM = 1026;
const LOWER_TOP = 594;
const FIT_MIN = 0.7; // the question's text: 46 px, down to 32 px
const FIT_OPTIONS = 0.75; // the options' text: 32 px, never below 24 px (readable on a TV) while it fits

const state = {
  phase: "none",
  episode: null,
  question: null,
  closed: null,
  result: null,
  top: [],
  players: 0,
  winner: null,
  join: null,
};
const seq = new SeqTracker();

const sock = new QuizSocket(`/ws/overlay?token=${encodeURIComponent(token)}`, {
  onFrame,
  onStatus: renderConn,
});

function onFrame(f) {
  if (f.type === "snapshot") {
    seq.snapshot(f.seq);
    state.phase = f.phase || "idle";
    state.episode = f.episode || null;
    state.question = f.question ? { ...f.question, deadline: f.deadline ?? f.question.deadline } : null;
    state.closed = f.closed || null;
    state.result = f.result || null;
    state.top = f.top || [];
    state.players = f.players || 0;
    state.played = f.played ?? state.players;
    state.winner = f.winner || null;
    applyBranding(f.branding);
    return render();
  }
  if (!PHASE_FRAMES.has(f.type)) return;
  if (!seq.accept(f.seq)) {
    sock.send({ type: "sync" });
    return;
  }
  const before = state.episode?.id;
  applyPhaseFrame(state, f);
  render();
  // another episode was loaded: its snapshot carries its branding and title (phase frames do not)
  const now = f.type === "lobby" ? f.episode?.id : f.type === "question" ? f.episode : undefined;
  if (now && now !== before) sock.send({ type: "sync" });
}

// ---------------------------------------------------------------- branding
// The bank's [branding] (docs/operations.md), from the snapshot. The server validated it; it is
// checked again here and only ever reaches the page as CSS custom properties set through the
// CSSOM (colours re-serialised from numbers) and as an <img> src (a data: image URL), so no
// string from a bank file becomes CSS text or HTML.
const HEX = /^#[0-9a-f]{6}$/i;
const LOGO_URL = /^data:image\/(?:png|jpeg|webp|gif|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;
const DEFAULT_PRIMARY = "#1f5fae";
const DEFAULT_ACCENT = "#ffc83d";
const WHITE = [255, 255, 255];
const INK = [11, 15, 23];
const NIGHT = [4, 7, 13];
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const mix = (a, b, w) => a.map((v, i) => Math.round(v * (1 - w) + b[i] * w)); // w: the share of b
const css = ([r, g, b], a) => (a === undefined ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${a})`);
function luminance(c) {
  const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
/** white or near-black, whichever reads better on bg */
const inkOn = (bg) => (contrast(bg, WHITE) >= contrast(bg, INK) ? WHITE : INK);
/** fg lightened until it reads on bg (WCAG AA, 4.5:1) */
function readableOn(fg, bg) {
  let c = fg;
  for (let w = 0.1; contrast(c, bg) < 4.5 && w <= 1.001; w += 0.1) c = mix(fg, WHITE, w);
  return c;
}
/** the colour darkened (toward night) at least by w, until white text on it reaches 7:1 */
function darkOf(color, w) {
  let c = mix(color, NIGHT, w);
  for (; contrast(c, WHITE) < 7 && w < 1; w += 0.05) c = mix(color, NIGHT, w);
  return c;
}

function applyBranding(b) {
  const primary = rgb(HEX.test(b?.primary ?? "") ? b.primary : DEFAULT_PRIMARY);
  const accent = rgb(HEX.test(b?.accent ?? "") ? b.accent : DEFAULT_ACCENT);
  const panel = darkOf(primary, 0.8);
  const vars = {
    "--brand": css(primary),
    "--brand-2": css(mix(primary, NIGHT, 0.22)),
    "--brand-ink": css(inkOn(primary)),
    "--panel": css(panel, 0.92),
    "--panel-2": css(darkOf(primary, 0.55), 0.96),
    "--accent": css(accent),
    "--accent-ink": css(inkOn(accent)),
    "--accent-text": css(readableOn(accent, panel)),
    "--lead": css(darkOf(accent, 0.72), 0.95),
  };
  for (const [name, value] of Object.entries(vars)) cssVar(document.documentElement, name, value);
  const logo = typeof b?.logo === "string" && LOGO_URL.test(b.logo) ? b.logo : "";
  for (const img of $$(".brand-logo")) {
    if (!logo) img.removeAttribute("src");
    else if (img.getAttribute("src") !== logo) img.src = logo;
    show(img.parentElement, !!logo);
  }
  document.body.dataset.branded = b && (b.primary || b.accent || logo) ? "yes" : "no";
}

// ---------------------------------------------------------------- fit
/** The options' scale at text scale s: never below FIT_OPTIONS. Kept in step with banks/fit.py. */
const optionScale = (s) => Math.max(s, FIT_OPTIONS);

function setFit(el, s) {
  cssVar(el, "--fit", s.toFixed(3));
  cssVar(el, "--fit-o", optionScale(s).toFixed(3));
}

/** The largest --fit in [lo, hi] at which el is at most maxH px tall, or null. */
function fitInto(el, maxH, lo, hi) {
  const set = (s) => setFit(el, s);
  set(hi);
  if (el.offsetHeight <= maxH) return hi;
  set(lo);
  if (el.offsetHeight > maxH) return null;
  for (let i = 0; i < 7; i++) {
    const mid = (lo + hi) / 2;
    set(mid);
    if (el.offsetHeight <= maxH) lo = mid; else hi = mid;
  }
  set(lo);
  return lo;
}

/** Shrink a card's text until it fits the lower third; past FIT_MIN (what the import warns
 *  about) let it grow up to the top of title-safe, and past that cut the question's text short
 *  (the phones show all of it) rather than make anything too small to read on a TV. */
function fit(el) {
  const clamp = el.querySelector("[data-clamp]"); // the question (or the title): what is cut last of all
  el.dataset.fit = "";
  el.style.removeProperty("max-height");
  clamp?.style.removeProperty("--clamp");
  const lower = SAFE_BOTTOM - LOWER_TOP;
  const full = SAFE_BOTTOM - SAFE_TOP;
  let how = "ok";
  let s = fitInto(el, lower, FIT_MIN, 1);
  if (s !== null && s < 1) how = "shrunk";
  if (s === null && (s = fitInto(el, full, FIT_MIN, FIT_MIN)) !== null) how = "tall";
  if (s === null) {
    // taller than title-safe even so: the text keeps the lines that leave the rest (timer,
    // options) whole, and whatever is still over (absurd options) is clipped at title-safe
    how = "clipped";
    s = FIT_MIN;
    setFit(el, s);
    if (clamp) {
      const room = full - (el.offsetHeight - clamp.offsetHeight);
      cssVar(clamp, "--clamp", Math.max(1, Math.floor(room / parseFloat(getComputedStyle(clamp).lineHeight))));
    }
    cssVar(el, "max-height", `${full}px`);
  }
  el.dataset.fit = how;
  el.dataset.scale = s.toFixed(3);
}


// ---------------------------------------------------------------- scenes
const SCENES = { lobby: "#sc-lobby", question: "#sc-question", board: "#sc-board", winner: "#sc-winner" };

function sceneFor(phase) {
  if (phase === "lobby") return "lobby";
  if (["question", "closed", "revealed"].includes(phase)) return state.question ? "question" : null;
  if (phase === "leaderboard") return "board";
  if (phase === "finished") return "winner";
  return null; // idle / none: nothing on air
}

function render() {
  const scene = sceneFor(state.phase);
  document.body.dataset.scene = scene || "none";
  document.body.dataset.phase = state.phase;
  for (const [name, sel] of Object.entries(SCENES)) {
    const el = $(sel);
    const on = name === scene;
    el.classList.toggle("is-active", on);
    el.setAttribute("aria-hidden", String(!on));
  }
  if (scene === "lobby") renderLobby();
  if (scene === "question") renderQuestion();
  if (scene === "board") renderBoard();
  if (scene === "winner") renderWinner();
  tick();
}

async function loadJoin() {
  if (state.join) return;
  try {
    const r = await fetch("/join-info", { cache: "no-store" });
    state.join = await r.json();
  } catch {
    state.join = { short: location.host, qr: "/qr.svg" };
  }
}

async function renderLobby() {
  $("#lobby-title").textContent = state.episode?.title || "";
  fit($("#lobby-card"));
  await loadJoin();
  $("#lobby-url").textContent = state.join.short;
  $("#qr-url").textContent = state.join.short;
  const qr = $("#qr");
  if (!qr.getAttribute("src")) qr.src = state.join.qr || "/qr.svg";
  qr.alt = state.join.url || state.join.short;
  fit($("#lobby-card"));
}

let optionsKey = "";
function renderQuestion() {
  const q = state.question;
  const sc = $("#sc-question");
  const revealed = state.phase === "revealed" && state.result && state.result.index === q.index ? state.result : null;
  sc.classList.toggle("is-open", state.phase === "question");
  sc.classList.toggle("is-closed", state.phase === "closed" || (state.phase === "revealed" && !revealed));
  sc.classList.toggle("is-revealed", !!revealed);
  sc.classList.toggle("is-voided", !!revealed?.voided);
  $("#ring-answer").textContent = revealed && !revealed.voided ? letter(revealed.correct) : "";
  $("#q-num").textContent = t("ov.qnum", { n: q.index + 1, count: q.count ?? state.episode?.count ?? "?" });
  $("#q-ep").textContent = state.episode?.title || "";
  $("#q-text").textContent = q.text;

  const list = $("#q-options");
  const key = `${q.episode}|${q.index}|${q.options.join("\u0001")}`;
  if (key !== optionsKey) {
    optionsKey = key;
    clear(list);
    q.options.forEach((text, i) => list.append(h("li.q-opt", { dataset: { option: i } },
      h("span.fill", {}), h("span.letter", {}, letter(i)), h("span.txt", {}, text), h("span.pct", {}))));
  }
  // 2 columns, or 3 for 3, 5 or 6 options (two rows at most): kept in step with banks/fit.py
  cssVar($("#q-panel"), "--cols", [3, 5, 6].includes(q.options.length) ? 3 : 2);
  const counts = revealed?.counts || [];
  const total = counts.reduce((a, b) => a + b, 0);
  for (const li of list.children) {
    const i = Number(li.dataset.option);
    const correct = !!revealed && revealed.correct === i;
    li.classList.toggle("is-correct", correct);
    const frac = revealed && total ? counts[i] / total : 0;
    cssVar(li.querySelector(".fill"), "--pct", frac.toFixed(4));
    li.querySelector(".pct").textContent = revealed ? `${Math.round(frac * 100)}%` : "";
  }

  let status = "";
  const st = $("#q-status");
  if (state.phase === "question") {
    // late joiners: the join address stays on screen while the question is open
    const short = state.join?.short || location.host;
    clear(st).append(t("ov.play_at"), " ", h("b", {}, short));
    if (!state.join) loadJoin().then(() => { if (state.phase === "question") renderQuestion(); });
  } else if (state.phase === "closed" && state.closed) {
    status = state.closed.voided ? t("ov.voided") : t("ov.answers", { n: fmtInt(state.closed.answers) });
  } else if (revealed) {
    status = revealed.voided ? t("ov.voided") : t("ov.answers", { n: fmtInt(revealed.answers) });
  }
  if (state.phase !== "question") st.textContent = status;
  const fastest = revealed && !revealed.voided ? revealed.fastest : null;
  show($("#fastest"), !!revealed && !revealed.voided);
  $("#fastest-name").textContent = fastest ? who(fastest) : t("ov.no_fastest");
  $("#fastest-time").textContent = fastest ? fmtTime(fastest.time_ms) : "";
  fit($("#q-panel"));
}

function renderBoard() {
  const idx = state.question?.index ?? (state.episode ? state.episode.next - 1 : -1);
  $("#board-sub").textContent = [idx >= 0 ? t("ov.after_q", { n: idx + 1 }) : "", t("count.played_ranked", { n: fmtInt(state.played ?? state.players), m: fmtInt(state.players) })]
    .filter(Boolean).join(" · ");
  const list = clear($("#board"));
  if (!state.top.length) list.append(h("li.is-empty", {}, t("ov.no_fastest")));
  for (const row of state.top.slice(0, 10)) {
    list.append(h("li", {},
      h("span.rank", {}, String(row.rank)),
      h("span.who", {}, h("span.name", {}, row.name, row.tag ? h("span.tag", {}, ` #${row.tag}`) : null),
        row.unit ? h("span.unit", {}, row.unit) : null),
      h("span.correct", {}, String(row.correct), h("small", {}, t("ov.col.correct").toLowerCase())),
      h("span.time", {}, fmtTime(row.time_ms))));
  }
}

function renderWinner() {
  const w = state.winner;
  $("#winner-name").textContent = w ? who(w) : t("ov.no_winner");
  $("#winner-unit").textContent = w?.unit || "";
  $("#winner-stats").textContent = w ? t("ov.winner_stats", { correct: w.correct, time: fmtTime(w.time_ms) }) : "";
  const runners = clear($("#runners"));
  for (const row of state.top.slice(1, 3)) {
    runners.append(h("li", {}, h("span.r", {}, `#${row.rank}`), who(row)));
  }
}

// ---------------------------------------------------------------- countdown ring
let raf = 0;
function tick() {
  cancelAnimationFrame(raf);
  const q = state.question;
  const ring = $("#ring");
  const bar = $("#ring-bar");
  if (!q || state.phase !== "question") {
    bar.style.strokeDashoffset = String(RING_C);
    return;
  }
  const now = sock.clock.now();
  const total = Math.max(1, (q.time_limit || 15) * 1000);
  // Studio time: the overlay reaches the stream D seconds late, so it counts down from the
  // open (studio_deadline = opened_at + limit) and, on air, matches the phones to the frame.
  const end = q.studio_deadline ?? q.deadline;
  const left = Math.max(0, Math.min(total, end - now));
  // "time's up" on air exactly when the phones close, while the server still waits out the delay
  const sc = $("#sc-question");
  sc.classList.toggle("is-open", left > 0);
  sc.classList.toggle("is-closed", left <= 0);
  const secs = Math.ceil(left / 1000);
  const num = $("#ring-num");
  if (num.textContent !== String(secs)) num.textContent = String(secs);
  ring.classList.toggle("is-low", left <= 5000);
  // reduced motion: the ring steps once a second instead of draining smoothly
  const drawn = still.matches ? Math.min(total, secs * 1000) : left;
  bar.style.strokeDashoffset = (RING_C * (1 - drawn / total)).toFixed(2);
  if (left > 0) raf = requestAnimationFrame(tick);
}
setInterval(() => { if (state.phase === "question") tick(); }, 1000);

// ---------------------------------------------------------------- connection
let connTimer = 0;
function renderConn(s) {
  const el = $("#ov-conn");
  clearTimeout(connTimer);
  if (s.status === "open") { show(el, false); return; }
  if (s.status === "closed" && (s.code === 4001 || s.code === 4003)) {
    el.textContent = t("ov.bad_token");
    show(el, true);
    return;
  }
  // brief blips stay off air; only a lasting outage shows a small badge for the operator
  connTimer = setTimeout(() => { el.textContent = t("conn.reconnecting"); show(el, true); }, 3000);
}

applyI18n();
applyBranding(null);
$("#ring-bar").style.strokeDasharray = RING_C.toFixed(2);
// the web font may arrive after the first render (font-display: swap): fit again with it
document.fonts.addEventListener("loadingdone", () => render());
sock.connect();
window.__overlay = { state, clock: sock.clock };
