// The call's connection quality, from RTCPeerConnection.getStats(): the pure part (snapshot,
// figures, quality, progress; testable with plain objects) and the indicator on the page that
// polls the call's peer connection every second, with a warning while the picture is frozen.

const POLL_MS = 1000;
// no new video frame decoded for this long while connected: the picture has frozen
export const FROZEN_MS = 2000;
// Quality thresholds (loss over both directions' inbound packets, round trip of the selected
// candidate pair):
//   good: loss < 2 % and round trip < 150 ms
//   poor: loss >= 8 %, or round trip >= 400 ms, or the picture is frozen
//   fair: anything in between
export const GOOD_LOSS = 2;
export const POOR_LOSS = 8;
export const GOOD_RTT_MS = 150;
export const POOR_RTT_MS = 400;

const LEVEL_TEXT = { good: "good", fair: "fair", poor: "poor", none: "not connected" };

function entries(report) {
  if (!report) {
    return [];
  }
  if (typeof report.values === "function") {
    return Array.from(report.values());
  }
  return Array.isArray(report) ? report : Object.values(report);
}

const number = (value) => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * One getStats() report (an RTCStatsReport, an array or an object of stats) as the few
 * counters the figures need: {timestamp, bytesVideo, bytesAudio (received), packets, lost
 * (inbound, both kinds), frames (video frames decoded), hasVideo, sent (bytes, outbound), rtt
 * (seconds, of the transport's selected candidate pair, or a nominated one; null: unknown)}.
 */
export function snapshot(report) {
  const all = entries(report);
  const found = {
    timestamp: 0, bytesVideo: 0, bytesAudio: 0, packets: 0, lost: 0, frames: 0,
    hasVideo: false, sent: 0, rtt: null,
  };
  const selected = new Set(all.filter((s) => s.type === "transport" && s.selectedCandidatePairId)
    .map((s) => s.selectedCandidatePairId));
  let pair = null;
  for (const stat of all) {
    found.timestamp = Math.max(found.timestamp, number(stat.timestamp));
    if (stat.type === "inbound-rtp") {
      const kind = stat.kind || stat.mediaType;
      if (kind === "video") {
        found.bytesVideo += number(stat.bytesReceived);
        found.frames += number(stat.framesDecoded);
        found.hasVideo = true;
      } else {
        found.bytesAudio += number(stat.bytesReceived);
      }
      found.packets += number(stat.packetsReceived);
      found.lost += number(stat.packetsLost);
    } else if (stat.type === "outbound-rtp") {
      found.sent += number(stat.bytesSent);
    } else if (stat.type === "candidate-pair" && typeof stat.currentRoundTripTime === "number") {
      // the transport's selected pair; without transport stats, a nominated succeeded one
      const chosen = selected.size > 0 ? selected.has(stat.id) : stat.nominated && stat.state === "succeeded";
      if (chosen && !pair) {
        pair = stat;
      }
    }
  }
  found.rtt = pair ? pair.currentRoundTripTime : null;
  return found;
}

/** How good the figures are: "good", "fair" or "poor" (the thresholds above). */
export function quality({ lossPercent, rttMs }, frozen = false) {
  const rtt = rttMs === null ? 0 : rttMs;
  if (frozen || lossPercent >= POOR_LOSS || rtt >= POOR_RTT_MS) {
    return "poor";
  }
  if (lossPercent < GOOD_LOSS && rtt < GOOD_RTT_MS) {
    return "good";
  }
  return "fair";
}

/**
 * Two successive snapshots as rates: {receiveKbps, sendKbps, lossPercent, rttMs, fps}
 * (counters that went backwards, as after a reconnect, count as 0).
 */
export function figures(before, after) {
  const seconds = (after.timestamp - before.timestamp) / 1000;
  const delta = (key) => Math.max(0, after[key] - before[key]);
  const rate = (value) => (seconds > 0 ? value / seconds : 0);
  const received = delta("packets");
  const lost = delta("lost");
  return {
    receiveKbps: Math.round(rate((delta("bytesVideo") + delta("bytesAudio")) * 8) / 1000),
    sendKbps: Math.round(rate(delta("sent") * 8) / 1000),
    lossPercent: received + lost > 0 ? Math.round((1000 * lost) / (received + lost)) / 10 : 0,
    rttMs: after.rtt === null ? null : Math.round(after.rtt * 1000),
    fps: Math.round(rate(delta("frames")) * 10) / 10,
  };
}

/**
 * One poll: the state carried between polls ({last, framesAt, frames, connected}; start with
 * null), the new snapshot and whether the call is connected now. Returns {state, figures, level, frozen}
 * (figures and level null on the first snapshot). Frozen: connected, and no new video frame
 * was decoded for FROZEN_MS (a call that has just connected, or connected again, gets
 * FROZEN_MS too).
 */
export function progress(state, snap, connected) {
  const last = state && state.last;
  let framesAt = state ? state.framesAt : snap.timestamp;
  if (!connected || !state || !state.connected || snap.frames !== state.frames) {
    framesAt = snap.timestamp;
  }
  // no video received at all (an audio-only answer): nothing to freeze
  const frozen = connected && snap.hasVideo && snap.timestamp - framesAt >= FROZEN_MS;
  const next = { last: snap, framesAt, frames: snap.frames, connected };
  if (!last || !connected) {
    return { state: next, figures: null, level: connected ? null : "none", frozen: false };
  }
  const rates = figures(last, snap);
  return { state: next, figures: rates, level: quality(rates, frozen), frozen };
}

/** The figures in words, for the indicator's details. */
export function describe(rates) {
  if (!rates) {
    return [];
  }
  return [
    ["Receiving", rates.receiveKbps + " kbit/s"],
    ["Sending", rates.sendKbps + " kbit/s"],
    ["Packet loss", rates.lossPercent + " %"],
    ["Round trip", rates.rttMs === null ? "unknown" : rates.rttMs + " ms"],
    ["Video", rates.fps + " frames/s"],
  ];
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  return node;
}

/**
 * The connection indicator (a button with the level as text for screen readers, and a details
 * list with the figures) and the freeze warning, on the meeting root; fed by call().pc.
 */
export class ConnectionIndicator {
  constructor(root, call) {
    this.root = root;
    this.call = call; // () => the SeppCall or null
    this.state = null;
    this.pc = null;
    this.timer = null;
    this.frozen = false;
    this.box = element("div", "conn");
    this.box.dataset.connection = "";
    this.box.hidden = true;
    this.button = element("button", "conn__button");
    this.button.type = "button";
    this.button.setAttribute("aria-expanded", "false");
    this.button.setAttribute("aria-controls", "conn-details");
    this.bars = element("span", "conn__bars");
    this.bars.setAttribute("aria-hidden", "true");
    for (let i = 0; i < 3; i += 1) {
      this.bars.append(element("span", "conn__bar"));
    }
    this.label = element("span", "visually-hidden");
    this.button.append(this.bars, this.label);
    this.details = element("dl", "conn__details");
    this.details.id = "conn-details";
    this.details.hidden = true;
    this.box.append(this.button, this.details);
    this.warning = element("p", "freeze", "The picture has frozen. Reconnecting may help: leave and join again.");
    this.warning.dataset.freeze = "";
    this.warning.setAttribute("role", "alert");
    this.warning.hidden = true;
    this.button.addEventListener("click", () => this.toggle());
    this.box.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.details.hidden) {
        this.toggle(false);
        this.button.focus();
      }
    });
    this.show(null, "none");
  }

  mount() {
    this.root.append(this.box, this.warning);
    this.timer = window.setInterval(() => this.poll(), POLL_MS);
  }

  toggle(open = this.details.hidden) {
    this.details.hidden = !open;
    this.button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  async poll() {
    const call = this.call();
    const pc = call && call.pc;
    const inCall = Boolean(pc) && this.root.dataset.part === "call";
    this.box.hidden = !inCall;
    if (!inCall) {
      this.state = null;
      this.pc = null;
      this.setFrozen(false);
      return;
    }
    if (pc !== this.pc) {
      this.pc = pc;
      this.state = null;
    }
    let report;
    try {
      report = await pc.getStats();
    } catch (error) {
      return; // the call closed meanwhile
    }
    if (pc !== this.pc) {
      return;
    }
    const connected = pc.connectionState === "connected";
    const step = progress(this.state, snapshot(report), connected);
    this.state = step.state;
    if (step.level) {
      this.show(step.figures, step.level);
    }
    this.setFrozen(step.frozen);
  }

  show(rates, level) {
    this.box.dataset.level = level;
    this.button.title = "Connection: " + LEVEL_TEXT[level];
    this.label.textContent = "Connection: " + LEVEL_TEXT[level] + ". Show the figures";
    const rows = describe(rates).flatMap(([name, value]) => {
      const term = element("dt", "conn__term", name);
      const data = element("dd", "conn__value", value);
      data.dataset.figure = name;
      return [term, data];
    });
    if (rows.length === 0) {
      rows.push(element("dd", "conn__value", "No figures yet."));
    }
    this.details.replaceChildren(...rows);
  }

  setFrozen(frozen) {
    if (frozen !== this.frozen) {
      this.frozen = frozen;
      this.warning.hidden = !frozen;
    }
  }
}
