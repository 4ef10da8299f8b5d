// The host controls' rules (host.js): the named layouts, which parts the room response allows,
// the layout request's fields, the slides of the meeting's converted files, the layer form's
// checks and the API's errors in words. Pure: no DOM, no requests.

export const LAYOUTS = [
  ["", "Automatic grid"],
  ["one", "One"],
  ["two", "Two"],
  ["four", "Four"],
  ["six", "Six"],
  ["nine", "Nine"],
  ["present-lower-3", "Presentation, 3 below"],
  ["present-upper-6", "Presentation, 6 above"],
  ["present-two-upper-6", "Two presentations, 6 above"],
  ["present-upper-right-9", "Presentation, 9 upper right"],
  ["present-vertical-9", "Presentation, 9 at the side"],
];

const REFUSALS = {
  0: "the server could not be reached",
  405: "it is turned off for this meeting",
  406: "nobody is in the call yet",
  409: "someone else is presenting",
  410: "the meeting has ended",
};

/** The API's error in words: "<what>: <why>." (the server's own message where it gave one). */
export function hostError(what, error) {
  const status = error && error.status;
  const own = error && typeof error.message === "string" && error.message !== "" ? error.message : "";
  const why = (status === 400 || status === 422 || status === 413 || status === 415) && own
    ? own
    : REFUSALS[status] || own || "unknown error";
  return what + ": " + why + ".";
}

/** Which parts of the host controls the room response allows: {panel, layout}. */
export function hostParts(room) {
  const user = (room && room.user) || {};
  const options = (room && room.options) || {};
  const host = Boolean(room) && user.guest !== true;
  return { panel: host, layout: host && options.layout_available !== false };
}

/** The layout request's fields: a named layout, or "" for the automatic grid. */
export function layoutFields(name, voice, names) {
  const known = LAYOUTS.some(([value]) => value === name);
  return {
    layout: "auto",
    name: known ? name : "",
    voice_activation: voice ? "true" : "false",
    show_names: names ? "true" : "false",
  };
}

/** The picker's state from the meeting's options: {name, voice, names}. */
export function layoutState(options) {
  const o = options || {};
  const name = typeof o.layout_name === "string" && LAYOUTS.some(([v]) => v === o.layout_name)
    ? o.layout_name
    : "";
  return { name, voice: o.voice_activation === true, names: o.show_names !== false };
}

/** The meeting's files that have slides: [{id, name, slides: [URL...]}]. */
export function slideFiles(body) {
  const files = body && Array.isArray(body.files) ? body.files : [];
  return files
    .filter((f) => f && f.converted && !f.failed && f.links && Array.isArray(f.links.slides))
    .map((f) => ({
      id: String(f.id),
      name: String(f.name || f.id),
      slides: f.links.slides.filter((s) => typeof s === "string" && /^https?:\/\//i.test(s)),
    }))
    .filter((f) => f.slides.length > 0);
}

/** The slide index after stepping by delta (-1, +1), kept within the file's slides. */
export function stepSlide(index, delta, count) {
  if (count <= 0) {
    return -1;
  }
  return Math.min(count - 1, Math.max(0, index + delta));
}

/** What is wrong with the layer form, or "". */
export function layerProblem(file, title, content) {
  if (file && (title.trim() !== "" || content.trim() !== "")) {
    return "Choose an image or write a text card, not both.";
  }
  if (!file && title.trim() === "" && content.trim() === "") {
    return "Choose an image or write a title or text for the card.";
  }
  if (file && file.type && !/^image\/(png|jpeg|webp|svg\+xml)$/.test(file.type)) {
    return "The image must be a PNG, JPEG, WebP or SVG file.";
  }
  return "";
}
