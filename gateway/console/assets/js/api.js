// The API client of the console. Every call goes to this gateway's own
// origin; when one answers 401 the user is asked for an API key, once for
// every call waiting on it, and the key is kept in sessionStorage (this
// tab only, gone when it closes; never localStorage, never a URL) and sent
// as Authorization: Bearer.

const KEY = 'hearth.key';
const NS = 'hearth.namespace';

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function namespace() {
  return sessionStorage.getItem(NS) || 'default';
}

export function setNamespace(ns) {
  if (ns && ns !== 'default') sessionStorage.setItem(NS, ns);
  else sessionStorage.removeItem(NS);
}

export function hasKey() {
  return sessionStorage.getItem(KEY) !== null;
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  keyListeners.forEach((f) => f());
}

const keyListeners = [];
export function onKeyChange(f) { keyListeners.push(f); }

// The prompt in progress, shared by every call that got a 401 meanwhile;
// declined is set when the user cancelled, so that polling pages do not
// ask again and again (the next explicit action asks again).
let prompt = null;
let declined = false;

function askForKey(refused) {
  if (prompt) return prompt;
  const dialog = document.getElementById('key-dialog');
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  const error = document.getElementById('key-error');
  const cancel = document.getElementById('key-cancel');
  prompt = new Promise((resolve, reject) => {
    error.hidden = !refused;
    error.textContent = refused ? 'The gateway refused that key (401). Check it and try again.' : '';
    input.value = '';
    const done = (key) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      prompt = null;
      if (key) {
        declined = false;
        sessionStorage.setItem(KEY, key);
        keyListeners.forEach((f) => f());
        resolve(key);
      } else {
        declined = true;
        reject(new APIError(401, 'unauthorized', 'This gateway needs an API key; none was given. Use "Enter key" to give one.'));
      }
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (key) done(key);
    };
    const onCancel = (e) => { e.preventDefault(); done(null); };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
  return prompt;
}

// enterKey asks for a key now (the "Enter key" button).
export function enterKey() {
  declined = false;
  return askForKey(false);
}

// request calls the API and answers the Response; an error status
// becomes an APIError with the message of the API's error shape.
// Options: method, body, headers, ns (false: no namespace header), interactive
// (false: a 401 after a declined prompt does not ask again).
export async function request(path, opts = {}) {
  const { method = 'GET', body, headers = {}, ns = true, interactive = true } = opts;
  for (let attempt = 0; ; attempt++) {
    const hdrs = new Headers(headers);
    const key = sessionStorage.getItem(KEY);
    if (key) hdrs.set('Authorization', 'Bearer ' + key);
    if (ns) hdrs.set('Hearth-Namespace', namespace());
    const resp = await fetch(path, { method, body, headers: hdrs, cache: 'no-store', credentials: 'omit', redirect: 'error' });
    if (resp.status === 401 && attempt < 3) {
      const now = sessionStorage.getItem(KEY);
      if (now !== null && now !== key) continue; // another call got a key meanwhile
      if (key !== null) sessionStorage.removeItem(KEY);
      if (declined && !interactive) throw await apiError(resp);
      await askForKey(key !== null);
      continue;
    }
    if (!resp.ok) throw await apiError(resp);
    return resp;
  }
}

async function apiError(resp) {
  let code = 'http_' + resp.status;
  let message = resp.status + ' ' + resp.statusText;
  try {
    const body = await resp.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not the JSON error shape */ }
  if (resp.status === 403) message = 'Forbidden: ' + message;
  return new APIError(resp.status, code, message);
}

export async function json(path, opts) {
  const resp = await request(path, opts);
  if (resp.status === 204) return null;
  return resp.json();
}

export async function text(path, opts) {
  return (await request(path, opts)).text();
}

export const enc = encodeURIComponent;
