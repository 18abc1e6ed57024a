// Translations: one flat dictionary per language (`/console/i18n/<lang>.json`), chosen from the
// browser (navigator.languages) unless the user picked one (remembered in localStorage).
// Every visible string goes through t(key); a Rust test checks both dictionaries have the same
// keys and every key the console asks for exists.

export const LANGUAGES = ['en', 'zh-CN'];
const STORAGE_KEY = 'landfall.lang';

let current = 'en';
let dict = {};
const listeners = [];

/** The language for a stored choice and the browser's list: zh* → zh-CN, else English. */
export function pickLanguage(stored, browser) {
  if (LANGUAGES.includes(stored)) return stored;
  for (const l of browser || []) {
    const lower = String(l).toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

async function fetchDictionary(lang) {
  const res = await fetch(`/console/i18n/${lang}.json`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`dictionary ${lang}: HTTP ${res.status}`);
  return res.json();
}

/** Load the language chosen before, or the browser's. */
export async function init() {
  const lang = pickLanguage(stored(), navigator.languages || [navigator.language]);
  await use(lang);
}

async function use(lang) {
  dict = await fetchDictionary(lang);
  current = lang;
  document.documentElement.lang = lang;
  document.title = t('app.title');
}

/** Switch language, remember the choice, and tell the listeners (they re-render). */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  await use(lang);
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  for (const f of listeners) f(lang);
}

export function onLanguageChange(f) {
  listeners.push(f);
}

export function language() {
  return current;
}

/** Whether the dictionary has a key (for keys built from codes, e.g. `error.<code>`). */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(dict, key);
}

/** The text of `key` with `{name}` placeholders filled from `params`. */
export function t(key, params) {
  const text = has(key) ? dict[key] : key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m,
  );
}

/** The translation of a code under a prefix (`action.set`), or `fallback` with the code. */
export function tCode(prefix, code, fallback) {
  const key = `${prefix}.${code}`;
  return has(key) ? t(key) : t(fallback, { code });
}

/** A server text given in both languages ({en, zh}). */
export function localized(value) {
  if (!value || typeof value !== 'object') return value == null ? '' : String(value);
  return current === 'zh-CN' ? value.zh || value.en || '' : value.en || value.zh || '';
}

/** A count: `<key>.one` for 1, else `<key>.other` (Chinese uses the same text for both). */
export function tn(key, n, params) {
  return t(`${key}.${Number(n) === 1 ? 'one' : 'other'}`, params);
}
