// The local media: camera and microphone (with device choice), mute by track.enabled, and
// screen sharing by replacing the camera track on the video sender.

const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 15, max: 30 } };
const SCREEN = { width: { max: 1920 }, height: { max: 1080 }, frameRate: { max: 15 } };

export function canShareScreen() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
}

export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.stream = new MediaStream();
    this.cameraId = "";
    this.microphoneId = "";
    this.micMuted = false;
    this.cameraOff = false;
    this.screen = null; // the screen track while sharing
    this.sender = null; // () => RTCRtpSender | null, while in a call
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get audio() {
    return this.stream.getAudioTracks()[0] || null;
  }

  get camera() {
    return this.stream.getVideoTracks()[0] || null;
  }

  /** Ask for camera and microphone; either may be missing (then the other is used alone). */
  async open() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("This browser cannot use a camera or microphone here.");
    }
    const video = this.cameraId ? { ...CAMERA, deviceId: { exact: this.cameraId } } : CAMERA;
    const audio = this.microphoneId ? { deviceId: { exact: this.microphoneId } } : true;
    let got;
    try {
      got = await navigator.mediaDevices.getUserMedia({ audio, video });
    } catch (both) {
      got = await navigator.mediaDevices.getUserMedia({ audio }).catch(() =>
        navigator.mediaDevices.getUserMedia({ video }).catch(() => {
          throw both;
        }));
    }
    this.stop();
    this.stream = got;
    this.remember();
    this.apply();
    return this.stream;
  }

  remember() {
    const camera = this.camera;
    const audio = this.audio;
    this.cameraId = camera ? camera.getSettings().deviceId || this.cameraId : this.cameraId;
    this.microphoneId = audio ? audio.getSettings().deviceId || this.microphoneId : this.microphoneId;
  }

  apply() {
    if (this.audio) {
      this.audio.enabled = !this.micMuted;
    }
    if (this.camera) {
      this.camera.enabled = !this.cameraOff;
    }
  }

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((d) => d.kind === "videoinput"),
      microphones: all.filter((d) => d.kind === "audioinput"),
    };
  }

  /** Use another device: a new track of that kind, swapped in the stream and the call. */
  async use(kind, deviceId) {
    const constraints = kind === "video"
      ? { video: { ...CAMERA, deviceId: { exact: deviceId } } }
      : { audio: { deviceId: { exact: deviceId } } };
    const fresh = await navigator.mediaDevices.getUserMedia(constraints);
    const track = kind === "video" ? fresh.getVideoTracks()[0] : fresh.getAudioTracks()[0];
    const old = kind === "video" ? this.camera : this.audio;
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
    this.remember();
    this.apply();
    if (!(kind === "video" && this.screen)) {
      await this.replace(kind, track);
    }
    this.emit("change");
  }

  async replace(kind, track) {
    const sender = this.sender ? this.sender(kind) : null;
    if (sender) {
      await sender.replaceTrack(track);
    }
  }

  setMicMuted(muted) {
    this.micMuted = Boolean(muted);
    this.apply();
  }

  setCameraOff(off) {
    this.cameraOff = Boolean(off);
    this.apply();
  }

  /**
   * Start sharing the screen (replaces the camera on the sender); ends on `screenended`.
   * Rejects as getDisplayMedia does (NotAllowedError, AbortError: the picker was cancelled).
   */
  async shareScreen() {
    const captured = await navigator.mediaDevices.getDisplayMedia({ video: SCREEN, audio: false });
    const track = captured.getVideoTracks()[0];
    captured.getAudioTracks().forEach((extra) => extra.stop());
    if (!track) {
      throw new DOMException("No screen was captured.", "NotFoundError");
    }
    track.addEventListener("ended", () => {
      if (this.screen === track) {
        this.stopSharing().then(() => this.emit("screenended"));
      }
    });
    this.screen = track;
    try {
      await this.replace("video", track);
    } catch (error) {
      this.screen = null;
      track.stop();
      throw error;
    }
    return track;
  }

  /** Stop sharing: the camera (or nothing) back on the sender. Never rejects. */
  async stopSharing() {
    const track = this.screen;
    this.screen = null;
    if (track) {
      track.stop();
    }
    try {
      await this.replace("video", this.camera);
    } catch (error) {
      // the call is closing: its sender is gone with it
    }
  }

  stop() {
    this.stream.getTracks().forEach((track) => track.stop());
    if (this.screen) {
      this.screen.stop();
      this.screen = null;
    }
  }
}
