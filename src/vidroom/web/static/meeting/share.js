// Screen sharing in the call: the share toggle, a picker the person cancels, and the browser's
// own "Stop sharing" (the screen track ends). The screen replaces the camera on the video
// sender (media.js); the call is told with desktopstreaming and mute_video.

import { canShareScreen } from "./media.js";

// what getDisplayMedia rejects with when the person closes or cancels the picker
const CANCELLED = new Set(["NotAllowedError", "AbortError"]);

export class ScreenShare {
  /** call: () => the SeppCall, or null. */
  constructor(view, media, call) {
    this.view = view;
    this.media = media;
    this.call = call;
    this.active = false; // the screen is being sent
    this.picking = false; // the browser's picker is open
    this.changed = () => {}; // told when sharing starts or ends (host.js)
  }

  bind() {
    const button = this.view.share;
    button.hidden = !canShareScreen();
    button.addEventListener("click", () => this.toggle());
    // the browser's own "Stop sharing", or the shared window closed
    this.media.addEventListener("screenended", () => this.stopped());
  }

  async toggle() {
    if (this.active) {
      await this.stop();
    } else {
      await this.start();
    }
  }

  async start() {
    const call = this.call();
    if (!call || this.picking) {
      return;
    }
    this.picking = true;
    try {
      await this.media.shareScreen();
    } catch (error) {
      const cancelled = CANCELLED.has(error && error.name);
      this.view.say(cancelled ? "Screen sharing was cancelled." : "Your screen could not be shared.");
      return;
    } finally {
      this.picking = false;
    }
    if (this.call() !== call) {
      // the call ended while the picker was open: nothing to share into
      await this.media.stopSharing().catch(() => {});
      return;
    }
    this.active = true;
    this.view.pressed(this.view.share, true);
    call.desktopStreaming(true);
    call.muteVideo(false);
    this.view.say("You are sharing your screen.");
    this.changed();
  }

  async stop() {
    try {
      await this.media.stopSharing();
    } finally {
      this.stopped();
    }
  }

  /** Sharing ended (the toggle or the browser): back to the camera. */
  stopped() {
    if (!this.active) {
      return;
    }
    this.active = false;
    this.view.pressed(this.view.share, false);
    const call = this.call();
    if (call) {
      call.desktopStreaming(false);
      call.muteVideo(this.media.cameraOff);
    }
    this.view.say("You stopped sharing your screen.");
    this.changed();
  }

  /** The call is over (the screen track is stopped with the others). */
  reset() {
    this.active = false;
    this.view.pressed(this.view.share, false);
  }
}
