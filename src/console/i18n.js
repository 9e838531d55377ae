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

async function fetchDict(l) {
  const r = await fetch(`/console/i18n-${l}.json`, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`i18n-${l}.json: HTTP ${r.status}`);
  return r.json();
}

export async function setLang(l, { remember = false } = {}) {
  if (!LANGUAGES.includes(l)) l = 'en';
  if (!Object.keys(fallback).length) fallback = await fetchDict('en');
  dict = l === 'en' ? fallback : await fetchDict(l);
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

// a count: the key's ".one" text for 1 when there is one, else the key with {n}
export const tn = (key, n) => (n === 1 && has(`${key}.one`) ? t(`${key}.one`) : t(key, { n }));

// a translation when the key exists, else the raw value (data such as audit areas)
export const tOr = (key, raw) => (has(key) ? t(key) : raw);

const locale = () => (lang === 'de' ? 'de-DE' : 'en-GB');

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeZone: iso.length === 10 ? 'UTC' : undefined }).format(d);
}

export const fmtNumber = (n) => new Intl.NumberFormat(locale()).format(n);
