// Number formatting for a wall: short, tabular, locale-aware.

export function formatNumber(value, lang, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const locale = lang === "zh" ? "zh-CN" : "en-US";
  if (Math.abs(value) >= 100000) {
    return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

export function formatAge(seconds) {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}
