// Server clock estimate (docs/protocol.md "Clock and countdown").
// offset = server_now + rtt/2 - client_now, keeping the sample with the smallest rtt
// among the last five pongs. Used only to draw countdowns; never decides anything.
export class ServerClock {
  constructor() {
    this.samples = [];
    this.offset = 0;
    this.rough = true; // until the first pong
  }

  /** A frame carrying the server's `now` (hello/snapshot/question) gives a rough first offset. */
  roughSync(serverNow) {
    if (this.rough && typeof serverNow === "number") this.offset = serverNow - Date.now();
  }

  pong(frame) {
    const clientNow = Date.now();
    const rtt = clientNow - frame.t;
    if (!(rtt >= 0) || typeof frame.now !== "number") return;
    this.samples.push({ rtt, offset: frame.now + rtt / 2 - clientNow });
    if (this.samples.length > 5) this.samples.shift();
    let best = this.samples[0];
    for (const s of this.samples) if (s.rtt < best.rtt) best = s;
    this.offset = best.offset;
    this.rough = false;
  }

  now() { return Date.now() + this.offset; }

  /** Milliseconds left until a server-clock time (never negative). */
  remaining(deadline) { return Math.max(0, deadline - this.now()); }
}
