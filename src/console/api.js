// The console's JSON API (docs/console-api.md): the session cookie authenticates, and
// every state-changing call carries the session's CSRF token.
import { currentLang, has, serverText, t } from './i18n.js';

let csrf = '';
let onUnauthorized = null;

export const setCsrf = (c) => { csrf = c || ''; };
export const setUnauthorizedHandler = (fn) => { onUnauthorized = fn; };

export class ApiError extends Error {
  constructor(status, code, message, field, denied) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field || '';
    this.denied = denied || null; // a refusal's particulars (docs/security.md)
  }
}

export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', '');
  }
  let json = null;
  const text = await r.text();
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (r.ok) return json;
  const e = json && json.error ? json.error : {};
  const err = new ApiError(r.status, e.code || `http_${r.status}`, e.message || '', e.field || '', e.denied);
  if (r.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(err);
  throw err;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body = {}) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// Why the server refused (403 forbidden, docs/security.md), in the page's language:
// what is missing and where, or the rule about oneself.
function deniedText(d) {
  const m = d.missing || {};
  const vars = { permission: m.permission || '', workspace: m.workspace || '', role: d.role || '', user: d.holder || '' };
  if (d.self === 'roles') return t('denied.selfRoles');
  if (d.self === 'access expiry') return t('denied.selfExpiry');
  if (d.self === 'lock state') return t('denied.selfLock');
  if (d.holder) return t('denied.holder', vars);
  if (d.role && m.workspace) return t('denied.roleIn', vars);
  if (d.role) return t('denied.role', vars);
  if (m.workspace) return t('denied.missingIn', vars);
  if (m.permission) return t('denied.missing', vars);
  return t('error.forbidden');
}

// The text to show for an error. English: a text of ours for this code and field when
// there is one, else the server's own sentence. Other languages: a refusal's reason from
// its particulars; else the server's sentence translated with its reason
// (messages-<lang>.json); else our text for the code and field; else the code's
// general text.
export function errorText(e) {
  if (!(e instanceof ApiError)) return t('error.generic');
  const fieldKey = e.field && has(`error.${e.code}.${e.field}`) ? `error.${e.code}.${e.field}` : null;
  if (currentLang() === 'en') {
    if (fieldKey) return t(fieldKey);
    if (e.message) return e.message;
  } else {
    if (e.denied) return deniedText(e.denied);
    const translated = serverText(e.message);
    if (translated) return translated;
    if (fieldKey) return t(fieldKey);
  }
  if (e.denied) return deniedText(e.denied);
  if (has(`error.${e.code}`)) return t(`error.${e.code}`);
  return t('error.generic');
}

// query string from an object, skipping empty values
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '' && v !== false) u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
