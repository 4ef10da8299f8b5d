// The meeting page's DOM: status, errors, the people list, the chat log and the toggles.
// Text goes in with textContent only (names and messages are untrusted).

function one(root, selector) {
  const found = root.querySelector(selector);
  if (!found) {
    throw new Error("meeting page: missing " + selector);
  }
  return found;
}

/** The people the page was rendered with (before the call tells who is in it). */
export function renderedPeople() {
  return Array.from(document.querySelectorAll("[data-participants] > li"))
    .filter((item) => item.querySelector(".dot--online") || item.textContent.includes("(you)"))
    .map((item, index) => ({
      key: "rendered-" + index,
      name: (item.querySelector(".item__title") || item).textContent.trim(),
      you: item.textContent.includes("(you)"),
      guest: Boolean(item.querySelector(".badge--guest")),
    }));
}

export function safeExitUrl(value) {
  if (typeof value !== "string" || value === "") {
    return null;
  }
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (error) {
    return null;
  }
}

export class View {
  constructor(root) {
    this.root = root;
    const $ = (selector) => one(root, selector);
    this.status = $("[data-status]");
    this.error = $("[data-error]");
    this.lobby = $("[data-lobby]");
    this.preview = $("[data-preview]");
    this.previewEmpty = $("[data-preview-empty]");
    this.cameraSelect = $("[data-camera]");
    this.microphoneSelect = $("[data-microphone]");
    this.previewMic = $("[data-preview-mic]");
    this.previewCamera = $("[data-preview-camera]");
    this.join = $("[data-join]");
    this.call = $("[data-call]");
    this.screen = $("[data-screen]");
    this.composite = $("[data-composite]");
    this.mic = $("[data-mic]");
    this.cameraToggle = $("[data-camera-toggle]");
    this.share = $("[data-share]");
    this.fullscreen = $("[data-fullscreen]");
    this.leave = $("[data-leave]");
    this.left = $("[data-left]");
    this.leftTitle = $("[data-left-title]");
    this.rejoin = $("[data-rejoin]");
    this.members = $("[data-members]");
    this.memberCount = $("[data-member-count]");
    this.chat = $("[data-chat]");
    this.chatToggle = $("[data-chat-toggle]");
    this.chatLog = $("[data-chat-log]");
    this.chatForm = $("[data-chat-form]");
    this.chatInput = $("[data-chat-input]");
    this.unread = 0;
  }

  say(text) {
    this.status.textContent = text;
  }

  fail(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** Which part shows: "lobby" (preview), "call" or "left". */
  show(part) {
    this.lobby.hidden = part !== "lobby";
    this.call.hidden = part !== "call";
    this.left.hidden = part !== "left";
    this.root.dataset.part = part;
  }

  pressed(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  fillDevices(select, devices, current, noun) {
    select.replaceChildren();
    devices.forEach((device, index) => {
      const option = document.createElement("option");
      option.value = device.deviceId;
      option.textContent = device.label || noun + " " + (index + 1);
      option.selected = device.deviceId === current;
      select.append(option);
    });
    if (devices.length === 0) {
      const option = document.createElement("option");
      option.value = "";
      option.textContent = "No " + noun.toLowerCase() + " found";
      select.append(option);
    }
    select.disabled = devices.length === 0;
  }

  /** people: [{key, name, you, guest, speaking}] */
  showMembers(people) {
    const items = people.map((person) => {
      const item = document.createElement("li");
      item.className = person.speaking ? "members__item members__item--speaking" : "members__item";
      item.dataset.member = person.key;
      const voice = document.createElement("span");
      voice.className = "members__voice";
      voice.setAttribute("aria-hidden", "true");
      item.append(voice);
      const name = document.createElement("span");
      name.className = "members__name";
      name.textContent = person.name;
      item.append(name);
      if (person.you) {
        const you = document.createElement("span");
        you.className = "hint";
        you.textContent = " (you)";
        item.append(you);
      }
      if (person.guest) {
        const badge = document.createElement("span");
        badge.className = "badge badge--guest";
        badge.textContent = "guest";
        item.append(" ", badge);
      }
      if (person.speaking) {
        const speaking = document.createElement("span");
        speaking.className = "visually-hidden";
        speaking.dataset.speaking = "";
        speaking.textContent = " (speaking)";
        item.append(speaking);
      }
      return item;
    });
    this.members.replaceChildren(...items);
    this.memberCount.textContent = "(" + people.length + ")";
  }

  addChat({ name, content, at, you }) {
    const item = document.createElement("li");
    item.className = you ? "chat__item chat__item--you" : "chat__item";
    const who = document.createElement("span");
    who.className = "chat__who";
    who.textContent = you ? name + " (you)" : name;
    const when = document.createElement("time");
    when.className = "chat__when";
    const date = at ? new Date(at) : new Date();
    if (!Number.isNaN(date.getTime())) {
      when.dateTime = date.toISOString();
      when.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    const text = document.createElement("p");
    text.className = "chat__text";
    text.textContent = content;
    item.append(who, " ", when, text);
    this.chatLog.append(item);
    this.chatLog.scrollTop = this.chatLog.scrollHeight;
    if (!this.chatOpen() && !you) {
      this.unread += 1;
      this.labelChatToggle();
    }
  }

  chatOpen() {
    return this.chat.classList.contains("chat--open");
  }

  toggleChat(open = !this.chatOpen()) {
    this.chat.classList.toggle("chat--open", open);
    this.chatToggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      this.unread = 0;
    }
    this.labelChatToggle();
  }

  labelChatToggle() {
    const open = this.chatOpen();
    this.chatToggle.textContent = open
      ? "Hide chat"
      : this.unread > 0 ? "Show chat (" + this.unread + " new)" : "Show chat";
  }
}
