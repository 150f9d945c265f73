// Client-side book of alerts: filled from GET /api/v1/alerts and kept current by websocket
// "alert" messages. A message carries an AlertBook transition record (monitor/alerts.py
// Transition.to_dict: fingerprint, session, rule, labels, severity, state, from_state, at, value,
// threshold, summary, evidence, actor, note, event) or a whole alert (Alert.to_dict); both merge here.

import { getJSON } from "./api.js";

export const SEVERITY_RANK = { critical: 3, warning: 2, info: 1 };
const ACTIVE = new Set(["firing", "pending"]);

function recordOf(message) {
  const inner = message.alert || message.transition || message.data;
  if (inner && typeof inner === "object") return inner;
  const { type, v, ...rest } = message;
  return rest;
}

export class AlertStore {
  constructor() {
    this.alerts = new Map(); // fingerprint -> alert
    this.history = new Map(); // fingerprint -> transition records, oldest first
    this.listeners = new Set();
    this.available = null; // null = unknown, false = no alert API on this server
    this.lastId = null;
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  notify(fingerprint) {
    for (const listener of this.listeners) listener(fingerprint);
  }

  /** Fetch the current list; called on load and after every reconnect. */
  async load() {
    const body = await getJSON("/api/v1/alerts");
    if (body === null) {
      this.available = false;
      this.notify(null);
      return;
    }
    this.available = true;
    const list = Array.isArray(body) ? body : body.alerts || [];
    for (const alert of list) this.merge(alert);
    this.notify(null);
  }

  /** Fetch one alert's audit trail, if the server offers it. */
  async loadHistory(fingerprint) {
    const body = await getJSON(`/api/v1/alerts/${encodeURIComponent(fingerprint)}`);
    if (!body) return;
    const trail = body.transitions || body.history || body.audit || [];
    if (trail.length) this.history.set(fingerprint, trail.slice().sort((a, b) => a.at - b.at));
    if (body.alert) this.merge(body.alert);
    this.notify(fingerprint);
  }

  /**
   * Learn open alerts from a snapshot's `alerts` list (fingerprint, rule, severity, state, summary,
   * labels, acked_by) that this book has not seen yet, e.g. raised before the page connected.
   */
  adoptFromSnapshot(session, list) {
    let changed = false;
    for (const item of list || []) {
      if (!item || typeof item !== "object" || !item.fingerprint || this.alerts.has(item.fingerprint)) continue;
      this.alerts.set(item.fingerprint, { ...item, session });
      changed = true;
    }
    if (changed) this.notify(null);
  }

  /** Apply one websocket "alert" message. */
  apply(message) {
    if (message.id) this.lastId = message.id;
    const record = recordOf(message);
    if (!record.fingerprint) {
      console.warn("livemon: alert message without fingerprint", message);
      return;
    }
    if ("from_state" in record) {
      const trail = this.history.get(record.fingerprint) || [];
      trail.push(record);
      this.history.set(record.fingerprint, trail);
    }
    this.merge(record);
    this.notify(record.fingerprint);
  }

  merge(record) {
    const previous = this.alerts.get(record.fingerprint) || {};
    const merged = { ...previous, ...record };
    if (record.from_state !== undefined) {
      // a transition: keep the alert-level times that a transition does not carry
      if (record.state === "firing" && !previous.fired_at) merged.fired_at = record.at;
      if (record.state === "resolved") merged.resolved_at = record.at;
      if (!previous.started_at) merged.started_at = record.at;
      if (record.event === "ack" || record.event === "acknowledged") {
        merged.acked_by = record.actor;
        merged.acked_at = record.at;
        merged.ack_note = record.note;
      }
      delete merged.from_state;
    }
    this.alerts.set(record.fingerprint, merged);
  }

  /** Alerts, most severe and most recent first, optionally filtered. */
  list({ state = "", severity = "", session = "" } = {}) {
    return [...this.alerts.values()]
      .filter((a) => !state || (state === "active" ? ACTIVE.has(a.state) : a.state === state))
      .filter((a) => !severity || a.severity === severity)
      .filter((a) => !session || a.session === session)
      .sort((a, b) => (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0)
        || (b.fired_at || b.started_at || b.at || 0) - (a.fired_at || a.started_at || a.at || 0));
  }

  active(session) {
    return this.list({ state: "active", session });
  }
}

export function isActive(alert) {
  return ACTIVE.has(alert.state);
}
