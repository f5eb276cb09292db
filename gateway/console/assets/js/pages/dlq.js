// Dead letters: async invocations of the namespace that ran out of
// attempts (GET /v1/dlq), each with a Replay button (POST
// /v1/dlq/{id}/replay: queued again under the same id, with fresh
// attempts, on the function's current version).

import { h, td, replace, clock, dateTime, emptyRow } from '../dom.js';
import { json, enc, namespace } from '../api.js';
import { poll, pageHead, failure } from './common.js';

export const title = 'Dead letters';

export function render(main) {
  const status = h('div', {});
  const body = h('tbody', {}, emptyRow(7, 'Loading…'));
  const filter = h('input', { id: 'dlq-function', placeholder: 'all functions', size: 16, spellcheck: 'false' });
  const replayed = new Map(); // id → {at, out} or {at, err}: what its replay did
  const fnOf = new Map(); // id → function, for a replayed one gone from the list
  main.append(
    pageHead('Dead letters', `Namespace ${namespace()}: async invocations that failed every attempt. Replay queues one again, same id, fresh attempts, on the function's current version.`,
      h('label', { for: 'dlq-function' }, 'Function'), filter),
    status,
    h('section', { class: 'panel' },
      h('table', { class: 'cards', id: 'dlq' },
        h('thead', {}, h('tr', {}, ['Invocation', 'Function', 'Attempts', 'Last error', 'Queued', 'Dead', ''].map((c) => h('th', {}, c)))),
        body)));

  let letters = [];
  const load = async (first) => {
    try {
      const fn = filter.value.trim();
      const out = await json('/v1/dlq' + (fn ? '?function=' + enc(fn) : ''), { interactive: first });
      letters = out.dead_letters || [];
      status.replaceChildren();
      draw();
    } catch (err) {
      replace(status, failure(err, () => load(true)));
      throw err;
    }
  };
  filter.addEventListener('change', () => load(false).catch(() => {}));

  function draw() {
    const ids = new Set(letters.map((d) => d.id));
    const rows = [...letters].reverse().map((d) => row(d));
    for (const [id, done] of replayed) {
      if (!ids.has(id)) rows.unshift(doneRow(id, done)); // gone from the DLQ: show where it went
    }
    replace(body, rows.length ? rows : emptyRow(7, 'The dead-letter queue of this namespace is empty.'));
  }

  function row(d) {
    const done = replayed.get(d.id);
    const button = h('button', { type: 'button', class: 'replay', 'data-replay': d.id, onclick: async () => {
      button.disabled = true;
      fnOf.set(d.id, d.function);
      try {
        const out = await json(`/v1/dlq/${enc(d.id)}/replay`, { method: 'POST' });
        replayed.set(d.id, { at: Date.now(), out });
      } catch (err) {
        replayed.set(d.id, { at: Date.now(), err });
        button.disabled = false;
      }
      await load(false).catch(() => draw());
    } }, 'Replay');
    let note = null;
    if (done && done.err) note = h('div', { class: 'error', 'data-replay-status': d.id }, 'Replay failed: ' + done.err.message);
    else if (done) note = h('div', { class: 'success small', 'data-replay-status': d.id }, `Replayed at ${clock(done.at)}; it ran out of attempts again at ${clock(d.dead_at)}.`);
    return h('tr', { 'data-dead': d.id },
      td('Invocation', { class: 'mono small' }, d.id),
      td('Function', {}, h('a', { href: '#/functions/' + enc(d.function) }, d.function)),
      td('Attempts', {}, String(d.attempts)),
      td('Last error', { class: 'wide small' }, d.last_error || '–', note),
      td('Queued', { class: 'time' }, h('span', { title: dateTime(d.queued_at) }, clock(d.queued_at))),
      td('Dead', { class: 'time' }, h('span', { title: dateTime(d.dead_at) }, clock(d.dead_at))),
      td('', {}, button));
  }

  function doneRow(id, done) {
    return h('tr', { 'data-replayed': id },
      td('Invocation', { class: 'mono small' }, id),
      td('', { colspan: 6, class: 'wide' }, done.err
        ? h('div', { class: 'error', 'data-replay-status': id }, 'Replay failed: ' + done.err.message)
        : h('div', { class: 'success', 'data-replay-status': id }, `Replayed at ${clock(done.at)}: ${done.out.status} again, same id. `,
          h('a', { href: `#/functions/${enc(fnOf.get(id) || '')}` }, 'Follow it on its function\u2019s page'))));
  }

  return poll(load, 5000);
}
