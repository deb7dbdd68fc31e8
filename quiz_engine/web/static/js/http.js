// The contest pages' network layer: one JSON request, and the retry loop that rides out a
// dropped network or a busy server (docs/contest.md § 3) — the same for every page that uses it.

export const REQUEST_TIMEOUT_MS = 12000;

/** 0 (network failed or timed out), 429 and 502–504 are worth another try; anything else is an answer. */
export const transient = (status) => status === 0 || status === 429 || status === 502 || status === 503 ||
  status === 504;

/** One JSON request: {status, data}; status 0 when the network failed or timed out. `onNow(ms)`
 * gets the server's clock from any answer that carries `now`. */
export async function requestJson(path, { method = "GET", body, token, credentials = "same-origin", onNow } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                              cache: "no-store", credentials, signal: ctl.signal });
  } catch {
    clearTimeout(timer);
    return { status: 0, data: {} };
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  clearTimeout(timer);
  if (onNow && data && typeof data.now === "number") onNow(data.now);
  return { status: res.status, data: data || {} };
}

/** Repeats a request while it fails transiently, backing off (1 s doubling to 10 s; 3 s at least
 * after a 429), telling `notify(key)` what is wrong ("notice.rate", "notice.offline",
 * "notice.unavailable") and `notify(null)` once it is over; `wake()` is the "retry now" button. */
export class Retrier {
  constructor(notify) {
    this.notify = notify;
    this.wakeUp = null;
  }

  wake() {
    if (this.wakeUp) this.wakeUp();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() { clearTimeout(timer); self.wakeUp = null; resolve(); }
      this.wakeUp = done;
    });
  }

  /** The first answer that is not a transient failure (or the last one, after `tries`). */
  async run(request, tries = Infinity) {
    let delay = 1000;
    for (let i = 1; ; i++) {
      const r = await request();
      if (!transient(r.status) || i >= tries) {
        this.notify(null);
        return r;
      }
      this.notify(r.status === 429 ? "notice.rate" : r.status === 0 ? "notice.offline" : "notice.unavailable");
      await this.sleep(r.status === 429 ? Math.max(delay, 3000) : delay);
      delay = Math.min(delay * 2, 10000);
    }
  }
}

/** A host-API request (the host panel, the contest's organiser page): the session cookie, and the
 * CSRF token on every write. {ok, status, data}; status 0 when the network failed. */
export async function hostRequest(path, { method = "GET", body, csrf } = {}) {
  const headers = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    if (csrf) headers["x-csrf-token"] = csrf;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store",
                              body: body ? JSON.stringify(body) : undefined });
  } catch (err) {
    return { ok: false, status: 0, data: { message: String(err?.message || err) } };
  }
  let data = {};
  try { data = await res.json(); } catch { data = {}; }
  return { ok: res.ok, status: res.status, data };
}
