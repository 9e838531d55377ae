// Translations: every text the console shows comes from i18n-<lang>.json.
export const LANGUAGES = ['en', 'de'];
const STORE_KEY = 'latchkey.lang';

let lang = 'en';
let dict = {};
let fallback = {};

export const currentLang = () => lang;

// the stored choice, else the first of the browser's languages we have, else English
export function preferredLang() {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch { /* storage disabled */ }
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

async function fetchJson(url) {
  const r = await fetch(url, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

const fetchDict = (l) => fetchJson(`/console/i18n-${l}.json`);

export async function setLang(l, { remember = false } = {}) {
  if (!LANGUAGES.includes(l)) l = 'en';
  if (!Object.keys(fallback).length) fallback = await fetchDict('en');
  dict = l === 'en' ? fallback : await fetchDict(l);
  if (l !== 'en' && !serverMessages) serverMessages = compileMessages(await fetchJson(`/console/messages-${l}.json`));
  lang = l;
  document.documentElement.lang = l;
  if (remember) {
    try { localStorage.setItem(STORE_KEY, l); } catch { /* storage disabled */ }
  }
}

export const has = (key) => key in dict || key in fallback;

// t('users.count', {n: 3}) — "{n}" placeholders are replaced by the values (as text)
export function t(key, vars) {
  let s = dict[key] ?? fallback[key];
  if (s === undefined) {
    console.warn(`i18n: missing key ${key}`);
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// t() as a list of parts, the values as given (nodes stay nodes): "Service {name}" with
// {name: node} → ['Service ', node]
export function tParts(key, vars) {
  const out = [];
  let last = 0;
  const s = t(key);
  for (const m of s.matchAll(/\{(\w+)\}/g)) {
    out.push(s.slice(last, m.index), m[1] in vars ? vars[m[1]] : m[0]);
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out.filter((x) => x !== '');
}

// a count: the key's ".one" text for 1 when there is one, else the key with {n}
export const tn = (key, n) => (n === 1 && has(`${key}.one`) ? t(`${key}.one`) : t(key, { n }));

// a translation when the key exists, else the raw value (data such as audit areas)
export const tOr = (key, raw) => (has(key) ? t(key) : raw);

const locale = () => (lang === 'de' ? 'de-DE' : 'en-GB');

/*
 * The server's messages in German (messages-de.json): the server writes English
 * sentences from printf-style templates ("role '%s' is held by %lld user(s) (%s); …");
 * each template becomes a pattern whose values are put into the German sentence, so
 * that the reason survives the translation. Values that are English words (a field's
 * label, a status) are translated through "words"; a value that is itself a message
 * fragment is translated by the same patterns.
 */
let serverMessages = null;

function compileMessages(doc) {
  const conv = /(?:%(?:\.\d+)?(?:ll|l|z)?[sd])+/g; // a run of conversions is one value
  const escape = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const templates = Object.entries(doc.templates || {}).map(([en, de]) => {
    const parts = en.split(conv);
    return { rx: new RegExp(`^${parts.map(escape).join('(.*?)')}$`, 's'), de, literal: parts.join('').length };
  }).sort((a, b) => b.literal - a.literal); // the most specific first
  return { templates, words: doc.words || {} };
}

const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function translateMessage(text, depth) {
  if (!serverMessages || depth > 2) return null;
  for (const tpl of serverMessages.templates) {
    const m = tpl.rx.exec(text);
    if (!m) continue;
    const values = m.slice(1).map((v) => {
      if (Object.hasOwn(serverMessages.words, v)) return serverMessages.words[v];
      if (ISO_INSTANT.test(v)) return /T00:00:00Z$/.test(v) ? fmtDate(v) : fmtTime(v);
      return translateMessage(v, depth + 1) ?? v;
    });
    return tpl.de.replace(/\{(\d+)\}/g, (x, i) => values[Number(i) - 1] ?? '');
  }
  return null;
}

// the server's English message in the page's language; null when there is no translation
export function serverText(message) {
  if (lang === 'en') return message || null;
  return message ? translateMessage(String(message).trim(), 0) : null;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

// A date: "2027-01-31", or an instant. An instant at 00:00 UTC is a date as typed (an
// access expiry given as a date means 00:00 UTC that day) and is shown as that date, not
// as the evening before in a browser west of Greenwich.
export function fmtDate(iso) {
  if (!iso) return '';
  const dateOnly = iso.length === 10 || /T00:00:00(\.0+)?Z$/.test(iso);
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: dateOnly ? 'UTC' : undefined }).format(d);
}

export const fmtNumber = (n) => new Intl.NumberFormat(locale()).format(n);

// a day of a chart: "25 Nov" / "25.11."
export function fmtDay(iso) {
  const d = new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  const o = lang === 'de' ? { day: '2-digit', month: '2-digit' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat(locale(), { ...o, timeZone: 'UTC' }).format(d);
}

// how long something still lasts: whole minutes from two minutes on, else seconds
export function fmtDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s >= 120) return t('duration.minutes', { n: fmtNumber(Math.floor(s / 60)) });
  return s === 1 ? t('duration.seconds.one') : t('duration.seconds', { n: fmtNumber(s) });
}

/*
 * Dates typed in the console's language, whatever the browser's: German TT.MM.JJJJ,
 * English YYYY-MM-DD (as the server and the CLI write them). A native date field
 * would follow the browser's locale instead.
 */
export const dateFormatHint = () => t('date.format');

// "2027-01-31" from what was typed; '' for nothing; null when it is not a date
export function parseDateInput(text) {
  const v = String(text || '').trim();
  if (!v) return '';
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v);
  let y;
  let mo;
  let d;
  if (m) [, y, mo, d] = m.map(Number);
  else if ((m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(v))) [, d, mo, y] = m.map(Number);
  else return null;
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

// how a date ("2027-01-31" or an instant) is written in the date fields of this language
export function fmtDateInput(iso) {
  if (!iso) return '';
  const day = String(iso).slice(0, 10);
  if (lang !== 'de') return day;
  const [y, mo, d] = day.split('-');
  return `${d}.${mo}.${y}`;
}
