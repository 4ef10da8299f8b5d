// The meeting's video in the call: the server's composite and mixed audio on the page's video
// element. A browser may refuse to play sound the person did not ask for (autoplay policy):
// then a "Click to start video and sound" button over the video starts it.

const START_LABEL = "Click to start video and sound";

export class Composite {
  constructor(view) {
    this.view = view;
    this.video = view.composite;
    this.start = document.createElement("button");
    this.start.type = "button";
    this.start.className = "button screen__start";
    this.start.textContent = START_LABEL;
    this.start.hidden = true;
    this.start.dataset.startPlaying = "";
    view.screen.append(this.start);
    this.start.addEventListener("click", () => this.play());
    this.video.addEventListener("playing", () => this.showStart(false));
  }

  /** A new call: its tracks play here. */
  attach(call) {
    const remote = new MediaStream();
    this.video.srcObject = remote;
    call.addEventListener("track", (event) => {
      const stream = event.detail.streams && event.detail.streams[0];
      if (stream && this.video.srcObject !== stream) {
        this.video.srcObject = stream;
      } else if (!stream) {
        remote.addTrack(event.detail.track);
      }
      this.play();
    });
  }

  /** Play; when the browser wants a click first, offer the button (until it plays). */
  play() {
    this.video.play().then(
      () => this.showStart(false),
      (error) => {
        // AbortError: a newer stream replaced this one (its own play() follows); not a refusal
        if (error && error.name === "NotAllowedError" && this.video.srcObject) {
          this.showStart(true);
        }
      },
    );
  }

  showStart(shown) {
    const button = this.start;
    if (button.hidden === !shown) {
      return;
    }
    const focused = document.activeElement;
    button.hidden = !shown;
    if (shown && (!focused || focused === document.body || focused === this.view.mic)) {
      button.focus(); // nothing else was being used: the one thing to do now
    } else if (!shown && focused === button) {
      this.view.mic.focus();
    }
  }

  /** The call is over. */
  clear() {
    this.video.srcObject = null;
    this.showStart(false);
  }
}
