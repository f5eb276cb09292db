// Autoscaler: per function, the invocations of each of the policy's
// minutes (the actual demand) against the minutes it forecast warm, with
// the prewarms and retires sent to runners on the same time axis (GET
// /v1/autoscaler).

import { h, td, replace, ago, clock, dateTime, emptyRow } from '../dom.js';
import { json, namespace } from '../api.js';
import { timeChart } from '../chart.js';
import { poll, pageHead, failure } from './common.js';

export const title = 'Autoscaler';

export function render(main) {
  const status = h('div', {});
  const info = h('div', { id: 'autoscaler-info' });
  const charts = h('div', { id: 'autoscaler-functions' });
  const events = h('tbody', {}, emptyRow(6, 'Loading…'));
  main.append(
    pageHead('Autoscaler', `Namespace ${namespace()}: what the keep-alive policy forecast, what came, and what it did about it.`),
    status, info, charts,
    h('section', { class: 'panel' }, h('h2', {}, 'Prewarms and retires'),
      h('table', { class: 'cards', id: 'autoscaler-events' },
        h('thead', {}, h('tr', {}, ['Time', 'Function', 'Command', 'Reason', 'Instances', 'Runner'].map((c) => h('th', {}, c)))),
        events)));

  const load = async (first) => {
    try {
      const a = await json('/v1/autoscaler', { interactive: first });
      status.replaceChildren();
      draw(a);
    } catch (err) {
      replace(status, failure(err, () => load(true)));
      throw err;
    }
  };

  function draw(a) {
    if (!a.enabled) {
      replace(info, h('div', { class: 'notice' }, a.message || 'The autoscaler is off on this gateway.'));
      charts.replaceChildren();
      replace(events, emptyRow(6, 'None.'));
      return;
    }
    const tick = a.tick_ms || 60000;
    replace(info, h('div', { class: 'tiles' },
      tile('Policy', a.policy || '–'), tile('Minute', fmtTick(tick)),
      tile('Answered by', a.leading ? 'the leader (this gateway)' : 'the leader\u2019s last publication'),
      tile('Updated', a.updated_at ? ago(a.updated_at) : '–')),
    a.message ? h('div', { class: 'notice' }, a.message) : null);

    const marks = a.minutes || [];
    const now = Date.now();
    const x1 = Math.max(now, marks.length ? Date.parse(marks[marks.length - 1].end) : now);
    const x0 = marks.length ? Date.parse(marks[0].end) - tick : x1 - 30 * tick;
    const fns = a.functions || [];
    if (!fns.length) {
      replace(charts, h('p', { class: 'empty panel' }, marks.length
        ? 'No function of this namespace was called or kept warm in the autoscaler\u2019s window.'
        : 'Nothing yet: the timeline starts when the autoscaler closes its first minute.'));
    } else {
      const width = Math.max(260, (main.clientWidth || 800) - 40);
      replace(charts, fns.map((f) => functionPanel(f, marks, a.events || [], tick, x0, x1, width)));
    }
    const evs = [...(a.events || [])].reverse().slice(0, 100);
    replace(events, evs.length ? evs.map((e) => h('tr', { 'data-op': e.op },
      td('Time', { class: 'time' }, h('span', { title: dateTime(e.time) }, clock(e.time))),
      td('Function', {}, h('a', { href: '#/functions/' + e.function }, e.function)),
      td('Command', {}, h('span', { class: ['badge', e.op === 'prewarm' ? 'ok' : 'failed'] }, e.op)),
      td('Reason', {}, e.reason, e.error ? h('div', { class: 'small error' }, e.error) : null),
      td('Instances', {}, String(e.instances)),
      td('Runner', { class: 'mono small' }, e.runner))) : emptyRow(6, 'No prewarm or retire changed anything in the window.'));
  }
  return poll(load, 5000);
}

function tile(k, v) {
  return h('div', { class: 'tile' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));
}

function fmtTick(t) {
  if (t >= 60000) return (t / 60000).toFixed(t % 60000 ? 1 : 0) + ' min';
  if (t >= 1000) return (t / 1000).toFixed(t % 1000 ? 1 : 0) + ' s';
  return t + ' ms';
}

function functionPanel(f, marks, events, tick, x0, x1, width) {
  const bars = [], bands = [];
  let called = 0, hits = 0, idleWarm = 0;
  marks.forEach((m, i) => {
    const t1 = Date.parse(m.end);
    const t0 = i ? Date.parse(marks[i - 1].end) : t1 - tick;
    const c = f.counts[i] || 0, warm = f.forecast_warm[i];
    if (c) called++;
    if (c && warm) hits++;
    if (!c && warm) idleWarm++;
    bars.push({ t0, t1, stack: [{ v: c, cls: 'actual' }], title: `minute ${m.minute} (${clock(t0)}–${clock(t1)}): ${c} invocation(s), forecast ${warm ? 'warm' : 'cold'}` });
    if (warm) bands.push({ t0, t1, cls: 'warm', title: `minute ${m.minute}: forecast warm` });
  });
  if (f.warm_now && marks.length) bands.push({ t0: Date.parse(marks[marks.length - 1].end), t1: x1, cls: 'warm', title: 'the minute in progress: forecast warm' });
  const mine = events.filter((e) => e.function === f.function);
  const markers = mine.map((e) => ({
    t: Date.parse(e.time), cls: e.error ? 'error' : e.op, shape: e.op === 'retire' ? 'down' : 'up',
    title: `${clock(e.time)} ${e.op} (${e.reason}) ${e.instances} instance(s) on ${e.runner}` + (e.error ? `: ${e.error}` : ''),
  }));
  const chart = timeChart({ width, height: 190, x0, x1, bars, bands, markers, integer: true, label: `${f.function}: invocations per minute against the forecast` });
  return h('section', { class: 'panel', 'data-function': f.function },
    h('div', { class: 'page-head' },
      h('h2', {}, h('a', { href: '#/functions/' + f.function }, f.function)),
      h('p', { class: 'small' }, `${called} minute(s) with calls, ${hits} of them forecast warm (cold starts avoided); ${idleWarm} warm minute(s) without calls; now forecast ${f.warm_now ? 'warm' : 'cold'}`)),
    chart,
    h('div', { class: 'legend' },
      h('span', {}, h('i', { class: 'k-actual' }), 'invocations per minute (actual)'),
      h('span', {}, h('i', { class: 'k-band' }), 'forecast warm'),
      h('span', {}, h('i', { class: 'k-prewarm' }), '▲ prewarm'),
      h('span', {}, h('i', { class: 'k-retire' }), '▼ retire')));
}
