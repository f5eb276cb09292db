// Functions: the namespace's functions with their versions, aliases and
// traffic splits (GET /v1/functions, then GET /v1/functions/{name}).

import { h, td, replace, ago, shortDigest, emptyRow } from '../dom.js';
import { json, enc, namespace } from '../api.js';
import { poll, pageHead, failure, aliasChip, inBatches } from './common.js';

export const title = 'Functions';

export function render(main) {
  const status = h('div', {});
  const body = h('tbody', {}, emptyRow(6, 'Loading…'));
  main.append(
    pageHead('Functions', `Namespace ${namespace()}: every function, its versions and where its aliases send calls.`,
      h('a', { href: '#/deploy', class: 'button' }, 'Deploy')),
    status,
    h('div', { class: 'panel' },
      h('table', { class: 'cards', id: 'functions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Function'), h('th', { class: 'num' }, 'Latest'), h('th', {}, 'ABI'),
          h('th', { class: 'num' }, 'Versions'), h('th', {}, 'Aliases and traffic split'), h('th', {}, 'Updated'))),
        body)));

  const load = async (first) => {
    try {
      const list = await json('/v1/functions?limit=1000', { interactive: first });
      const fns = list.functions || [];
      const details = await inBatches(fns, 6, (f) => json('/v1/functions/' + enc(f.name), { interactive: false }).catch(() => null));
      status.replaceChildren();
      if (!fns.length) {
        replace(body, emptyRow(6, 'No functions in this namespace yet. Deploy one from the Deploy page or with `hearth deploy`.'));
        return;
      }
      replace(body, fns.map((f, i) => row(f, details[i])));
    } catch (err) {
      replace(status, failure(err, () => load(true)));
      throw err;
    }
  };
  return poll(load, 10000);
}

function row(f, d) {
  const aliases = d ? (d.aliases || []) : [];
  return h('tr', { 'data-function': f.name },
    td('Function', {}, h('a', { href: '#/functions/' + enc(f.name) }, h('strong', {}, f.name)),
      d && d.spec && d.spec.description ? h('div', { class: 'small muted' }, d.spec.description) : null,
      h('div', { class: 'small muted mono', title: f.digest }, shortDigest(f.digest))),
    td('Latest', { class: 'num' }, 'v' + f.version),
    td('ABI', {}, f.abi),
    td('Versions', { class: 'num' }, d ? String((d.versions || []).length) : '–'),
    td('Aliases', { class: 'wide' }, aliases.length ? aliases.map(aliasChip) : h('span', { class: 'muted' }, '–')),
    td('Updated', {}, h('span', { title: f.updated_at }, ago(f.updated_at))));
}
