"use strict";
// A live page's socket and its badge (#live, from live_badge.html). The badge says "live" only while
// messages arrive: the page's state after each change, a heartbeat every few seconds (its "every");
// after three heartbeats' time without one it says stale. A closed socket reconnects, backing off.
function openLiveSocket(path, onMessage) {
  const MISSED_HEARTBEATS = 3;
  let heartbeatMs = 5000;
  let heardAt = 0;
  let open = false;
  let retry = 1000;

  function showStatus(state, text) {
    document.body.dataset.live = state;
    document.getElementById("live").textContent = text;
  }

  function connect() {
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
    socket.onopen = () => { retry = 1000; open = true; heardAt = Date.now(); };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      heardAt = Date.now();
      if (message.type === "heartbeat") heartbeatMs = message.every * 1000;
      else onMessage(message);
      showStatus("connected", "live");
    };
    socket.onclose = () => {
      open = false;
      showStatus("disconnected", "reconnecting…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  setInterval(() => {
    const silentMs = Date.now() - heardAt;
    if (open && silentMs > MISSED_HEARTBEATS * heartbeatMs) showStatus("stale", "stale: nothing heard for " + Math.round(silentMs / 1000) + " s");
  }, 1000);
  connect();
}
