// A websocket that reconnects by itself with capped, jittered backoff and re-subscribes.
// Every server message goes through one dispatcher; unknown types are logged, never dropped silently.
// A watchdog closes a socket that has been silent for longer than three heartbeats, so a
// half-open connection (server gone without a close frame) is noticed and replaced.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10000; // a wall has nobody to press reload: keep retrying often
const SILENT_CLOSE_MS = 16000;
// After this long without a server, reload: the page may be older than the server's build
// (Smashing does the same after 5 min). Reconnecting never needs a reload before that.
const RELOAD_AFTER_MS = 10 * 60 * 1000;
const CLOSE_UNAUTHORISED = 4401; // livemon/web/websocket.py

export class LiveConnection {
  /**
   * @param {object} options
   * @param {() => object} options.subscription  builds the subscribe message sent on every (re)connect
   * @param {Record<string, (msg: object) => void>} options.handlers  message type -> handler
   * @param {(state: string) => void} options.onState  "connecting" | "open" | "closed"
   * @param {() => void} [options.onOpen]  called after every (re)connect, e.g. to refetch REST state
   */
  constructor({ subscription, handlers, onState, onOpen }) {
    this.subscription = subscription;
    this.handlers = handlers;
    this.onState = onState;
    this.onOpen = onOpen || (() => {});
    this.attempt = 0;
    this.lastMessageAt = 0;
    this.connects = 0;
    this.downSince = 0;
    setInterval(() => this.watchdog(), 2000);
  }

  start() {
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.downSince = 0;
      this.connects += 1;
      this.lastMessageAt = Date.now();
      this.onState("open");
      socket.send(JSON.stringify(this.subscription()));
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      this.lastMessageAt = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        console.error("livemon: undecodable message", error);
        return;
      }
      this.dispatch(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      if (event.code === CLOSE_UNAUTHORISED) {
        // signed out, token revoked or expired: retrying cannot help, a new sign-in can
        location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
        return;
      }
      this.onState("closed");
      this.downSince = this.downSince || Date.now();
      if (Date.now() - this.downSince > RELOAD_AFTER_MS) {
        location.reload();
        return;
      }
      const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      setTimeout(() => this.start(), delay / 2 + (Math.random() * delay) / 2);
    });
  }

  watchdog() {
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN && Date.now() - this.lastMessageAt > SILENT_CLOSE_MS) {
      console.warn("livemon: no message for", SILENT_CLOSE_MS, "ms; reconnecting");
      socket.close();
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  dispatch(message) {
    if (message.type === "batch") {
      for (const inner of message.messages) this.dispatch(inner);
      return;
    }
    const handler = this.handlers[message.type];
    if (handler) {
      try {
        handler(message);
      } catch (error) {
        console.error("livemon: handler for", message.type, "failed", error);
      }
    } else console.warn("livemon: unknown message type", message.type, message);
  }
}

/**
 * Open a page's live feed and start it: the subscription resumes alerts after the last one
 * seen, every (re)connect reloads the alert list, snapshots update the indicator and the
 * alerts they carry before `onSnapshot` sees them, and server errors reach the console.
 * @param {object} options
 * @param {"*" | string[]} options.sessions  what to subscribe to
 * @param {import("./alerts.js").AlertStore} options.alerts
 * @param {Function} options.indicator  from status.js connectionIndicator()
 * @param {(message: object) => void} options.onSnapshot
 * @returns {LiveConnection}
 */
export function openLiveFeed({ sessions, alerts, indicator, onSnapshot }) {
  const connection = new LiveConnection({
    subscription: () => ({ type: "subscribe", v: 1, sessions, last_alert_id: alerts.lastId }),
    onState: indicator,
    onOpen: () => alerts.load(),
    handlers: {
      hello: () => {},
      heartbeat: (message) => indicator.heartbeat(message),
      snapshot: (message) => {
        indicator.fresh();
        alerts.adoptFromSnapshot(message.session, message.data.alerts);
        onSnapshot(message);
      },
      alert: (message) => alerts.apply(message),
      error: (message) => console.error("livemon server:", message.error),
    },
  });
  connection.start();
  return connection;
}
