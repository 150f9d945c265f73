// UI strings in English and Chinese; the language comes from ?lang=, the page, or the browser.

const STRINGS = {
  en: {
    online: "Online", online_est: "Online (est.)", gmv: "GMV", gmv_5m: "GMV 5 min", orders_per_min: "Orders/min",
    comments_per_min: "Comments/min", likes_per_min: "Likes/min", connecting: "Connecting…",
    open: "Live", closed: "Reconnecting…", no_sessions: "Waiting for live sessions…", updated: "updated",
    ago: "ago", stale: "no data",
  },
  zh: {
    online: "在线人数", online_est: "在线人数（估）", gmv: "成交金额", gmv_5m: "近5分钟成交", orders_per_min: "订单/分",
    comments_per_min: "评论/分", likes_per_min: "点赞/分", connecting: "连接中…", open: "实时",
    closed: "重新连接中…", no_sessions: "等待直播间数据…", updated: "更新于", ago: "前", stale: "无数据",
  },
};

export function pickLanguage() {
  const requested = new URLSearchParams(location.search).get("lang") || document.body.dataset.lang || "";
  const candidates = [requested, ...navigator.languages].map((l) => l.toLowerCase().slice(0, 2));
  return candidates.find((l) => l in STRINGS) || "en";
}

export function translator(lang) {
  const table = STRINGS[lang] || STRINGS.en;
  return (key) => table[key] ?? STRINGS.en[key] ?? key;
}

export function applyTranslations(root, t) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}
