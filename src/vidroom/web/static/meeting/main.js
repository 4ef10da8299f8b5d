// The meeting page's entry (links.gui, /join?<access key>): shows the client in place of the
// no-JavaScript fallback and starts the meeting (meeting.js). The access key is read from
// location.search only.

import { Api, accessKeyFromLocation } from "./api.js";
import { Meeting } from "./meeting.js";
import { statusStyles } from "./toasts.js";
import { View } from "./ui.js";

function boot() {
  const root = document.querySelector("[data-room]");
  const accessKey = accessKeyFromLocation();
  if (!root || !accessKey) {
    return;
  }
  const fallback = document.querySelector("[data-stage-fallback]");
  if (fallback) {
    fallback.hidden = true;
  }
  const people = document.querySelector("[data-static-people]");
  if (people) {
    people.hidden = true;
  }
  root.hidden = false;
  statusStyles();
  document.querySelector("[data-meeting]")?.classList.add("meeting--live");
  new Meeting(new View(root), new Api(accessKey)).start();
}

boot();
