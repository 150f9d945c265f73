// Host overlay entry module: one session's next product, open questions, mood, pinned stock and
// critical alert, with accept/skip/answered buttons. Those POST to endpoints that may not exist on
// every server yet; a 404/405/501 answer shows "not available" and the page carries on.

import { AlertStore } from "./alerts.js";
import { postJSON } from "./api.js";
import { openLiveFeed } from "./connection.js";
import { formatAge, formatNumber } from "./format.js";
import { setGauge } from "./gauge.js";
import { applyTranslations, pickLanguage, ruleLabel, translator } from "./i18n.js";
import { isLowStock } from "./products.js";
import { connectionIndicator, startClock } from "./status.js";
import { STALE_AFTER_S } from "./tiles.js";

const OLD_QUESTION_S = 60;
const MAX_QUESTIONS = 5;

const lang = pickLanguage();
const t = translator(lang);
document.documentElement.lang = lang;
applyTranslations(document.body, t);
const questionTemplate = document.getElementById("question-template");
applyTranslations(questionTemplate.content, t);

const root = document.getElementById("overlay");
const session = root.dataset.session;
const base = `/api/v1/sessions/${encodeURIComponent(session)}`;
const $ = (id) => document.getElementById(id);
const alerts = new AlertStore();
const answered = new Set(); // question groups answered from this tablet, hidden until the server agrees
let snapshot = null;
let receivedAt = 0;
let suggested = null;

function showOutcome(node, result) {
  const outcome = result.ok ? "sent" : result.unavailable ? "unavailable" : "failed";
  node.dataset.outcome = outcome;
  node.textContent = t(result.ok ? "sent" : result.unavailable ? "not_available" : "failed");
}

async function decide(action) {
  if (!suggested) return;
  const product = suggested;
  $("accept").disabled = true;
  $("skip").disabled = true;
  const result = await postJSON(`${base}/suggestions/${encodeURIComponent(product)}/${action}`, {});
  showOutcome($("next-status"), result);
  $("accept").disabled = false;
  $("skip").disabled = false;
}
$("accept").addEventListener("click", () => decide("accept"));
$("skip").addEventListener("click", () => decide("skip"));

function renderNext(data) {
  const top = (data.suggestions || [])[0];
  const card = $("next");
  if (!top) {
    suggested = null;
    card.dataset.empty = "true";
    $("next-product").textContent = t("no_suggestion");
    $("next-reason").textContent = "";
    $("accept").disabled = true;
    $("skip").disabled = true;
    return;
  }
  if (top.product !== suggested) $("next-status").textContent = "";
  suggested = top.product;
  card.dataset.empty = "false";
  card.dataset.product = top.product;
  const row = (data.products || []).find((p) => p.product === top.product);
  $("next-product").textContent = row?.name || top.product;
  $("next-reason").textContent = (lang === "zh" ? top.reason_zh : top.reason) || top.reason || "";
  $("accept").disabled = false;
  $("skip").disabled = false;
}

function questionText(group) {
  const example = (group.examples || [])[0];
  return (typeof example === "string" ? example : example?.text) || group.intent || group.group;
}

function renderQuestions(data) {
  const list = $("questions");
  const groups = (data.comments?.open_questions || []).filter((g) => !answered.has(g.group))
    .sort((a, b) => (b.oldest_age_s || 0) - (a.oldest_age_s || 0)).slice(0, MAX_QUESTIONS);
  const existing = new Map([...list.querySelectorAll(".question")].map((n) => [n.dataset.group, n]));
  const items = groups.map((group) => {
    const node = existing.get(group.group) || questionTemplate.content.firstElementChild.cloneNode(true);
    if (!node.dataset.group) {
      node.dataset.group = group.group;
      const button = node.querySelector(".answered");
      button.addEventListener("click", async () => {
        button.disabled = true;
        const result = await postJSON(`${base}/questions/${encodeURIComponent(group.group)}/answered`, {});
        showOutcome(node.querySelector(".action-status"), result);
        if (result.ok) {
          answered.add(group.group);
          node.remove();
        } else button.disabled = false;
      });
    }
    node.querySelector(".question-text").textContent = questionText(group);
    node.querySelector(".question-count").textContent = `${group.count} ${t("times")}`;
    node.dataset.baseAge = String(group.oldest_age_s || 0);
    return node;
  });
  if (!items.length) {
    const none = document.createElement("li");
    none.className = "none";
    none.textContent = t("no_questions");
    items.push(none);
  }
  list.replaceChildren(...items);
  // the server stops listing a group once it is answered; forget it then
  const open = new Set((data.comments?.open_questions || []).map((g) => g.group));
  for (const group of [...answered]) if (!open.has(group)) answered.delete(group);
}

function pinnedRow(data) {
  return (data.products || []).find((p) => p.pinned) || null;
}

function renderStock(data) {
  const row = pinnedRow(data);
  const card = $("stock");
  if (!row) {
    $("stock-product").textContent = t("no_pinned");
    $("stock-units").textContent = "–";
    $("stock-eta").textContent = "";
    card.dataset.level = "";
    return;
  }
  $("stock-product").textContent = row.name || row.product;
  $("stock-units").textContent = row.stock === null || row.stock === undefined ? "–" : formatNumber(row.stock, lang);
  card.dataset.level = isLowStock(row) ? "low" : "";
}

function renderCritical() {
  const top = alerts.active(session).find((a) => a.severity === "critical" && a.state === "firing");
  const box = $("critical");
  box.hidden = !top;
  box.dataset.fingerprint = top ? top.fingerprint : "";
  box.querySelector(".critical-rule").textContent = top ? ruleLabel(lang, top.rule) : "";
  box.dataset.rule = top ? top.rule : "";
  box.querySelector(".critical-summary").textContent = top ? top.summary || "" : "";
}

// Ages and the sell-out countdown move every second between snapshots.
function tick() {
  const since = receivedAt ? (Date.now() - receivedAt) / 1000 : 0;
  const stale = receivedAt > 0 && since > STALE_AFTER_S;
  const fault = snapshot?.fault; // the engine holds this session out: figures frozen (docs/frontend.md)
  root.dataset.stale = String(stale || Boolean(fault));
  $("age").textContent = fault ? `${t("frozen")} ${formatAge(Date.now() / 1000 - fault.since)}`
    : stale ? `${t("stale")} ${formatAge(since)}` : "";
  for (const node of document.querySelectorAll(".question[data-base-age]")) {
    const age = Number(node.dataset.baseAge) + since;
    node.dataset.old = String(age >= OLD_QUESTION_S);
    node.querySelector(".question-age").textContent = `${t("asked")} ${formatAge(age)} ${t("ago")}`;
  }
  const row = snapshot && pinnedRow(snapshot);
  const eta = row?.sellout_eta_s;
  $("stock-eta").textContent = eta === null || eta === undefined ? ""
    : `${t("sellout_eta")} ${formatAge(Math.max(0, eta - since))}`;
}

function render(data) {
  snapshot = data;
  receivedAt = Date.now();
  $("platform").textContent = data.platform || "";
  $("title").textContent = data.title || session;
  renderNext(data);
  renderQuestions(data);
  setGauge($("mood"), data.comments?.sentiment_index, lang);
  renderStock(data);
  tick();
}

alerts.onChange(renderCritical);
const indicator = connectionIndicator($("connection"), t);
openLiveFeed({
  sessions: [session],
  alerts,
  indicator,
  onSnapshot: (message) => {
    if (message.session === session) render(message.data);
  },
});
startClock($("clock"), lang, tick);
