// The page chrome every screen shares: the connection indicator and the wall clock.

const DELAYED_AFTER_S = 10; // the engine published nothing for this long while the link is up

/**
 * Return an onState handler that shows the connection state on `node` (data-state + text).
 * The handler also takes heartbeats (`indicator.heartbeat(msg)`): when the server is reachable
 * but the engine has published nothing for DELAYED_AFTER_S, the state becomes "delayed" —
 * the third level of staleness after the link itself and each tile's age.
 */
export function connectionIndicator(node, t) {
  let link = "connecting";
  let delayed = false;
  const show = () => {
    const state = link === "open" && delayed ? "delayed" : link;
    node.dataset.state = state;
    node.textContent = t(state);
  };
  const indicator = (state) => {
    link = state;
    show();
  };
  indicator.heartbeat = (message) => {
    delayed = Boolean(message.last_update_at) && message.server_time - message.last_update_at > DELAYED_AFTER_S;
    show();
  };
  indicator.fresh = () => {
    if (delayed) {
      delayed = false;
      show();
    }
  };
  return indicator;
}

/** Tick `node` with the local time every second and call `everySecond` too. */
export function startClock(node, lang, everySecond = () => {}) {
  const tick = () => {
    if (node) node.textContent = new Date().toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
    everySecond();
  };
  tick();
  setInterval(tick, 1000);
}
