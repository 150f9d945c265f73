// One tile per session on the wallboard. Event data reaches the DOM only through textContent.

import { Sparkline, seriesTimes } from "./charts.js";
import { ARROWS, formatAge, formatNumber, formatPercent } from "./format.js";
import { setGauge } from "./gauge.js";
import { ruleLabel } from "./i18n.js";

export const STALE_AFTER_S = 5;
export const MAX_TILES = 16;
const SPARK_MINUTES = 15; // STREAMING.md §6: a sparkline of the last 15 min beside the KPI

const PERCENT_METRICS = new Set(["conversion"]);

export class TileGrid {
  /**
   * @param {HTMLElement} container
   * @param {HTMLTemplateElement} template
   * @param {(key: string) => string} t
   * @param {string} lang
   * @param {import("./alerts.js").AlertStore} alerts
   * @param {(session: string) => void} onFocus
   */
  constructor(container, template, t, lang, alerts, onFocus) {
    this.container = container;
    this.template = template;
    this.t = t;
    this.lang = lang;
    this.alerts = alerts;
    this.onFocus = onFocus;
    this.tiles = new Map(); // session -> { node, receivedAt, faultSince, endedAt, spark }
    // A show that ended this long ago leaves the wall, so it never takes a live room's place; the
    // server sets it on the container and skips such shows in its replay (ENDED_SHOWN_S there).
    this.endedShownS = Number(container.dataset.endedShownS);
  }

  endedLongAgo(endedAt, nowS) {
    return endedAt !== null && nowS - endedAt > this.endedShownS;
  }

  update(session, data) {
    const endedAt = data.live === false ? (data.ended_at ?? Date.now() / 1000) : null;
    if (this.endedLongAgo(endedAt, Date.now() / 1000)) {
      this.remove(session);
      return;
    }
    let tile = this.tiles.get(session);
    if (!tile) {
      if (this.tiles.size >= MAX_TILES) return; // a wall shows 16; the rest are on /wall?sessions=…
      const node = this.template.content.firstElementChild.cloneNode(true);
      node.dataset.session = session;
      node.addEventListener("click", () => this.onFocus(session));
      this.container.append(node);
      tile = { node, receivedAt: 0, faultSince: null, spark: new Sparkline(node.querySelector(".spark")) };
      this.tiles.set(session, tile);
      this.sortAndLayout();
    }
    tile.receivedAt = Date.now();
    tile.faultSince = data.fault ? data.fault.since : null; // livemon's own bug: figures frozen (docs/frontend.md)
    tile.endedAt = endedAt;
    const node = tile.node;
    node.dataset.fault = String(Boolean(data.fault));
    node.dataset.ended = String(endedAt !== null);
    node.querySelector(".platform").textContent = data.platform;
    node.querySelector(".title").textContent = data.title || session;
    node.querySelector(".kpi-online .label").textContent = this.t(data.online_estimated ? "online_est" : "online");
    for (const value of node.querySelectorAll("[data-metric]")) {
      const metric = value.dataset.metric;
      value.textContent = PERCENT_METRICS.has(metric)
        ? formatPercent(data[metric], this.lang, 2)
        : formatNumber(data[metric], this.lang, metric.startsWith("gmv") || metric === "gpm" ? 0 : 1);
    }
    for (const arrow of node.querySelectorAll("[data-trend]")) {
      const direction = data.trend?.[arrow.dataset.trend]?.direction || "";
      arrow.dataset.direction = direction;
      arrow.textContent = ARROWS[direction] || "";
      arrow.title = direction ? this.t(direction) : "";
    }
    setGauge(node.querySelector(".gauge"), data.comments?.sentiment_index, this.lang);
    if (data.series) {
      tile.spark.setData(seriesTimes(data.series).slice(-SPARK_MINUTES), data.series.online.slice(-SPARK_MINUTES));
    }
    const list = node.querySelector(".comments");
    const items = (data.recent_comments || []).slice(-3).map((comment) => {
      const li = document.createElement("li");
      li.textContent = comment.text;
      return li;
    });
    list.replaceChildren(...items);
    tile.alertFingerprints = (data.alerts || []).map((a) => (typeof a === "string" ? a : a.fingerprint));
    this.renderBadges(session);
    this.refreshAges();
  }

  /** Alert badges: from the alert book, plus fingerprints the snapshot lists that the book has not seen. */
  renderBadges(session) {
    const tile = this.tiles.get(session);
    if (!tile) return;
    const active = this.alerts.active(session);
    const known = new Set(active.map((a) => a.fingerprint));
    const badges = active.slice(0, 3).map((alert) => {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.dataset.severity = alert.severity;
      badge.dataset.rule = alert.rule;
      badge.textContent = ruleLabel(this.lang, alert.rule);
      return badge;
    });
    const unknown = (tile.alertFingerprints || []).filter((f) => f && !known.has(f)).length;
    if (unknown) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.dataset.severity = "warning";
      badge.textContent = `+${unknown}`;
      badges.push(badge);
    }
    tile.node.querySelector(".badges").replaceChildren(...badges);
    tile.node.dataset.alert = active[0]?.severity || (unknown ? "warning" : "");
  }

  renderAllBadges() {
    for (const session of this.tiles.keys()) this.renderBadges(session);
  }

  refreshAges() {
    const now = Date.now();
    for (const [session, { node, receivedAt, faultSince, endedAt }] of this.tiles) {
      if (this.endedLongAgo(endedAt, now / 1000)) {
        this.remove(session);
        continue;
      }
      const age = (now - receivedAt) / 1000;
      const stale = endedAt === null && age > STALE_AFTER_S; // an ended show sends nothing new: not a fault
      node.dataset.stale = String(stale);
      node.querySelector(".age").textContent =
        faultSince !== null ? `${this.t("frozen")} ${formatAge(now / 1000 - faultSince)}`
        : endedAt !== null ? `${this.t("ended")} ${formatAge(Math.max(0, now / 1000 - endedAt))}`
        : stale ? `${this.t("stale")} ${formatAge(age)}` : "";
    }
  }

  remove(session) {
    const tile = this.tiles.get(session);
    if (!tile) return;
    tile.node.remove();
    this.tiles.delete(session);
    this.sortAndLayout();
  }

  sortAndLayout() {
    const sessions = [...this.tiles.keys()].sort();
    for (const session of sessions) this.container.append(this.tiles.get(session).node);
    const count = sessions.length;
    const cols = count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
    const rows = Math.max(1, Math.ceil(count / cols));
    this.container.style.setProperty("--cols", String(cols));
    this.container.style.setProperty("--rows", String(rows));
    this.container.dataset.density = count > 9 ? "dense" : count > 4 ? "medium" : count > 1 ? "roomy" : "single";
  }
}
