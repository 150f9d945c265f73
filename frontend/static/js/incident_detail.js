// The incident console's detail pane: facts, evidence comments, topic breakdown, a timeline chart
// of the session with the alert's transitions as markers, and the audit trail. Text from events
// (evidence comments, summaries, notes) reaches the DOM only through textContent.

import { MinuteChart, fromFirstData, seriesTimes } from "./charts.js";
import { formatClock, formatNumber, formatPercent } from "./format.js";
import { ruleLabel, topicLabel } from "./i18n.js";

const TIME_KEY = /(^|_)(at|since|start|ts)$/; // evidence fields holding an epoch time (s, or ms for `ts`)

function evidenceText(item, lang) {
  if (typeof item === "string") return item;
  if (item && typeof item.text === "string") return item.text;
  const shown = (k, v) => (typeof v === "number" && TIME_KEY.test(k) ? formatClock(v > 1e12 ? v / 1000 : v, lang)
    : typeof v === "object" ? JSON.stringify(v) : v);
  return Object.entries(item || {}).map(([k, v]) => `${k}: ${shown(k, v)}`).join(" · ");
}

export class IncidentDetail {
  constructor(root, t, lang) {
    this.root = root;
    this.t = t;
    this.lang = lang;
    this.alert = null;
    this.trail = [];
    this.chart = new MinuteChart(root.querySelector("#timeline"), [
      { label: t("comments_per_min"), stroke: "#c9d3dc" }],
    () => this.trail.map((r) => ({ x: r.at, kind: r.state === "firing" ? "alert" : "pin" })));
  }

  get fingerprint() {
    return this.alert?.fingerprint || null;
  }

  /** Show `alert` with its audit `trail` and the latest snapshot of its session (may be null). */
  render(alert, trail, snapshot) {
    const $ = (id) => this.root.querySelector(`#${id}`);
    this.alert = alert;
    this.trail = trail || [];
    this.root.dataset.empty = alert ? "false" : "true";
    if (!alert) return;
    this.root.dataset.fingerprint = alert.fingerprint;
    $("d-severity").textContent = this.t(alert.severity);
    $("d-severity").dataset.severity = alert.severity;
    $("d-state").textContent = this.t(alert.state);
    $("d-rule").textContent = ruleLabel(this.lang, alert.rule);
    $("d-rule").dataset.rule = alert.rule;
    $("d-session").textContent = alert.session;
    $("d-summary").textContent = alert.summary || "";
    $("d-value").textContent = formatNumber(alert.value, this.lang, 3);
    $("d-threshold").textContent = formatNumber(alert.threshold, this.lang, 3);
    const started = alert.fired_at || alert.started_at || alert.at;
    $("d-started").textContent = started ? formatClock(started, this.lang) : "–";
    $("d-acked").textContent = alert.acked_by
      ? `${alert.acked_by}${alert.ack_note ? ` — ${alert.ack_note}` : ""}` : "–";
    this.renderEvidence(alert.evidence || []);
    this.renderTopics(snapshot?.comments?.topics || []);
    this.renderAudit(this.trail);
    this.renderTimeline(snapshot);
  }

  renderEvidence(items) {
    const list = this.root.querySelector("#evidence");
    const nodes = [];
    for (const item of items) {
      // a storm's evidence may nest the comments it counted
      const comments = Array.isArray(item?.comments) ? item.comments : [item];
      for (const comment of comments) {
        const li = document.createElement("li");
        li.textContent = evidenceText(comment, this.lang);
        nodes.push(li);
      }
    }
    if (!nodes.length) nodes.push(this.none());
    list.replaceChildren(...nodes.slice(0, 20));
  }

  renderTopics(topics) {
    const top = Math.max(1, ...topics.map((tp) => tp.count || 0));
    const nodes = topics.slice(0, 8).map((topic) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = topicLabel(this.lang, topic.topic);
      const bar = document.createElement("span");
      bar.className = "bar-fill";
      bar.style.width = `${((topic.count || 0) / top) * 100}%`;
      const share = document.createElement("span");
      share.textContent = formatPercent(topic.share, this.lang, 0);
      li.append(name, bar, share);
      return li;
    });
    if (!nodes.length) nodes.push(this.none());
    this.root.querySelector("#topics").replaceChildren(...nodes);
  }

  renderAudit(trail) {
    const nodes = trail.slice().reverse().map((record) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.textContent = formatClock(record.at, this.lang);
      const change = document.createElement("span");
      change.textContent = `${this.t(record.from_state) || ""} → ${this.t(record.state)}`;
      const who = document.createElement("span");
      const what = record.event ? `${record.event}` : "";
      who.textContent = [what, record.actor ? `${this.t("by")} ${record.actor}` : "", record.note || ""]
        .filter(Boolean).join(" · ");
      li.append(time, change, who);
      return li;
    });
    if (!nodes.length) nodes.push(this.none());
    this.root.querySelector("#audit").replaceChildren(...nodes);
  }

  renderTimeline(snapshot) {
    if (!snapshot?.series) return;
    const series = fromFirstData(snapshot.series);
    const xs = seriesTimes(series);
    this.chart.setData([xs, series.comments || xs.map(() => null)]);
  }

  none() {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = this.t("no_data");
    return li;
  }
}
