// A websocket that reconnects by itself with capped, jittered backoff and re-subscribes.
// Every server message goes through one dispatcher; unknown types are logged, never dropped silently.

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30000;

export class LiveConnection {
  /**
   * @param {object} options
   * @param {() => object} options.subscription  builds the subscribe message sent on every (re)connect
   * @param {Record<string, (msg: object) => void>} options.handlers  message type -> handler
   * @param {(state: string) => void} options.onState  "connecting" | "open" | "closed"
   */
  constructor({ subscription, handlers, onState }) {
    this.subscription = subscription;
    this.handlers = handlers;
    this.onState = onState;
    this.attempt = 0;
    this.lastMessageAt = 0;
  }

  start() {
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("open");
      socket.send(JSON.stringify(this.subscription()));
    });
    socket.addEventListener("message", (event) => {
      this.lastMessageAt = Date.now();
      this.dispatch(JSON.parse(event.data));
    });
    socket.addEventListener("close", () => {
      this.onState("closed");
      const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempt);
      this.attempt += 1;
      setTimeout(() => this.start(), delay / 2 + Math.random() * delay / 2);
    });
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
    if (handler) handler(message);
    else console.warn("livemon: unknown message type", message.type, message);
  }
}
