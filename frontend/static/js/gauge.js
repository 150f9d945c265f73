// A horizontal sentiment gauge: sentiment_index in [-1, 1] as a bar; colour only when abnormal.

export const MOOD_WARN = -0.2;
export const MOOD_BAD = -0.5;

/** Set a `.gauge` element (with `.gauge-fill` and `.gauge-value` children) from a sentiment index. */
export function setGauge(node, index, lang) {
  const fill = node.querySelector(".gauge-fill");
  const value = node.querySelector(".gauge-value");
  if (index === null || index === undefined || Number.isNaN(index)) {
    node.dataset.level = "none";
    fill.style.width = "0%";
    value.textContent = "–";
    return;
  }
  const clamped = Math.max(-1, Math.min(1, index));
  fill.style.width = `${((clamped + 1) / 2) * 100}%`;
  node.dataset.level = clamped <= MOOD_BAD ? "bad" : clamped <= MOOD_WARN ? "warn" : "ok";
  value.textContent = `${clamped > 0 ? "+" : ""}${clamped.toFixed(2)}`;
  node.setAttribute("aria-valuenow", String(clamped));
  node.lang = lang;
}
