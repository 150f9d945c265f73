// The page chrome every screen shares: the connection indicator and the wall clock.

/** Return an onState handler that shows the connection state on `node` (data-state + text). */
export function connectionIndicator(node, t) {
  return (state) => {
    node.dataset.state = state;
    node.textContent = t(state);
  };
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
