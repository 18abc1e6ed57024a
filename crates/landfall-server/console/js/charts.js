// Charts drawn with the vendored uPlot (console/vendor/uPlot.iife.min.js, the global `uPlot`):
// adoption curves, install success rate per release, failures by action. Every label uPlot
// shows comes from our formatters (Intl, translated), and uPlot writes legend text with
// textContent, so nothing here is parsed as HTML.

import { h } from './dom.js';
import { language } from './i18n.js';

export const PALETTE = ['#2563eb', '#16a34a', '#ea580c', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ca8a04'];
const AXIS = { stroke: '#64748b', grid: { stroke: '#e8edf3', width: 1 }, ticks: { stroke: '#e8edf3', width: 1 } };
const FONT = '12px system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

const locale = () => (language() === 'zh-CN' ? 'zh-CN' : 'en-GB');

/** Tick labels for a time axis whose ticks are `incr` seconds apart. */
function timeLabels(splits, incr) {
  let opts = { month: 'short', day: 'numeric' };
  if (incr < 60) opts = { hour: '2-digit', minute: '2-digit', second: '2-digit' };
  else if (incr < 86400) opts = { hour: '2-digit', minute: '2-digit' };
  const f = new Intl.DateTimeFormat(locale(), opts);
  return splits.map((s) => (s === null ? '' : f.format(new Date(s * 1000))));
}

/** A uPlot chart in `container` that follows the container's width. */
function chart(container, opts, data) {
  const width = () => Math.max(280, container.clientWidth || 600);
  const plot = new window.uPlot({ ...opts, width: width() }, data, container);
  const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: opts.height }));
  ro.observe(container);
  return {
    plot,
    update(next) {
      plot.setData(next);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}

/**
 * Adoption curves: one line per release, the share (%) of the devices active in the last 30
 * days that have run it, over time. `releases`: [{version_name, released_at, adoption: [{at,
 * share}]}]; `now`: the report's time (curves continue flat to it).
 */
export function adoptionData(releases, now) {
  // A point counts the devices up to the end of its 10-minute bucket; the bucket still running
  // ends in the future: it is drawn at the report's time.
  const end = Math.floor(now / 1000);
  const at = (ms) => Math.min(Math.floor(ms / 1000), end);
  const xs = new Set([end]);
  for (const r of releases) {
    if (r.released_at) xs.add(at(r.released_at));
    for (const p of r.adoption) xs.add(at(p.at));
  }
  const x = [...xs].sort((a, b) => a - b);
  // Each curve has values at its release (0 %), at its own points and at the report's time; the
  // line joins them (spanGaps) and the points are drawn, so nothing is interpolated unseen.
  // Devices that ran a release before its recorded release time (clock skew, a bundle served
  // before a channel pointed at it) count from the release point on: the curve never goes down.
  const series = releases.map((r) => {
    const own = new Map();
    const release = r.released_at ? at(r.released_at) : null;
    let last = release === null ? null : 0;
    for (const p of r.adoption) {
      last = p.share * 100;
      if (release === null || at(p.at) > release) own.set(at(p.at), last);
    }
    if (release !== null) {
      const before = r.adoption.filter((p) => at(p.at) <= release);
      own.set(release, before.length ? before[before.length - 1].share * 100 : 0);
    }
    if (last !== null) own.set(end, last);
    return x.map((t) => (own.has(t) ? own.get(t) : null));
  });
  return [x, ...series];
}

export function adoptionChart(container, releases, now, labels) {
  const data = adoptionData(releases, now);
  const max = Math.max(0, ...data.slice(1).flat().filter((v) => v !== null));
  return chart(
    container,
    {
      height: 280,
      scales: { x: { time: true }, y: { range: () => [0, Math.max(100, Math.ceil(max / 10) * 10)] } },
      axes: [
        { ...AXIS, font: FONT, space: 90, values: (u, splits, axis, space, incr) => timeLabels(splits, incr) },
        { ...AXIS, font: FONT, size: 56, values: (u, splits) => splits.map((v) => `${v}%`) },
      ],
      series: [
        {
          label: labels.time,
          value: (u, v) => (v === null ? '–' : new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(v * 1000))),
        },
        ...releases.map((r, i) => ({
          label: r.version_name,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: true,
          points: { show: true, size: 6, fill: '#fff' },
          value: (u, v) => (v === null ? '–' : `${v.toFixed(1)}%`),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    },
    data,
  );
}

/** Vertical bars over named categories (`labels`) with values (`values`). */
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 1e6, 1e7];

/** Vertical bars over named categories (`labels`) with values (`values`); `counts`: whole numbers. */
export function barChart(container, { labels, values, color, format, height = 220, max, counts = false }) {
  const x = labels.map((_, i) => i);
  const highest = Math.max(1, ...values.filter((v) => v !== null));
  const top = max !== undefined ? max : counts ? Math.ceil(highest * 1.15) : highest * 1.15;
  return chart(
    container,
    {
      height,
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: [0, top] } },
      axes: [
        { ...AXIS, font: FONT, grid: { show: false }, splits: () => x, values: (u, splits) => splits.map((i) => labels[i] ?? '') },
        { ...AXIS, font: FONT, size: 56, ...(counts ? { incrs: COUNT_STEPS } : {}), values: (u, splits) => splits.map((v) => format(v)) },
      ],
      series: [
        { label: '', value: (u, i) => (i === null ? '–' : labels[i] ?? '') },
        {
          label: container.dataset.label || '',
          fill: `${color}cc`,
          stroke: color,
          width: 1,
          paths: window.uPlot.paths.bars({ size: [0.6, 72], gap: 4 }),
          points: { show: false },
          value: (u, v) => (v === null ? '–' : format(v)),
        },
      ],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
    },
    [x, values],
  );
}

/** A chart's frame: a title, the plot area and (for screen readers and tests) a summary. */
export function frame(title, test) {
  const plot = h('div', { class: 'chart', dataset: { test } });
  const box = h('figure', { class: 'chart-frame' }, h('figcaption', { class: 'chart-title', text: title }), plot);
  return { box, plot };
}
