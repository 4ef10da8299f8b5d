// The /rt realtime connection (ActionCable JSON protocol, spec eyeson.md §5): RoomChannel and
// UserChannel, the meeting's events, the `user_joins` keep-alive, reconnects with backoff.

const CHANNELS = ["RoomChannel", "UserChannel"];
const PROTOCOLS = ["actioncable-v1-json", "actioncable-unsupported"];
const STALE_MS = 7000; // the server pings every 3 s
const KEEPALIVE_MS = 30000;
const MAX_BACKOFF_MS = 30000;
const EVENTS = new Set([
  "room_setup", "room_ready", "chat", "custom", "lock", "stfu", "options_update",
  "presentation_update", "recording_update", "broadcasts_update", "playback_update",
  "snapshot_update", "files_update",
]);

/** links.websocket is an http(s) URL: the ws(s) URL of the same place. */
export function websocketUrl(link) {
  const url = new URL(link, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
  return url.href;
}

function identifier(channel) {
  return JSON.stringify({ channel });
}

export class Realtime extends EventTarget {
  constructor(link) {
    super();
    this.url = websocketUrl(link);
    this.socket = null;
    this.stopped = false;
    this.attempts = 0;
    this.lastSeen = 0;
    this.timers = [];
    this.retry = null;
  }

  start() {
    this.stopped = false;
    this.open();
    this.timers.push(window.setInterval(() => this.checkStale(), 2000));
    this.timers.push(window.setInterval(() => this.perform("user_joins"), KEEPALIVE_MS));
  }

  stop() {
    this.stopped = true;
    this.timers.forEach((timer) => window.clearInterval(timer));
    this.timers = [];
    window.clearTimeout(this.retry);
    if (this.socket) {
      this.socket.close(1000);
      this.socket = null;
    }
  }

  open() {
    const socket = new WebSocket(this.url, PROTOCOLS);
    this.socket = socket;
    this.lastSeen = Date.now();
    socket.addEventListener("message", (event) => this.received(socket, event.data));
    socket.addEventListener("close", () => this.closed(socket));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }

  /** Whether the socket is open (a perform() now is sent). */
  connected() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  perform(action) {
    this.send({
      command: "message",
      identifier: identifier("RoomChannel"),
      data: JSON.stringify({ action }),
    });
  }

  received(socket, text) {
    if (socket !== this.socket) {
      return;
    }
    this.lastSeen = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (frame.type === "welcome") {
      this.attempts = 0;
      CHANNELS.forEach((channel) => this.send({ command: "subscribe", identifier: identifier(channel) }));
      this.emit("connected", {});
    } else if (frame.type === "disconnect") {
      this.emit("disconnect", { reason: frame.reason || "", reconnect: frame.reconnect !== false });
      if (frame.reconnect === false) {
        this.stop();
      }
    } else if (frame.message && typeof frame.message === "object" && EVENTS.has(frame.message.type)) {
      this.emit(frame.message.type, frame.message);
    }
  }

  checkStale() {
    if (this.socket && Date.now() - this.lastSeen > STALE_MS) {
      const socket = this.socket;
      this.socket = null;
      socket.close();
      this.closed(socket, true);
    }
  }

  closed(socket, forced = false) {
    if (!forced && socket !== this.socket) {
      return;
    }
    this.socket = null;
    if (this.stopped) {
      return;
    }
    this.emit("lost", {});
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
    this.attempts += 1;
    window.clearTimeout(this.retry);
    this.retry = window.setTimeout(() => {
      if (!this.stopped && this.socket === null) {
        this.open();
      }
    }, delay);
  }
}
