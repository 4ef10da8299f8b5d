// Recording, live broadcast and snapshots on the meeting page (spec eyeson.md §3.1, §3.2):
// the recording indicator everyone sees (room_setup + recording_update), the controls where
// the room's options allow them, the broadcast form and its state (broadcasts_update), and the
// snapshot button with links to the snapshots taken (snapshot_update). The stream key is never
// shown, logged or kept after the request.

const BROADCAST_STATES = {
  starting: "Broadcast starting…",
  live: "Broadcasting live",
  reconnecting: "Broadcast reconnecting…",
};

const REFUSALS = {
  0: "the server could not be reached",
  405: "it is turned off for this meeting",
  410: "the meeting has ended",
};

/** The API's error in words: "<what> could not <verb>: <why>." */
export function errorText(what, error) {
  const why = REFUSALS[error && error.status] || (error && error.message) || "unknown error";
  return what + ": " + why + ".";
}

/** A running recording: an object without a duration (duration is set once it stopped). */
export function recordingState(recording) {
  if (!recording || typeof recording !== "object" || recording.duration != null) {
    return "off";
  }
  return recording.paused ? "paused" : "recording";
}

/** The RTMP URL the API takes: the ingest URL with the key appended (unless it ends with it). */
export function streamUrl(ingest, key) {
  const url = ingest.trim();
  const secret = key.trim();
  if (secret === "") {
    return url;
  }
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/" + secret) ? base : base + "/" + secret;
}

/** What is wrong with the broadcast form, or "" when it may be sent. */
export function broadcastProblem(ingest, key, player) {
  const url = ingest.trim();
  if (url === "") {
    return "Enter the ingest URL (rtmp:// or rtmps://).";
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch (error) {
    return "The ingest URL is not a valid URL.";
  }
  if (parsed.protocol !== "rtmp:" && parsed.protocol !== "rtmps:") {
    return "The ingest URL must start with rtmp:// or rtmps://.";
  }
  if (!parsed.hostname) {
    return "The ingest URL has no host.";
  }
  if (parsed.pathname.replace(/^\/+|\/+$/g, "") === "") {
    return "The ingest URL needs an application path, such as rtmp://host/live.";
  }
  if (key.trim() === "" && parsed.pathname.replace(/^\/+|\/+$/g, "").split("/").length < 2) {
    return "Enter the stream key.";
  }
  if (/\s/.test(key.trim())) {
    return "The stream key must not contain spaces.";
  }
  if (player.trim() !== "" && !/^https?:\/\/\S+$/i.test(player.trim())) {
    return "The player URL must start with http:// or https://.";
  }
  return "";
}

function timeOf(value) {
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString();
}

export class Egress {
  /** room: () => the room response, or null. */
  constructor(view, api, room) {
    this.view = view;
    this.api = api;
    this.room = room;
    this.recording = null;
    this.broadcast = null;
    this.snapshots = new Map();
    this.busy = false;
  }

  bind() {
    const v = this.view;
    v.recControls.addEventListener("click", () => {
      v.lastAction = "recording";
    }, true);
    v.bcast.addEventListener("click", () => {
      v.lastAction = "broadcast";
    }, true);
    v.recStart.addEventListener("click", () => this.act(() => this.api.startRecording(), "The recording could not start"));
    v.recPause.addEventListener("click", () => this.act(() => this.api.pauseRecording(true), "The recording could not pause"));
    v.recResume.addEventListener("click", () => this.act(() => this.api.pauseRecording(false), "The recording could not resume"));
    v.recStop.addEventListener("click", () => this.act(() => this.api.stopRecording(), "The recording could not stop"));
    v.snapshot.addEventListener("click", () => this.act(() => this.api.snapshot(), "The snapshot could not be taken"));
    v.bcastForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.startBroadcast();
    });
    v.bcastEdit.addEventListener("submit", (event) => {
      event.preventDefault();
      const player = v.bcastEditPlayer.value.trim();
      const problem = broadcastProblem("rtmp://x/y/z", "", player);
      if (problem) {
        this.fail(problem);
        return;
      }
      this.act(async () => {
        const body = await this.api.updateBroadcast(this.broadcast ? this.broadcast.platform : "generic", player);
        v.egressSay("The player URL was saved.");
        return body;
      }, "The player URL could not be saved");
    });
    v.bcastStop.addEventListener("click", () => this.act(() => this.api.stopBroadcast(), "The broadcast could not stop"));
  }

  fail(text) {
    this.view.egressFail(text);
  }

  /** Run one API call with the buttons disabled; its error goes to the panel in words. */
  async act(run, what) {
    if (this.busy) {
      return null;
    }
    this.busy = true;
    this.view.egressBusy(true);
    this.fail("");
    try {
      return await run();
    } catch (error) {
      this.fail(errorText(what, error));
      return null;
    } finally {
      this.busy = false;
      this.view.egressBusy(false);
    }
  }

  async startBroadcast() {
    const v = this.view;
    const problem = broadcastProblem(v.bcastUrl.value, v.bcastKey.value, v.bcastPlayer.value);
    if (problem) {
      this.fail(problem);
      (problem.includes("key") ? v.bcastKey : problem.includes("player") ? v.bcastPlayer : v.bcastUrl).focus();
      return;
    }
    const url = streamUrl(v.bcastUrl.value, v.bcastKey.value);
    const body = await this.act(
      () => this.api.startBroadcast(url, v.bcastPlayer.value.trim()),
      "The broadcast could not start",
    );
    if (body) {
      v.bcastKey.value = "";
      this.showBroadcasts([body]);
    }
  }

  /** room_setup / room_ready / GET /rooms/<ak>: options, recording, broadcasts, snapshots. */
  setRoom(room) {
    const options = (room && room.options) || {};
    this.view.showEgressOptions(options.recording_available !== false, options.broadcast_available !== false);
    this.showRecording(room ? room.recording : null);
    if (room && Array.isArray(room.broadcasts)) {
      this.showBroadcasts(room.broadcasts);
    }
    if (room && Array.isArray(room.snapshots)) {
      this.addSnapshots(room.snapshots, false);
    }
  }

  showRecording(recording) {
    const state = recordingState(recording);
    this.recording = state === "off" ? null : recording;
    this.view.showRecording(state);
    const download = recording && recording.links && recording.links.download;
    if (state === "off" && typeof download === "string" && download !== "") {
      this.view.showRecordingDownload(download, timeOf(recording.created_at));
    }
  }

  showBroadcasts(broadcasts) {
    const running = broadcasts.filter((b) => b && BROADCAST_STATES[b.state]);
    this.broadcast = running[0] || null;
    const b = this.broadcast;
    this.view.showBroadcast(b ? BROADCAST_STATES[b.state] : "", b ? b.state : "off", b ? b.player_url || "" : "");
  }

  addSnapshots(snapshots, announce = true) {
    const fresh = snapshots.filter((s) => s && s.id && s.links && !this.snapshots.has(s.id));
    fresh.forEach((s) => this.snapshots.set(s.id, s));
    if (fresh.length === 0) {
      return;
    }
    const all = Array.from(this.snapshots.values()).sort((a, b) =>
      String(b.created_at).localeCompare(String(a.created_at)),
    );
    this.view.showSnapshots(all.map((s) => ({ id: s.id, href: s.links.download, when: timeOf(s.created_at) })));
    if (announce) {
      this.view.egressSay("A snapshot was taken.");
    }
  }

  /** The /rt events this part follows. */
  listen(rt) {
    const detail = (event) => event.detail || {};
    rt.addEventListener("recording_update", (event) => this.showRecording(detail(event).recording));
    rt.addEventListener("broadcasts_update", (event) => {
      const list = detail(event).broadcasts;
      this.showBroadcasts(Array.isArray(list) ? list : []);
    });
    rt.addEventListener("snapshot_update", (event) => {
      const list = detail(event).snapshots;
      this.addSnapshots(Array.isArray(list) ? list : []);
    });
  }
}
