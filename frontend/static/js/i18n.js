// UI strings in English and Chinese; the language comes from ?lang=, the page, or the browser.

const STRINGS = {
  en: {
    online: "Online", online_est: "Online (est.)", gmv: "GMV", gmv_5m: "GMV 5 min", orders_per_min: "Orders/min",
    comments_per_min: "Comments/min", likes_per_min: "Likes/min", connecting: "Connecting…",
    open: "Live", closed: "Reconnecting…", delayed: "Data delayed", no_sessions: "Waiting for live sessions…", updated: "updated",
    ago: "ago", stale: "no data", ended: "Show ended", frozen: "engine fault: figures frozen", gpm: "GPM", conversion: "Conversion", sentiment: "Mood",
    back: "All rooms", chart_online: "Online viewers", chart_flow: "Entries / leaves per min",
    chart_gmv: "GMV per min", chart_sentiment: "Mood (sentiment)", entries: "Entries", leaves: "Leaves",
    funnel: "Funnel", views: "Views", clicks: "Clicks", carts: "Carts", orders: "Orders", paid: "Paid",
    products: "Products", product: "Product", clicks_5m: "Clicks 5 min", product_gmv_5m: "GMV 5 min",
    stock: "Stock", unpaid: "Unpaid", sellout_eta: "Sell-out in", alerts: "Alerts", no_alerts: "No active alerts",
    suggestion: "Pitch next", no_suggestion: "No suggestion yet", filter_all: "All", filter_unpaid: "Unpaid (压单)",
    filter_low_stock: "Low stock", pinned: "pinned", next_product: "Next product", reason: "Why",
    accept: "Accept", skip: "Skip", questions: "Open questions", no_questions: "No open questions",
    answered: "Answered", mood: "Audience mood", pinned_stock: "Pinned product stock", no_pinned: "Nothing pinned",
    critical_alert: "Critical alert", not_available: "Not available on this server yet",
    sent: "Sent", failed: "Failed", incidents: "Incidents", state: "State", severity: "Severity",
    session: "Session", rule: "Rule", summary: "Summary", started: "Started", any: "Any",
    firing: "firing", pending: "pending", resolved: "resolved", inactive: "inactive", acknowledged: "acknowledged",
    critical: "critical", warning: "warning", info: "info", evidence: "Evidence", topics: "Topics",
    timeline: "Timeline", audit: "Audit trail", note: "Note", acknowledge: "Acknowledge", resolve: "Resolve",
    silence: "Silence", silence_minutes: "Silence for (min)", select_alert: "Select an alert to see its details",
    alert_api_missing: "Alert API not reachable; showing alerts pushed live only",
    value: "Value", threshold: "Threshold", count: "Count", share: "Share", no_data: "No data yet",
    up: "up", down: "down", flat: "flat", asked: "asked", times: "×", active: "Active (firing + pending)",
    by: "by", waiting_show: "Waiting for this room's first data…",
  },
  zh: {
    online: "在线人数", online_est: "在线人数（估）", gmv: "成交金额", gmv_5m: "近5分钟成交", orders_per_min: "订单/分",
    comments_per_min: "评论/分", likes_per_min: "点赞/分", connecting: "连接中…", open: "实时", delayed: "数据延迟",
    closed: "重新连接中…", no_sessions: "等待直播间数据…", updated: "更新于", ago: "前", stale: "无数据", ended: "直播已结束", frozen: "引擎故障：数据已冻结",
    gpm: "千次观看成交", conversion: "转化率", sentiment: "情绪", back: "全部直播间", chart_online: "在线人数",
    chart_flow: "进场 / 离场（每分钟）", chart_gmv: "每分钟成交", chart_sentiment: "情绪指数", entries: "进场",
    leaves: "离场", funnel: "转化漏斗", views: "观看", clicks: "商品点击", carts: "加购", orders: "下单",
    paid: "支付", products: "商品", product: "商品", clicks_5m: "近5分钟点击", product_gmv_5m: "近5分钟成交",
    stock: "库存", unpaid: "未支付（压单）", sellout_eta: "预计售罄", alerts: "告警", no_alerts: "暂无告警",
    suggestion: "建议讲解", no_suggestion: "暂无建议", filter_all: "全部", filter_unpaid: "压单",
    filter_low_stock: "库存告急", pinned: "讲解中", next_product: "下一个商品", reason: "理由",
    accept: "采纳", skip: "跳过", questions: "待回答问题", no_questions: "暂无待回答问题", answered: "已回答",
    mood: "观众情绪", pinned_stock: "讲解商品库存", no_pinned: "未挂讲解商品", critical_alert: "严重告警",
    not_available: "服务器暂不支持此操作", sent: "已发送", failed: "失败", incidents: "告警处理台",
    state: "状态", severity: "级别", session: "直播间", rule: "规则", summary: "摘要", started: "开始",
    any: "全部", firing: "告警中", pending: "待定", resolved: "已恢复", inactive: "未激活", acknowledged: "已确认",
    critical: "严重", warning: "警告", info: "提示", evidence: "证据", topics: "话题", timeline: "时间线",
    audit: "审计记录", note: "备注", acknowledge: "确认", resolve: "解决", silence: "静默",
    silence_minutes: "静默时长（分钟）", select_alert: "选择一条告警查看详情",
    alert_api_missing: "告警接口不可用；仅显示实时推送的告警", value: "数值", threshold: "阈值", count: "次数",
    share: "占比", no_data: "暂无数据", up: "上升", down: "下降", flat: "持平", asked: "提问", times: "次",
    active: "进行中（告警中 + 待定）", by: "操作人", waiting_show: "等待本直播间数据…",
  },
};

export function pickLanguage() {
  const requested = new URLSearchParams(location.search).get("lang") || document.body.dataset.lang || "";
  const candidates = [requested, ...navigator.languages].map((l) => l.toLowerCase().slice(0, 2));
  return candidates.find((l) => l in STRINGS) || "en";
}

/** Alert rules' names, the same table the post-live report uses (embedded by the server). */
const RULE_NAMES = JSON.parse(document.getElementById("rule-names")?.textContent || "{}");
/** Complaint topics' names, the same table alerts and suggestion reasons use (embedded by the server). */
const TOPIC_NAMES = JSON.parse(document.getElementById("topic-names")?.textContent || "{}");

export function translator(lang) {
  const table = STRINGS[lang] || STRINGS.en;
  return (key) => table[key] ?? STRINGS.en[key] ?? key;
}

/** A name from one of the server's tables, capitalised as a title; an unknown id shows itself. */
function nameIn(table, lang, id) {
  const names = table[id];
  if (!names) return id;
  const name = names[lang] || names.en;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A rule's name for people. */
export function ruleLabel(lang, rule) {
  return nameIn(RULE_NAMES, lang, rule);
}

/** A complaint topic's name for people. */
export function topicLabel(lang, topic) {
  return nameIn(TOPIC_NAMES, lang, topic);
}

export function applyTranslations(root, t) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}
