// One tile per session on the wallboard. Event data reaches the DOM only through textContent.

import { formatAge, formatNumber } from "./format.js";

export const STALE_AFTER_S = 5;

export class TileGrid {
  constructor(container, template, t, lang) {
    this.container = container;
    this.template = template;
    this.t = t;
    this.lang = lang;
    this.tiles = new Map(); // session -> { node, receivedAt }
  }

  update(session, data) {
    let tile = this.tiles.get(session);
    if (!tile) {
      const node = this.template.content.firstElementChild.cloneNode(true);
      node.dataset.session = session;
      this.container.append(node);
      tile = { node, receivedAt: 0 };
      this.tiles.set(session, tile);
      this.sortAndLayout();
    }
    tile.receivedAt = Date.now();
    const node = tile.node;
    node.querySelector(".platform").textContent = data.platform;
    node.querySelector(".title").textContent = data.title || session;
    node.querySelector(".kpi-online .label").textContent = this.t(data.online_estimated ? "online_est" : "online");
    for (const value of node.querySelectorAll("[data-metric]")) {
      value.textContent = formatNumber(data[value.dataset.metric], this.lang, value.dataset.metric.startsWith("gmv") ? 0 : 1);
    }
    const list = node.querySelector(".comments");
    const items = (data.recent_comments || []).slice(-4).map((comment) => {
      const li = document.createElement("li");
      li.textContent = comment.text;
      return li;
    });
    list.replaceChildren(...items);
    this.refreshAges();
  }

  refreshAges() {
    const now = Date.now();
    for (const { node, receivedAt } of this.tiles.values()) {
      const age = (now - receivedAt) / 1000;
      const stale = age > STALE_AFTER_S;
      node.dataset.stale = String(stale);
      node.querySelector(".age").textContent = stale ? `${this.t("stale")} ${formatAge(age)}` : "";
    }
  }

  sortAndLayout() {
    const sessions = [...this.tiles.keys()].sort();
    for (const session of sessions) this.container.append(this.tiles.get(session).node);
    const count = sessions.length;
    const cols = count <= 1 ? 1 : count <= 4 ? 2 : count <= 9 ? 3 : 4;
    this.container.style.setProperty("--cols", String(cols));
  }
}
