// Who is in the call (SEPP memberlist) and who speaks now (voice_activity), for the people
// panel; names come from the meeting API by client id. Markers (marks.js): presenting, speaking,
// microphone and camera off; joins and leaves are told to notify(text).

import { decorate, podiumState } from "./marks.js";

export class People {
  /** room: () => the room response (for our own client id and name), or null. */
  constructor(view, api, room) {
    this.view = view;
    this.api = api;
    this.room = room;
    this.members = new Map(); // cid → person
    this.speaking = new Set(); // cids speaking now
    this.status = { presenterCid: "", presenterUserId: "", cameraOff: new Set(), micMuted: false };
    this.notify = () => {}; // (text) => a toast, for someone joining or leaving the call
  }

  get ownClientId() {
    const room = this.room();
    return room ? room.signaling.options.client_id : "";
  }

  /** A new call: nobody yet. */
  clear() {
    this.members.clear();
    this.speaking.clear();
    this.status = { ...this.status, cameraOff: new Set(), presenterCid: "" };
  }

  changed({ add, del }) {
    // the first list of a call (ours is in it) is who was there: no news
    const news = !add.some((entry) => String(entry && entry.cid ? entry.cid : entry) === this.ownClientId);
    for (const cid of del) {
      const gone = this.members.get(String(cid));
      if (gone && !gone.you) {
        this.notify(gone.name === "…" ? "Someone left the call." : gone.name + " left the call.");
      }
      this.members.delete(String(cid));
      this.speaking.delete(String(cid));
    }
    for (const entry of add) {
      const cid = String(entry && entry.cid ? entry.cid : entry);
      const person = { key: cid, name: "…", you: cid === this.ownClientId, guest: false };
      const joined = news && !person.you && !this.members.has(cid);
      this.members.set(cid, person);
      this.api.user(cid).then(
        (user) => {
          person.name = user.name;
          person.guest = Boolean(user.guest);
          person.userId = user.id;
          this.render();
          if (joined && this.members.get(cid) === person) {
            this.notify(user.name + " joined the call.");
          }
        },
        () => {
          const room = this.room();
          person.name = person.you && room ? room.user.name : "Participant";
          this.render();
        },
      );
    }
    this.render();
  }

  /** voice_activity (over the websocket and the data channel alike): who speaks now. */
  voice({ cid, on }) {
    const key = String(cid || "");
    if (!key || this.speaking.has(key) === on) {
      return;
    }
    if (on) {
      this.speaking.add(key);
    } else {
      this.speaking.delete(key);
    }
    this.render();
  }

  /** source_update: whose camera is off, who presents (a screen share in the layout). */
  podium(data) {
    const { cameraOff, presenter } = podiumState(data);
    this.status = { ...this.status, cameraOff, presenterCid: presenter };
    this.render();
  }

  /** presentation_update: the presenting user (by user id), or nobody. */
  presentation(detail) {
    const p = detail && detail.presentation;
    this.status = { ...this.status, presenterUserId: p && p.user ? String(p.user.id || "") : "" };
    this.render();
  }

  /** Our own microphone is muted or not (nobody else's is known). */
  micMuted(muted) {
    this.status = { ...this.status, micMuted: Boolean(muted) };
    this.render();
  }

  render() {
    for (const [cid, person] of this.members) {
      person.speaking = this.speaking.has(cid);
    }
    const people = Array.from(this.members.values());
    people.sort((a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name));
    this.view.showMembers(people);
    decorate(this.view.members, people, this.status);
  }
}
