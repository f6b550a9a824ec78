// zportal's live pages: one event stream per browser, shared by its tabs. The tab that holds the
// Web Lock "zportal-live" opens `GET /api/live` and passes every event to the others over a
// BroadcastChannel; when it closes, the next tab takes the lock and resumes after the last event
// any tab saw. Every tab hears each event as a `zportal:live` CustomEvent on `window`, its detail
// the event's line as the server sent it (`hello|…`, `change|…`, `reload`, `end`, `replaced`:
// the contract is the app's `live_event` module; this script reads none of it), which the app
// (WASM) turns into re-reads. All it knows is the events' names and the cursor (the last event
// id). After `end` (the session is over: each tab loads anew) no tab opens a stream again; after
// `replaced` (a newer stream of the session took this one's place) this browser keeps none. When the app reads in
// `hello` that Zoho cannot notify zportal, it says `zportal:live-poll` (seconds, 0 for never),
// and each tab then asks its page to check (`poll`) that often while it is visible (at once when
// it is shown again after that long). It starts when the app says someone is signed in
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
  let pollSecs = 0;
  let pollTimer = null;
  let leading = false;
  let lastHello = null; // the stream's `hello`, for tabs that join later
  let ended = false; // the session is over: no stream is opened again

  // To the page: the event's line, as it came.
  const tell = (line) => window.dispatchEvent(new CustomEvent("zportal:live", { detail: line }));
  const channel = window.BroadcastChannel ? new BroadcastChannel(NAME) : null;
  // Between tabs: `{ name, line, seq }`.
  const share = (message) => {
    if (channel) channel.postMessage(message);
    tell(message.line);
  };
  // The session is over (signed out, expired, or another account's now): every tab loads anew,
  // as the server sees it now — unless it is leaving anyway (the sign-out's own navigation,
  // which a reload here would cancel); then only if it is still here a while later.
  let leaving = false;
  window.addEventListener("beforeunload", () => {
    leaving = true;
  });
  const seen = (message) => {
    if (typeof message.seq === "number" && (last === null || message.seq > last)) last = message.seq;
    if (message.name === "hello") lastHello = message;
    if (message.name === "end" && !ended) {
      ended = true;
      setTimeout(() => location.reload(), leaving ? 5000 : 0);
    }
  };

  // Polling: a visible tab asks its page to re-read once `pollSecs` have passed since the last
  // time; a hidden one never, and it catches up the moment it is shown again.
  let lastCheck = Date.now();
  const check = () => {
    if (!pollTimer || document.visibilityState !== "visible") return;
    if (Date.now() - lastCheck < pollSecs * 1000) return;
    lastCheck = Date.now();
    tell("poll");
  };
  document.addEventListener("visibilitychange", check);
  window.addEventListener("zportal:live-poll", (e) => {
    pollSecs = Number(e.detail) || 0;
    clearInterval(pollTimer);
    pollTimer = pollSecs > 0 ? setInterval(check, 5000) : null;
  });

  if (channel) {
    channel.onmessage = (m) => {
      const message = m.data || {};
      if (message.name === "ask") {
        if (leading && lastHello) channel.postMessage(Object.assign({}, lastHello, { seq: last }));
        return;
      }
      if (typeof message.line !== "string") return;
      seen(message);
      tell(message.line);
    };
    channel.postMessage({ name: "ask" });
  }

  // Holds the stream while this tab lives; resolves (giving up the lock) only when the server
  // refuses it for good (signed out). The server pings every 15 s: a stream silent for 40 s is
  // dead (a network that went away without a word) and is opened anew, after the last event.
  function lead() {
    if (ended) return Promise.resolve();
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
        const on = (name) =>
          source.addEventListener(name, (e) => {
            heard = Date.now();
            failures = 0;
            const message = { name, line: String(e.data || name) };
            if (e.lastEventId) message.seq = Number(e.lastEventId);
            seen(message);
            share(message);
          });
        on("hello");
        on("change");
        on("reload");
        // The last word of a stream: it is not opened again. (After `end` this tab keeps the
        // lock while it loads anew: no other tab takes it for a stream of the old session.)
        for (const name of ["end", "replaced"]) {
          on(name);
          source.addEventListener(name, () => {
            source.close();
            source = null;
          });
        }
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
