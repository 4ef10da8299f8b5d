// What the meeting's /rt events mean as toasts (toasts.js): the meeting locked or unlocked,
// a recording or a broadcast started or stopped. Only changes are told: the state the page
// learns first (the room response, a replayed event) is no news.

import { recordingState } from "./egress.js";

/** A recording state change in words, or "" ("recording" | "paused" | "off"). */
export function recordingNews(before, after) {
  if (before === null || before === after) {
    return "";
  }
  if (after === "recording") {
    return before === "paused" ? "The recording goes on." : "The meeting is being recorded.";
  }
  return after === "paused" ? "The recording is paused." : "The recording has stopped.";
}

/** A broadcast change in words, or "" (before, after: whether a broadcast runs; null: unknown). */
export function broadcastNews(before, after) {
  if (before === null || before === after) {
    return "";
  }
  return after ? "The meeting is being broadcast live." : "The live broadcast has stopped.";
}

export class News {
  constructor(toasts) {
    this.toasts = toasts;
    this.recording = null; // the last recording state, null: not known yet
    this.broadcasting = null;
    this.locked = null;
  }

  /** The room response (room_setup, GET /rooms/<ak>): what is so now, no news. */
  room(room) {
    if (!room) {
      return;
    }
    this.recording = recordingState(room.recording);
    this.broadcasting = Array.isArray(room.broadcasts) && room.broadcasts.length > 0;
    this.locked = Boolean(room.locked);
  }

  recordingChanged(detail) {
    const after = recordingState(detail && detail.recording);
    this.toasts.info(recordingNews(this.recording, after));
    this.recording = after;
  }

  broadcastsChanged(detail) {
    const list = detail && Array.isArray(detail.broadcasts) ? detail.broadcasts : [];
    const after = list.length > 0;
    this.toasts.info(broadcastNews(this.broadcasting, after));
    this.broadcasting = after;
  }

  /** /rt lock {locked}: the spec knows only locking; an unlock is told too. */
  lockChanged(detail) {
    const locked = !detail || detail.locked !== false;
    if (locked !== this.locked) {
      this.toasts.info(locked
        ? "The meeting is now locked: nobody new may join."
        : "The meeting is unlocked: others may join again.");
    }
    this.locked = locked;
  }
}
