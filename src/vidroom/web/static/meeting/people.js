// Who is in the call (SEPP memberlist) and who speaks now (voice_activity), for the people
// panel; names come from the meeting API by client id.

export class People {
  /** room: () => the room response (for our own client id and name), or null. */
  constructor(view, api, room) {
    this.view = view;
    this.api = api;
    this.room = room;
    this.members = new Map(); // cid → person
    this.speaking = new Set(); // cids speaking now
  }

  get ownClientId() {
    const room = this.room();
    return room ? room.signaling.options.client_id : "";
  }

  /** A new call: nobody yet. */
  clear() {
    this.members.clear();
    this.speaking.clear();
  }

  changed({ add, del }) {
    for (const cid of del) {
      this.members.delete(String(cid));
      this.speaking.delete(String(cid));
    }
    for (const entry of add) {
      const cid = String(entry && entry.cid ? entry.cid : entry);
      const person = { key: cid, name: "…", you: cid === this.ownClientId, guest: false };
      this.members.set(cid, person);
      this.api.user(cid).then(
        (user) => {
          person.name = user.name;
          person.guest = Boolean(user.guest);
          this.render();
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

  render() {
    for (const [cid, person] of this.members) {
      person.speaking = this.speaking.has(cid);
    }
    const people = Array.from(this.members.values());
    people.sort((a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name));
    this.view.showMembers(people);
  }
}
