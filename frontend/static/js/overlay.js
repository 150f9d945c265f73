// Host overlay entry module: one session's next product, open questions, mood, pinned stock and
// critical alert, with accept/skip/answered buttons. Those POST to endpoints that may not exist on
// every server yet; a 404/405/501 answer shows "not available" and the page carries on.
// A tablet is often opened before the show starts (it says it is waiting, not that all is quiet)
// and left on after it ends (it says so, and its buttons stop: there is nothing left to act on).

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

/** True once the show's snapshot says it ended: its suggestions and questions are over. */
function ended() {
  return snapshot?.live === false;
}

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
  $("accept").disabled = ended();
  $("skip").disabled = ended();
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
  $("accept").disabled = ended();
  $("skip").disabled = ended();
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
    node.querySelector(".answered").disabled = ended();
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

/** What the header says about the data: waiting, ended, frozen by a fault, stale, or nothing. */
function dataState(since) {
  const nowS = Date.now() / 1000;
  if (!snapshot) return ["waiting", t("waiting_show")];
  if (ended()) return ["ended", `${t("ended")} ${formatAge(Math.max(0, nowS - (snapshot.ended_at ?? nowS)))}`];
  // the engine holds this session out: figures frozen (docs/frontend.md)
  if (snapshot.fault) return ["frozen", `${t("frozen")} ${formatAge(nowS - snapshot.fault.since)}`];
  if (since > STALE_AFTER_S) return ["stale", `${t("stale")} ${formatAge(since)}`];
  return ["live", ""];
}

// Ages and the sell-out countdown move every second between snapshots.
function tick() {
  const since = receivedAt ? (Date.now() - receivedAt) / 1000 : 0;
  const [state, text] = dataState(since);
  root.dataset.state = state;
  root.dataset.stale = String(state === "stale" || state === "frozen");
  $("age").textContent = text;
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
