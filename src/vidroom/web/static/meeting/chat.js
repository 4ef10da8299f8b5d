// The chat panel: messages sent through the meeting API, received over /rt, names resolved by
// client id.

export class Chat {
  /** room: () => the room response (for our own client id and name), or null. */
  constructor(view, api, room) {
    this.view = view;
    this.api = api;
    this.room = room;
  }

  bind() {
    const v = this.view;
    v.chatToggle.addEventListener("click", () => v.toggleChat());
    v.chatForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  async send() {
    const input = this.view.chatInput;
    const content = input.value.trim();
    if (!content) {
      return;
    }
    try {
      await this.api.sendMessage(content);
      input.value = "";
    } catch (error) {
      this.view.fail(error.status === 410 ? "The meeting has ended." : "The message could not be sent.");
    }
    input.focus();
  }

  async received(message) {
    if (!message || typeof message.content !== "string") {
      return;
    }
    const room = this.room();
    const cid = String(message.cid || "").split("@")[0];
    const you = cid !== "" && room !== null && cid === room.signaling.options.client_id;
    let name = you ? room.user.name : "Someone";
    if (!you && cid) {
      name = await this.api.user(cid).then((user) => user.name, () => "Someone");
    }
    this.view.addChat({ name, content: message.content, at: message.created_at || message.ts, you });
  }
}
