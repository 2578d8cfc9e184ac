// SPDX-License-Identifier: Apache-2.0
// The dashboard's shell: navigation bar, language switch, client-side routing (History API), errors shown on the page.
import "./style.css";
import { i18nInit, i18nLang, i18nSet, t } from "./i18n.js";
import { clear, h } from "./dom.js";
import { federationPage } from "./pages/federation.js";
import { practicesPage } from "./pages/practices.js";
import { cityPage } from "./pages/city.js";
import { coveragePage } from "./pages/coverage.js";
import { nodePage } from "./pages/node.js";
import { partnersPage, reportPage } from "./pages/more.js";

/* The pages, in the navigation bar's order: path, message key, renderer. A
 * renderer gets (main, rest of the path, query) and may return a function
 * that ends what it started (event streams, timers). */
const pages = [
	{ path: "/", key: "nav.federation", render: federationPage },
	{ path: "/practices", key: "nav.practices", render: practicesPage },
	{ path: "/city", key: "nav.city", render: cityPage },
	{ path: "/coverage", key: "nav.coverage", render: coveragePage },
	{ path: "/partners", key: "nav.partners", render: partnersPage },
	{ path: "/node", key: "nav.node", render: nodePage },
	{ path: "/report", key: "nav.report", render: reportPage },
];

let teardown = null;
let renderSeq = 0;

function pageOf(pathname) {
	if (pathname === "/" || pathname === "") return { page: pages[0], rest: [] };
	const segs = pathname.split("/").filter(Boolean).map(decodeURIComponent);
	const page = pages.find((p) => p.path === "/" + segs[0]);
	return page ? { page, rest: segs.slice(1) } : { page: null, rest: segs };
}

function renderNav(current) {
	const nav = clear(document.getElementById("nav"));
	nav.setAttribute("aria-label", t("nav.label"));
	nav.append(h("ul", null, pages.map((p) => h("li", null,
		h("a", { href: p.path, "aria-current": p === current ? "page" : null }, t(p.key))))));
}

/* Shows a failure on the page: what went wrong and what to do. */
export function showError(el, err) {
	el.append(h("p.error", { role: "alert" }, err && err.message ? err.message : String(err)));
}

export function navigate(url) {
	history.pushState(null, "", url);
	render();
}

async function render() {
	const seq = ++renderSeq;
	if (teardown) {
		teardown();
		teardown = null;
	}
	const { page, rest } = pageOf(location.pathname);
	renderNav(page);
	document.getElementById("skip").textContent = t("skip");
	document.getElementById("lang-label").textContent = t("language");
	document.getElementById("lang").value = i18nLang();
	const main = clear(document.getElementById("main"));
	if (!page) {
		document.title = "lcf";
		main.append(h("h1", null, t("error.notfound")));
		return;
	}
	document.title = `${t(page.key)} · Learning City Federation`;
	main.append(h("p.loading", null, t("loading")));
	try {
		const end = await page.render(main, rest, new URLSearchParams(location.search));
		if (seq !== renderSeq) {
			if (typeof end === "function") end();
			return;
		}
		teardown = typeof end === "function" ? end : null;
	} catch (err) {
		if (seq !== renderSeq) return;
		showError(main, err);
	} finally {
		if (seq === renderSeq) main.querySelectorAll(":scope > p.loading").forEach((p) => p.remove());
	}
}

function start() {
	i18nInit();
	document.getElementById("lang").addEventListener("change", (e) => {
		i18nSet(e.target.value);
		render();
	});
	/* Links inside the dashboard change the page without a reload. */
	document.addEventListener("click", (e) => {
		const a = e.target.closest("a");
		if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey ||
		    e.shiftKey || a.target || a.hasAttribute("download")) return;
		const url = new URL(a.href, location.href);
		if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
		if (!pageOf(url.pathname).page) return;
		e.preventDefault();
		navigate(url.pathname + url.search);
		document.getElementById("main").focus();
	});
	window.addEventListener("popstate", render);
	render();
}

start();
