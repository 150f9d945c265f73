// Wallboard entry module: connect, subscribe to every session, render tiles or the focus view.
// Focus comes from ?focus=<session> or #focus=<session> (clicking a tile sets the hash; Esc or
// the back button clears it), so a kiosk can be pointed at one room by URL alone.

import { AlertStore } from "./alerts.js";
import { openLiveFeed } from "./connection.js";
import { FocusView } from "./focus.js";
import { applyTranslations, pickLanguage, translator } from "./i18n.js";
import { connectionIndicator, startClock } from "./status.js";
import { TileGrid } from "./tiles.js";

const lang = pickLanguage();
const t = translator(lang);
document.documentElement.lang = lang;
applyTranslations(document.body, t);
applyTranslations(document.getElementById("tile-template").content, t);

const alerts = new AlertStore();
const tilesNode = document.getElementById("tiles");
const empty = document.getElementById("empty");
empty.textContent = t("no_sessions");
const focus = new FocusView(document.getElementById("focus"), t, lang, alerts);
const grid = new TileGrid(tilesNode, document.getElementById("tile-template"), t, lang, alerts,
  (session) => { location.hash = `focus=${encodeURIComponent(session)}`; });
const latest = new Map(); // session -> last snapshot, so the focus view fills at once

function focusedSession() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("focus");
  return fromHash || new URLSearchParams(location.search).get("focus") || "";
}

function applyRoute() {
  const session = focusedSession();
  document.body.dataset.view = session ? "focus" : "grid";
  tilesNode.hidden = Boolean(session);
  if (session) {
    focus.show(session);
    if (latest.has(session)) focus.update(latest.get(session));
  } else focus.hide();
}

window.addEventListener("hashchange", applyRoute);
document.getElementById("back").addEventListener("click", () => {
  history.replaceState(null, "", location.pathname + location.search.replace(/([?&])focus=[^&]*&?/, "$1"));
  applyRoute();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && location.hash) document.getElementById("back").click();
});

alerts.onChange(() => {
  grid.renderAllBadges();
  if (focus.session) focus.renderTicker();
});

const params = new URLSearchParams(location.search);
const sessions = params.get("sessions") ? params.get("sessions").split(",") : "*";

const indicator = connectionIndicator(document.getElementById("connection"), t);
applyRoute();
openLiveFeed({
  sessions,
  alerts,
  indicator,
  onSnapshot: (message) => {
    empty.hidden = true;
    const previous = latest.get(message.session);
    // series/markers come at most every 10 s; keep the last ones so a focus view fills at once
    const data = previous && !message.data.series
      ? { ...message.data, series: previous.series, markers: previous.markers }
      : message.data;
    latest.set(message.session, data);
    grid.update(message.session, message.data);
    if (focus.session === message.session) focus.update(message.data);
  },
});
startClock(document.getElementById("clock"), lang, () => grid.refreshAges());
