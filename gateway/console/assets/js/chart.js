// Hand-written SVG charts over a time axis: stacked bars per interval,
// lines, shaded bands (intervals) and markers (instants), all on one
// clock so that what happened lines up. Colours come from classes in
// app.css; sizes from the width the chart is given (its container's).

import { s } from './dom.js';

const M = { left: 46, right: 12, top: 14, bottom: 24 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  const f = v / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

function timeLabel(t, span) {
  const d = new Date(t);
  if (span > 2 * 86400e3) return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  const o = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (span <= 15 * 60e3) o.second = '2-digit';
  if (span <= 20e3) o.fractionalSecondDigits = 1;
  return d.toLocaleTimeString([], o);
}

function fmtDefault(v) {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + 'k';
  if (Math.abs(v) < 1) return v.toFixed(2);
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

// timeChart draws a chart and answers its <svg>. opts:
//   width, height      size in px (width: the container's)
//   x0, x1             the time axis, ms since the epoch
//   bars               [{t0, t1, stack: [{v, cls}], title}]
//   lines              [{cls, label, points: [{t, v}]}]
//   bands              [{t0, t1, cls, title}]
//   markers            [{t, cls, shape: 'up'|'down', title}]
//   yFormat, label     tick format, accessible label
//   integer            counts: whole ticks
// data-points on the svg counts the non-zero bars, line points and
// markers drawn (the tests read it).
export function timeChart(opts) {
  const width = Math.max(260, Math.round(opts.width || 640));
  const height = opts.height || 170;
  const { x0, x1 } = opts;
  const bars = opts.bars || [], lines = opts.lines || [], bands = opts.bands || [], markers = opts.markers || [];
  const yFormat = opts.yFormat || fmtDefault;
  const span = Math.max(1, x1 - x0);
  const iw = width - M.left - M.right;
  const top = M.top + (markers.length ? 10 : 0);
  const ih = height - top - M.bottom;
  const x = (t) => M.left + ((t - x0) / span) * iw;

  let ymax = 0;
  for (const b of bars) ymax = Math.max(ymax, b.stack.reduce((a, p) => a + (p.v || 0), 0));
  for (const l of lines) for (const p of l.points) if (Number.isFinite(p.v)) ymax = Math.max(ymax, p.v);
  ymax = opts.integer ? Math.max(4, Math.ceil(ymax / 4) * 4) : niceMax(ymax); // counts: whole ticks
  const y = (v) => top + ih - (v / ymax) * ih;

  let drawn = 0;
  const svg = s('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': opts.label || 'chart', preserveAspectRatio: 'none',
  });

  // Bands first, under everything.
  const gb = s('g', { class: 'bands' });
  for (const b of bands) {
    const a = Math.max(x(b.t0), M.left), z = Math.min(x(b.t1), M.left + iw);
    if (z <= a) continue;
    gb.append(s('rect', { class: ['band', b.cls], x: a.toFixed(1), y: top, width: (z - a).toFixed(1), height: ih },
      b.title ? s('title', {}, b.title) : null));
  }
  svg.append(gb);

  // Grid and y axis.
  const gy = s('g', { class: 'grid' });
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    const yy = y(v).toFixed(1);
    gy.append(s('line', { x1: M.left, x2: M.left + iw, y1: yy, y2: yy }));
    gy.append(s('text', { x: M.left - 6, y: Number(yy) + 3.5, 'text-anchor': 'end' }, yFormat(v)));
  }
  svg.append(gy);

  // Time axis.
  const gx = s('g', { class: 'axis' });
  gx.append(s('line', { x1: M.left, x2: M.left + iw, y1: top + ih, y2: top + ih }));
  const nt = Math.max(2, Math.min(6, Math.floor(iw / (span <= 20e3 ? 110 : 95))));
  for (let i = 0; i <= nt; i++) {
    const t = x0 + (span * i) / nt;
    const xx = x(t);
    gx.append(s('line', { x1: xx, x2: xx, y1: top + ih, y2: top + ih + 4 }));
    gx.append(s('text', { x: xx, y: top + ih + 16, 'text-anchor': i === 0 ? 'start' : i === nt ? 'end' : 'middle' }, timeLabel(t, span)));
  }
  svg.append(gx);

  // Bars, stacked.
  const gbar = s('g', { class: 'bars' });
  for (const b of bars) {
    const a = x(b.t0), z = x(b.t1);
    const w = Math.max(1, z - a - Math.min(2, (z - a) * 0.15));
    let acc = 0;
    for (const p of b.stack) {
      if (!(p.v > 0)) continue;
      const y1 = y(acc + p.v), y0 = y(acc);
      acc += p.v;
      gbar.append(s('rect', { class: ['bar', p.cls], x: a.toFixed(1), y: y1.toFixed(1), width: w.toFixed(1), height: Math.max(0.5, y0 - y1).toFixed(1) },
        b.title ? s('title', {}, b.title) : null));
      drawn++;
    }
  }
  svg.append(gbar);

  // Lines, with a dot on each point (a lone point shows).
  for (const l of lines) {
    const pts = l.points.filter((p) => Number.isFinite(p.v));
    if (!pts.length) continue;
    const g = s('g', { class: 'series' });
    const d = pts.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1)).join(' ');
    g.append(s('path', { class: ['line', l.cls], d }, s('title', {}, l.label || '')));
    for (const p of pts) {
      g.append(s('circle', { class: ['dot', l.cls], cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.2 },
        s('title', {}, `${l.label}: ${yFormat(p.v)} at ${timeLabel(p.t, span)}`)));
    }
    drawn += pts.length;
    svg.append(g);
  }

  // Markers along the top, at their instant.
  const gm = s('g', { class: 'markers' });
  for (const mk of markers) {
    const xx = x(mk.t);
    if (xx < M.left - 1 || xx > M.left + iw + 1) continue;
    const yy = M.top - 2;
    const d = mk.shape === 'down'
      ? `M${(xx - 5).toFixed(1)} ${yy - 3} L${(xx + 5).toFixed(1)} ${yy - 3} L${xx.toFixed(1)} ${yy + 6} Z`
      : `M${(xx - 5).toFixed(1)} ${yy + 6} L${(xx + 5).toFixed(1)} ${yy + 6} L${xx.toFixed(1)} ${yy - 3} Z`;
    gm.append(s('path', { class: ['marker', mk.cls], d }, mk.title ? s('title', {}, mk.title) : null));
    gm.append(s('line', { class: 'axis', x1: xx, x2: xx, y1: yy + 6, y2: top + ih, 'stroke-dasharray': '1 3' }));
    drawn++;
  }
  svg.append(gm);

  svg.setAttribute('data-points', String(drawn));
  return svg;
}

// buckets splits [x0, x1) into n equal intervals.
export function buckets(x0, x1, n) {
  const w = (x1 - x0) / n;
  return Array.from({ length: n }, (_, i) => ({ t0: x0 + i * w, t1: x0 + (i + 1) * w }));
}
