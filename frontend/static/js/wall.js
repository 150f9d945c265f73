// Wallboard entry module: connect, subscribe to every session, render tiles, show staleness.

import { LiveConnection } from "./connection.js";
import { applyTranslations, pickLanguage, translator } from "./i18n.js";
import { TileGrid } from "./tiles.js";

const lang = pickLanguage();
const t = translator(lang);
document.documentElement.lang = lang;

const grid = new TileGrid(document.getElementById("tiles"), document.getElementById("tile-template"), t, lang);
const connectionBadge = document.getElementById("connection");
const empty = document.getElementById("empty");
empty.textContent = t("no_sessions");
applyTranslations(document.getElementById("tile-template").content, t);

const params = new URLSearchParams(location.search);
const sessions = params.get("sessions") ? params.get("sessions").split(",") : "*";

const connection = new LiveConnection({
  subscription: () => ({ type: "subscribe", v: 1, sessions }),
  onState: (state) => {
    connectionBadge.dataset.state = state;
    connectionBadge.textContent = t(state);
  },
  handlers: {
    hello: () => {},
    heartbeat: () => {},
    snapshot: (message) => {
      empty.hidden = true;
      grid.update(message.session, message.data);
    },
    error: (message) => console.error("livemon server:", message.error),
  },
});
connection.start();

setInterval(() => {
  grid.refreshAges();
  document.getElementById("clock").textContent = new Date().toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB");
}, 1000);
