// The meeting page's recording, broadcast and snapshot DOM (egress.js drives it). Text goes in
// with textContent only; links only when they are http(s).

function one(root, selector) {
  const found = root.querySelector(selector);
  if (!found) {
    throw new Error("meeting page: missing " + selector);
  }
  return found;
}

function safeLink(value) {
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (error) {
    return null;
  }
}

const RECORDING_TEXT = { recording: "Recording", paused: "Recording paused", off: "" };

export class EgressView {
  constructor(root) {
    const $ = (selector) => one(root, selector);
    this.indicator = $("[data-rec-indicator]");
    this.panel = $("[data-egress]");
    this.error = $("[data-egress-error]");
    this.status = $("[data-egress-status]");
    this.recControls = $("[data-rec-controls]");
    this.recStart = $("[data-rec-start]");
    this.recPause = $("[data-rec-pause]");
    this.recResume = $("[data-rec-resume]");
    this.recStop = $("[data-rec-stop]");
    this.recDownload = $("[data-rec-download]");
    this.snapshot = $("[data-snapshot]");
    this.snapshotList = $("[data-snapshots]");
    this.bcast = $("[data-bcast]");
    this.bcastForm = $("[data-bcast-form]");
    this.bcastUrl = $("[data-bcast-url]");
    this.bcastKey = $("[data-bcast-key]");
    this.bcastPlayer = $("[data-bcast-player]");
    this.bcastRunning = $("[data-bcast-running]");
    this.bcastState = $("[data-bcast-state]");
    this.bcastEdit = $("[data-bcast-edit]");
    this.bcastEditPlayer = $("[data-bcast-edit-player]");
    this.bcastStop = $("[data-bcast-stop]");
    this.recordingState = "off";
    this.lastAction = ""; // "recording" | "broadcast": what this person last did here
  }

  egressFail(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  egressSay(text) {
    this.status.textContent = text;
  }

  /** A request is on its way (egress.js ignores more clicks meanwhile; buttons keep focus). */
  egressBusy(busy) {
    this.panel.setAttribute("aria-busy", busy ? "true" : "false");
  }

  showEgressOptions(recording, broadcast) {
    this.recControls.hidden = !recording;
    this.bcast.hidden = !broadcast;
  }

  /** Whether keyboard focus is in one of ``parts`` (or was lost from the panel to the body). */
  focusIn(parts) {
    const active = document.activeElement;
    return active === document.body || parts.some((part) => part.contains(active));
  }

  /** state: "recording" | "paused" | "off" */
  showRecording(state) {
    const before = this.recordingState;
    const buttons = [this.recStart, this.recPause, this.recResume, this.recStop];
    const focused = before !== state && this.focusIn(buttons);
    this.recordingState = state;
    this.indicator.textContent = RECORDING_TEXT[state];
    this.indicator.dataset.state = state;
    this.indicator.hidden = state === "off";
    this.recStart.hidden = state !== "off";
    this.recPause.hidden = state !== "recording";
    this.recResume.hidden = state !== "paused";
    this.recStop.hidden = state === "off";
    if (focused && this.lastAction === "recording") {
      this.lastAction = "";
      (buttons.find((button) => !button.hidden) || this.recStart).focus();
    }
    if (before !== state) {
      this.egressSay(
        state === "recording" ? (before === "paused" ? "The recording resumed." : "The meeting is being recorded.")
          : state === "paused" ? "The recording is paused."
            : before !== "off" ? "The recording stopped." : "",
      );
    }
  }

  showRecordingDownload(href, when) {
    const url = safeLink(href);
    if (!url) {
      return;
    }
    const link = document.createElement("a");
    link.href = url;
    link.rel = "noopener";
    link.textContent = "Download the recording" + (when ? " (started " + when + ")" : "");
    this.recDownload.replaceChildren(link);
    this.recDownload.hidden = false;
  }

  /** snapshots: [{id, href, when}] newest first */
  showSnapshots(snapshots) {
    const items = snapshots.map((snapshot) => {
      const item = document.createElement("li");
      item.dataset.snapshot = snapshot.id;
      const url = safeLink(snapshot.href);
      const label = "Snapshot" + (snapshot.when ? " of " + snapshot.when : "");
      if (url) {
        const link = document.createElement("a");
        link.href = url;
        link.rel = "noopener";
        link.textContent = label;
        item.append(link);
      } else {
        item.textContent = label;
      }
      return item;
    });
    this.snapshotList.replaceChildren(...items);
  }

  /** text: the state in words ("" none runs); state: starting | live | reconnecting | off */
  showBroadcast(text, state, player) {
    const running = state !== "off";
    const was = !this.bcastRunning.hidden;
    const focused = running !== was && this.focusIn([this.bcastForm, this.bcastRunning]);
    this.bcastForm.hidden = running;
    this.bcastRunning.hidden = !running;
    this.bcastState.textContent = text;
    this.bcastState.dataset.state = state;
    if (running && !was) {
      this.bcastEditPlayer.value = player;
    }
    if (focused && this.lastAction === "broadcast") {
      this.lastAction = "";
      (running ? this.bcastStop : this.bcastUrl).focus();
    }
    if (!running && was) {
      this.egressSay("The broadcast stopped.");
    }
  }
}
