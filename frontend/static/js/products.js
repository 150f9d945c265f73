// The focus view's product table (Compass big-screen style): last-5-min clicks and GMV, stock,
// unpaid orders (压单) and sell-out ETA, with "unpaid" and "low stock" (库存告急) filters.

import { formatAge, formatNumber } from "./format.js";

export const LOW_STOCK_ETA_S = 600;
export const LOW_STOCK_UNITS = 20;

export function isLowStock(row) {
  return (row.stock !== null && row.stock !== undefined && row.stock <= LOW_STOCK_UNITS)
    || (row.sellout_eta_s !== null && row.sellout_eta_s !== undefined && row.sellout_eta_s <= LOW_STOCK_ETA_S);
}

const FILTERS = {
  all: () => true,
  unpaid: (row) => (row.unpaid || 0) > 0,
  low_stock: isLowStock,
};

export class ProductTable {
  constructor(tbody, lang, t) {
    this.tbody = tbody;
    this.lang = lang;
    this.t = t;
    this.filter = "all";
    this.rows = [];
  }

  setFilter(name) {
    this.filter = name in FILTERS ? name : "all";
    this.render();
  }

  update(rows) {
    this.rows = rows || [];
    this.render();
  }

  render() {
    const keep = FILTERS[this.filter];
    const rows = this.rows.filter(keep)
      .sort((a, b) => Number(b.pinned) - Number(a.pinned) || (b.gmv_5m || 0) - (a.gmv_5m || 0));
    this.tbody.replaceChildren(...rows.slice(0, 12).map((row) => this.renderRow(row)));
  }

  renderRow(row) {
    const tr = document.createElement("tr");
    tr.dataset.product = row.product;
    tr.dataset.pinned = String(Boolean(row.pinned));
    tr.dataset.lowStock = String(isLowStock(row));
    tr.dataset.unpaid = String((row.unpaid || 0) > 0);
    const cells = [
      row.name || row.product,
      formatNumber(row.clicks_5m, this.lang),
      formatNumber(row.gmv_5m, this.lang),
      row.stock === null || row.stock === undefined ? "–" : formatNumber(row.stock, this.lang),
      formatNumber(row.unpaid || 0, this.lang),
      row.sellout_eta_s === null || row.sellout_eta_s === undefined ? "–" : formatAge(row.sellout_eta_s),
    ];
    cells.forEach((text, i) => {
      const td = document.createElement(i === 0 ? "th" : "td");
      td.textContent = text;
      if (i === 0 && row.pinned) {
        const pin = document.createElement("span");
        pin.className = "pin";
        pin.textContent = this.t("pinned");
        td.append(" ", pin);
      }
      tr.append(td);
    });
    return tr;
  }
}
