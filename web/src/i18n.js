// SPDX-License-Identifier: Apache-2.0
// The page's text: message catalogs (en, fr) chosen from the browser's languages, or the visitor's choice kept in localStorage.
import en from "./i18n/en.json";
import fr from "./i18n/fr.json";

const catalogs = { en, fr };
const KEY = "lcf.lang";
let lang = "en";

/* The language: the one chosen before, else the first of navigator.languages
 * with a catalog, else English. */
export function i18nInit() {
	let chosen = null;
	try {
		chosen = localStorage.getItem(KEY);
	} catch (e) {
		chosen = null;
	}
	const wanted = chosen ? [chosen] : (navigator.languages || [navigator.language || "en"]);
	lang = "en";
	for (const l of wanted) {
		const base = String(l).toLowerCase().split("-")[0];
		if (catalogs[base]) {
			lang = base;
			break;
		}
	}
	document.documentElement.lang = lang;
	return lang;
}

export function i18nLang() {
	return lang;
}

export function i18nSet(l) {
	if (!catalogs[l]) return;
	lang = l;
	try {
		localStorage.setItem(KEY, l);
	} catch (e) {
		/* private browsing: the choice lasts for the page only */
	}
	document.documentElement.lang = l;
}

/* The message key in the current language, {name} replaced from vars. */
export function t(key, vars) {
	const s = catalogs[lang][key] ?? catalogs.en[key] ?? key;
	return s.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
}

/* The Intl formatters of the current language, made once (a page of a
 * thousand rows would make two thousand otherwise). */
const formats = {};

function formatsOf(l) {
	if (!formats[l]) {
		formats[l] = {
			time: new Intl.DateTimeFormat(l, { dateStyle: "medium", timeStyle: "short" }),
			number: new Intl.NumberFormat(l),
		};
	}
	return formats[l];
}

/* A date and time (ms since the epoch) in the current language. */
export function fmtTime(ms) {
	if (ms == null) return t("never");
	return formatsOf(lang).time.format(new Date(ms));
}

export function fmtNumber(n) {
	return n == null ? "" : formatsOf(lang).number.format(Number(n));
}
