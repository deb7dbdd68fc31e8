// OBS overlay: a read-only client of /ws/overlay?token=T (docs/protocol.md).
// Everything on screen is rebuilt from the server's snapshot on (re)connect, so OBS's
// "refresh browser when scene becomes active" and a mid-question reload come back right.
// The correct option is only ever drawn from a `reveal` frame (or a revealed snapshot).
import { t, applyI18n, letter, fmtTime, fmtInt, who } from "/static/i18n/index.js";
import { QuizSocket, SeqTracker, PHASE_FRAMES } from "/static/js/socket.js";
import { $, h, clear, show, cssVar } from "/static/js/dom.js";
import { applyPhaseFrame } from "/static/js/phase.js";

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const RING_C = 2 * Math.PI * 52; // circumference of the ring's circle (r=52)

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
    state.winner = f.winner || null;
    return render();
  }
  if (!PHASE_FRAMES.has(f.type)) return;
  if (!seq.accept(f.seq)) {
    sock.send({ type: "sync" });
    return;
  }
  applyPhaseFrame(state, f);
  render();
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
  await loadJoin();
  $("#lobby-url").textContent = state.join.short;
  $("#qr-url").textContent = state.join.short;
  const qr = $("#qr");
  if (!qr.getAttribute("src")) qr.src = state.join.qr || "/qr.svg";
  qr.alt = state.join.url || state.join.short;
}

let optionsKey = "";
function renderQuestion() {
  const q = state.question;
  const sc = $("#sc-question");
  const revealed = state.phase === "revealed" && state.result && state.result.index === q.index ? state.result : null;
  sc.classList.toggle("is-open", state.phase === "question");
  sc.classList.toggle("is-closed", state.phase === "closed" || (state.phase === "revealed" && !revealed));
  sc.classList.toggle("is-revealed", !!revealed);
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
  list.classList.toggle("is-six", q.options.length > 4);
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
}

function renderBoard() {
  const idx = state.question?.index ?? (state.episode ? state.episode.next - 1 : -1);
  $("#board-sub").textContent = [idx >= 0 ? t("ov.after_q", { n: idx + 1 }) : "", t("count.players", { n: fmtInt(state.players) })]
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
  bar.style.strokeDashoffset = (RING_C * (1 - left / total)).toFixed(2);
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
$("#ring-bar").style.strokeDasharray = RING_C.toFixed(2);
sock.connect();
window.__overlay = { state, clock: sock.clock };
