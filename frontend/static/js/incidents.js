// Incident console entry module: alerts from GET /api/v1/alerts kept live by websocket "alert"
// messages; filter by state, severity and session; acknowledge, resolve or silence with a note.

import { AlertStore } from "./alerts.js";
import { postJSON } from "./api.js";
import { openLiveFeed } from "./connection.js";
import { formatClock, shortenMiddle } from "./format.js";
import { IncidentDetail } from "./incident_detail.js";
import { applyTranslations, pickLanguage, ruleLabel, translator } from "./i18n.js";
import { connectionIndicator, startClock } from "./status.js";

const lang = pickLanguage();
const t = translator(lang);
document.documentElement.lang = lang;
applyTranslations(document.body, t);

const $ = (id) => document.getElementById(id);
const SESSION_CHARS = 11; // what the list's session column holds; the cell's tooltip has the whole id
const alerts = new AlertStore();
const snapshots = new Map(); // session -> latest snapshot (series for the timeline, topics)
const detail = new IncidentDetail($("detail"), t, lang);
const form = $("filters");
const params = new URLSearchParams(location.search);
for (const name of ["state", "severity", "session"]) {
  // a value the select does not offer (a hand-typed ?state=any) keeps the default instead of a blank filter
  const known = name === "session" || [...form.elements[name].options].some((o) => o.value === params.get(name));
  if (params.has(name) && known) form.elements[name].value = params.get(name);
}
let selected = params.get("alert") || null;

function filters() {
  return { state: form.elements.state.value, severity: form.elements.severity.value,
    session: form.elements.session.value };
}

function renderSessions() {
  const select = $("session-filter");
  const current = select.value || params.get("session") || "";
  const sessions = new Set([...snapshots.keys(), ...[...alerts.alerts.values()].map((a) => a.session)]);
  if (current) sessions.add(current);
  const options = [...sessions].sort().map((s) => {
    const option = document.createElement("option");
    option.value = s;
    option.textContent = s;
    return option;
  });
  const any = document.createElement("option");
  any.value = "";
  any.textContent = t("any");
  select.replaceChildren(any, ...options);
  select.value = current;
}

function renderList() {
  const rows = alerts.list(filters()).map((alert) => {
    const tr = document.createElement("tr");
    tr.dataset.fingerprint = alert.fingerprint;
    tr.dataset.severity = alert.severity;
    tr.dataset.state = alert.state;
    tr.setAttribute("aria-selected", String(alert.fingerprint === selected));
    const started = alert.fired_at || alert.started_at || alert.at;
    for (const text of [t(alert.severity), t(alert.state), shortenMiddle(alert.session, SESSION_CHARS),
      ruleLabel(lang, alert.rule), alert.summary || "", started ? formatClock(started, lang) : "–"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.children[2].title = alert.session;
    tr.title = alert.summary || "";
    tr.addEventListener("click", () => select(alert.fingerprint));
    return tr;
  });
  $("alert-rows").replaceChildren(...rows);
  $("no-alerts").hidden = rows.length > 0;
}

function renderDetail() {
  const alert = selected ? alerts.alerts.get(selected) : null;
  detail.render(alert || null, selected ? alerts.history.get(selected) : [], alert ? snapshots.get(alert.session) : null);
}

function select(fingerprint) {
  selected = fingerprint;
  $("action-status").textContent = "";
  renderList();
  renderDetail();
  alerts.loadHistory(fingerprint);
}

async function act(path, body) {
  const status = $("action-status");
  const result = await postJSON(path, body);
  status.dataset.outcome = result.ok ? "sent" : result.unavailable ? "unavailable" : "failed";
  const why = !result.ok && result.body && typeof result.body === "object" ? result.body.error || result.body.detail : "";
  status.textContent = `${t(result.ok ? "sent" : result.unavailable ? "not_available" : "failed")}${why ? `: ${why}` : ""}`;
  if (result.ok) {
    $("note").value = "";
    await alerts.load();
    if (selected) await alerts.loadHistory(selected);
  }
}

$("ack").addEventListener("click", () => {
  if (selected) act(`/api/v1/alerts/${encodeURIComponent(selected)}/ack`, { note: $("note").value });
});
$("resolve").addEventListener("click", () => {
  if (selected) act(`/api/v1/alerts/${encodeURIComponent(selected)}/resolve`, { note: $("note").value });
});
$("silence").addEventListener("click", () => {
  const alert = selected && alerts.alerts.get(selected);
  if (!alert) return;
  const minutes = Math.max(1, Number($("silence-minutes").value) || 30);
  const now = Date.now() / 1000;
  act("/api/v1/silences", {
    matchers: { session: alert.session, rule: alert.rule }, starts_at: now, ends_at: now + minutes * 60,
    duration_s: minutes * 60, reason: $("note").value.trim() || `${t("silence")} — ${alert.rule}`,
  });
});
form.addEventListener("change", () => {
  const query = new URLSearchParams(filters());
  history.replaceState(null, "", `${location.pathname}?${query}`);
  renderList();
});
form.addEventListener("submit", (event) => event.preventDefault());

alerts.onChange((fingerprint) => {
  $("api-missing").hidden = alerts.available !== false;
  renderSessions();
  renderList();
  if (!fingerprint || fingerprint === selected) renderDetail();
});

const indicator = connectionIndicator($("connection"), t);
renderList();
openLiveFeed({
  sessions: "*",
  alerts,
  indicator,
  onSnapshot: (message) => {
    const previous = snapshots.get(message.session);
    const isNew = !previous;
    const data = previous && !message.data.series ? { ...message.data, series: previous.series } : message.data;
    snapshots.set(message.session, data);
    if (isNew) renderSessions();
    if (selected && alerts.alerts.get(selected)?.session === message.session && message.data.series) renderDetail();
  },
});
startClock($("clock"), lang);
