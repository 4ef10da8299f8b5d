// The toolbar's icons: inline SVG drawn here (24x24, stroked with currentColor), built with the
// DOM (never markup strings), no icon font or download. fillIcons() puts them into every
// [data-icon] placeholder; a button may carry two, one for each aria-pressed state (meeting.css).

const SVG = "http://www.w3.org/2000/svg";

// each icon: a list of path data strings (stroked), plus optional filled circles [cx, cy, r]
export const ICONS = {
  mic: { paths: ["M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z", "M5 11a7 7 0 0 0 14 0", "M12 18v3", "M8 21h8"] },
  micOff: { paths: ["M15 10V6a3 3 0 0 0-5.7-1.3", "M9 9v3a3 3 0 0 0 4.9 2.3", "M5 11a7 7 0 0 0 11.3 5.5", "M19 11a7 7 0 0 1-.6 2.8", "M12 18v3", "M8 21h8", "M3 3l18 18"] },
  camera: { paths: ["M3 7h12v10H3z", "M15 10l6-3v10l-6-3"] },
  cameraOff: { paths: ["M9 7h6v6", "M15 17H3V7h2", "M15 10l6-3v10l-4-2", "M3 3l18 18"] },
  share: { paths: ["M3 5h18v11H3z", "M8 20h8", "M12 16v4", "M12 13V8", "M9.5 10.5L12 8l2.5 2.5"] },
  chat: { paths: ["M4 5h16v11H9l-5 4z", "M8 9h8", "M8 12h5"] },
  people: { paths: ["M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z", "M2.5 20a6.5 6.5 0 0 1 13 0", "M16 4.5a3.5 3.5 0 0 1 0 6.5", "M18 14a6 6 0 0 1 3.5 6"] },
  record: { paths: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z"], dots: [[12, 12, 4.5]] },
  layout: { paths: ["M3 4h18v16H3z", "M12 4v16", "M12 12h9"] },
  fullscreen: { paths: ["M4 9V4h5", "M15 4h5v5", "M20 15v5h-5", "M9 20H4v-5"] },
  leave: { paths: ["M3.5 14.5c5-5 12-5 17 0l-2.5 2.5-3-1.5v-2.5a10 10 0 0 0-6 0v2.5l-3 1.5z"] },
  close: { paths: ["M6 6l12 12", "M18 6L6 18"] },
};

/** An <svg> for the icon ``name`` (hidden from assistive technology: the button has a label). */
export function icon(name) {
  const shape = ICONS[name];
  if (!shape) {
    throw new Error("meeting page: no icon " + name);
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.classList.add("icon");
  for (const d of shape.paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  for (const [cx, cy, r] of shape.dots || []) {
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", String(cx));
    dot.setAttribute("cy", String(cy));
    dot.setAttribute("r", String(r));
    dot.setAttribute("fill", "currentColor");
    dot.setAttribute("stroke", "none");
    svg.append(dot);
  }
  return svg;
}

/** Fill every empty [data-icon] placeholder under ``root`` with its icon. */
export function fillIcons(root) {
  for (const slot of root.querySelectorAll("[data-icon]")) {
    if (!slot.firstElementChild) {
      slot.append(icon(slot.dataset.icon));
    }
  }
}
