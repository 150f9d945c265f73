// Number formatting for a wall: short, tabular, locale-aware.

export function formatNumber(value, lang, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const locale = lang === "zh" ? "zh-CN" : "en-US";
  if (Math.abs(value) >= 100000) {
    return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

export function formatPercent(ratio, lang, digits = 1) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return "–";
  const locale = lang === "zh" ? "zh-CN" : "en-US";
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: digits }).format(ratio);
}

export function formatAge(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

export function formatClock(epochSeconds, lang) {
  return new Date(epochSeconds * 1000).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
}

/** `text` cut in the middle to `max` characters: ids of one show differ at their end ("…-room-3"). */
export function shortenMiddle(text, max) {
  if (text.length <= max) return text;
  const tail = Math.ceil((max - 1) * 0.6);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(-tail)}`;
}

// Event timestamps on the wire are epoch milliseconds; alert times are epoch seconds.
export function toSeconds(ts) {
  return ts > 1e11 ? ts / 1000 : ts;
}

export const ARROWS = { up: "▲", down: "▼", flat: "▶" };
