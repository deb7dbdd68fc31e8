// A WebSocket that comes back by itself: exponential backoff with jitter
// (0.5 s, 1 s, 2 s … capped at 10 s), heartbeat pings that also feed the clock, and the
// close codes of docs/protocol.md deciding whether to reconnect.
//
// Dead links: by default a socket that has heard nothing for 35 s is given up (pings every
// 15 s). A page that must notice a silent network loss quickly (the phone, mid-question)
// passes {pingEvery, pongTimeout, connectTimeout} and may change the pace with setPace():
// a ping not answered (by any frame) within pongTimeout ms closes the socket and reconnects;
// onStatus then reports {status:"reconnecting", code:1006, dead:true}.
import { ServerClock } from "./clock.js";

// Close codes after which reconnecting would not help (or would fight another tab).
const FINAL = new Set([1000, 1002, 1003, 1007, 1009, 4001, 4003, 4010]);
const PAUSE_CODES = new Set([4009]); // rate limited: come back after a pause only

export class QuizSocket {
  /**
   * @param {string} path e.g. "/ws/viewer"
   * @param {{onFrame:(f:object)=>void, onStatus?:(s:object)=>void, onOpen?:()=>void}} handlers
   * @param {{pingEvery?:number, pongTimeout?:number, connectTimeout?:number}} [opts]
   *   pingEvery: ms between heartbeat pings (default 15000); pongTimeout: ms a ping may go
   *   unanswered before the link counts as dead (default 0: only the 35 s silence rule);
   *   connectTimeout: ms a handshake may take before it is abandoned and retried (default 0: none)
   */
  constructor(path, handlers, opts = {}) {
    this.path = path;
    this.h = handlers;
    this.pingEvery = opts.pingEvery || 15000;
    this.pongTimeout = opts.pongTimeout || 0;
    this.connectTimeout = opts.connectTimeout || 0;
    this.awaiting = 0;      // when the oldest unanswered ping was sent (0: none outstanding)
    this.pongTimer = null;
    this.openTimer = null;
    this.nextPingAt = 0;
    this.clock = new ServerClock();
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.pingTimer = null;
    this.lastPong = 0;
    this.stopped = false;
    this.status = "idle";
    this.retryAt = 0;
    addEventListener("online", () => this.kick());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.kick(true);
    });
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}${this.path}`;
  }

  setStatus(status, extra = {}) {
    this.status = status;
    this.h.onStatus?.({ status, ...extra });
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState <= 1) return;
    this.setStatus(this.attempt ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.schedule(1006);
      return;
    }
    this.ws = ws;
    clearTimeout(this.openTimer);
    if (this.connectTimeout) {
      // a handshake into a dead network can hang for minutes: give up and try again
      this.openTimer = setTimeout(() => {
        if (ws !== this.ws || ws.readyState !== 0) return;
        this.abandon(ws);
        this.schedule(1006, "connect timeout", { dead: true });
      }, this.connectTimeout);
    }
    ws.onopen = () => {
      if (ws !== this.ws) return;
      clearTimeout(this.openTimer);
      this.attempt = 0;
      this.lastPong = Date.now();
      this.setStatus("open");
      this.pings = 0;
      this.ping();
      this.nextHeartbeat();
      this.h.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws || typeof ev.data !== "string") return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      this.lastPong = Date.now(); // any frame proves the socket is alive
      this.heard();
      if (frame.type === "pong") {
        this.clock.pong(frame);
        return;
      }
      if (typeof frame.now === "number" && (frame.type === "hello" || frame.type === "snapshot")) {
        this.clock.roughSync(frame.now);
      }
      this.h.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      clearTimeout(this.pingTimer);
      clearTimeout(this.openTimer);
      this.heard();
      this.ws = null;
      if (this.stopped) return;
      this.schedule(ev.code, ev.reason);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** Stop listening to a socket we gave up on and close it (its close handshake may never end). */
  abandon(ws) {
    if (ws === this.ws) this.ws = null;
    clearTimeout(this.pingTimer);
    clearTimeout(this.openTimer);
    this.heard();
    try { ws.close(4000, "dead link"); } catch { /* ignore */ }
  }

  schedule(code, reason = "", extra = {}) {
    if (FINAL.has(code)) {
      this.setStatus("closed", { code, reason });
      return;
    }
    const cap = PAUSE_CODES.has(code) ? 30000 : Math.min(10000, 500 * 2 ** this.attempt);
    const delay = Math.round(cap / 2 + Math.random() * cap / 2); // jitter: 50–100 % of the step
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setStatus("reconnecting", { code, delay, retryAt: this.retryAt, ...extra });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Network came back or the page became visible: do not wait for the backoff timer. */
  kick(visible = false) {
    if (this.stopped || this.status === "closed") return;
    if (!this.ws) {
      this.connect();
    } else if (visible && this.ws.readyState === 1) {
      this.ping();
      this.h.onVisible?.();
    }
  }

  // A few quick pings right after connecting pin down the clock offset; after that one every
  // pingEvery ms (15 s unless the page asks for more: a ping is cheap, but tens of thousands
  // of phones pinging every second would cost the server more than the quiz itself).
  nextHeartbeat() {
    clearTimeout(this.pingTimer);
    const wait = this.pings < 5 ? Math.min(1000, this.pingEvery) : this.pingEvery;
    this.nextPingAt = Date.now() + wait;
    this.pingTimer = setTimeout(() => this.heartbeat(), wait);
  }

  /**
   * Change the heartbeat (e.g. faster while a question is open). The next ping comes no later
   * than `every` ms from now; a ping unanswered for `timeout` ms means the link is dead.
   */
  setPace(every, timeout = this.pongTimeout) {
    if (every === this.pingEvery && timeout === this.pongTimeout) return;
    this.pingEvery = every;
    this.pongTimeout = timeout;
    if (this.isOpen && this.nextPingAt > Date.now() + every) {
      clearTimeout(this.pingTimer);
      this.nextPingAt = Date.now() + every;
      this.pingTimer = setTimeout(() => this.heartbeat(), every);
    }
  }

  heartbeat() {
    // Nothing heard for 35 s: the socket is dead without knowing it (e.g. Wi-Fi → mobile data).
    // Returning to the page or the network coming back checks at once (kick).
    if (this.ws && Date.now() - this.lastPong > 35000) {
      this.dead();
      return;
    }
    this.ping();
    this.nextHeartbeat();
  }

  /** The link is dead though the socket does not know it: close it and reconnect (resume). */
  dead() {
    if (!this.ws) return;
    this.abandon(this.ws);
    this.schedule(1006, "no pong", { dead: true });
  }

  /** Any frame (or the socket's end) answers every outstanding ping. */
  heard() {
    this.awaiting = 0;
    clearTimeout(this.pongTimer);
  }

  ping() {
    this.pings = (this.pings || 0) + 1;
    if (!this.send({ type: "ping", t: Date.now() })) return;
    if (this.pongTimeout && !this.awaiting) {
      this.awaiting = Date.now();
      const ws = this.ws;
      this.pongTimer = setTimeout(() => { if (this.awaiting && ws === this.ws) this.dead(); }, this.pongTimeout);
    }
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get isOpen() { return !!this.ws && this.ws.readyState === 1; }

  /** Manual reconnect (after a final close code, e.g. the "Play here" button). */
  retry() {
    this.attempt = 0;
    this.status = "idle";
    this.connect();
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.openTimer);
    this.heard();
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}

/**
 * Tracks per-episode `seq` of phase frames. Returns true when a frame can be applied,
 * false when the client missed something (or the episode restarted) and must `sync`.
 */
export class SeqTracker {
  constructor() { this.last = null; }
  snapshot(seq) { this.last = typeof seq === "number" ? seq : null; }
  // the next phase, or the current one again (a revision: a disqualification changed its results)
  accept(seq) {
    if (typeof seq !== "number") return true;
    if (this.last === null || seq === this.last + 1 || seq === this.last) {
      this.last = seq;
      return true;
    }
    return false;
  }
}

export const PHASE_FRAMES = new Set(["lobby", "question", "closed", "reveal", "leaderboard", "finished"]);
