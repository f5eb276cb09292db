// A function: its rate, latency percentiles and cold starts over a time
// window, derived from its newest invocation records (GET
// /v1/functions/{name}/invocations), the recent invocations with their
// timings, logs and placement, its versions and aliases, and a form to
// call it.

import { h, td, replace, ago, clock, ms, badge, emptyRow, percentile, shortDigest, dateTime, bytes } from '../dom.js';
import { json, text, request, enc, namespace } from '../api.js';
import { timeChart, buckets } from '../chart.js';
import { poll, pageHead, failure, aliasChip } from './common.js';

export const title = 'Function';

const WINDOWS = [
  { label: '5 min', ms: 5 * 60e3 },
  { label: '15 min', ms: 15 * 60e3 },
  { label: '1 h', ms: 3600e3 },
  { label: '24 h', ms: 86400e3 },
];
const RECORDS = 500; // records read per refresh; the charts say so when the window holds more

export const PLACEMENT = {
  warm: 'an idle warm instance of the module was on this runner',
  home: "the module's home runner (rendezvous hashing on its digest, within the load bound)",
  p2c: 'the less loaded of the two best home runners',
  'round-robin': 'the next ready runner in turn',
  'least-loaded': 'the least loaded ready runner',
  any: 'no runner heartbeat had arrived yet: any runner of the queue group took it',
};

export function render(main, { name }) {
  let windowMs = WINDOWS[0].ms;
  let recs = [];
  const open = new Set(); // invocation ids whose details are shown
  let shown = 20; // rows of the recent invocations; "Show more" adds 50
  const logs = new Map(); // id → log text (or an Error)

  const head = h('div', {});
  const status = h('div', {});
  const tiles = h('div', { class: 'tiles', id: 'fn-tiles' });
  const rateBox = h('div', { class: 'chart-box', id: 'chart-rate' });
  const latBox = h('div', { class: 'chart-box', id: 'chart-latency' });
  const coldBox = h('div', { class: 'chart-box', id: 'chart-cold' });
  const note = h('p', { class: 'small muted' });
  const invBody = h('tbody', {}, emptyRow(9, 'Loading…'));
  const more = h('button', { type: 'button', class: 'secondary', id: 'invocations-more', hidden: true, onclick: () => { shown += 50; drawInvocations(); } }, 'Show more');
  const versions = h('div', {});
  const aliases = h('div', {});
  const seg = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time window' },
    WINDOWS.map((w) => h('button', { type: 'button', 'aria-pressed': String(w.ms === windowMs), onclick: (e) => {
      windowMs = w.ms;
      for (const b of seg.children) b.setAttribute('aria-pressed', String(b === e.currentTarget));
      draw();
    } }, w.label)));

  main.append(
    h('div', { class: 'crumbs' }, h('a', { href: '#/functions' }, 'Functions'), ` / ${namespace()} / ${name}`),
    head, status,
    h('div', { class: 'row page-head' }, h('h2', {}, 'Activity'), seg),
    tiles,
    h('div', { class: 'grid' },
      h('section', { class: 'panel' }, h('h3', {}, 'Invocations per second'), rateBox,
        h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'k-bar' }), 'succeeded'), h('span', {}, h('i', { class: 'k-failed' }), 'failed or dead'))),
      h('section', { class: 'panel' }, h('h3', {}, 'Latency percentiles (wait + init + run)'), latBox,
        h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'k-s0' }), 'p50'), h('span', {}, h('i', { class: 'k-s1' }), 'p90'), h('span', {}, h('i', { class: 'k-s2' }), 'p99'))),
      h('section', { class: 'panel' }, h('h3', {}, 'Cold starts'), coldBox,
        h('div', { class: 'legend' }, h('span', {}, h('i', { class: 'k-cold' }), 'cold starts'), h('span', {}, h('i', { class: 'k-bar' }), 'warm calls')))),
    note,
    invokePanel(name, () => refresh()),
    h('section', { class: 'panel' }, h('h2', {}, 'Recent invocations'),
      h('table', { class: 'cards', id: 'invocations' },
        h('thead', {}, h('tr', {}, ['Time', 'Status', 'Mode', 'Version', 'Start', 'Duration', 'Runner', 'Placement', 'ID'].map((c, i) => h('th', { class: i === 5 ? 'num' : null }, c)))),
        invBody),
      h('div', { class: 'actions' }, more)),
    h('div', { class: 'grid' },
      h('section', { class: 'panel' }, h('h2', {}, 'Versions'), versions),
      h('section', { class: 'panel' }, h('h2', {}, 'Aliases'), aliases)));

  const loadDetail = async (first) => {
    const d = await json('/v1/functions/' + enc(name), { interactive: first });
    replace(head, pageHead(name, d.spec && d.spec.description ? d.spec.description : `v${d.version} · ${d.abi} · ${shortDigest(d.digest)}`));
    replace(versions, versionTable(d));
    replace(aliases, (d.aliases || []).length ? h('div', {}, d.aliases.map((a) => h('div', { class: 'alias-row' }, aliasChip(a)))) : h('p', { class: 'muted' }, 'No aliases.'));
  };
  const loadRecords = async (first) => {
    const out = await json(`/v1/functions/${enc(name)}/invocations?limit=${RECORDS}`, { interactive: first });
    recs = out.invocations || [];
  };
  let n = 0;
  const load = async (first) => {
    try {
      await Promise.all([n++ % 5 === 0 ? loadDetail(first) : null, loadRecords(first)]);
      status.replaceChildren();
      draw();
    } catch (err) {
      replace(status, failure(err, () => load(true)));
      throw err;
    }
  };
  const refresh = () => loadRecords(false).then(draw).catch(() => {});

  function draw() {
    const now = Date.now();
    const x0 = now - windowMs;
    const inWindow = recs.filter((r) => when(r) >= x0);
    drawTiles(tiles, inWindow, windowMs);
    const width = (rateBox.clientWidth || 600);
    const n = width < 420 ? 15 : 30;
    const bs = buckets(x0, now, n).map((b) => ({ ...b, recs: [] }));
    for (const r of inWindow) {
      const i = Math.min(n - 1, Math.floor(((when(r) - x0) / windowMs) * n));
      if (i >= 0) bs[i].recs.push(r);
    }
    const sec = windowMs / n / 1000;
    replace(rateBox, timeChart({
      width, x0, x1: now, label: 'invocations per second',
      bars: bs.map((b) => {
        const bad = b.recs.filter((r) => r.status === 'failed' || r.status === 'dead').length;
        return { t0: b.t0, t1: b.t1, stack: [{ v: (b.recs.length - bad) / sec, cls: 'ok' }, { v: bad / sec, cls: 'failed' }],
          title: `${clock(b.t0)}–${clock(b.t1)}: ${b.recs.length} calls (${(b.recs.length / sec).toFixed(2)}/s), ${bad} failed` };
      }),
    }));
    const lat = (p) => bs.map((b) => {
      const ds = b.recs.map(duration).filter(Number.isFinite).sort((a, c) => a - c);
      return { t: (b.t0 + b.t1) / 2, v: ds.length ? percentile(ds, p) : NaN };
    });
    replace(latBox, timeChart({
      width, x0, x1: now, label: 'latency percentiles', yFormat: (v) => ms(v).replace(' ', ''),
      lines: [{ cls: 's0', label: 'p50', points: lat(50) }, { cls: 's1', label: 'p90', points: lat(90) }, { cls: 's2', label: 'p99', points: lat(99) }],
    }));
    replace(coldBox, timeChart({
      width, x0, x1: now, label: 'cold starts', integer: true,
      bars: bs.map((b) => {
        const cold = b.recs.filter((r) => r.cold);
        const init = cold.map((r) => r.timings.init_ms).sort((a, c) => a - c);
        return { t0: b.t0, t1: b.t1, stack: [{ v: cold.length, cls: 'cold' }, { v: b.recs.length - cold.length, cls: 'warm' }],
          title: `${clock(b.t0)}–${clock(b.t1)}: ${cold.length} cold of ${b.recs.length}` + (init.length ? `, median init ${ms(percentile(init, 50))}` : '') };
      }),
    }));
    const oldest = recs.length ? when(recs[recs.length - 1]) : now;
    note.textContent = recs.length >= RECORDS && oldest > x0
      ? `The charts are made from the newest ${RECORDS} invocation records, which reach back to ${clock(oldest)} only; Prometheus (/metrics) has the full series.`
      : `Made from the function's invocation records (the newest ${RECORDS}, kept 24 h by default), refreshed every 2 s.`;
    drawInvocations();
  }

  function drawInvocations() {
    if (!recs.length) {
      replace(invBody, emptyRow(9, 'No invocations yet. Call the function above, or with `hearth invoke ' + name + '`.'));
      more.hidden = true;
      return;
    }
    const rows = [];
    more.hidden = recs.length <= shown;
    more.textContent = `Show more (${Math.min(50, recs.length - shown)} of ${recs.length - shown})`;
    for (const r of recs.slice(0, shown)) {
      rows.push(invocationRow(r, open.has(r.id), () => {
        if (open.has(r.id)) open.delete(r.id); else open.add(r.id);
        drawInvocations();
        if (open.has(r.id) && !logs.has(r.id)) {
          text(`/v1/invocations/${enc(r.id)}/logs`, { interactive: false })
            .then((t) => logs.set(r.id, t), (err) => logs.set(r.id, err))
            .then(drawInvocations);
        }
      }));
      if (open.has(r.id)) rows.push(detailRow(r, logs.get(r.id)));
    }
    replace(invBody, rows);
  }

  return poll(load, 2000);
}

function when(r) {
  return new Date(r.finished_at || r.started_at || r.queued_at).getTime();
}

function duration(r) {
  if (!r.finished_at) return NaN;
  const t = r.timings || {};
  return (t.wait_ms || 0) + (t.init_ms || 0) + (t.run_ms || 0);
}

function drawTiles(el, rs, windowMs) {
  const done = rs.filter((r) => r.finished_at);
  const ds = done.map(duration).sort((a, b) => a - b);
  const bad = done.filter((r) => r.status === 'failed' || r.status === 'dead').length;
  const cold = done.filter((r) => r.cold).length;
  const tile = (k, v, id) => h('div', { class: 'tile', 'data-tile': id }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));
  replace(el,
    tile('Invocations', String(rs.length), 'count'),
    tile('Rate', (rs.length / (windowMs / 1000)).toFixed(rs.length ? 3 : 0) + '/s', 'rate'),
    tile('p50', ds.length ? ms(percentile(ds, 50)) : '–', 'p50'),
    tile('p99', ds.length ? ms(percentile(ds, 99)) : '–', 'p99'),
    tile('Errors', done.length ? Math.round((bad / done.length) * 100) + ' %' : '–', 'errors'),
    tile('Cold starts', done.length ? `${cold} (${Math.round((cold / done.length) * 100)} %)` : '–', 'cold'));
}

function placementReason(p) {
  return (p || '').split(' ')[0];
}

function invocationRow(r, isOpen, toggle) {
  const t = r.timings || {};
  const reason = placementReason(r.placement);
  return h('tr', { class: 'clickable', 'data-invocation': r.id, 'aria-expanded': String(isOpen), tabindex: 0, onclick: toggle,
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(); } } },
  td('Time', { class: 'time' }, h('span', { title: dateTime(when(r)) }, clock(when(r)))),
  td('Status', {}, badge(r.status), r.status_code ? h('span', { class: 'small muted' }, ' ' + r.status_code) : null),
  td('Mode', {}, r.mode, r.attempts > 1 ? h('span', { class: 'small muted' }, ` ×${r.attempts}`) : null),
  td('Version', {}, 'v' + r.version),
  td('Start', {}, r.finished_at ? badge(r.cold ? 'cold' : 'warm') : '–'),
  td('Duration', { class: 'num' }, r.finished_at ? ms(duration(r)) : '–',
    r.finished_at ? h('div', { class: 'small muted' }, (r.mode !== 'sync' && t.queued_ms ? `queue ${ms(t.queued_ms)} · ` : '') + `wait ${ms(t.wait_ms)} · init ${ms(t.init_ms)} · run ${ms(t.run_ms)}`) : null),
  td('Runner', { class: 'mono small' }, r.runner || '–'),
  td('Placement', {}, reason ? h('span', { class: 'chip', title: PLACEMENT[reason] || r.placement }, reason) : '–'),
  td('ID', { class: 'mono small' }, r.id));
}

function detailRow(r, log) {
  const items = [];
  if (r.error) items.push(h('div', { class: 'error' }, `${r.error.code}: ${r.error.message}`));
  if (r.placement) {
    const reason = placementReason(r.placement);
    items.push(h('p', {}, h('strong', {}, 'Placement: '), PLACEMENT[reason] ? PLACEMENT[reason] + '. ' : '', h('code', {}, r.placement)));
  }
  items.push(h('p', { class: 'small' },
    `queued ${dateTime(r.queued_at)}`, r.started_at ? ` · started ${clock(r.started_at)}` : '', r.finished_at ? ` · finished ${clock(r.finished_at)}` : '',
    r.next_attempt_at ? ` · next attempt ${clock(r.next_attempt_at)}` : '',
    r.result ? ` · result ${bytes(r.result.size)}` : '', r.logs ? ` · log ${bytes(r.logs.size)}` : ''));
  if (r.callback) items.push(h('p', { class: 'small' }, `callback ${r.callback.url}: ${r.callback.delivered ? 'delivered' : 'not delivered'} after ${r.callback.attempts} attempt(s)` + (r.callback.error ? ` (${r.callback.error})` : '')));
  items.push(h('h3', {}, 'Log'));
  if (log === undefined) items.push(h('p', { class: 'muted' }, 'Loading…'));
  else if (log instanceof Error) items.push(h('div', { class: 'error' }, log.message));
  else items.push(log ? h('pre', { class: 'log', 'data-log': r.id }, log) : h('p', { class: 'muted', 'data-log': r.id }, 'Nothing on stderr.'));
  return h('tr', { class: 'detail' }, h('td', { colspan: 9, class: 'wide' }, items));
}

function versionTable(d) {
  return h('table', { class: 'cards' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Created'), h('th', {}, 'Module'), h('th', {}, 'Spec'), h('th', {}, 'Aliases'))),
    h('tbody', {}, [...(d.versions || [])].reverse().map((v) => h('tr', {},
      td('Version', {}, h('strong', {}, 'v' + v.version)),
      td('Created', {}, h('span', { title: dateTime(v.created_at) }, ago(v.created_at))),
      td('Module', { class: 'small' }, h('span', { class: 'mono', title: v.digest }, shortDigest(v.digest)), ` ${bytes(v.size)} · ${v.abi}`),
      td('Spec', { class: 'small' }, specSummary(v.spec)),
      td('Aliases', {}, (v.aliases || []).map((a) => h('span', { class: 'chip' }, a)))))));
}

function specSummary(sp) {
  if (!sp) return '';
  const parts = [];
  if (sp.memory_mb) parts.push(`${sp.memory_mb} MB`);
  if (sp.timeout_ms) parts.push(`timeout ${ms(sp.timeout_ms)}`);
  if (sp.concurrency) parts.push(`concurrency ${sp.concurrency}`);
  if (sp.secrets && sp.secrets.length) parts.push(`secrets ${sp.secrets.join(', ')}`);
  if (sp.triggers && sp.triggers.length) parts.push(`${sp.triggers.length} trigger(s)`);
  return parts.join(' · ') || 'defaults';
}

function invokePanel(name, after) {
  const input = h('textarea', { id: 'invoke-input', rows: 3, placeholder: 'Input bytes (text)', spellcheck: 'false' });
  const asyncBox = h('input', { type: 'checkbox', id: 'invoke-async' });
  const out = h('div', { id: 'invoke-output', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', id: 'invoke-button' }, 'Invoke');
  const form = h('form', { class: 'panel', autocomplete: 'off', onsubmit: async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const headers = asyncBox.checked ? { Prefer: 'respond-async' } : {};
      const resp = await request(`/v1/functions/${enc(name)}/invoke`, { method: 'POST', body: input.value, headers });
      const body = await resp.text();
      const meta = ['Hearth-Invocation-Id', 'Hearth-Cold-Start', 'Hearth-Function-Version', 'Hearth-Runner', 'Hearth-Placement', 'Server-Timing']
        .map((k) => [k, resp.headers.get(k)]).filter(([, v]) => v);
      replace(out, h('div', { class: 'success' }, `${resp.status} ${resp.statusText || ''}`.trim()),
        meta.length ? h('p', { class: 'small mono lines' }, meta.map(([k, v]) => `${k}: ${v}`).join('\n')) : null,
        h('pre', { 'data-output': '' }, body));
    } catch (err) {
      replace(out, failure(err));
    } finally {
      button.disabled = false;
      after();
    }
  } },
  h('h2', {}, 'Invoke'),
  h('div', { class: 'field' }, h('label', { for: 'invoke-input' }, 'Input'), input),
  h('div', { class: 'row' }, h('label', { class: 'row' }, asyncBox, 'Asynchronously (Prefer: respond-async)'), h('span', { class: 'spacer' }), button),
  out);
  return form;
}
