// Tiny i18n: flat JSON dictionaries in ../locales/<lang>.json, Vietnamese by default.
//
// Markup: data-i18n="key" sets textContent; data-i18n-aria-label, data-i18n-placeholder and
// data-i18n-title set those attributes; data-i18n-vars='{"name":"…"}' supplies {placeholders}.
// applyI18n() re-renders all of them, so dynamic elements that keep their data-i18n* attributes
// follow a language switch automatically.

/** @typedef {'vi'|'en'} Lang */
/** @typedef {Record<string, string|number>} Vars */

/** @type {Lang[]} */
export const LANGS = ['vi', 'en'];
const DEFAULT_LANG = 'vi';
const STORAGE_KEY = 'diemcau.lang';

/** @type {Lang} */
let lang = DEFAULT_LANG;
/** @type {Record<string, string>} */
let dict = {};
/** @type {Record<string, string>} */
let fallback = {};
/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

/**
 * @param {Lang} l
 * @returns {Promise<Record<string, string>>}
 */
async function loadDict(l) {
  const res = await fetch(new URL(`../locales/${l}.json`, import.meta.url), { cache: 'no-cache' });
  if (!res.ok) throw new Error(`locale ${l}: HTTP ${res.status}`);
  const data = await res.json();
  return data && typeof data === 'object' ? data : {};
}

/** @returns {Lang|null} */
function storedLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(/** @type {Lang} */ (v)) ? /** @type {Lang} */ (v) : null;
  } catch {
    return null;
  }
}

/** Load the stored (or default) language and localise the document. */
export async function initI18n() {
  try {
    fallback = await loadDict(DEFAULT_LANG);
  } catch (err) {
    console.error('i18n: cannot load default locale', err);
    fallback = {};
  }
  await useLang(storedLang() ?? DEFAULT_LANG);
}

/** @param {Lang} l */
async function useLang(l) {
  if (l === DEFAULT_LANG) {
    dict = fallback;
  } else {
    try {
      dict = await loadDict(l);
    } catch (err) {
      console.error('i18n: cannot load locale', l, err);
      l = DEFAULT_LANG;
      dict = fallback;
    }
  }
  lang = l;
  document.documentElement.lang = l;
  applyI18n(document);
}

/** @returns {Lang} */
export function getLang() {
  return lang;
}

/**
 * Switch language, remember it, re-render and notify listeners.
 * @param {Lang} l
 */
export async function setLang(l) {
  if (!LANGS.includes(l)) return;
  await useLang(l);
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // private mode: the choice just is not remembered
  }
  for (const cb of listeners) cb(lang);
}

/**
 * @param {(lang: Lang) => void} cb
 * @returns {() => void} unsubscribe
 */
export function onLanguageChange(cb) {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

/**
 * @param {string} key
 * @returns {boolean}
 */
export function hasKey(key) {
  return key in dict || key in fallback;
}

/**
 * Translate a key, replacing {name} placeholders from vars.
 * @param {string} key
 * @param {Vars} [vars]
 * @returns {string}
 */
export function t(key, vars) {
  const s = dict[key] ?? fallback[key] ?? key;
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** @param {Element} el @returns {Vars|undefined} */
function varsOf(el) {
  const raw = el.getAttribute('data-i18n-vars');
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

const ATTRS = /** @type {const} */ (['aria-label', 'placeholder', 'title']);

/**
 * Localise one element according to its data-i18n* attributes.
 * @param {Element} el
 */
function applyOne(el) {
  const vars = varsOf(el);
  const key = el.getAttribute('data-i18n');
  if (key) el.textContent = t(key, vars);
  for (const attr of ATTRS) {
    const k = el.getAttribute(`data-i18n-${attr}`);
    if (k) el.setAttribute(attr, t(k, vars));
  }
}

/**
 * Localise root and every descendant carrying data-i18n* attributes.
 * @param {ParentNode} [root]
 */
export function applyI18n(root = document) {
  if (root instanceof Element) applyOne(root);
  const sel = '[data-i18n],[data-i18n-aria-label],[data-i18n-placeholder],[data-i18n-title]';
  root.querySelectorAll(sel).forEach(applyOne);
}

/**
 * Bind an element to a key (text by default, or an attribute) and render it now.
 * @param {Element} el
 * @param {string} key
 * @param {Vars} [vars]
 * @param {'text'|'aria-label'|'placeholder'|'title'} [target]
 */
export function localize(el, key, vars, target = 'text') {
  el.setAttribute(target === 'text' ? 'data-i18n' : `data-i18n-${target}`, key);
  if (vars) el.setAttribute('data-i18n-vars', JSON.stringify(vars));
  else el.removeAttribute('data-i18n-vars');
  applyOne(el);
}

/**
 * Make a button switch between VI and EN. Its text shows the other language's code.
 * @param {HTMLButtonElement} btn
 */
export function bindLanguageButton(btn) {
  btn.setAttribute('data-i18n', 'controls.lang_short');
  btn.setAttribute('data-i18n-aria-label', 'controls.lang');
  btn.setAttribute('data-i18n-title', 'controls.lang');
  applyOne(btn);
  btn.addEventListener('click', () => {
    void setLang(lang === 'vi' ? 'en' : 'vi');
  });
}
