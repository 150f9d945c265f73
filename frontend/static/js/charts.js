// Charts on uPlot (vendored, see static/vendor/): tile sparklines and focus-view minute curves.
// Event markers (product pins, alerts) are drawn through uPlot's draw hook, on uPlot's own canvas.

import uPlot from "../vendor/uPlot-1.6.32.esm.js";

const MUTED = "#9aa5b1";
const GRID = "#2a3139";
const LINE = "#c9d3dc";
// Show dots only while a curve has too few points to draw a line (the first minutes of a session).
const sparsePoints = { show: (u, i) => u.data[i].filter((v) => v !== null && v !== undefined).length < 3, size: 8 };

function hhmm(u, splits) {
  return splits.map((v) => {
    const d = new Date(v * 1000);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  });
}

const MARKER_COLOURS = { pin: "#6b8fb3", unpin: "#4a5866", alert: "#ef4e4e" };

function sized(container, make) {
  const box = container.getBoundingClientRect();
  const chart = make(Math.max(60, Math.floor(box.width)), Math.max(30, Math.floor(box.height)));
  const observer = new ResizeObserver(() => {
    const next = container.getBoundingClientRect();
    if (next.width > 0 && next.height > 0) chart.setSize({ width: Math.floor(next.width), height: Math.floor(next.height) });
  });
  observer.observe(container);
  return chart;
}

/** A small axis-less line of the online curve inside a tile. */
export class Sparkline {
  constructor(container) {
    this.container = container;
    this.chart = null;
  }

  setData(xs, ys) {
    const data = [xs, ys];
    if (!this.chart) {
      this.chart = sized(this.container, (width, height) => new uPlot({
        width, height, pxAlign: 0, cursor: { show: false }, legend: { show: false }, select: { show: false },
        scales: { x: { time: true } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: LINE, width: 2, spanGaps: true, points: sparsePoints }],
      }, data, this.container));
    } else this.chart.setData(data);
  }
}

function markerPlugin(getMarkers) {
  return {
    hooks: {
      draw: [(u) => {
        const [min, max] = [u.scales.x.min, u.scales.x.max];
        const { ctx, bbox } = u;
        ctx.save();
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const marker of getMarkers()) {
          // the last point is the start of the current minute: a marker inside that minute sits on it
          if (marker.x < min || marker.x >= max + 60) continue;
          const x = Math.round(u.valToPos(Math.min(marker.x, max), "x", true));
          ctx.strokeStyle = MARKER_COLOURS[marker.kind] || MUTED;
          ctx.setLineDash(marker.kind === "unpin" ? [4 * devicePixelRatio, 4 * devicePixelRatio] : []);
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

/**
 * A minute curve chart with axes, legend off (labels live in the HTML heading) and markers.
 * @param {HTMLElement} container
 * @param {{label: string, stroke: string}[]} lines
 * @param {() => {x: number, kind: string}[]} getMarkers
 */
export class MinuteChart {
  constructor(container, lines, getMarkers) {
    this.container = container;
    this.lines = lines;
    this.getMarkers = getMarkers;
    this.chart = null;
  }

  setData(data) {
    this.container.dataset.minutes = String(data[0].length); // the span drawn, for people and tests
    if (!this.chart) {
      const font = `${Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.85)}px system-ui`;
      const axis = { stroke: MUTED, grid: { stroke: GRID }, ticks: { stroke: GRID }, font };
      this.chart = sized(this.container, (width, height) => new uPlot({
        width, height, cursor: { show: false }, legend: { show: false }, select: { show: false },
        scales: { x: { time: true } },
        axes: [{ ...axis, space: 90, values: hhmm }, { ...axis, size: 70 }],
        series: [{}, ...this.lines.map((l) => ({ label: l.label, stroke: l.stroke, width: 2, spanGaps: true,
          points: sparsePoints }))],
        plugins: [markerPlugin(this.getMarkers)],
      }, data, this.container));
    } else this.chart.setData(data);
  }

  redraw() {
    if (this.chart) this.chart.redraw(false, false);
  }
}

/** The x values (epoch seconds) of a snapshot's `series`. */
export function seriesTimes(series) {
  const count = (series.online || series.gmv || []).length;
  return Array.from({ length: count }, (_, i) => series.start + i * series.step);
}

const CURVES = ["online", "entries", "leaves", "gmv", "comments"];

/**
 * The series from its first minute with data, keeping at least `minMinutes`: the engine sends
 * a fixed hour, and a show 5 minutes old drawn on it was a sliver at the right edge.
 */
export function fromFirstData(series, minMinutes = 10) {
  const count = (series.online || series.gmv || []).length;
  const hasData = (i) => CURVES.some((key) => { const v = series[key]?.[i]; return v !== null && v !== undefined && v !== 0; });
  let first = 0;
  while (first < count && !hasData(first)) first += 1;
  const skip = Math.max(0, Math.min(first, count - minMinutes));
  const out = { ...series, start: series.start + skip * series.step };
  for (const key of CURVES) if (Array.isArray(series[key])) out[key] = series[key].slice(skip);
  return out;
}
