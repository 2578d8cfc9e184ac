// SPDX-License-Identifier: Apache-2.0
// The Partners and Report pages: the ranking of lcctl partners with its reasons, and the progress-report draft laid out for A4.
import { apiAll, apiGet, withQuery } from "../api.js";
import { h, table } from "../dom.js";
import { t } from "../i18n.js";
import { mdRender } from "../markdown.js";

export async function partnersPage(main) {
	const p = await apiGet("/api/v1/partners");
	main.append(h("h1", null, t("part.title")),
		h("div.scroll", { tabindex: "0" }, table(null, [t("col.name"), t("col.country"), t("part.score"), t("part.reasons")],
			(p.items || []).map((c) => [h("a", { href: `/city/${c.id}` }, c.name), c.country, String(c.score), (c.reasons || []).join("; ")]))));
}

export async function reportPage(main, rest, q) {
	const cities = await apiAll("/api/v1/cities");
	const form = h("form.noprint", { on: { submit: (e) => {
		e.preventDefault();
		history.pushState(null, "", withQuery("/report", { city: form.city.value, from: form.from.value, to: form.to.value }));
		window.dispatchEvent(new PopStateEvent("popstate"));
	} } },
	h("label", { for: "r-city" }, t("rep.city")), " ",
	h("select#r-city", { name: "city" }, cities.map((c) => h("option", { value: c.id, selected: c.id === q.get("city") }, c.name))), " ",
	h("label", { for: "r-from" }, t("rep.from")), " ", h("input#r-from", { name: "from", value: q.get("from") || "", size: 5 }), " ",
	h("label", { for: "r-to" }, t("rep.to")), " ", h("input#r-to", { name: "to", value: q.get("to") || "", size: 5 }), " ",
	h("button", { type: "submit" }, t("rep.show")), " ",
	h("button", { type: "button", on: { click: () => window.print() } }, t("rep.print")));
	main.append(h("h1.noprint", null, t("rep.title")), form);
	const city = q.get("city") || cities[0]?.id;
	if (!city) return;
	const url = withQuery(`/api/v1/cities/${encodeURIComponent(city)}/report`, { from: q.get("from"), to: q.get("to"), format: "markdown" });
	let res;
	try {
		res = await fetch(url, { headers: { Accept: "text/markdown" } });
	} catch (err) {
		throw new Error(t("error.network", { url }));
	}
	if (!res.ok) {
		let detail = res.statusText;
		try {
			detail = (await res.json()).detail || detail;
		} catch (err) {
			/* not a problem document */
		}
		throw new Error(t("error.http", { status: res.status, url, detail }));
	}
	/* The draft is the node's own document (in English, as lcctl report
	 * prints it), laid out for A4. */
	main.append(h("article.report", { lang: "en" }, mdRender(await res.text())));
}
