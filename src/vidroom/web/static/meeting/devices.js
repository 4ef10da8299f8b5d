// The camera and microphone on the page: the preview, the device lists, and the microphone
// and camera toggles (in the lobby and in the call alike). LocalMedia (media.js) holds the tracks.

export class Devices {
  /**
   * call: () => the SeppCall, or null; sharing: () => whether the screen is sent in place of
   * the camera (then the camera toggle does not mute the call's video).
   */
  constructor(view, media, { call, sharing }) {
    this.view = view;
    this.media = media;
    this.call = call;
    this.sharing = sharing;
  }

  bind() {
    const v = this.view;
    v.previewMic.addEventListener("click", () => this.toggleMic());
    v.mic.addEventListener("click", () => this.toggleMic());
    v.previewCamera.addEventListener("click", () => this.toggleCamera());
    v.cameraToggle.addEventListener("click", () => this.toggleCamera());
    v.cameraSelect.addEventListener("change", () => this.use("video", v.cameraSelect.value));
    v.microphoneSelect.addEventListener("change", () => this.use("audio", v.microphoneSelect.value));
  }

  /** Whether the call shows no video of ours: the camera is off and no screen is shared. */
  get videoMuted() {
    return this.media.cameraOff && !this.sharing();
  }

  /** Open the camera and microphone, show the preview and list the devices. */
  async preview() {
    try {
      await this.media.open();
      this.view.fail("");
    } catch (error) {
      this.view.fail("No camera or microphone could be used. You can still join to see and hear the others.");
    }
    this.showPreview();
    await this.list();
  }

  showPreview() {
    const v = this.view;
    v.previewEmpty.hidden = Boolean(this.media.camera) && !this.media.cameraOff;
    if (!this.media.camera) {
      // no camera: nothing to show (an empty stream would keep the page "loading" for good)
      v.preview.srcObject = null;
      return;
    }
    v.preview.srcObject = this.media.stream;
    v.preview.play().catch(() => {}); // muted: never blocked; a newer stream aborts it
  }

  async list() {
    const v = this.view;
    try {
      const { cameras, microphones } = await this.media.devices();
      v.fillDevices(v.cameraSelect, cameras, this.media.cameraId, "Camera");
      v.fillDevices(v.microphoneSelect, microphones, this.media.microphoneId, "Microphone");
    } catch (error) {
      v.fillDevices(v.cameraSelect, [], "", "Camera");
      v.fillDevices(v.microphoneSelect, [], "", "Microphone");
    }
  }

  async use(kind, deviceId) {
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

  toggleMic() {
    this.media.setMicMuted(!this.media.micMuted);
    const muted = this.media.micMuted;
    this.view.pressed(this.view.mic, muted);
    this.view.pressed(this.view.previewMic, muted);
    this.view.say(muted ? "Microphone muted." : "Microphone on.");
  }

  /** Mute the microphone if it is on (someone muted everyone). */
  muteMic() {
    if (!this.media.micMuted) {
      this.toggleMic();
    }
  }

  toggleCamera() {
    this.media.setCameraOff(!this.media.cameraOff);
    const off = this.media.cameraOff;
    this.view.pressed(this.view.cameraToggle, off);
    this.view.pressed(this.view.previewCamera, off);
    this.view.previewEmpty.hidden = Boolean(this.media.camera) && !off;
    const call = this.call();
    if (call && !this.sharing()) {
      call.muteVideo(off);
    }
    this.view.say(off ? "Camera off." : "Camera on.");
  }
}
