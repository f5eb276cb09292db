// The console's shell: hash routes, the namespace, the key button, and
// the page in view (each page module exports render(main, params) and
// answers a function that stops its polling).

import { namespace, setNamespace, hasKey, forgetKey, onKeyChange } from './api.js';
import * as functions from './pages/functions.js';
import * as fn from './pages/function.js';
import * as runners from './pages/runners.js';
import * as autoscaler from './pages/autoscaler.js';
import * as dlq from './pages/dlq.js';
import * as deploy from './pages/deploy.js';

const routes = [
  { re: /^\/?$/, page: 'functions', mod: functions },
  { re: /^\/functions\/?$/, page: 'functions', mod: functions },
  { re: /^\/functions\/([a-z][a-z0-9-]{0,62})\/?$/, page: 'functions', mod: fn, params: (m) => ({ name: m[1] }) },
  { re: /^\/runners\/?$/, page: 'runners', mod: runners },
  { re: /^\/autoscaler\/?$/, page: 'autoscaler', mod: autoscaler },
  { re: /^\/dlq\/?$/, page: 'dlq', mod: dlq },
  { re: /^\/deploy\/?$/, page: 'deploy', mod: deploy },
];

const main = document.getElementById('main');
let stop = null;

function show() {
  if (stop) { stop(); stop = null; }
  const path = decodeURIComponent(location.hash.replace(/^#/, '').split('?')[0]);
  let route = null, m = null;
  for (const r of routes) {
    if ((m = path.match(r.re))) { route = r; break; }
  }
  for (const a of document.querySelectorAll('#nav a')) {
    if (route && a.dataset.page === route.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  if (!route) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'No such page. ';
    const a = document.createElement('a');
    a.href = '#/functions';
    a.textContent = 'Functions';
    p.append(a);
    main.append(p);
    return;
  }
  document.title = (route.mod.title || 'Hearth') + ' · Hearth console';
  stop = route.mod.render(main, route.params ? route.params(m) : {}) || null;
}

function keyButton() {
  document.getElementById('key-button').hidden = !hasKey();
}

const nsInput = document.getElementById('ns-input');
nsInput.value = namespace();
document.getElementById('ns-form').addEventListener('submit', (e) => {
  e.preventDefault();
  changeNamespace();
});
nsInput.addEventListener('change', changeNamespace);

function changeNamespace() {
  const v = nsInput.value.trim() || 'default';
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(v)) {
    nsInput.setCustomValidity('1 to 63 lowercase letters, digits and -, starting with a letter');
    nsInput.reportValidity();
    return;
  }
  nsInput.setCustomValidity('');
  if (v === namespace()) return;
  setNamespace(v);
  if (/^\/functions\/.+/.test(location.hash.slice(1))) location.hash = '#/functions';
  else show();
}

document.getElementById('key-button').addEventListener('click', () => {
  forgetKey();
  show();
});
onKeyChange(keyButton);
keyButton();

window.addEventListener('hashchange', show);
show();
