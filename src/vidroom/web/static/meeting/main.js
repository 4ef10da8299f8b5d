// The meeting page (links.gui, /join?<access key>) as a meeting client: preview, join, the
// composite, controls, people and chat. The access key is read from location.search only.

import { Api, accessKeyFromLocation } from "./api.js";
import { LocalMedia, canShareScreen } from "./media.js";
import { Realtime } from "./rt.js";
import { SeppCall, reasonText } from "./sepp.js";
import { View, renderedPeople, safeExitUrl } from "./ui.js";

const ROOM_ERRORS = {
  0: "The server could not be reached. Check your connection and reload the page.",
  404: "This meeting link is not valid.",
  410: "The meeting has ended.",
};

class Meeting {
  constructor(view, api) {
    this.view = view;
    this.api = api;
    this.media = new LocalMedia();
    this.room = null;
    this.rt = null;
    this.call = null;
    this.members = new Map(); // cid → person
    this.speaking = new Set(); // cids speaking now (voice_activity)
    this.sharing = false;
    this.previewing = Promise.resolve(); // the camera and microphone being opened
    this.joining = false;
  }

  get ownClientId() {
    return this.room ? this.room.signaling.options.client_id : "";
  }

  async start() {
    this.view.show("lobby");
    this.view.showMembers(renderedPeople());
    this.bind();
    this.view.share.hidden = !canShareScreen();
    const preview = this.previewing = this.preview();
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

  setRoom(room) {
    this.room = room;
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
    const rt = new Realtime(this.room.links.websocket);
    this.rt = rt;
    const content = (event) => event.detail && event.detail.content;
    rt.addEventListener("room_setup", (event) => content(event) && this.setRoom(content(event)));
    rt.addEventListener("room_ready", (event) => content(event) && this.setRoom(content(event)));
    rt.addEventListener("chat", (event) => this.chatReceived(event.detail));
    rt.addEventListener("lock", () => this.view.say("The meeting is now locked: nobody new may join."));
    rt.addEventListener("stfu", (event) => this.stfu(event.detail));
    rt.addEventListener("disconnect", (event) => {
      const reason = event.detail.reason;
      if (reason === "meeting_ended") {
        this.end("The meeting has ended.");
      } else if (reason === "kicked") {
        this.end("You were removed from the meeting.");
      }
    });
    rt.start();
  }

  bind() {
    const v = this.view;
    v.join.addEventListener("click", () => this.join());
    v.previewMic.addEventListener("click", () => this.toggleMic());
    v.mic.addEventListener("click", () => this.toggleMic());
    v.previewCamera.addEventListener("click", () => this.toggleCamera());
    v.cameraToggle.addEventListener("click", () => this.toggleCamera());
    v.share.addEventListener("click", () => this.toggleShare());
    v.fullscreen.addEventListener("click", () => this.fullscreen());
    v.leave.addEventListener("click", () => this.leave());
    v.rejoin.addEventListener("click", () => this.rejoin());
    v.chatToggle.addEventListener("click", () => v.toggleChat());
    v.chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendChat();
    });
    v.cameraSelect.addEventListener("change", () => this.useDevice("video", v.cameraSelect.value));
    v.microphoneSelect.addEventListener("change", () => this.useDevice("audio", v.microphoneSelect.value));
    this.media.addEventListener("screenended", () => this.sharingStopped());
    window.addEventListener("pagehide", () => {
      if (this.call) {
        this.call.leave();
      }
    });
  }

  // --- preview and devices -------------------------------------------------------------------

  async preview() {
    try {
      await this.media.open();
      this.view.fail("");
    } catch (error) {
      this.view.fail("No camera or microphone could be used. You can still join to see and hear the others.");
    }
    this.showPreview();
    await this.listDevices();
  }

  showPreview() {
    const v = this.view;
    v.preview.srcObject = this.media.stream;
    v.previewEmpty.hidden = Boolean(this.media.camera) && !this.media.cameraOff;
    v.preview.play().catch(() => {});
  }

  async listDevices() {
    try {
      const { cameras, microphones } = await this.media.devices();
      this.view.fillDevices(this.view.cameraSelect, cameras, this.media.cameraId, "Camera");
      this.view.fillDevices(this.view.microphoneSelect, microphones, this.media.microphoneId, "Microphone");
    } catch (error) {
      this.view.fillDevices(this.view.cameraSelect, [], "", "Camera");
      this.view.fillDevices(this.view.microphoneSelect, [], "", "Microphone");
    }
  }

  async useDevice(kind, deviceId) {
    if (!deviceId) {
      return;
    }
    try {
      await this.media.use(kind, deviceId);
      this.showPreview();
      this.view.say(kind === "video" ? "Camera changed." : "Microphone changed.");
    } catch (error) {
      this.view.fail("That device could not be used.");
    }
  }

  // --- toggles ---------------------------------------------------------------------------------

  toggleMic() {
    this.media.setMicMuted(!this.media.micMuted);
    const muted = this.media.micMuted;
    this.view.pressed(this.view.mic, muted);
    this.view.pressed(this.view.previewMic, muted);
    this.view.say(muted ? "Microphone muted." : "Microphone on.");
  }

  toggleCamera() {
    this.media.setCameraOff(!this.media.cameraOff);
    const off = this.media.cameraOff;
    this.view.pressed(this.view.cameraToggle, off);
    this.view.pressed(this.view.previewCamera, off);
    this.view.previewEmpty.hidden = Boolean(this.media.camera) && !off;
    if (this.call && !this.sharing) {
      this.call.muteVideo(off);
    }
    this.view.say(off ? "Camera off." : "Camera on.");
  }

  async toggleShare() {
    if (!this.call) {
      return;
    }
    if (this.sharing) {
      await this.media.stopSharing();
      this.sharingStopped();
      return;
    }
    try {
      await this.media.shareScreen();
    } catch (error) {
      this.view.say("Screen sharing was cancelled.");
      return;
    }
    this.sharing = true;
    this.view.pressed(this.view.share, true);
    this.call.desktopStreaming(true);
    this.call.muteVideo(false);
    this.view.say("You are sharing your screen.");
  }

  sharingStopped() {
    if (!this.sharing) {
      return;
    }
    this.sharing = false;
    this.view.pressed(this.view.share, false);
    if (this.call) {
      this.call.desktopStreaming(false);
      this.call.muteVideo(this.media.cameraOff);
    }
    this.view.say("You stopped sharing your screen.");
  }

  fullscreen() {
    const screen = this.view.screen;
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(() => {});
    } else if (screen.requestFullscreen) {
      screen.requestFullscreen().catch(() => this.view.say("Full screen is not available."));
    }
  }

  stfu(detail) {
    const by = detail && detail.user;
    if (by && this.room && by.id === this.room.user.id) {
      return;
    }
    if (!this.media.micMuted) {
      this.toggleMic();
    }
    this.view.say((by && by.name ? by.name : "Someone") + " muted everyone. Your microphone is off.");
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
    const call = new SeppCall(this.room.signaling.options, {
      refresh: async () => (await this.api.room()).signaling.options,
    });
    this.call = call;
    this.members.clear();
    this.speaking.clear();
    this.media.sender = (kind) => call.sender(kind);
    const remote = new MediaStream();
    v.composite.srcObject = remote;
    call.addEventListener("track", (event) => {
      const stream = event.detail.streams && event.detail.streams[0];
      if (stream && v.composite.srcObject !== stream) {
        v.composite.srcObject = stream;
      } else if (!stream) {
        remote.addTrack(event.detail.track);
      }
      v.composite.play().catch(() => {});
    });
    call.addEventListener("accepted", () => {
      v.say("You are in the meeting.");
      call.muteVideo(this.media.cameraOff && !this.sharing);
    });
    call.addEventListener("members", (event) => this.membersChanged(event.detail));
    call.addEventListener("voice", (event) => this.voiceChanged(event.detail));
    call.addEventListener("lost", () => v.say("Connection lost. Reconnecting…"));
    call.addEventListener("resumed", () => v.say("Reconnected."));
    call.addEventListener("failed", (event) => v.fail(event.detail.message));
    call.addEventListener("rejected", (event) => this.end(reasonText(event.detail.code), true));
    call.addEventListener("terminated", (event) => {
      const code = event.detail.code;
      this.end(code === 200 ? "The call has ended." : reasonText(code), code !== 200);
    });
    v.show("call");
    call.start(this.media.stream, { displayName: this.room.user.name, mutedVideo: this.media.cameraOff });
    v.mic.focus();
  }

  membersChanged({ add, del }) {
    for (const cid of del) {
      this.members.delete(String(cid));
      this.speaking.delete(String(cid));
    }
    for (const entry of add) {
      const cid = String(entry && entry.cid ? entry.cid : entry);
      const person = { key: cid, name: "…", you: cid === this.ownClientId, guest: false };
      this.members.set(cid, person);
      this.api.user(cid).then(
        (user) => {
          person.name = user.name;
          person.guest = Boolean(user.guest);
          this.renderMembers();
        },
        () => {
          person.name = person.you ? this.room.user.name : "Participant";
          this.renderMembers();
        },
      );
    }
    this.renderMembers();
  }

  /** voice_activity (over the websocket and the data channel alike): who speaks now. */
  voiceChanged({ cid, on }) {
    const key = String(cid || "");
    if (!key || this.speaking.has(key) === on) {
      return;
    }
    if (on) {
      this.speaking.add(key);
    } else {
      this.speaking.delete(key);
    }
    this.renderMembers();
  }

  renderMembers() {
    for (const [cid, person] of this.members) {
      person.speaking = this.speaking.has(cid);
    }
    const people = Array.from(this.members.values());
    people.sort((a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name));
    this.view.showMembers(people);
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
    this.sharing = false;
    v.pressed(v.share, false);
    this.media.sender = null;
    this.media.stop();
    if (this.rt) {
      this.rt.stop();
      this.rt = null;
    }
    v.composite.srcObject = null;
    v.preview.srcObject = null;
    v.leftTitle.textContent = message;
    v.say(message);
    v.fail(failed ? message : "");
    v.show("left");
    v.leftTitle.focus();
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
    this.previewing = this.preview();
    await this.previewing;
  }

  // --- chat ------------------------------------------------------------------------------------

  async sendChat() {
    const input = this.view.chatInput;
    const content = input.value.trim();
    if (!content) {
      return;
    }
    try {
      await this.api.sendMessage(content);
      input.value = "";
    } catch (error) {
      this.view.fail(error.status === 410 ? ROOM_ERRORS[410] : "The message could not be sent.");
    }
    input.focus();
  }

  async chatReceived(message) {
    if (!message || typeof message.content !== "string") {
      return;
    }
    const cid = String(message.cid || "").split("@")[0];
    const you = cid !== "" && cid === this.ownClientId;
    let name = you && this.room ? this.room.user.name : "Someone";
    if (!you && cid) {
      name = await this.api.user(cid).then((user) => user.name, () => "Someone");
    }
    this.view.addChat({ name, content: message.content, at: message.created_at || message.ts, you });
  }
}

function boot() {
  const root = document.querySelector("[data-room]");
  const accessKey = accessKeyFromLocation();
  if (!root || !accessKey) {
    return;
  }
  const fallback = document.querySelector("[data-stage-fallback]");
  if (fallback) {
    fallback.hidden = true;
  }
  const people = document.querySelector("[data-static-people]");
  if (people) {
    people.hidden = true;
  }
  root.hidden = false;
  document.querySelector("[data-meeting]")?.classList.add("meeting--live");
  new Meeting(new View(root), new Api(accessKey)).start();
}

boot();
