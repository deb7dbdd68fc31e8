// Language selection and string lookup shared by the viewer page, host panel and overlay.
// Order: ?lang=xx in the URL, then the last choice (localStorage), then Vietnamese.
import vi from "./vi.js";
import en from "./en.js";

export const LANGS = { vi, en };
const KEY = "qe.lang";

function pickLang() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl && LANGS[fromUrl]) return fromUrl;
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && LANGS[saved]) return saved;
  } catch { /* storage may be blocked */ }
  return "vi";
}

export let lang = pickLang();
let strings = LANGS[lang];
const listeners = new Set();

/** Look up a string and fill {placeholders}. Unknown keys show the key itself (easy to spot). */
export function t(key, params) {
  let s = strings[key] ?? LANGS.vi[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** Fill every [data-i18n] (textContent), [data-i18n-aria] and [data-i18n-ph] (placeholder) under root. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
}

export function setLang(next) {
  if (!LANGS[next] || next === lang) return;
  lang = next;
  strings = LANGS[next];
  try { localStorage.setItem(KEY, next); } catch { /* ignore */ }
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.set("lang", next);
    history.replaceState(null, "", url);
  }
  applyI18n();
  for (const fn of listeners) fn(next);
}

export function toggleLang() { setLang(lang === "vi" ? "en" : "vi"); }
export function onLangChange(fn) { listeners.add(fn); }

/** Option letter for a 0-based index. */
// A player as the screens name them: display name and the public tag derived from the player
// id, so two "Lan"s of the same unit are told apart on air and at the prize desk.
export function who(p) { return p && p.tag ? `${p.name} #${p.tag}` : (p ? p.name : ""); }
export function letter(i) { return "ABCDEF"[i] ?? String(i + 1); }

/** Response time in seconds with the locale's decimal mark: 1843.2 → "1,84 giây" / "1.84 s". */
export function fmtTime(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  const s = (ms / 1000).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB",
    { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return t("time.s", { s });
}

export function fmtInt(n) {
  return Number(n ?? 0).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB");
}
