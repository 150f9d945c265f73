// The wallboard's focus view for one session: minute curves with event markers, the funnel,
// the product table, the alert ticker and the current suggestion.

import { MinuteChart, fromFirstData, seriesTimes } from "./charts.js";
import { formatClock, formatNumber, toSeconds } from "./format.js";
import { ruleLabel } from "./i18n.js";
import { ProductTable } from "./products.js";

const RESOLVED_VISIBLE_S = 300;

export class FocusView {
  /**
   * @param {HTMLElement} root  the #focus section
   * @param {(key: string) => string} t
   * @param {string} lang
   * @param {import("./alerts.js").AlertStore} alerts
   */
  constructor(root, t, lang, alerts) {
    this.root = root;
    this.t = t;
    this.lang = lang;
    this.alerts = alerts;
    this.session = null;
    this.data = null;
    this.series = null;
    this.pins = [];
    this.sentiment = new Map(); // minute start (epoch s) -> last sentiment index seen in that minute
    const markers = () => this.markers();
    const q = (sel) => root.querySelector(sel);
    this.charts = {
      online: new MinuteChart(q('[data-chart="online"]'), [{ label: t("online"), stroke: "#c9d3dc" }], markers),
      flow: new MinuteChart(q('[data-chart="flow"]'), [
        { label: t("entries"), stroke: "#8fb8de" }, { label: t("leaves"), stroke: "#7d8791" }], markers),
      gmv: new MinuteChart(q('[data-chart="gmv"]'), [{ label: t("gmv"), stroke: "#c9d3dc" }], markers),
      sentiment: new MinuteChart(q('[data-chart="sentiment"]'), [{ label: t("sentiment"), stroke: "#c9d3dc" }],
        markers),
    };
    this.products = new ProductTable(q(".products tbody"), lang, t);
    for (const button of root.querySelectorAll("[data-filter]")) {
      button.addEventListener("click", () => {
        for (const other of root.querySelectorAll("[data-filter]")) other.setAttribute("aria-pressed", "false");
        button.setAttribute("aria-pressed", "true");
        this.products.setFilter(button.dataset.filter);
      });
    }
  }

  show(session) {
    if (session !== this.session) {
      this.session = session;
      this.data = null;
      this.series = null;
      this.pins = [];
      this.sentiment.clear();
    }
    this.root.hidden = false;
    this.root.dataset.session = session;
  }

  hide() {
    this.root.hidden = true;
    this.session = null;
  }

  markers() {
    const pins = this.pins.map((m) => ({ x: toSeconds(m.ts), kind: m.kind }));
    const alerts = this.session
      ? this.alerts.list({ session: this.session }).map((a) => ({ x: a.fired_at || a.started_at || a.at, kind: "alert" }))
      : [];
    return [...pins, ...alerts].filter((m) => Number.isFinite(m.x));
  }

  update(data) {
    this.data = data;
    const q = (sel) => this.root.querySelector(sel);
    q(".focus-platform").textContent = data.platform;
    q(".focus-title").textContent = data.title || data.session;
    for (const value of this.root.querySelectorAll("[data-focus-metric]")) {
      value.textContent = formatNumber(data[value.dataset.focusMetric], this.lang, 1);
    }
    if (data.series) this.series = data.series;
    if (data.markers) this.pins = data.markers;
    const index = data.comments?.sentiment_index;
    if (index !== undefined && index !== null) this.sentiment.set(Math.floor(Date.now() / 60000) * 60, index);
    this.renderCharts();
    this.renderFunnel(data);
    this.products.update(data.products);
    this.renderSuggestion(data);
    this.renderTicker();
  }

  renderCharts() {
    if (!this.series) return;
    const s = fromFirstData(this.series);
    const xs = seriesTimes(s);
    this.charts.online.setData([xs, s.online]);
    this.charts.flow.setData([xs, s.entries, s.leaves]);
    this.charts.gmv.setData([xs, s.gmv]);
    // Same minute axis as the other curves: a lone sentiment point must not collapse the time scale.
    for (const minute of [...this.sentiment.keys()]) if (minute < xs[0]) this.sentiment.delete(minute);
    this.charts.sentiment.setData([xs, xs.map((minute) => this.sentiment.get(minute) ?? null)]);
  }

  renderFunnel(data) {
    const steps = [
      ["views", data.views], ["clicks", data.clicks_total], ["carts", data.carts_total],
      ["orders", data.orders_total], ["paid", data.paid_total],
    ];
    const top = Math.max(1, ...steps.map(([, v]) => v || 0));
    const items = steps.map(([key, value]) => {
      const li = document.createElement("li");
      li.dataset.step = key;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = this.t(key);
      const bar = document.createElement("span");
      bar.className = "bar-fill";
      bar.style.width = `${Math.max(1, ((value || 0) / top) * 100)}%`;
      const number = document.createElement("span");
      number.className = "value";
      number.textContent = formatNumber(value, this.lang);
      li.append(label, bar, number);
      return li;
    });
    this.root.querySelector(".funnel ol").replaceChildren(...items);
  }

  renderSuggestion(data) {
    const box = this.root.querySelector(".suggestion");
    const top = (data.suggestions || [])[0];
    const name = box.querySelector(".suggestion-product");
    const reason = box.querySelector(".suggestion-reason");
    if (!top) {
      name.textContent = this.t("no_suggestion");
      reason.textContent = "";
      box.dataset.empty = "true";
      return;
    }
    const row = (data.products || []).find((p) => p.product === top.product);
    name.textContent = row?.name || top.product;
    reason.textContent = (this.lang === "zh" ? top.reason_zh : top.reason) || top.reason || "";
    box.dataset.empty = "false";
  }

  renderTicker() {
    if (!this.session) return;
    // 6 lines at most (ISA-18.2 sizing); resolved alerts stay, greyed, for 5 min
    const now = Date.now() / 1000;
    const list = this.alerts.list({ session: this.session })
      .filter((a) => a.state !== "resolved" || now - (a.resolved_at || a.at || 0) < RESOLVED_VISIBLE_S)
      .slice(0, 6);
    const items = list.map((alert) => {
      const li = document.createElement("li");
      li.dataset.severity = alert.severity;
      li.dataset.state = alert.state;
      const time = document.createElement("time");
      time.textContent = formatClock(alert.fired_at || alert.started_at || alert.at || 0, this.lang);
      const text = document.createElement("span");
      text.textContent = `${this.t(alert.severity)} · ${ruleLabel(this.lang, alert.rule)} · ${alert.summary || ""}`;
      li.append(time, text);
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = this.t("no_alerts");
      items.push(li);
    }
    this.root.querySelector(".ticker").replaceChildren(...items);
    for (const chart of Object.values(this.charts)) chart.redraw();
  }
}
