// The call's stage: the composite over the whole viewport, the bottom toolbar of icon buttons
// (tooltips naming their shortcuts, hidden when idle), the side panel for chat, people,
// recording and the host controls (beside the stage, over it on a phone), and the recording
// and broadcast badges on the stage. The toolbar's buttons keep their own handlers
// (devices.js, share.js, meeting.js); the shortcuts click them. Vanilla ES modules, no framework
// or build step. On a narrow screen the panel covers the stage: what is behind it is inert.

import { fillIcons } from "./icons.js";
import { IDLE_MS, IdleTimer, keyOf, shortcutFor, toolbarHidden } from "./shortcuts.js";

// the side panel's sections, by the toolbar button that opens them
const SECTIONS = {
  chat: "[data-chat]",
  people: "[data-people-panel]",
  record: "[data-egress]",
  layout: "[data-host]",
};

const LIVE_TEXT = { starting: "Going live…", live: "Live", reconnecting: "Live: reconnecting…" };

function visible(element) {
  return Boolean(element) && !element.hidden && !element.closest("[hidden]");
}

export class Stage {
  constructor(view) {
    const root = view.root;
    this.view = view;
    this.root = root;
    this.call = view.call;
    this.toolbar = root.querySelector("[data-controls]");
    this.side = root.querySelector("[data-side]");
    this.close = root.querySelector("[data-side-close]");
    this.tools = new Map(Array.from(root.querySelectorAll("[data-tool]"), (button) => [button.dataset.tool, button]));
    this.live = root.querySelector("[data-live-indicator]");
    this.open = null; // the section shown in the side panel, or null (closed)
    this.opener = null; // what had the focus when the panel opened
    this.idle = new IdleTimer(IDLE_MS, () => this.update());
    this.main = root.querySelector(".room__main");
    this.narrow = window.matchMedia("(max-width: 700px)"); // as meeting.css
    this.hover = window.matchMedia("(hover: hover)");
  }

  get inCall() {
    return this.root.dataset.part === "call";
  }

  bind() {
    fillIcons(this.root);
    for (const [action, button] of this.tools) {
      const key = keyOf(action);
      const label = button.getAttribute("aria-label");
      button.dataset.tip = key ? label + " (" + key + ")" : label;
      if (button.dataset.tipOn) {
        button.dataset.tipOn = button.dataset.tipOn + (key ? " (" + key + ")" : "");
      }
      if (key) {
        button.setAttribute("aria-keyshortcuts", key);
      }
      if (action in SECTIONS) {
        button.addEventListener("click", () => this.toggle(action));
      }
    }
    this.close.addEventListener("click", () => this.hidePanel());
    this.narrow.addEventListener("change", () => this.update());
    document.addEventListener("keydown", (event) => this.key(event));
    for (const type of ["pointermove", "pointerdown", "keydown", "wheel"]) {
      document.addEventListener(type, () => this.active(), { passive: true });
    }
    document.addEventListener("focusin", () => this.active());
    document.addEventListener("focusout", () => queueMicrotask(() => this.update()));
    // what egress.js and host.js show or hide: the record and layout buttons, the live badge
    new MutationObserver(() => this.sync()).observe(this.root, {
      subtree: true,
      attributes: true,
      attributeFilter: ["hidden", "data-state"],
    });
    // a new status line is news: it shows (with the toolbar) even when idle
    new MutationObserver(() => this.active()).observe(this.view.status, { childList: true, characterData: true, subtree: true });
    this.sync();
  }

  /** View.show tells which part shows: "lobby", "call" or "left". */
  part(part) {
    const call = part === "call";
    document.body.classList.toggle("in-call", call);
    this.root.closest("[data-meeting]")?.classList.toggle("meeting--call", call);
    if (!call) {
      this.hidePanel(false);
      this.idle.stop();
    } else {
      this.idle.poke();
    }
    this.update();
  }

  active() {
    if (this.inCall) {
      this.idle.poke();
    }
    this.update();
  }

  update() {
    const hidden = toolbarHidden({
      inCall: this.inCall,
      idle: this.idle.idle,
      focusInside: this.holding(),
      panelOpen: this.open !== null,
    });
    this.call.classList.toggle("call--idle", hidden);
    this.root.classList.toggle("room--idle", hidden); // the status line fades with it
    this.main.inert = this.inCall && this.open !== null && this.narrow.matches;
    this.toolbar.dataset.idle = hidden ? "true" : "false";
  }

  /**
   * Whether the toolbar is in use: the keyboard's focus in it (a tap or click that left a button
   * focused does not count), or a mouse resting over it.
   */
  holding() {
    const active = document.activeElement;
    const focused = this.toolbar.contains(active) && active.matches(":focus-visible");
    return focused || (this.hover.matches && this.toolbar.matches(":hover"));
  }

  /** Left and right arrows move along the toolbar's buttons (the toolbar pattern), Home and End. */
  arrow(event) {
    const buttons = Array.from(this.toolbar.querySelectorAll("button")).filter(visible);
    const at = buttons.indexOf(document.activeElement);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (at < 0 || to === undefined || event.ctrlKey || event.altKey || event.metaKey) {
      return false;
    }
    event.preventDefault();
    buttons[(to + buttons.length) % buttons.length].focus();
    return true;
  }

  key(event) {
    if (!this.inCall || this.arrow(event)) {
      return;
    }
    const action = shortcutFor(event);
    if (action === "close") {
      if (this.open !== null) {
        event.preventDefault();
        this.hidePanel();
      }
      return;
    }
    const button = action && this.tools.get(action);
    if (button && visible(button) && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  }

  toggle(section) {
    if (this.open === section) {
      this.hidePanel();
    } else {
      this.showPanel(section);
    }
  }

  showPanel(section) {
    const target = this.root.querySelector(SECTIONS[section]);
    if (!target) {
      return;
    }
    if (this.open === null) {
      this.opener = document.activeElement;
    }
    this.open = section;
    this.root.classList.add("room--panel");
    this.side.dataset.view = section;
    this.pressTools();
    this.view.toggleChat(true); // the panel shows the chat with the rest: nothing is unread
    target.scrollIntoView({ block: "start" });
    this.focusIn(section, target).focus();
    this.update();
  }

  /** Close the side panel; the focus goes back to where it was (or the button for it). */
  hidePanel(refocus = true) {
    if (this.open === null) {
      return;
    }
    const section = this.open;
    this.open = null;
    this.root.classList.remove("room--panel");
    delete this.side.dataset.view;
    this.pressTools();
    this.view.toggleChat(false);
    this.update(); // no longer inert: the focus may go back
    if (refocus && this.inCall) {
      const back = visible(this.opener) && this.toolbar.contains(this.opener) ? this.opener : this.tools.get(section);
      back.focus();
    }
    this.opener = null;
    this.active();
  }

  /** Where the focus goes in an opened section: the chat's input, the layout, or its heading. */
  focusIn(section, target) {
    const wanted = {
      chat: "[data-chat-input]",
      record: "[data-rec-controls]:not([hidden]) button:not([hidden])",
      layout: "[data-layout-form]:not([hidden]) select",
    }[section];
    const found = wanted && target.querySelector(wanted);
    return visible(found) ? found : target.querySelector(".panel__title");
  }

  pressTools() {
    for (const section of Object.keys(SECTIONS)) {
      this.tools.get(section)?.setAttribute("aria-expanded", this.open === section ? "true" : "false");
    }
  }

  /** The record and layout buttons follow the host panel; the live badge the broadcast's state. */
  sync() {
    const host = this.root.querySelector("[data-host]");
    const hostShown = Boolean(host) && !host.hidden;
    const record = this.root.querySelector("[data-rec-controls]");
    const layout = this.root.querySelector("[data-layout-form]");
    this.setHidden(this.tools.get("record"), !(hostShown && record && !record.hidden));
    this.setHidden(this.tools.get("layout"), !(hostShown && layout && !layout.hidden));
    const recording = this.root.querySelector("[data-rec-indicator]");
    const recordTool = this.tools.get("record");
    const recordState = (recording && recording.dataset.state) || "off";
    if (recordTool && recordTool.dataset.state !== recordState) {
      recordTool.dataset.state = recordState;
    }
    const state = this.root.querySelector("[data-bcast-state]")?.dataset.state || "off";
    const text = LIVE_TEXT[state] || "";
    if (this.live.textContent !== text) {
      this.live.textContent = text;
    }
    this.setHidden(this.live, text === "");
    if (this.live.dataset.state !== state) {
      this.live.dataset.state = state;
    }
  }

  setHidden(element, hidden) {
    if (element && element.hidden !== hidden) {
      element.hidden = hidden; // only on a change: the observer sees its own writes
    }
  }
}
