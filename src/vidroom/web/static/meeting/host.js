// The host controls on the meeting page (spec eyeson.md §3.1 Layers, Presentation, Files; §3.2
// layout): the layout picker (named layouts or the automatic grid, voice activation, names),
// the foreground/background layer (an image or a text card), presenting the screen or a
// converted file's slides, and "mute everyone" (/rt stfu). Shown to participants who are not
// guests; the layout picker only where the meeting's options allow it (layout_available).
// The server's {"error": ...} is shown in words in the panel's alert.

import {
  LAYOUTS,
  hostError,
  hostParts,
  layerProblem,
  layoutFields,
  layoutState,
  slideFiles,
  stepSlide,
} from "./host_rules.js";

function one(root, selector) {
  const found = root.querySelector(selector);
  if (!found) {
    throw new Error("meeting page: missing " + selector);
  }
  return found;
}

export class HostControls {
  /**
   * api: Api; room: () => the room response; rt: () => the Realtime connection or null;
   * share: the ScreenShare (its `changed` hook is set here).
   */
  constructor(root, api, { room, rt, share }) {
    const $ = (selector) => one(root, selector);
    this.panel = $("[data-host]");
    this.status = $("[data-host-status]");
    this.error = $("[data-host-error]");
    this.layoutForm = $("[data-layout-form]");
    this.layoutName = $("[data-layout-name]");
    this.layoutVoice = $("[data-layout-voice]");
    this.layoutNames = $("[data-layout-names]");
    this.layerForm = $("[data-layer-form]");
    this.layerFile = $("[data-layer-file]");
    this.layerTitle = $("[data-layer-title]");
    this.layerContent = $("[data-layer-content]");
    this.layerRemove = $("[data-layer-remove]");
    this.present = $("[data-present]");
    this.presentStop = $("[data-present-stop]");
    this.presenter = $("[data-presenter-state]");
    this.slideFile = $("[data-slide-file]");
    this.slideReload = $("[data-slide-reload]");
    this.slidePrev = $("[data-slide-prev]");
    this.slideNext = $("[data-slide-next]");
    this.slideState = $("[data-slide-state]");
    this.stfuButton = $("[data-stfu]");
    this.api = api;
    this.room = room;
    this.rt = rt;
    this.share = share;
    this.busy = false;
    this.presenting = false; // we asked for the big spot (POST presentation)
    this.files = [];
    this.slide = -1; // the slide shown of the chosen file, -1 before the first
    this.loaded = false;
  }

  bind() {
    this.layoutName.replaceChildren(...LAYOUTS.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }));
    this.layoutForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.applyLayout();
    });
    this.layerForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.addLayer();
    });
    this.layerRemove.addEventListener("click", () => this.act(
      () => this.api.removeLayer(this.layerZ()), "The layer could not be removed", "The layer was removed.",
    ));
    this.present.addEventListener("click", () => this.startPresenting());
    this.presentStop.addEventListener("click", () => this.stopPresenting());
    this.slideReload.addEventListener("click", () => this.loadFiles());
    this.slideFile.addEventListener("change", () => {
      this.slide = -1;
      this.showSlides();
    });
    this.slideNext.addEventListener("click", () => this.showSlide(1));
    this.slidePrev.addEventListener("click", () => this.showSlide(-1));
    this.stfuButton.addEventListener("click", () => this.stfu());
    this.share.changed = () => this.shareChanged();
  }

  say(text) {
    this.status.textContent = text;
  }

  fail(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** One API call at a time; its error in the panel's alert, else `done` in the status. */
  async act(run, what, done = "") {
    if (this.busy) {
      return false;
    }
    this.busy = true;
    this.panel.setAttribute("aria-busy", "true");
    this.fail("");
    try {
      await run();
      if (done) {
        this.say(done);
      }
      return true;
    } catch (error) {
      this.fail(hostError(what, error));
      return false;
    } finally {
      this.busy = false;
      this.panel.setAttribute("aria-busy", "false");
    }
  }

  /** The room response (GET, room_setup, room_ready): who sees what, the layout's state. */
  setRoom(room) {
    const parts = hostParts(room);
    this.panel.hidden = !parts.panel;
    this.layoutForm.hidden = !parts.layout;
    this.showOptions(room && room.options);
    if (parts.panel && !this.loaded) {
      this.loaded = true;
      this.loadFiles();
    }
  }

  /** options_update: the picker follows the meeting's layout (whoever changed it). */
  showOptions(options) {
    const state = layoutState(options);
    this.layoutName.value = state.name;
    this.layoutVoice.checked = state.voice;
    this.layoutNames.checked = state.names;
    if (options && options.layout_available === false) {
      this.layoutForm.hidden = true;
    }
  }

  applyLayout() {
    const fields = layoutFields(this.layoutName.value, this.layoutVoice.checked, this.layoutNames.checked);
    const label = LAYOUTS.find(([value]) => value === fields.name)[1];
    return this.act(() => this.api.setLayout(fields), "The layout could not be changed", "Layout: " + label + ".");
  }

  layerZ() {
    const picked = this.layerForm.querySelector("input[name=layer-z]:checked");
    return picked && picked.value === "-1" ? -1 : 1;
  }

  async addLayer() {
    const file = this.layerFile.files && this.layerFile.files[0] ? this.layerFile.files[0] : null;
    const title = this.layerTitle.value;
    const content = this.layerContent.value;
    const problem = layerProblem(file, title, content);
    if (problem) {
      this.fail(problem);
      (file ? this.layerFile : this.layerTitle).focus();
      return;
    }
    const z = this.layerZ();
    const shown = await this.act(
      () => this.api.addLayer(z, file ? { file } : { title, content }),
      "The layer could not be shown",
      z === 1 ? "The layer is shown over the video." : "The layer is shown behind the video.",
    );
    if (shown) {
      this.layerFile.value = "";
    }
  }

  // --- presenting ------------------------------------------------------------------------------

  /**
   * Take the big spot (POST presentation: the server tells everyone, presentation_update),
   * then share the screen into it (if not yet shared); a cancelled picker gives the spot back.
   */
  async startPresenting() {
    const ok = await this.act(() => this.api.startPresentation(), "Your screen could not be presented");
    if (!ok) {
      return;
    }
    this.setPresenting(true);
    if (!this.share.active) {
      await this.share.start();
    }
    if (!this.share.active) {
      this.setPresenting(false);
      await this.api.stopPresentation().catch(() => {});
      this.fail("Presenting needs your screen, and it was not shared.");
      return;
    }
    this.say("You are presenting your screen.");
    this.presentStop.focus();
  }

  async stopPresenting() {
    const ok = await this.act(() => this.api.stopPresentation(), "The presentation could not end",
      "You stopped presenting.");
    if (ok) {
      this.setPresenting(false);
      if (this.share.active) {
        await this.share.stop();
      }
      this.present.focus();
    }
  }

  /** The screen share started or ended (the toggle or the browser's own "Stop sharing"). */
  shareChanged() {
    if (!this.share.active && this.presenting) {
      this.setPresenting(false);
      this.api.stopPresentation().catch(() => {});
    }
  }

  setPresenting(on) {
    this.presenting = on;
    this.present.hidden = on;
    this.presentStop.hidden = !on;
  }

  /** presentation_update: who presents now (null: nobody). */
  presentation(detail) {
    const p = detail && detail.presentation;
    const user = p && p.user;
    const me = this.room() && this.room().user;
    if (!p) {
      this.presenter.textContent = "Nobody is presenting.";
      if (this.presenting) {
        this.setPresenting(false);
      }
      return;
    }
    const mine = user && me && user.id === me.id;
    this.presenter.textContent = mine ? "You are presenting." : (user && user.name ? user.name : "Someone") + " is presenting.";
  }

  // --- slides ----------------------------------------------------------------------------------

  /** The meeting's files with slides (on showing the panel, files_update, "Reload files"). */
  async loadFiles() {
    if (this.panel.hidden) {
      return;
    }
    let body;
    try {
      body = await this.api.files();
    } catch (error) {
      this.slideState.textContent = hostError("The files could not be loaded", error);
      this.files = [];
      this.fillFiles();
      return;
    }
    this.files = slideFiles(body);
    this.fillFiles();
  }

  fillFiles() {
    const current = this.slideFile.value;
    const none = document.createElement("option");
    none.value = "";
    none.textContent = this.files.length ? "Choose a file" : "No converted files";
    const options = this.files.map((f) => {
      const option = document.createElement("option");
      option.value = f.id;
      option.textContent = f.name + " (" + f.slides.length + (f.slides.length === 1 ? " slide)" : " slides)");
      return option;
    });
    this.slideFile.replaceChildren(none, ...options);
    this.slideFile.value = this.files.some((f) => f.id === current) ? current : "";
    this.showSlides();
  }

  chosen() {
    return this.files.find((f) => f.id === this.slideFile.value) || null;
  }

  showSlides() {
    const file = this.chosen();
    this.slidePrev.disabled = !file || this.slide <= 0;
    this.slideNext.disabled = !file || this.slide >= file.slides.length - 1;
    this.slideNext.textContent = file && this.slide < 0 ? "Show the first slide" : "Next slide";
    this.slideState.textContent = !file
      ? ""
      : this.slide < 0
        ? file.slides.length + " slides."
        : "Slide " + (this.slide + 1) + " of " + file.slides.length + ".";
  }

  /** The first slide POSTs the presentation; the next ones PUT it. */
  async showSlide(delta) {
    const file = this.chosen();
    if (!file) {
      return;
    }
    const next = this.slide < 0 ? 0 : stepSlide(this.slide, delta, file.slides.length);
    const url = file.slides[next];
    const first = this.slide < 0;
    const ok = await this.act(
      () => (first ? this.api.startPresentation(url) : this.api.changeSlide(url)),
      "The slide could not be shown",
    );
    if (ok) {
      this.slide = next;
    }
    this.showSlides();
  }

  // --- mute everyone ---------------------------------------------------------------------------

  stfu() {
    const rt = this.rt();
    if (!rt || !rt.connected()) {
      this.fail("Everyone could not be muted: the meeting's connection is not open.");
      return;
    }
    this.fail("");
    rt.perform("stfu");
    this.say("You muted everyone.");
  }
}
