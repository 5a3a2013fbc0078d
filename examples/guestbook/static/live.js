// The live channel: new entries arrive over a WebSocket and are added to the list.
// Entries are inserted with textContent, never innerHTML: what people write stays text.
"use strict";
(function () {
  const list = document.getElementById("entries");
  const status = document.getElementById("live-status");
  if (!list || !list.dataset.live) {
    if (status) status.textContent = "reload to see new entries";
    return;
  }
  const url = new URL(list.dataset.live);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  let delay = 1000;

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function render(entry) {
    const item = document.createElement("li");
    item.className = "entry";
    item.id = "entry-" + entry.id;
    const body = document.createElement("p");
    body.className = "body";
    body.textContent = entry.body;
    const meta = document.createElement("p");
    meta.className = "meta";
    const time = document.createElement("time");
    time.textContent = entry.created_at;
    const when = link(entry.url, "");
    when.appendChild(time);
    meta.append(link(entry.author_url, entry.author), ", ", when);
    item.append(body, meta);
    return item;
  }

  function receive(event) {
    const message = JSON.parse(event.data);
    if (message.type === "entry" && !document.getElementById("entry-" + message.entry.id)) {
      const empty = list.querySelector(".empty");
      if (empty) empty.remove();
      list.prepend(render(message.entry));
    } else if (message.type === "deleted") {
      const gone = document.getElementById("entry-" + message.id);
      if (gone) gone.remove();
    }
  }

  function connect() {
    const socket = new WebSocket(url);
    socket.onopen = function () {
      delay = 1000;
      status.textContent = "live";
    };
    socket.onmessage = receive;
    socket.onclose = function () {
      status.textContent = "reconnecting";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
