// SEPP media signalling, client side (spec eyeson-sepp.md): one call per websocket, a
// non-trickle offer, the negotiated data channel, and the server's call messages.

const ICE_WAIT_MS = 3000;
const RESUME_GIVE_UP_MS = 10000;
const PLATFORM = "web-vidroom";
const SESSION_ATTRIBUTES = [
  "a=eyeson-datachan-capable",
  "a=eyeson-datachan-keepalive",
  "a=eyeson-sepp-messaging",
];

/** RTCPeerConnection iceServers from signaling.options (stun: one entry; turn: password→credential). */
export function iceServers(options) {
  const servers = [];
  const stun = Array.isArray(options.stun_servers) ? options.stun_servers : [];
  if (stun.length > 0) {
    servers.push({ urls: stun });
  }
  for (const turn of Array.isArray(options.turn_servers) ? options.turn_servers : []) {
    servers.push({ urls: turn.urls, username: turn.username, credential: turn.password });
  }
  return servers;
}

/** The offer/answer text as sent: CRLF line ends, the eyeson session attributes after `t=`. */
export function withSessionAttributes(sdp) {
  const lines = sdp.replace(/\r?\n/g, "\n").split("\n");
  if (lines[lines.length - 1] === "") {
    lines.pop();
  }
  const at = lines.findIndex((line) => line.startsWith("t="));
  const missing = SESSION_ATTRIBUTES.filter((attribute) => !lines.includes(attribute));
  lines.splice(at < 0 ? lines.length : at + 1, 0, ...missing);
  return lines.join("\r\n") + "\r\n";
}

/**
 * Why a call was refused (call_rejected reject_code) or ended (call_terminated term_code), for
 * people (spec eyeson-sepp.md §6.3; the codes vidroom's server sends, and 410/503 of our own
 * when a lost connection could not be resumed or never opened).
 */
export function reasonText(code) {
  switch (Number(code)) {
    case 200:
      return "The call has ended.";
    case 400:
      return "The server could not understand this browser's call requests. Reload the page and try again.";
    case 403:
    case 409:
    case 486:
      return "You are already in this call in another window or tab, or you may no longer join it.";
    case 404:
      return "The call could not be found: the meeting may have just ended. Reload the page to try again.";
    case 406:
      return "Your browser offers no video or audio format this server supports"
        + " (it needs H.264 or VP8 video and Opus audio).";
    case 410:
      return "The connection to the meeting was lost, or the meeting has ended.";
    case 413:
    case 426:
      return "The audio and video could not connect: a network or firewall problem"
        + " between you and the server.";
    case 503:
      return "The media server is busy or unavailable. Try again in a moment.";
    case 607:
      return "The meeting is locked: nobody new may join.";
    default:
      return Number(code) > 0 ? "The call failed (code " + Number(code) + ")." : "The call failed.";
  }
}

function uuid() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
    window.setTimeout(resolve, ICE_WAIT_MS);
  });
}

/**
 * One SEPP call. Events: accepted, track, rejected {code}, terminated {code}, members {add, del},
 * podium {…source_update}, voice {cid, on}, lost, resumed, failed {message}.
 */
export class SeppCall extends EventTarget {
  constructor(options, { refresh }) {
    super();
    this.options = options; // signaling.options
    this.refresh = refresh; // () => Promise<signaling.options> with a fresh token
    this.clientId = options.client_id;
    this.confId = options.conf_id;
    this.pc = null;
    this.channel = null;
    this.socket = null;
    this.callId = null;
    this.seppMessaging = false;
    this.ended = false;
    this.resumeTimer = null;
    this.pendingUpdate = null;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Connect with the local tracks; `mutedVideo` is the camera state at the start. */
  start(stream, { displayName, mutedVideo }) {
    this.pc = new RTCPeerConnection({ iceServers: iceServers(this.options) });
    for (const kind of ["audio", "video"]) {
      const track = stream.getTracks().find((t) => t.kind === kind);
      if (track) {
        this.pc.addTrack(track, stream);
      } else {
        // no such device: still send-and-receive, so the composite arrives and a later track fits
        this.pc.addTransceiver(kind, { direction: "sendrecv", streams: [stream] });
      }
    }
    this.channel = this.pc.createDataChannel("data", { negotiated: true, id: 0 });
    this.channel.addEventListener("message", (event) => this.channelMessage(event.data));
    this.pc.addEventListener("track", (event) => this.emit("track", event));
    this.pc.addEventListener("connectionstatechange", () => {
      if (this.pc && this.pc.connectionState === "failed" && !this.ended) {
        this.emit("failed", { message: "The audio and video connection failed." });
      }
    });
    this.openSocket(this.options, async () => {
      const sdp = await this.offer();
      this.send("call_start", {
        sdp: { type: "offer", sdp },
        display_name: displayName,
        mute_video: Boolean(mutedVideo),
        platform: PLATFORM,
      });
    });
  }

  async offer() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    await gathered(this.pc);
    return withSessionAttributes(this.pc.localDescription.sdp);
  }

  openSocket(options, onOpen) {
    const socket = new WebSocket(options.endpoint + "?auth_token=" + options.auth_token);
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      onOpen().catch(() => this.emit("failed", { message: "Could not start the call." }));
    });
    socket.addEventListener("message", (event) => this.received(event.data));
    socket.addEventListener("close", () => {
      if (socket === this.socket) {
        this.socket = null;
        this.dropped(opened);
      }
    });
  }

  send(type, data) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return false;
    }
    const envelope = { type, msg_id: uuid(), from: this.clientId, to: this.confId, data };
    this.socket.send(JSON.stringify(envelope));
    return true;
  }

  received(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return;
    }
    const data = message && typeof message.data === "object" && message.data ? message.data : {};
    const type = message && message.type;
    if (data.call_id && this.callId && data.call_id !== this.callId && type !== "call_accepted") {
      return;
    }
    switch (type) {
      case "call_accepted":
        this.accepted(data).catch(() => this.emit("failed", { message: "The call could not start." }));
        break;
      case "call_rejected":
        this.finish("rejected", data.reject_code);
        break;
      case "call_terminated":
        this.finish("terminated", data.term_code);
        break;
      case "call_resumed":
        this.resumed(data).catch(() => this.emit("failed", { message: "Could not reconnect." }));
        break;
      case "sdp_update":
        this.sdpUpdate(data);
        break;
      default:
        this.notice(type, data);
    }
  }

  notice(type, data) {
    if (type === "memberlist") {
      this.emit("members", { add: data.add || [], del: data.del || [], count: data.count });
    } else if (type === "source_update") {
      this.emit("podium", data);
    } else if (type === "voice_activity") {
      this.emit("voice", { cid: data.cid, on: Boolean(data.on) });
    }
  }

  async accepted(data) {
    this.callId = data.call_id;
    const sdp = data.sdp && data.sdp.sdp ? data.sdp.sdp : "";
    this.seppMessaging = sdp.includes("a=eyeson-sepp-messaging");
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    if (this.channel.readyState !== "open") {
      await new Promise((resolve) => this.channel.addEventListener("open", resolve, { once: true }));
    }
    this.emit("accepted", { callId: this.callId });
  }

  sdpUpdate(data) {
    if (!data.sdp || data.sdp.type !== "offer") {
      if (data.sdp && data.sdp.type === "answer") {
        this.pc.setRemoteDescription(data.sdp).catch(() => {});
      }
      return;
    }
    window.clearTimeout(this.pendingUpdate);
    this.pendingUpdate = window.setTimeout(async () => {
      try {
        await this.pc.setRemoteDescription({ type: "offer", sdp: data.sdp.sdp });
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        const sdp = withSessionAttributes(this.pc.localDescription.sdp);
        this.send("sdp_update", { call_id: this.callId, sdp: { type: "answer", sdp } });
      } catch (error) {
        this.emit("failed", { message: "The call could not be updated." });
      }
    }, 250);
  }

  channelMessage(text) {
    if (text === '{"type":"ping"}') {
      this.channel.send('{"type":"pong"}');
      return;
    }
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      return;
    }
    if (message && message.type === "ping") {
      this.channel.send('{"type":"pong"}');
    } else if (message && typeof message.type === "string") {
      this.notice(message.type, message);
    }
  }

  /** A call-scoped notice (mute_video, desktopstreaming): over the WS, else the data channel. */
  signal(type, on) {
    if (!this.callId) {
      return;
    }
    if (this.seppMessaging) {
      this.send(type, { type, on: Boolean(on), cid: this.clientId, call_id: this.callId });
    } else if (this.channel && this.channel.readyState === "open") {
      this.channel.send(JSON.stringify({ type, on: Boolean(on), cid: this.clientId }));
    }
  }

  muteVideo(on) {
    this.signal("mute_video", on);
  }

  desktopStreaming(on) {
    this.signal("desktopstreaming", on);
  }

  /** The video sender, for replaceTrack (screen share, camera switch). */
  sender(kind) {
    if (!this.pc) {
      return null;
    }
    return this.pc.getSenders().find((s) => s.track && s.track.kind === kind)
      || this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind)?.sender
      || null;
  }

  leave() {
    if (this.callId) {
      this.send("call_terminate", { call_id: this.callId, term_code: 0 });
    }
    this.close();
  }

  close() {
    this.ended = true;
    window.clearTimeout(this.resumeTimer);
    window.clearTimeout(this.pendingUpdate);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
    }
    if (this.pc) {
      this.pc.close();
    }
  }

  finish(kind, code) {
    if (this.ended) {
      return;
    }
    this.close();
    this.emit(kind, { code: Number(code) || 0 });
  }

  /** The socket closed without a call end: resume on a new socket with a fresh token. */
  dropped(wasOpen) {
    if (this.ended) {
      return;
    }
    if (!wasOpen || !this.callId) {
      this.finish("rejected", 503);
      return;
    }
    this.emit("lost");
    this.resumeTimer = window.setTimeout(() => this.finish("terminated", 410), RESUME_GIVE_UP_MS);
    this.refresh().then(
      (options) => {
        if (this.ended) {
          return;
        }
        this.openSocket(options, async () => {
          const sdp = await this.offer();
          this.send("call_resume", { call_id: this.callId, sdp: { type: "offer", sdp } });
        });
      },
      () => this.finish("terminated", 410),
    );
  }

  async resumed(data) {
    await this.pc.setRemoteDescription({ type: "answer", sdp: data.sdp.sdp });
    window.clearTimeout(this.resumeTimer);
    this.emit("resumed");
  }
}
