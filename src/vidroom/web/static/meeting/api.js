// The meeting API's participant calls (spec eyeson.md §3), by access key. Never logs the key.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The access key of this page: /join?<access key> (tokens are [A-Za-z0-9_]+). */
export function accessKeyFromLocation(search = window.location.search) {
  const raw = search.startsWith("?") ? search.slice(1) : search;
  if (raw.startsWith("guest=")) {
    return "";
  }
  return raw.replace(/\W+/g, "");
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      body,
      cache: "no-store",
      credentials: "same-origin",
      referrerPolicy: "no-referrer",
      headers: { Accept: "application/json" },
    });
  } catch (error) {
    throw new ApiError(0, "The server could not be reached.");
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : response.statusText;
    throw new ApiError(response.status, message);
  }
  return data;
}

export class Api {
  constructor(accessKey) {
    this.base = "/rooms/" + encodeURIComponent(accessKey);
    this.users = new Map();
  }

  /** GET /rooms/<ak>: the room response (§2.1), with a fresh signalling token. */
  room() {
    return call("GET", this.base);
  }

  /** POST /rooms/<ak>/messages: a chat message to everyone. */
  sendMessage(content, type = "chat") {
    const form = new FormData();
    form.append("type", type);
    form.append("content", content);
    return call("POST", this.base + "/messages", form);
  }

  /** GET /rooms/<ak>/users/<cid>: {id, name, avatar, guest}, cached per client id. */
  user(clientId) {
    const cid = String(clientId).split("@")[0];
    if (!this.users.has(cid)) {
      const found = call("GET", this.base + "/users/" + encodeURIComponent(cid));
      found.catch(() => this.users.delete(cid));
      this.users.set(cid, found);
    }
    return this.users.get(cid);
  }

  /** POST /rooms/<ak>/recording: start recording (201, no body). */
  startRecording() {
    return call("POST", this.base + "/recording");
  }

  /** PUT /rooms/<ak>/recording paused=true|false: pause or resume (the recording object). */
  pauseRecording(paused) {
    const form = new FormData();
    form.append("paused", paused ? "true" : "false");
    return call("PUT", this.base + "/recording", form);
  }

  /** DELETE /rooms/<ak>/recording: stop recording. */
  stopRecording() {
    return call("DELETE", this.base + "/recording");
  }

  /** POST /rooms/<ak>/snapshot: take a snapshot (snapshot_update brings it). */
  snapshot() {
    return call("POST", this.base + "/snapshot");
  }

  /** POST /rooms/<ak>/broadcasts: start a live broadcast (the broadcast object). */
  startBroadcast(streamUrl, playerUrl) {
    const form = new FormData();
    form.append("stream_url", streamUrl);
    form.append("platform", "generic");
    if (playerUrl) {
      form.append("player_url", playerUrl);
    }
    return call("POST", this.base + "/broadcasts", form);
  }

  /** PUT /rooms/<ak>/broadcasts/<platform>: change the player URL. */
  updateBroadcast(platform, playerUrl) {
    const form = new FormData();
    form.append("player_url", playerUrl);
    return call("PUT", this.base + "/broadcasts/" + encodeURIComponent(platform), form);
  }

  /** DELETE /rooms/<ak>/broadcasts: stop the running broadcast. */
  stopBroadcast() {
    return call("DELETE", this.base + "/broadcasts");
  }

  /** DELETE /rooms/<ak>/users/<id>: remove a participant (kick). */
  removeUser(userId) {
    return call("DELETE", this.base + "/users/" + encodeURIComponent(userId));
  }
  /** POST /rooms/<ak>/layout: the layout's fields (name, layout, voice_activation, show_names). */
  setLayout(fields) {
    const form = new FormData();
    Object.entries(fields).forEach(([name, value]) => form.append(name, String(value)));
    return call("POST", this.base + "/layout", form);
  }

  /** POST /rooms/<ak>/layers: an image `file` or a text card, z 1 (foreground) or -1. */
  addLayer(z, { file = null, title = "", content = "" } = {}) {
    const form = new FormData();
    form.append("z-index", String(z));
    if (file) {
      form.append("file", file, file.name || "layer");
    } else {
      form.append("insert[title]", title);
      form.append("insert[content]", content);
    }
    return call("POST", this.base + "/layers", form);
  }

  /** DELETE /rooms/<ak>/layers/<z>: remove the foreground (1) or background (-1) layer. */
  removeLayer(z) {
    return call("DELETE", this.base + "/layers/" + encodeURIComponent(String(z)));
  }

  /** POST /rooms/<ak>/presentation: present (our screen share, or `slide`, a URL). */
  startPresentation(slide = "") {
    const form = new FormData();
    if (slide) {
      form.append("slide", slide);
    }
    return call("POST", this.base + "/presentation", form);
  }

  /** PUT /rooms/<ak>/presentation slide=<URL>: show another slide. */
  changeSlide(slide) {
    const form = new FormData();
    form.append("slide", slide);
    return call("PUT", this.base + "/presentation", form);
  }

  /** DELETE /rooms/<ak>/presentation: end the presentation. */
  stopPresentation() {
    return call("DELETE", this.base + "/presentation");
  }

  /** GET /rooms/<ak>/files: {files: [...]} shared in the meeting. */
  files() {
    return call("GET", this.base + "/files");
  }
}
