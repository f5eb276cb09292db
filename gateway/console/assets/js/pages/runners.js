// Runners: the runner table as this gateway hears it (GET /v1/runners):
// state, load against capacity, memory, and the warm set, with module
// digests named by the namespace's function versions that have them.

import { h, td, replace, ago, bytes, badge, shortDigest, emptyRow, widthClass } from '../dom.js';
import { json } from '../api.js';
import { poll, pageHead, failure, digestIndex } from './common.js';

export const title = 'Runners';

export function render(main) {
  const status = h('div', {});
  const summary = h('div', { class: 'tiles', id: 'runner-tiles' });
  const list = h('div', { id: 'runners' }, h('p', { class: 'empty' }, 'Loading…'));
  main.append(pageHead('Runners', 'Every runner this gateway hears from: its load, memory and the modules it keeps warm. Refreshed every 2 s.'), status, summary, list);

  let names = new Map();
  let n = 0;
  const load = async (first) => {
    try {
      const out = await json('/v1/runners', { interactive: first, ns: false });
      if (n++ % 10 === 0) names = await digestIndex().catch(() => names);
      status.replaceChildren();
      draw(out);
    } catch (err) {
      replace(status, failure(err, () => load(true)));
      throw err;
    }
  };

  function draw(out) {
    const rs = out.runners || [];
    const cap = rs.reduce((a, r) => a + r.capacity, 0), load = rs.reduce((a, r) => a + r.in_flight, 0);
    const warm = rs.reduce((a, r) => a + r.warm.reduce((b, w) => b + w.idle + w.busy, 0), 0);
    const tile = (k, v) => h('div', { class: 'tile' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));
    replace(summary, tile('Runners', String(rs.length)), tile('Ready', String(rs.filter((r) => r.state === 'ready').length)),
      tile('Load', `${load} / ${cap}`), tile('Warm instances', String(warm)), tile('Placement', out.strategy || '–'));
    if (!rs.length) {
      replace(list, h('p', { class: 'empty' }, 'No runner has sent a heartbeat to this gateway yet.'));
      return;
    }
    replace(list, rs.map((r) => runnerPanel(r, names)));
  }
  return poll(load, 2000);
}

function runnerPanel(r, names) {
  const share = r.capacity ? r.in_flight / r.capacity : 0;
  return h('section', { class: 'panel', 'data-runner': r.id },
    h('div', { class: 'page-head' },
      h('div', {}, h('h2', { class: 'mono' }, r.id), h('p', {}, badge(r.state), ` last heartbeat ${ago(r.last_seen)}`)),
      h('div', { class: 'runner-load' },
        h('div', { class: 'small muted' }, `load ${r.in_flight} of ${r.capacity} · idle instances hold ${bytes(r.memory_bytes)}`),
        h('div', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': r.capacity, 'aria-valuenow': r.in_flight, 'aria-label': 'load' },
          h('span', { class: widthClass(share) })))),
    h('h3', {}, 'Warm set'),
    h('table', { class: 'cards' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Module'), h('th', {}, 'Function versions'), h('th', { class: 'num' }, 'Memory'), h('th', { class: 'num' }, 'Idle'), h('th', { class: 'num' }, 'Busy'))),
      h('tbody', {}, r.warm.length ? r.warm.map((w) => h('tr', { 'data-digest': w.digest },
        td('Module', { class: 'mono small' }, h('span', { title: w.digest }, shortDigest(w.digest))),
        td('Functions', {}, versionsOf(names, w) ? versionsOf(names, w).map((n) => h('a', { class: 'chip', href: '#/functions/' + n.split('@')[0] }, n))
          : h('span', { class: 'muted small' }, 'not a version in this namespace')),
        td('Memory', { class: 'num' }, `${w.memory_mb} MB`),
        td('Idle', { class: 'num' }, String(w.idle)),
        td('Busy', { class: 'num' }, String(w.busy)))) : emptyRow(5, 'Nothing warm.'))));
}

// versionsOf names the function versions of a warm module: those of its
// memory class, else any with the module.
function versionsOf(names, w) {
  const hex = w.digest.replace(/^sha256:/, '');
  return names.get(hex + '/' + w.memory_mb) || names.get(hex);
}
