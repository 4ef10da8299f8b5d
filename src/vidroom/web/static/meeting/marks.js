// Markers in the people list beside each name: presenting, microphone off (ours: the page
// knows only its own; the server is not told of a muted microphone), camera off (anyone's, from
// source_update's vsrc) and speaking (voice_activity). Each one is text, not colour alone.

/** source_update → the client ids whose camera is off, and who presents ("" for nobody). */
export function podiumState(data) {
  const src = Array.isArray(data && data.src) ? data.src.map(String) : [];
  const vsrc = Array.isArray(data && data.vsrc) ? data.vsrc : [];
  const cameraOff = new Set(src.filter((cid, index) => index < vsrc.length && vsrc[index] === -1));
  const psrc = data && Number.isInteger(data.psrc) ? data.psrc : -1;
  return { cameraOff, presenter: psrc >= 0 && psrc < src.length ? src[psrc] : "" };
}

/**
 * The markers for one person: [{key, text}] in the order shown. status: {presenterCid,
 * presenterUserId, cameraOff: Set of cids, micMuted: bool (ours)}.
 */
export function marksFor(person, status) {
  const marks = [];
  const presenting = (status.presenterCid && person.key === status.presenterCid)
    || (status.presenterUserId && person.userId === status.presenterUserId);
  if (presenting) {
    marks.push({ key: "presenting", text: "presenting" });
  }
  if (person.speaking) {
    marks.push({ key: "speaking", text: "speaking" });
  }
  if (person.you && status.micMuted) {
    marks.push({ key: "muted", text: "microphone off" });
  }
  if (status.cameraOff.has(person.key)) {
    marks.push({ key: "camera-off", text: "camera off" });
  }
  return marks;
}

/** Add the markers to the rendered list (items carry data-member = person.key). */
export function decorate(list, people, status) {
  for (const person of people) {
    const item = list.querySelector('[data-member="' + CSS.escape(person.key) + '"]');
    if (!item) {
      continue;
    }
    // the list may say "(speaking)" already, to screen readers: then the marker is for the eye
    const spoken = item.querySelector("[data-speaking]") !== null;
    for (const mark of marksFor(person, status)) {
      const badge = document.createElement("span");
      badge.className = "mark mark--" + mark.key;
      badge.dataset.mark = mark.key;
      badge.textContent = mark.text;
      if (mark.key === "speaking" && spoken) {
        badge.setAttribute("aria-hidden", "true");
      }
      item.append(" ", badge);
    }
  }
}
