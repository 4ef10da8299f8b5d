// The meeting on the page: the room, its /rt events, and the call's lifecycle (lobby → join →
// call → left → join again). The parts it wires: devices.js (preview, camera and microphone),
// share.js (screen sharing), composite.js (the meeting's video), people.js and chat.js.

import { Chat } from "./chat.js";
import { Composite } from "./composite.js";
import { ConnectionIndicator } from "./connection.js";
import { Devices } from "./devices.js";
import { Egress } from "./egress.js";
import { EgressView } from "./egress_view.js";
import { HostControls } from "./host.js";
import { LocalMedia } from "./media.js";
import { News } from "./news.js";
import { People } from "./people.js";
import { Realtime } from "./rt.js";
import { SeppCall, reasonText } from "./sepp.js";
import { ScreenShare } from "./share.js";
import { Toasts } from "./toasts.js";
import { renderedPeople, safeExitUrl } from "./ui.js";

// call_terminated 404 while the meeting runs: the call's media moved; join again (sepp.md §6.3)
const MOVED = 404;
// how long /rt is still heard after the call ended (why it ended: kicked, meeting_ended)
const LINGER_MS = 3000;

const ROOM_ERRORS = {
  0: "The server could not be reached. Check your connection and reload the page.",
  404: "This meeting link is not valid.",
  410: "The meeting has ended.",
};

export class Meeting {
  constructor(view, api) {
    this.view = view;
    this.api = api;
    this.media = new LocalMedia();
    this.room = null;
    this.rt = null;
    this.lingering = null; // the /rt of a call that just ended, for a moment (end())
    this.call = null;
    this.previewing = Promise.resolve(); // the camera and microphone being opened
    this.joining = false;
    this.moving = false; // a call that moved (404) is being joined again
    const room = () => this.room;
    const call = () => this.call;
    this.toasts = new Toasts(view.root).mount(); // toasts.js, news.js, connection.js: live status
    this.toasts.mirror(view.error); // the meeting's errors (not the panels' form checks)
    this.news = new News(this.toasts);
    this.connection = new ConnectionIndicator(view.root, call);
    this.share = new ScreenShare(view, this.media, call);
    this.devices = new Devices(view, this.media, { call, sharing: () => this.share.active });
    this.composite = new Composite(view);
    this.people = new People(view, api, room);
    this.chat = new Chat(view, api, room);
    this.egress = new Egress(new EgressView(view.root), api, room);
    this.host = new HostControls(view.root, api, { room, rt: () => this.rt, share: this.share });
  }

  async start() {
    this.view.show("lobby");
    this.view.showMembers(renderedPeople());
    this.bind();
    this.connection.mount();
    const preview = this.previewing = this.devices.preview();
    try {
      this.setRoom(await this.api.room());
    } catch (error) {
      this.view.say("");
      this.view.fail(ROOM_ERRORS[error.status] || "The meeting could not be loaded.");
      return;
    }
    this.connectRealtime();
    await preview;
  }

  bind() {
    const v = this.view;
    v.join.addEventListener("click", () => this.join());
    v.fullscreen.addEventListener("click", () => this.fullscreen());
    v.leave.addEventListener("click", () => this.leave());
    v.rejoin.addEventListener("click", () => this.rejoin());
    this.devices.bind();
    this.people.notify = (text) => this.toasts.info(text);
    const muted = () => this.people.micMuted(this.media.micMuted);
    [v.mic, v.previewMic].forEach((button) => button.addEventListener("click", muted));
    this.share.bind();
    this.chat.bind();
    this.egress.bind();
    this.host.bind();
    window.addEventListener("pagehide", () => {
      if (this.call) {
        this.call.leave();
      }
    });
  }

  setRoom(room) {
    this.room = room;
    this.news.room(room);
    this.egress.setRoom(room);
    this.host.setRoom(room);
    const wide = Boolean(room.options && room.options.widescreen);
    this.view.screen.classList.toggle("screen--wide", wide); // composite 1280x720, else 1280x960
    const ready = Boolean(room.ready);
    this.view.join.disabled = !ready || this.call !== null;
    if (this.call === null) {
      this.view.say(ready ? "Ready to join." : "Waiting for the meeting to get ready…");
    }
  }

  connectRealtime() {
    if (this.rt) {
      this.rt.stop();
    }
    this.stopLingering();
    const rt = new Realtime(this.room.links.websocket);
    this.rt = rt;
    const content = (event) => event.detail && event.detail.content;
    rt.addEventListener("room_setup", (event) => content(event) && this.setRoom(content(event)));
    rt.addEventListener("room_ready", (event) => content(event) && this.setRoom(content(event)));
    rt.addEventListener("chat", (event) => this.chat.received(event.detail));
    this.egress.listen(rt);
    rt.addEventListener("options_update", (event) => this.optionsChanged(event.detail));
    rt.addEventListener("presentation_update", (event) => {
      this.host.presentation(event.detail);
      this.people.presentation(event.detail);
    });
    rt.addEventListener("recording_update", (event) => this.news.recordingChanged(event.detail));
    rt.addEventListener("broadcasts_update", (event) => this.news.broadcastsChanged(event.detail));
    rt.addEventListener("files_update", () => this.host.loadFiles());
    rt.addEventListener("lock", (event) => {
      if (!event.detail || event.detail.locked !== false) {
        this.view.say("The meeting is now locked: nobody new may join.");
      }
      this.news.lockChanged(event.detail);
    });
    rt.addEventListener("stfu", (event) => this.stfu(event.detail));
    rt.addEventListener("disconnect", (event) => {
      if (rt !== this.rt && rt !== this.lingering) {
        return;
      }
      const reason = event.detail.reason;
      if (reason === "meeting_ended") {
        this.end("The meeting has ended.");
      } else if (reason === "kicked") {
        this.end("You were removed from the meeting.");
        this.toasts.info("You were removed from the meeting.");
      }
    });
    rt.start();
  }

  /** options_update: the meeting's options changed (the layout, among others). */
  optionsChanged(detail) {
    const options = detail && detail.options;
    if (!options || !this.room) {
      return;
    }
    this.room = { ...this.room, options };
    this.host.showOptions(options);
  }

  /** Someone muted everyone (/rt stfu): the microphone goes off, unless it was us. */
  stfu(detail) {
    const by = detail && detail.user;
    if (by && this.room && by.id === this.room.user.id) {
      return;
    }
    this.devices.muteMic();
    this.people.micMuted(true);
    this.view.say((by && by.name ? by.name : "Someone") + " muted everyone. Your microphone is off.");
  }

  fullscreen() {
    const screen = this.view.screen;
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    } else if (screen.requestFullscreen) {
      screen.requestFullscreen().catch(() => this.view.say("Full screen is not available."));
    }
  }

  // --- the call --------------------------------------------------------------------------------

  async join() {
    if (!this.room || !this.room.ready || this.call || this.joining) {
      return;
    }
    const v = this.view;
    v.join.disabled = true;
    v.fail("");
    v.say("Joining…");
    // the devices first: a call started before them would send nothing, even once they open
    this.joining = true;
    try {
      await this.previewing;
    } finally {
      this.joining = false;
    }
    if (this.call || v.root.dataset.part !== "lobby") {
      return;
    }
    this.startCall();
    // the composite's "click to start" (a blocked autoplay) keeps the focus: it is what to do
    (this.composite.start.hidden ? v.mic : this.composite.start).focus();
  }

  /** A SEPP call with the local media; the same for a join and for a call that moved. */
  startCall() {
    const v = this.view;
    const call = new SeppCall(this.room.signaling.options, {
      refresh: async () => (await this.api.room()).signaling.options,
    });
    this.call = call;
    this.people.clear();
    this.media.sender = (kind) => call.sender(kind);
    this.composite.attach(call);
    call.addEventListener("accepted", () => {
      v.say(this.moving ? "Reconnected." : "You are in the meeting.");
      this.moving = false;
      call.muteVideo(this.devices.videoMuted);
    });
    call.addEventListener("members", (event) => this.people.changed(event.detail));
    call.addEventListener("voice", (event) => this.people.voice(event.detail));
    call.addEventListener("podium", (event) => this.people.podium(event.detail));
    call.addEventListener("lost", () => v.say("Connection lost. Reconnecting…"));
    call.addEventListener("resumed", () => v.say("Reconnected."));
    call.addEventListener("failed", (event) => v.fail(event.detail.message));
    call.addEventListener("rejected", (event) => this.end(reasonText(event.detail.code), true));
    call.addEventListener("terminated", (event) => {
      const code = event.detail.code;
      if (code === MOVED && call === this.call && !this.moving) {
        this.moveCall();
        return;
      }
      this.end(reasonText(code), code !== 200);
    });
    v.show("call");
    call.start(this.media.stream, { displayName: this.room.user.name, mutedVideo: this.media.cameraOff });
  }

  /**
   * The server ended the call with 404 while the meeting goes on (its media moved, e.g. the
   * media worker restarted): join again at once with the same camera and microphone.
   */
  async moveCall() {
    this.moving = true;
    const old = this.call;
    this.call = null;
    if (old) {
      old.close();
    }
    this.share.reset();
    this.view.say("Reconnecting…");
    try {
      this.setRoom(await this.api.room());
    } catch (error) {
      this.moving = false;
      this.end(ROOM_ERRORS[error.status] || "The meeting could not be loaded.", true);
      return;
    }
    if (this.call === null && this.room.ready) {
      this.startCall();
    } else {
      this.moving = false;
    }
  }

  /** Leave on purpose: end the call, free the devices, show "you left" (or options.exit_url). */
  leave() {
    if (this.call) {
      this.call.leave();
    }
    this.end("You left the meeting.");
    const exit = this.room && safeExitUrl(this.room.options && this.room.options.exit_url);
    if (exit) {
      window.location.assign(exit);
    }
  }

  end(message, failed = false) {
    const v = this.view;
    if (this.call) {
      this.call.close();
      this.call = null;
    }
    this.share.reset();
    this.media.sender = null;
    this.media.stop();
    if (this.rt) {
      // a call ended by the server (200) may be a kick or the meeting's end: /rt tells which,
      // maybe just after the call did; it is heard for a moment more
      this.stopLingering();
      const rt = this.lingering = this.rt;
      this.rt = null;
      window.setTimeout(() => rt === this.lingering && this.stopLingering(), LINGER_MS);
    }
    this.composite.clear();
    v.preview.srcObject = null;
    v.leftTitle.textContent = message;
    v.say(message);
    v.fail(failed ? message : "");
    v.show("left");
    v.leftTitle.focus();
  }

  stopLingering() {
    if (this.lingering) {
      this.lingering.stop();
      this.lingering = null;
    }
  }

  async rejoin() {
    this.view.show("lobby");
    this.view.fail("");
    this.view.say("Connecting…");
    try {
      this.setRoom(await this.api.room());
    } catch (error) {
      this.view.fail(ROOM_ERRORS[error.status] || "The meeting could not be loaded.");
      return;
    }
    this.connectRealtime();
    this.view.join.focus();
    this.previewing = this.devices.preview();
    await this.previewing;
  }
}
