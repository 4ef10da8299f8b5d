// The call's keyboard shortcuts and the toolbar's idle rule, free of the DOM's layout so that
// they can be tested on their own (tests/web/test_meeting_stage_js.py). stage.js wires them.

/** A single key (no Ctrl, Alt or Meta) → the toolbar action it triggers. Leave has none. */
export const SHORTCUTS = Object.freeze({
  m: "mic",
  v: "camera",
  s: "share",
  c: "chat",
  p: "people",
  r: "record",
  l: "layout",
  f: "fullscreen",
});

/** How long without pointer or keyboard activity before the toolbar hides (ms). */
export const IDLE_MS = 3000;

const TEXT_INPUTS = new Set(["text", "search", "url", "email", "password", "tel", "number"]);

/** Whether keys typed at ``target`` are text (an input, a text area, a select, editable content). */
export function typing(target) {
  if (!target || typeof target !== "object") {
    return false;
  }
  if (target.isContentEditable) {
    return true;
  }
  const tag = String(target.tagName || "").toLowerCase();
  if (tag === "textarea" || tag === "select") {
    return true;
  }
  if (tag === "input") {
    const type = String(target.type || "text").toLowerCase();
    return TEXT_INPUTS.has(type) || type === "file";
  }
  return false;
}

/**
 * The action a keydown asks for: a SHORTCUTS value, "close" (Escape, even while typing: it
 * closes the side panel), or null (typing, modifiers, repeats, other keys).
 */
export function shortcutFor(event) {
  if (!event || event.defaultPrevented || event.isComposing) {
    return null;
  }
  if (event.key === "Escape") {
    return "close";
  }
  if (event.ctrlKey || event.altKey || event.metaKey || event.repeat || typing(event.target)) {
    return null;
  }
  const key = String(event.key || "").toLowerCase();
  return Object.prototype.hasOwnProperty.call(SHORTCUTS, key) ? SHORTCUTS[key] : null;
}

/** The key to name in a tooltip for ``action`` ("M"), or "". */
export function keyOf(action) {
  const found = Object.entries(SHORTCUTS).find(([, value]) => value === action);
  return found ? found[0].toUpperCase() : "";
}

/**
 * Whether the toolbar is hidden: only in the call, once idle, and never while the keyboard
 * focus is inside it or the side panel is open.
 */
export function toolbarHidden({ inCall, idle, focusInside, panelOpen }) {
  return Boolean(inCall && idle && !focusInside && !panelOpen);
}

/**
 * Idle after ``delay`` ms without poke(); tells ``changed(idle)`` on every change. ``timers``
 * ({set, clear}) defaults to the window's setTimeout/clearTimeout.
 */
export class IdleTimer {
  constructor(delay, changed, timers = { set: (fn, ms) => setTimeout(fn, ms), clear: (id) => clearTimeout(id) }) {
    this.delay = delay;
    this.changed = changed;
    this.timers = timers;
    this.idle = false;
    this.pending = null;
  }

  /** Activity: not idle now, idle again after the delay. */
  poke() {
    this.cancel();
    this.set(false);
    this.pending = this.timers.set(() => {
      this.pending = null;
      this.set(true);
    }, this.delay);
  }

  /** No more idling (the call ended): active, no timer left. */
  stop() {
    this.cancel();
    this.set(false);
  }

  cancel() {
    if (this.pending !== null) {
      this.timers.clear(this.pending);
      this.pending = null;
    }
  }

  set(idle) {
    if (this.idle !== idle) {
      this.idle = idle;
      this.changed(idle);
    }
  }
}
