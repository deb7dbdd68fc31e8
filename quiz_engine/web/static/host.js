// Host control panel. Commands go through the HTTP API (cookie session + X-CSRF-Token);
// the host socket (/ws/host) is a read-only live view (phase frames + stats every 0.5 s).
import { t, applyI18n, toggleLang, onLangChange, letter, fmtTime, fmtInt, lang } from "./i18n/index.js";
import { QuizSocket, PHASE_FRAMES } from "./js/socket.js";
import { $, $$, h, clear, show, cssVar } from "./js/dom.js";
import { hostRequest } from "./js/http.js";

const state = {
  csrf: null,
  host: null,       // GET /api/host/state (or a command's reply)
  stats: null,      // latest stats frame
  banks: [],
  view: "live",
  results: null,
  busy: false,
  desk: null,       // the prize desk's last check / handover (see renderDesk)
};
let sock = null;

// ---------------------------------------------------------------- HTTP
async function api(path, { method = "GET", body } = {}) {
  const r = await hostRequest(path, { method, body, csrf: state.csrf });
  if (r.status === 401 && path !== "/api/host/login") {
    sessionLost();
  }
  return r;
}

function message(text, kind = "info") {
  const el = $("#msg");
  el.className = `msg is-${kind}`;
  el.textContent = text;
  show(el, !!text);
  clearTimeout(message.timer);
  if (kind === "ok") message.timer = setTimeout(() => show(el, false), 4000);
}

// The server's 409 messages (English, docs/protocol.md) in the panel's language.
const REFUSALS = [
  [/there is no next question/i, "no_more_questions"],
  [/moved on|double press/i, "stale"],
  [/no episode loaded/i, "no_episode"],
  [/already voided/i, "already_voided"],
  [/already closed/i, "already_closed"],
  [/deadline has not passed/i, "too_early"],
  [/only a voided question/i, "not_voided"],
];

function refusalText(msg) {
  const m = /'(\w+)' is not allowed in phase '(\w+)'/.exec(msg);
  if (m) return t("host.not_allowed", { cmd: t(`host.cmd.${m[1]}`).replace("…", ""), phase: t(`phase.${m[2]}`) });
  for (const [re, key] of REFUSALS) if (re.test(msg)) return t(`refusal.${key}`);
  return msg;
}

function reasonText(data) {
  // the machine-readable reason (docs/protocol.md) first; the English message as a fallback
  if (data.reason === "phase" && data.command && data.phase) {
    return t("host.not_allowed", { cmd: t(`host.cmd.${data.command}`).replace("…", ""), phase: t(`phase.${data.phase}`) });
  }
  if (data.reason && data.reason !== "phase") {
    const text = t(`refusal.${data.reason}`);
    if (text && text !== `refusal.${data.reason}`) return text;
  }
  return refusalText(data.message || data.error || "");
}

function reportFailure(r, cmdLabel) {
  if (r.status === 409) {
    const stale = r.data.reason === "stale" || /moved on|double press/i.test(r.data.message || "");
    message(`${t("host.refused", { message: reasonText(r.data) })} (409)`, stale ? "warn" : "bad");
  } else if (r.status === 0) {
    message(t("host.network", { message: r.data.message }), "bad");
  } else if (r.status !== 401) {
    message(t("host.error", { status: r.status, message: r.data.message || r.data.error || cmdLabel }), "bad");
  }
}

// ---------------------------------------------------------------- login / session
async function boot() {
  applyI18n();
  const r = await api("/api/host/session");
  if (r.ok && r.data.csrf) {
    state.csrf = r.data.csrf;
    startPanel();
  } else {
    showLogin();
  }
}

function showLogin(error = "") {
  show($("#panel"), false);
  show($("#login"), true);
  $("#login-error").textContent = error;
  $("#login-token").focus();
}

function sessionLost() {
  if (sock) { sock.close(); sock = null; }
  state.csrf = null;
  showLogin(t("host.session_expired"));
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = $("#login-token").value.trim();
  if (!token) { $("#login-error").textContent = t("host.login.wrong"); return; }
  const r = await api("/api/host/login", { method: "POST", body: { token } });
  if (r.ok && r.data.csrf) {
    state.csrf = r.data.csrf;
    $("#login-token").value = "";
    startPanel();
  } else {
    $("#login-error").textContent = r.status === 401 ? t("host.login.wrong") : t("host.login.failed", { status: r.status });
  }
});

$("#logout").addEventListener("click", async () => {
  await api("/api/host/logout", { method: "POST" });
  if (sock) { sock.close(); sock = null; }
  state.csrf = null;
  showLogin();
});

async function startPanel() {
  show($("#login"), false);
  show($("#panel"), true);
  await Promise.all([refreshState(), loadBanks()]);
  if (!sock) {
    sock = new QuizSocket("/ws/host", {
      onFrame,
      onStatus: renderConn,
      onOpen: refreshState,
    });
    sock.connect();
  }
  tick();
}

async function refreshState() {
  const r = await api("/api/host/state");
  if (r.ok) {
    state.host = r.data;
    noteIncidents(r.data.incidents || []);
    render();
  }
}

// A Redis outage recorded by any node: tell the host once, with what it overlapped, so the
// question can be voided and re-run if answers were refused during its window.
function noteIncidents(incidents) {
  state.seenIncidents = state.seenIncidents || new Set(incidents.map((i) => `${i.node}:${i.start}`));
  for (const inc of incidents) {
    const key = `${inc.node}:${inc.start}`;
    if (state.seenIncidents.has(key)) continue;
    state.seenIncidents.add(key);
    const secs = Math.max(0, Math.round(((inc.end || inc.start) - inc.start) / 100) / 10);
    const question = inc.question >= 0 ? inc.question + 1 : "–";
    message(t("host.incident", { secs, question, refused: inc.try_again || 0 }), "warn");
  }
}

async function loadBanks() {
  const r = await api("/api/host/banks");
  if (!r.ok) return;
  state.banks = r.data.banks || [];
  const sel = clear($("#episode-select"));
  sel.append(h("option", { value: "", disabled: true }, t("host.episode.choose")));
  for (const b of state.banks) {
    const group = h("optgroup", { label: b.title || b.id });
    for (const e of b.episodes || []) {
      group.append(h("option", { value: `${b.id}/${e.id}`, selected: e.key === r.data.loaded }, e.title || e.id));
    }
    sel.append(group);
  }
  if (!r.data.loaded) sel.value = "";
}

// ---------------------------------------------------------------- host socket
function onFrame(f) {
  if (f.type === "stats") {
    // Redis back after an outage: the incident is recorded within a second or two
    if (state.stats && state.stats.redis_ok === false && f.redis_ok) setTimeout(refreshState, 2500);
    state.stats = f;
    renderStats();
    renderTop();
    return;
  }
  if (f.type === "refresh") return refreshState(); // skip, re-run, prize rule, delay: no new phase
  if (f.type === "snapshot" || PHASE_FRAMES.has(f.type)) {
    // the socket tells us something changed; the state endpoint has allowed commands + next question
    refreshState();
    if (state.view === "winners" && ["reveal", "leaderboard", "finished", "snapshot"].includes(f.type)) loadResults();
  }
}

function renderConn(s) {
  const el = $("#conn");
  const up = s.status === "open";
  el.classList.toggle("is-down", !up);
  el.textContent = up ? t("conn.online") : s.status === "closed" ? t("conn.closed") : t("conn.reconnecting");
  if (s.status === "closed" && s.code === 4001) sessionLost();
}

// ---------------------------------------------------------------- commands
const CMD_KEYS = { o: "open", c: "close", r: "reveal", l: "leaderboard", s: "skip", v: "void", a: "rerun", f: "finish" };

async function command(cmd) {
  const st = state.host;
  if (!st || state.busy) return;
  // a command the current phase does not allow still goes to the server (which decides and
  // answers 409), except the ones that would first open a confirmation dialog
  if (!(st.allowed || []).includes(cmd) && ["finish", "void", "reset"].includes(cmd)) {
    message(t("host.not_allowed", { cmd: t(`host.cmd.${cmd}`).replace("…", ""), phase: t(`phase.${st.phase || "idle"}`) }), "bad");
    return;
  }
  const body = {};
  if (cmd === "open" || cmd === "skip") body.expect = st.episode?.next;
  if ((cmd === "close" || cmd === "rerun") && st.question) body.expect = st.question.index;
  if (cmd === "finish") {
    if (!(await confirmDialog({ title: t("host.finish.title"), text: t("host.finish.text"), ok: t("host.finish.confirm") }))) return;
  }
  if (cmd === "void") {
    const reason = await confirmDialog({ title: t("host.void.title"), text: t("host.void.text"), ok: t("host.void.confirm"),
      field: t("host.void.reason"), required: true });
    if (!reason) return;
    body.reason = reason;
  }
  if (cmd === "reset") {
    const id = st.episode?.id || "";
    const typed = await confirmDialog({ title: t("host.reset.title"), text: t("host.reset.text", { id }), ok: t("host.reset.confirm"),
      field: t("host.reset.field"), required: true, mustEqual: id });
    if (!typed) return;
    body.confirm = typed;
  }
  state.busy = true;
  renderButtons();
  const r = await api(`/api/host/${cmd}`, { method: "POST", body });
  state.busy = false;
  if (r.ok) {
    state.host = r.data;
    message(t("host.ok", { cmd: t(`host.cmd.${cmd}`).replace("…", "") }), "ok");
  } else {
    reportFailure(r, cmd);
    await refreshState();
  }
  render();
}

for (const btn of $$("[data-cmd]")) btn.addEventListener("click", () => command(btn.dataset.cmd));

document.addEventListener("keydown", (ev) => {
  if (ev.repeat || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if ($("#dlg").open || $("#panel").hidden || state.view !== "live") return;
  const tag = (ev.target && ev.target.tagName) || "";
  if (["INPUT", "SELECT", "TEXTAREA"].includes(tag)) return;
  const cmd = CMD_KEYS[ev.key.toLowerCase()];
  if (!cmd) return;
  ev.preventDefault();
  flash(cmd);
  command(cmd);
});

function flash(cmd) {
  const btn = $(`.cmd[data-cmd="${cmd}"]`);
  if (!btn) return;
  btn.classList.add("is-busy");
  setTimeout(() => btn.classList.remove("is-busy"), 200);
}

// confirmation dialog; resolves to true / the typed text, or false when cancelled
function confirmDialog({ title, text, ok, field = "", required = false, mustEqual = null }) {
  const dlg = $("#dlg");
  $("#dlg-title").textContent = title;
  $("#dlg-text").textContent = text;
  $("#dlg-ok").textContent = ok;
  $("#dlg-error").textContent = "";
  show($("#dlg-field"), !!field);
  $("#dlg-label").textContent = field;
  const input = $("#dlg-input");
  input.value = "";
  return new Promise((resolve) => {
    const form = $("#dlg-form");
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      $("#dlg-cancel").removeEventListener("click", onCancel);
      dlg.removeEventListener("cancel", onCancel);
      if (dlg.open) dlg.close();
      resolve(value);
    };
    const onSubmit = (ev) => {
      ev.preventDefault();
      if (field) {
        const v = input.value.trim();
        if (required && !v) { $("#dlg-error").textContent = t("join.err.required", { field: field.toLowerCase() }); return; }
        if (mustEqual !== null && v !== mustEqual) { $("#dlg-error").textContent = t("host.reset.text", { id: mustEqual }); return; }
        done(v);
      } else {
        done(true);
      }
    };
    const onCancel = (ev) => { ev.preventDefault(); done(false); };
    form.addEventListener("submit", onSubmit);
    $("#dlg-cancel").addEventListener("click", onCancel);
    dlg.addEventListener("cancel", onCancel);
    dlg.showModal();
    (field ? input : $("#dlg-ok")).focus();
  });
}

// ---------------------------------------------------------------- settings
$("#load-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const v = $("#episode-select").value;
  if (!v) return;
  const [bank, episode] = v.split("/");
  const r = await api("/api/host/load", { method: "POST", body: { bank, episode } });
  if (r.ok) {
    await refreshState();
    message(t("host.loaded", { title: state.host?.episode?.title || v }), "ok");
    state.results = null;
    if (state.view === "winners") loadResults();
  } else reportFailure(r, "load");
});

$("#delay-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const n = Number($("#delay-input").value);
  if (!Number.isFinite(n) || n < 0) return;
  const r = await api("/api/host/settings", { method: "POST", body: { delay_s: n } });
  if (r.ok) {
    message(t("host.delay_saved", { s: n }), "ok");
    delayDirty = false;
    await refreshState();
  } else reportFailure(r, "settings");
});
let delayDirty = false;
$("#delay-input").addEventListener("input", () => { delayDirty = true; });

$("#one-prize").addEventListener("change", async (ev) => {
  const r = await api("/api/host/settings", { method: "POST", body: { one_prize: ev.target.checked } });
  if (!r.ok) reportFailure(r, "settings");
  await refreshState();
});

// ---------------------------------------------------------------- rendering
function render() {
  renderTop();
  renderQuestion("cur", state.host?.question, true);
  renderQuestion("next", state.host?.next_question, false);
  renderButtons();
  renderSettings();
  renderStats();
  tick();
}

function renderTop() {
  const st = state.host;
  $("#ep-title").textContent = st?.episode ? st.episode.title : t("host.episode.none");
  const phase = st?.phase || "idle";
  const badge = $("#phase");
  badge.dataset.phase = phase;
  badge.textContent = t(`phase.${phase}`);
  const viewers = state.stats?.viewers ?? st?.viewers ?? 0;
  $("#viewers").textContent = fmtInt(viewers);
  const redisOk = (state.stats?.redis_ok ?? st?.redis_ok) !== false;
  show($("#redis-down"), !redisOk);
}

function renderQuestion(prefix, q, current) {
  const st = state.host;
  const count = st?.episode?.count ?? "?";
  $(`#${prefix}-num`).textContent = q ? t("viewer.qnum", { n: q.index + 1, count }) : "";
  $(`#${prefix}-text`).textContent = q ? q.text : (!current && st?.episode ? t("host.no_next") : "");
  const list = clear($(`#${prefix}-options`));
  if (q) {
    q.options.forEach((text, i) => {
      const correct = q.correct === i;
      list.append(h(`li${correct ? ".is-correct" : ""}`, {},
        h("span.letter", {}, letter(i)), h("span.txt", {}, text),
        correct ? h("span.tag", {}, `✓ ${t("host.correct")}`) : null));
    });
  }
  if (current) $("#cur-source").textContent = q && q.source ? t("host.source", { source: q.source }) : "";
}

function renderButtons() {
  // the server says what the phase (and the guards it knows) allow, and the one sensible next step
  const allowed = new Set(state.host?.allowed || []);
  const step = state.host?.next_step || null;
  for (const btn of $$("[data-cmd]")) {
    const cmd = btn.dataset.cmd;
    btn.disabled = !(allowed.has(cmd) && !state.busy);
    if (btn.classList.contains("cmd")) btn.classList.toggle("cmd-primary", cmd === step);
    if (cmd === step) btn.setAttribute("aria-keyshortcuts", btn.querySelector("kbd")?.textContent || "");
  }
}

function renderSettings() {
  const st = state.host;
  const input = $("#delay-input");
  const between = !!st && st.phase !== "question";
  if (!delayDirty && document.activeElement !== input) input.value = String(st?.settings?.delay_s ?? 0);
  input.disabled = !between;
  $("#delay-apply").disabled = !between;
  const prize = $("#one-prize");
  prize.checked = !!st?.settings?.one_prize;
  const open = !!st?.settings?.prize_rule_open;
  prize.disabled = !!st?.episode && !open;
  $("#prize-help").textContent = !st?.episode ? t("host.prize_rule.next")
    : open ? t("host.prize_rule.open") : t("host.prize_rule.locked");
}

function renderStats() {
  const s = state.stats;
  const st = state.host;
  $("#st-viewers").textContent = fmtInt(s?.viewers ?? st?.viewers ?? 0);
  $("#st-answers").textContent = fmtInt(s?.answers ?? 0);
  const q = st?.question;
  const counts = s && Array.isArray(s.counts) && q && s.index === q.index ? s.counts : q ? q.options.map(() => 0) : [];
  const total = counts.reduce((a, b) => a + b, 0);
  const dist = $("#st-dist");
  if (dist.children.length !== counts.length) {
    clear(dist);
    counts.forEach((_, i) => dist.append(h("li", {}, h("span.letter", {}, letter(i)),
      h("span.bar", {}, h("span.fill", {})), h("span.num", {}))));
  }
  counts.forEach((n, i) => {
    const li = dist.children[i];
    li.classList.toggle("is-correct", q && q.correct === i);
    cssVar(li.querySelector(".fill"), "--pct", total ? (n / total).toFixed(4) : 0);
    const pct = total ? Math.round((100 * n) / total) : 0;
    li.querySelector(".num").textContent = `${fmtInt(n)} · ${pct}%`;
  });
  const fl = clear($("#st-fastest"));
  const fastest = (s && s.fastest) || [];
  if (!fastest.length) fl.append(h("li.empty", {}, t("host.fastest.none")));
  for (const p of fastest.slice(0, 5)) {
    fl.append(h("li", {}, h("b", {}, p.name), p.tag ? h("span.tag", {}, ` #${p.tag}`) : null, p.unit ? h("span.unit", {}, ` · ${p.unit}`) : null, " — ",
      h("span.time", {}, fmtTime(p.time_ms))));
  }
}

// countdown for the open question (server clock via the host socket's ping/pong)
let raf = 0;
function tick() {
  cancelAnimationFrame(raf);
  const st = state.host;
  const el = $("#cur-secs");
  const rel = $("#cur-release");
  if (!st || st.phase !== "question" || !st.deadline) {
    el.textContent = st?.phase === "closed" || st?.phase === "revealed" ? "0" : "—";
    $("#cur-timer").classList.remove("is-low");
    show(rel, false);
    return;
  }
  const clock = sock ? sock.clock : null;
  const now = clock ? clock.now() : Date.now();
  const releaseIn = st.release_at ? st.release_at - now : 0;
  // the window is deadline - release_at long; a clock estimate a few ms behind must not add a second
  const pending = releaseIn > 250 ? releaseIn : 0;
  const windowMs = st.release_at ? st.deadline - st.release_at : Infinity;
  const left = Math.max(0, Math.min(st.deadline - now, windowMs + pending));
  const secs = Math.ceil(left / 1000);
  if (el.textContent !== String(secs)) el.textContent = String(secs);
  $("#cur-timer").classList.toggle("is-low", left <= 5000);
  show(rel, releaseIn > 0);
  if (releaseIn > 0) rel.textContent = t("host.release_in", { s: Math.ceil(releaseIn / 1000) });
  if (left > 0) raf = requestAnimationFrame(tick);
}
setInterval(() => { if (state.host?.phase === "question") tick(); }, 1000);

// ---------------------------------------------------------------- winners view
function setView(view) {
  state.view = view;
  $("#tab-live").setAttribute("aria-pressed", String(view === "live"));
  $("#tab-winners").setAttribute("aria-pressed", String(view === "winners"));
  show($("#view-live"), view === "live");
  show($("#view-winners"), view === "winners");
  if (view === "winners") {
    renderDesk();
    $("#desk-code").focus(); // ready for the next winner's code (typed, or a scanner's keystrokes + Enter)
    loadResults();
  }
}
$("#tab-live").addEventListener("click", () => setView("live"));
$("#tab-winners").addEventListener("click", () => setView("winners"));
$("#w-refresh").addEventListener("click", () => loadResults());

async function loadResults() {
  const r = await api("/api/host/results");
  if (r.ok) {
    state.results = r.data;
    renderResults();
  } else if (r.status === 404) {
    state.results = null;
    renderResults();
  } else reportFailure(r, "results");
}

function dqButton(p) {
  return h("button.btn.btn-danger.btn-small", { type: "button", onclick: () => disqualify(p) }, t("host.dq"));
}

function personCells(p) {
  // review flags (docs/operations.md): a reason to look before giving the prize, not a verdict
  const flags = (p.flags || []).length
    ? h("div.flags", { title: p.flags.join("\n") }, h("span.flag", {}, `⚑ ${t("host.flags")}`), ...p.flags.map((f) => h("div.flag-detail", {}, f)))
    : null;
  return [h("td", {}, h("b", {}, p.name || ""), p.tag ? h("span.tag", {}, ` #${p.tag}`) : null, flags), h("td", {}, p.full_name || ""), h("td", {}, p.unit || ""),
    h("td.num", {}, p.phone || "")];
}

// "14:02" (today) or "14:02 · 03/05": when a prize was handed over
function fmtAt(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const loc = lang === "vi" ? "vi-VN" : "en-GB";
  const time = d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit", hour12: false });
  return d.toDateString() === new Date().toDateString() ? time
    : `${time} · ${d.toLocaleDateString(loc, { day: "2-digit", month: "2-digit" })}`;
}

// who recorded a handover: "host:session" (this panel), "host:bearer" (the API), "cli" / "cli:Ban tổ chức"
function byText(by) {
  if (!by) return "";
  if (by === "host:session") return t("host.claim.by.panel");
  if (by === "host:bearer") return t("host.claim.by.api");
  if (by === "cli") return "CLI";
  const m = /^(?:cli|host):(.+)$/.exec(by);
  return m ? m[1] : by;
}

function prizeLabel(prize, question) {
  if (prize === "episode") return t("host.desk.prize_episode");
  const n = Number.isInteger(question) ? question + 1 : Number(String(prize).replace(/^q/, ""));
  return t("host.desk.prize_q", { n });
}

// the claim of a prize holder: only ever the check part ("…9ABC"), never the code
function claimCell(claim) {
  return h("td.claim", {}, claim?.check ? h("span.check", {}, claim.check) : h("span.muted", {}, "—"));
}

function handoverCell(claim, prize) {
  const given = claim?.handed_over;
  // handed to someone disqualified since: the prize went out once already, to a former holder
  const earlier = (state.results?.handovers || []).filter((x) => x.prize === prize && !x.current);
  const notes = earlier.map((x) => h("div.ho-earlier", {}, `⚠ ${t("host.claim.earlier", { name: x.full_name || x.name, at: fmtAt(x.at) })}`));
  if (!claim) return h("td.ho-cell", {}, ...notes);
  if (!given) return h("td.ho-cell", {}, h("span.ho.is-pending", {}, t("host.claim.pending")), ...notes);
  const by = byText(given.by);
  return h("td.ho-cell", {},
    h("span.ho.is-done", { title: new Date(given.at).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB") },
      `✓ ${t("host.claim.handed", { at: fmtAt(given.at) })}`),
    by ? h("div.ho-by", {}, t("host.claim.by", { by })) : null,
    given.note ? h("div.ho-note", {}, t("host.claim.note", { note: given.note })) : null, ...notes);
}

function renderResults() {
  const res = state.results;
  const qBody = clear($("#w-questions tbody"));
  const eBody = clear($("#w-episode tbody"));
  const sBody = clear($("#w-standings tbody"));
  const dBody = clear($("#w-dq tbody"));
  const empty = (body, cols) => body.append(h("tr", {}, h("td.muted", { colSpan: cols }, t("host.winners.empty"))));
  $("#w-rule").textContent = res ? t("host.winners.rule", {
    rule: t(res.one_prize_per_person ? "host.prize_rule.one" : "host.prize_rule.many") }) : "";
  if (!res) { empty(qBody, 10); empty(eBody, 10); empty(sBody, 8); empty(dBody, 6); return; }
  if (!res.questions?.length) empty(qBody, 10);
  for (const q of res.questions || []) {
    const label = `${q.index + 1}. ${q.text}`;
    qBody.append(h("tr.q-row", {}, h("td", { colSpan: 10 }, label,
      h("span.muted", {}, ` — ${letter(q.correct)}. ${q.options[q.correct] ?? ""} · ${t("count.answers", { n: fmtInt(q.answers) })}`),
      q.voided ? h("span.muted", {}, ` · ${t("host.winners.voided")}`) : null)));
    const prize = `q${q.index + 1}`;
    if (!q.winner) {
      qBody.append(h("tr", {}, h("td", {}), h("td.muted", { colSpan: 7 }, t("host.winners.no_winner")),
        handoverCell(null, prize), h("td", {})));
      continue;
    }
    const rows = [q.winner, ...(q.reserves || [])];
    rows.forEach((p, i) => {
      const first = i === 0;
      qBody.append(h(`tr${first ? ".is-winner" : ""}`, { dataset: first ? { prize } : undefined }, h("td", {}, ""),
        h("td", {}, first ? t("host.winners.winner") : t("host.winners.reserve", { n: i })),
        ...personCells(p), h("td.num", {}, fmtTime(p.time_ms)),
        first ? claimCell(p.claim) : h("td", {}), first ? handoverCell(p.claim, prize) : h("td", {}),
        h("td", {}, dqButton(p))));
    });
  }
  const ew = res.episode_winner;
  if (!ew) empty(eBody, 10);
  else {
    const row = (res.standings || []).find((s) => s.player === ew.player) || {};
    eBody.append(h("tr.is-winner", { dataset: { prize: "episode" } }, h("td", {}, t("host.winners.episode_winner")),
      ...personCells(ew), h("td.num", {}, row.correct ?? "—"), h("td.num", {}, fmtTime(row.time_ms)),
      claimCell(ew.claim), handoverCell(ew.claim, "episode"), h("td", {}, dqButton(ew))));
  }
  if (!res.standings?.length) empty(sBody, 8);
  for (const p of res.standings || []) {
    sBody.append(h("tr", {}, h("td.num", {}, String(p.rank)), ...personCells(p),
      h("td.num", {}, String(p.correct)), h("td.num", {}, fmtTime(p.time_ms)), h("td", {}, dqButton(p))));
  }
  if (!res.disqualified?.length) empty(dBody, 6);
  for (const p of res.disqualified || []) {
    dBody.append(h("tr", {}, ...personCells(p), h("td", {}, p.reason || ""),
      h("td", {}, h("button.btn.btn-small", { type: "button", onclick: () => reinstate(p) }, t("host.dq.reinstate")))));
  }
}

// ---------------------------------------------------------------- prize desk
// POST /api/host/claims/check, then /api/host/claims/handover for the same code (and episode).
// state.desk: { kind: "checking" | "valid" | "already" | "done" | "refused" | "error", code, data (the
// server's answer), status, say: [key, params] (an "error" of the panel's own) }; text is made when shown
const DESK_REASONS = ["malformed", "unknown_code", "passed_on", "not_finished", "disqualified", "already_handed_over"];

function deskReason(data) {
  if (DESK_REASONS.includes(data?.reason)) return t(`host.desk.reason.${data.reason}`);
  return data?.message || data?.error || "";
}

// the holder as the results show them (for the review flags), when the code is of this episode
function resultsPerson(player, episode) {
  const res = state.results;
  if (!res || !player || (episode && res.episode !== episode)) return null;
  const all = [res.episode_winner, ...(res.standings || []),
    ...(res.questions || []).flatMap((q) => [q.winner, ...(q.reserves || [])])];
  return all.find((p) => p && p.player === player && (p.flags || []).length) || all.find((p) => p && p.player === player) || null;
}

async function deskCheck() {
  const input = $("#desk-code");
  const code = input.value.trim();
  if (!code) {
    state.desk = { kind: "error", say: ["host.desk.empty"] };
    renderDesk();
    input.focus();
    return;
  }
  state.desk = { kind: "checking", code };
  renderDesk();
  const r = await api("/api/host/claims/check", { method: "POST", body: { code } });
  if (state.desk?.code !== code || input.value.trim() !== code) return; // a newer code was typed meanwhile
  state.desk = deskState(r, code);
  renderDesk();
  input.select(); // the next scan replaces the code
}

function deskState(r, code) {
  if (r.status === 0) return { kind: "error", code, say: ["host.network", { message: r.data.message }] };
  if (r.status === 401) return null;
  const data = r.data || {};
  if (r.ok && data.ok && data.handed_over) return { kind: "already", code, data };
  if (r.ok && data.ok) return { kind: "valid", code, data };
  if (data.reason === "already_handed_over") return { kind: "already", code, data };
  return { kind: "refused", code, data, status: r.status };
}

async function deskHandover() {
  const desk = state.desk;
  if (!desk || desk.kind !== "valid" || desk.busy) return;
  desk.busy = true;
  const note = ($("#desk-note")?.value || "").trim();
  renderDesk();
  const r = await api("/api/host/claims/handover", { method: "POST",
    body: { code: desk.code, episode: desk.data.episode || undefined, note } });
  if (state.desk !== desk) return;
  // 200: recorded now (its record is handed_over); a refusal reads as a check's would
  state.desk = r.ok && r.data?.ok ? { kind: "done", code: desk.code, data: r.data } : deskState(r, desk.code);
  renderDesk();
  const input = $("#desk-code");
  if (state.desk?.kind === "done") input.value = ""; // the code has done its job: ready for the next one
  input.focus();
  loadResults();
}

$("#desk-form").addEventListener("submit", (ev) => { ev.preventDefault(); deskCheck(); });
$("#desk-code").addEventListener("input", () => {
  // an edited code: the result shown (and its handover button) was for another one
  if (state.desk && state.desk.kind !== "checking" && $("#desk-code").value.trim() !== state.desk.code) {
    state.desk = null;
    renderDesk();
  }
});

function deskWho(holder, flagged) {
  const rows = [["host.col.full_name", holder.full_name], ["host.col.name", null], ["host.col.unit", holder.unit],
    ["host.col.phone", holder.phone]];
  const dl = h("dl.desk-who");
  for (const [key, value] of rows) {
    const dd = key === "host.col.name"
      ? h("dd", {}, h("b", {}, holder.name || "—"), holder.tag ? h("span.tag", {}, ` #${holder.tag}`) : null)
      : h(`dd${key === "host.col.full_name" ? ".desk-full" : ""}`, {}, value || "—");
    dl.append(h("div", {}, h("dt", {}, t(key)), dd));
  }
  const flags = flagged?.flags || [];
  return [dl, flags.length ? h("div.desk-flags", {}, h("span.flag", {}, `⚑ ${t("host.flags")}`),
    ...flags.map((f) => h("div.flag-detail", {}, f))) : null];
}

function renderDesk() {
  const box = clear($("#desk-result"));
  const desk = state.desk;
  box.className = "desk-result";
  if (!desk) {
    box.classList.add("is-idle");
    box.append(h("p.desk-idle", {}, t("host.desk.idle")));
    return;
  }
  if (desk.kind === "checking") {
    box.classList.add("is-idle");
    box.append(h("p.desk-idle", {}, t("host.desk.checking")));
    return;
  }
  const data = desk.data || {};
  const holder = data.holder && data.holder.player ? data.holder : null;
  const kinds = { valid: ["is-valid", "✓", "host.desk.valid"], done: ["is-done", "✓", "host.desk.done"],
    already: ["is-refused", "✕", "host.desk.already"], refused: ["is-refused", "✕", "host.desk.refused"],
    error: ["is-refused", "✕", "host.desk.refused"] };
  const [cls, icon, title] = kinds[desk.kind];
  box.classList.add(cls);
  const otherEp = data.episode && state.results && data.episode !== state.results.episode;
  box.append(h("div.desk-status", {},
    h("span.desk-badge", {}, `${icon} ${t(title)}`),
    data.prize ? h("span.desk-prize", {}, prizeLabel(data.prize, data.question)) : null,
    otherEp ? h("span.desk-ep", {}, t("host.desk.other_episode", { episode: data.episode })) : null,
    data.check ? h("span.desk-check", {}, t("host.desk.check_part", { check: data.check })) : null));
  if (desk.kind === "refused") box.append(h("p.desk-why", {}, deskReason(data) || t("host.error", { status: desk.status, message: "" })));
  if (desk.kind === "error") box.append(h("p.desk-why", {}, t(...desk.say)));
  const given = data.handed_over;
  if (desk.kind === "already" && given) {
    box.append(h("p.desk-why", {}, t("host.desk.already_text", { at: fmtAt(given.at), by: byText(given.by) || "—" }),
      given.note ? ` ${t("host.claim.note", { note: given.note })}` : ""));
  }
  if (desk.kind === "done" && given) {
    box.append(h("p.desk-why", {}, t("host.desk.done_text", { prize: prizeLabel(data.prize, data.question),
      name: holder?.full_name || holder?.name || "", at: fmtAt(given.at) }),
      given.note ? ` ${t("host.claim.note", { note: given.note })}` : ""));
  }
  if (holder) {
    if (desk.kind === "refused") box.append(h("p.desk-sub", {}, t("host.desk.holder_of")));
    box.append(...deskWho(holder, resultsPerson(holder.player, data.episode)));
  }
  if (desk.kind === "valid") {
    box.append(h("form.desk-give", { onsubmit: (ev) => { ev.preventDefault(); deskHandover(); } },
      h("label", { for: "desk-note" }, t("host.desk.note")),
      h("div.desk-row", {},
        h("input", { id: "desk-note", type: "text", maxLength: 200, autocomplete: "off",
          placeholder: t("host.desk.note_ph") }),
        h("button.btn.btn-ok", { id: "desk-handover", type: "submit", disabled: !!desk.busy }, t("host.desk.handover")))));
  }
}

async function disqualify(p) {
  const reason = await confirmDialog({ title: t("host.dq.title", { name: p.name }), text: t("host.dq.text"),
    ok: t("host.dq.confirm"), field: t("host.dq.reason"), required: true });
  if (!reason) return;
  const r = await api("/api/host/disqualify", { method: "POST", body: { player: p.player, reason } });
  if (r.ok) message(t("host.dq.done", { name: p.name }), "ok");
  else reportFailure(r, "disqualify");
  loadResults();
}

async function reinstate(p) {
  const r = await api("/api/host/disqualify", { method: "POST", body: { player: p.player, reinstate: true } });
  if (r.ok) message(t("host.dq.reinstated"), "ok");
  else reportFailure(r, "disqualify");
  loadResults();
}

// ---------------------------------------------------------------- start
$("#lang").addEventListener("click", toggleLang);
$("#login-lang").addEventListener("click", toggleLang);
onLangChange(() => {
  render();
  if (state.results) renderResults();
  const note = $("#desk-note")?.value; // keep a note being typed across the re-render
  renderDesk();
  if (note && $("#desk-note")) $("#desk-note").value = note;
  loadBanks();
});
boot();
window.__host = { state };
