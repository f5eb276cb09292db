// What several pages share: polling, the head of a page, aliases and
// their traffic split, the key prompt's button.

import { h, errorBox } from '../dom.js';
import { enterKey, APIError, json, enc } from '../api.js';

// poll runs load now and then every `every` ms after the last run ended,
// until the answered stop function is called. The first run may ask for
// a key; later ones do not ask again once the user has declined.
export function poll(load, every) {
  let timer = null, stopped = false, first = true;
  const run = async () => {
    try {
      await load(first);
    } catch (err) {
      console.debug('console: load failed', err);
    }
    first = false;
    if (!stopped) timer = setTimeout(run, every);
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}

export function pageHead(title, sub, ...right) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), sub ? h('p', {}, sub) : null),
    right.length ? h('div', { class: 'row' }, ...right) : null);
}

// failure shows an error, with a button to enter a key when the API
// wants one.
export function failure(err, retry) {
  const box = errorBox(err);
  if (err instanceof APIError && err.status === 401) {
    box.append(' ', h('button', { type: 'button', class: 'secondary', onclick: async () => { try { await enterKey(); retry && retry(); } catch { /* declined */ } } }, 'Enter key'));
  }
  return box;
}

// splitBar is an alias's traffic split: one coloured segment per version.
export function splitBar(weights) {
  const vs = Object.keys(weights).map(Number).sort((a, b) => a - b);
  return h('div', { class: 'split', role: 'img', 'aria-label': vs.map((v) => `version ${v}: ${weights[v]}%`).join(', ') },
    vs.map((v, i) => h('span', { class: ['s' + (i % 5), 'w' + Math.round(weights[v] / 5) * 5], title: `v${v}: ${weights[v]}%` })));
}

// aliasChip shows an alias: the version it names, or its split.
export function aliasChip(a) {
  if (a.weights && Object.keys(a.weights).length) {
    const vs = Object.keys(a.weights).map(Number).sort((x, y) => x - y);
    return h('div', { class: 'alias' },
      h('span', { class: 'chip' }, h('strong', {}, a.name), ' ', vs.map((v) => `v${v} ${a.weights[v]}%`).join(' · ')),
      splitBar(a.weights));
  }
  return h('span', { class: ['chip', a.implicit ? 'muted' : null] }, h('strong', {}, a.name), ' → v' + a.version);
}

// digestIndex maps module digests (hex, without "sha256:": runners
// report them so) to the versions of the namespace's functions that have
// them ("hello@2").
export async function digestIndex() {
  const list = await json('/v1/functions?limit=1000', { interactive: false });
  const details = await inBatches(list.functions || [], 6, (f) => json('/v1/functions/' + enc(f.name), { interactive: false }).catch(() => null));
  const index = new Map();
  for (const d of details) {
    if (!d) continue;
    for (const v of d.versions || []) {
      // By module and memory class (a runner compiles a module once per
      // class), and by module alone.
      const hex = v.digest.replace(/^sha256:/, '');
      for (const k of [hex + '/' + ((v.spec && v.spec.memory_mb) || 128), hex]) {
        const names = index.get(k) || [];
        names.push(`${d.name}@${v.version}`);
        index.set(k, names);
      }
    }
  }
  return index;
}

// inBatches maps xs through f, n at a time.
export async function inBatches(xs, n, f) {
  const out = new Array(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await f(xs[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker));
  return out;
}
