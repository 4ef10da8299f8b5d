// Short notices on the meeting page (joins, leaves, lock, recording, errors): toasts in a
// polite live region (errors in an assertive one), each with a dismiss button, gone after a few
// seconds; at most MAX_TOASTS at once (the oldest goes). Text goes in with textContent only.

export const MAX_TOASTS = 4;

/** status.css (toasts, connection indicator, people markers) on the page, once. */
export function statusStyles() {
  if (!document.querySelector("link[data-status-css]")) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("./status.css", import.meta.url).href;
    link.dataset.statusCss = "";
    document.head.append(link);
  }
}
export const TOAST_MS = 6000;
export const ERROR_TOAST_MS = 10000;

// aria-live without a role: the page already has its one role=status line and role=alert
// line, and other parts (and tests) find those by role
function region(className, live) {
  const node = document.createElement("div");
  node.className = className;
  if (live) {
    node.setAttribute("aria-live", live);
    node.setAttribute("aria-relevant", "additions");
  }
  return node;
}

export class Toasts {
  /** root: where the toasts go (the meeting root); ms: how long a notice stays. */
  constructor(root, { ms = TOAST_MS, errorMs = ERROR_TOAST_MS, max = MAX_TOASTS } = {}) {
    this.root = root;
    this.ms = ms;
    this.errorMs = errorMs;
    this.max = max;
    this.box = document.createElement("div");
    this.box.className = "toasts";
    this.box.dataset.toasts = "";
    this.polite = region("toasts__list", "polite");
    this.assertive = region("toasts__list toasts__list--errors", "assertive");
    this.quiet = region("toasts__list", ""); // errors the page's own alert line announces
    this.box.append(this.assertive, this.quiet, this.polite);
    this.timers = new Map(); // toast → timer
    this.last = new Map(); // text → when it was last shown (no repeats within a second)
  }

  mount() {
    this.root.append(this.box);
    return this;
  }

  /** The toasts showing now, oldest first. */
  get shown() {
    return Array.from(this.timers.keys()); // a Map keeps the order of insertion
  }

  info(text) {
    return this.show(text, "info");
  }

  error(text) {
    return this.show(text, "error");
  }

  /**
   * A toast; kind "info" (polite) or "error" (assertive; quiet: shown, not announced).
   * Returns it (or null for "" and for the same text again within a second).
   */
  show(text, kind = "info", quiet = false) {
    const message = String(text || "").trim();
    const now = Date.now();
    if (!message || now - (this.last.get(kind + message) || 0) < 1000) {
      return null;
    }
    this.last.set(kind + message, now);
    const toast = document.createElement("div");
    toast.className = "toast toast--" + kind;
    toast.dataset.toast = kind;
    const body = document.createElement("p");
    body.className = "toast__text";
    body.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", "Dismiss: " + message);
    close.textContent = "×";
    close.addEventListener("click", () => this.dismiss(toast));
    toast.append(body, close);
    (quiet ? this.quiet : kind === "error" ? this.assertive : this.polite).append(toast);
    this.timers.set(toast, window.setTimeout(() => this.dismiss(toast), kind === "error" ? this.errorMs : this.ms));
    const all = this.shown;
    all.slice(0, Math.max(0, all.length - this.max)).forEach((old) => this.dismiss(old));
    return toast;
  }

  dismiss(toast) {
    window.clearTimeout(this.timers.get(toast));
    this.timers.delete(toast);
    const focused = toast.contains(document.activeElement);
    toast.remove();
    if (focused) {
      const next = this.shown.at(-1);
      (next ? next.querySelector("button") : this.root).focus({ preventScroll: true });
    }
  }

  /**
   * Errors the page shows in an element of its own (the error line) also come as a toast:
   * whenever its text changes to something visible. When the element is an alert itself, the
   * toast is only seen, not announced twice.
   */
  mirror(element) {
    const current = () => (element.hidden ? "" : element.textContent.trim());
    let before = current();
    const seen = () => {
      const text = current();
      if (text && text !== before) {
        this.show(text, "error", element.getAttribute("role") === "alert");
      }
      before = text;
    };
    new MutationObserver(seen).observe(element, {
      childList: true, characterData: true, subtree: true, attributes: true, attributeFilter: ["hidden"],
    });
  }
}
