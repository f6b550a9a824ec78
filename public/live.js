// zportal's live pages: one event stream per browser, shared by its tabs. The tab that holds the
// Web Lock "zportal-live" opens `GET /api/live` and passes every event to the others over a
// BroadcastChannel; when it closes, the next tab takes the lock and resumes after the last event
// any tab saw. Every tab hears each event as a `zportal:live` CustomEvent on `window`, which the
// app (WASM) turns into re-reads. When Zoho cannot notify zportal, `hello` says so, and each
// tab asks its page to re-read every `poll_secs` while it is visible (at once when it is shown
// again after that long). It starts when the app says someone is signed in
// (`zportal:live-start`). Plain script, no dependencies: it stays out of the WASM.
(() => {
  "use strict";
  const NAME = "zportal-live";
  let started = false;
  window.addEventListener("zportal:live-start", () => {
    if (started || !window.EventSource) return;
    started = true;
    begin();
  });

function begin() {

  let last = null; // the last seq any tab saw
  let mode = null;
  let pollSecs = 30;
  let pollTimer = null;
  let leading = false;
  let lastHello = null; // what the stream said of itself, for tabs that join later

  // To the page: `kind|module|op|id,id,…` (the app reads it without a JSON decoder).
  const tell = (d) =>
    window.dispatchEvent(
      new CustomEvent("zportal:live", {
        detail: [d.kind, d.module || "", d.op || "", (d.ids || []).join(",")].join("|"),
      }),
    );
  const channel = window.BroadcastChannel ? new BroadcastChannel(NAME) : null;
  const share = (detail) => {
    if (channel) channel.postMessage(detail);
    tell(detail);
  };
  const seen = (detail) => {
    if (typeof detail.seq === "number" && (last === null || detail.seq > last)) last = detail.seq;
    if (detail.kind === "hello") {
      lastHello = detail;
      setMode(detail);
    }
  };

  // Polling: a visible tab asks its page to re-read once `pollSecs` have passed since the last
  // time; a hidden one never, and it catches up the moment it is shown again.
  let lastCheck = Date.now();
  const check = () => {
    if (!pollTimer || document.visibilityState !== "visible") return;
    if (Date.now() - lastCheck < pollSecs * 1000) return;
    lastCheck = Date.now();
    tell({ kind: "poll" });
  };
  document.addEventListener("visibilitychange", check);

  function setMode(hello) {
    mode = hello.mode;
    pollSecs = Math.max(30, Number(hello.poll_secs) || 30);
    document.documentElement.dataset.live = mode;
    clearInterval(pollTimer);
    pollTimer = null;
    if (mode && mode.startsWith("poll")) pollTimer = setInterval(check, 5000);
  }

  if (channel) {
    channel.onmessage = (m) => {
      const detail = m.data || {};
      if (detail.kind === "ask") {
        if (leading && lastHello) channel.postMessage(Object.assign({}, lastHello, { seq: last }));
        return;
      }
      seen(detail);
      tell(detail);
    };
    channel.postMessage({ kind: "ask" });
  }

  // Holds the stream while this tab lives; resolves (giving up the lock) only when the server
  // refuses it for good (signed out). The server pings every 15 s: a stream silent for 40 s is
  // dead (a network that went away without a word) and is opened anew, after the last event.
  function lead() {
    leading = true;
    return new Promise((resolve) => {
      let failures = 0;
      let source = null;
      let heard = Date.now();
      setInterval(() => {
        if (source && source.readyState === EventSource.OPEN && Date.now() - heard > 40000) {
          source.close();
          open();
        }
      }, 5000);
      const open = () => {
        const url = "/api/live" + (last === null ? "" : "?after=" + last);
        heard = Date.now();
        source = new EventSource(url);
        source.addEventListener("ping", () => {
          heard = Date.now();
        });
        const on = (kind, parse) =>
          source.addEventListener(kind, (e) => {
            heard = Date.now();
            failures = 0;
            const detail = Object.assign({ kind }, parse ? JSON.parse(e.data || "{}") : {});
            if (e.lastEventId) detail.seq = Number(e.lastEventId);
            seen(detail);
            share(detail);
          });
        on("hello", true);
        on("change", true);
        on("reload", false);
        const mine = source;
        source.onerror = () => {
          // The browser reconnects by itself (with Last-Event-ID) unless the server refused.
          if (mine !== source || mine.readyState !== EventSource.CLOSED) return;
          mine.close();
          failures += 1;
          if (failures > 8) {
            leading = false;
            return resolve();
          }
          setTimeout(open, Math.min(30000, 1000 * 2 ** failures));
        };
      };
      open();
    });
  }

  if (navigator.locks && navigator.locks.request) {
    navigator.locks.request(NAME, lead);
  } else {
    // No Web Locks (an insecure context): each tab keeps a stream of its own.
    lead();
  }
}
})();
