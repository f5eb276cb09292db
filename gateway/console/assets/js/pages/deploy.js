// Deploy by upload: PUT /v1/functions/{name} with the module as
// application/wasm, or multipart/form-data with parts module and spec
// when a spec is given (API.md, "Functions").

import { h, replace, shortDigest } from '../dom.js';
import { request, enc, namespace } from '../api.js';
import { pageHead, failure } from './common.js';

export const title = 'Deploy';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function render(main) {
  const name = h('input', { id: 'deploy-name', name: 'name', required: true, maxlength: 63, spellcheck: 'false', placeholder: 'hello', autocomplete: 'off' });
  const file = h('input', { id: 'deploy-module', name: 'module', type: 'file', accept: '.wasm,application/wasm', required: true });
  const spec = h('textarea', { id: 'deploy-spec', name: 'spec', rows: 6, spellcheck: 'false', placeholder: '{"memory_mb": 64, "timeout_ms": 5000, "env": {"GREETING": "hi"}}' });
  const dry = h('input', { type: 'checkbox', id: 'deploy-dry' });
  const out = h('div', { id: 'deploy-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', id: 'deploy-button' }, 'Deploy');

  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && !name.value) {
      const guess = f.name.replace(/\.wasm$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63);
      if (NAME.test(guess)) name.value = guess;
    }
  });

  const form = h('form', { class: 'panel', id: 'deploy-form', autocomplete: 'off', onsubmit: async (e) => {
    e.preventDefault();
    const n = name.value.trim();
    if (!NAME.test(n)) {
      replace(out, h('div', { class: 'error' }, 'A function name is 1 to 63 lowercase letters, digits and -, starting with a letter.'));
      return;
    }
    const f = file.files[0];
    if (!f) {
      replace(out, h('div', { class: 'error' }, 'Choose a .wasm module.'));
      return;
    }
    const specText = spec.value.trim();
    let body, headers = {};
    if (specText) {
      try {
        JSON.parse(specText);
      } catch (err) {
        replace(out, h('div', { class: 'error' }, 'The spec is not JSON: ' + err.message));
        return;
      }
      body = new FormData();
      body.append('module', f, f.name);
      body.append('spec', new Blob([specText], { type: 'application/json' }), 'spec.json');
    } else {
      body = f;
      headers = { 'Content-Type': 'application/wasm' };
    }
    button.disabled = true;
    replace(out, h('p', { class: 'muted' }, `Uploading ${f.name} (${f.size} bytes)…`));
    try {
      const resp = await request(`/v1/functions/${enc(n)}${dry.checked ? '?dry_run=true' : ''}`, { method: 'PUT', body, headers });
      const d = await resp.json();
      replace(out, h('div', { class: 'success', 'data-deployed': d.name },
        d.dry_run ? `Dry run passed: ${d.name} would deploy (${d.abi}, ${shortDigest(d.digest)}). Nothing was stored.`
          : [`Deployed ${d.name} version ${d.version} (${d.abi}, ${shortDigest(d.digest)}). `, h('a', { href: '#/functions/' + enc(d.name) }, 'Open its page')]));
    } catch (err) {
      replace(out, failure(err));
    } finally {
      button.disabled = false;
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'deploy-name' }, `Function name (namespace ${namespace()})`), name),
  h('div', { class: 'field' }, h('label', { for: 'deploy-module' }, 'WebAssembly module'), file),
  h('div', { class: 'field' }, h('label', { for: 'deploy-spec' }, 'Spec (JSON, optional: memory_mb, timeout_ms, concurrency, env, secrets, triggers …)'), spec),
  h('div', { class: 'row' }, h('label', { class: 'row' }, dry, 'Dry run: check everything, store nothing'), h('span', { class: 'spacer' }), button),
  out);

  main.append(pageHead('Deploy', 'Upload a module to deploy a new version. Each deploy is a new version; latest moves to it, other aliases stay.'), form);
}
