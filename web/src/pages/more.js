// SPDX-License-Identifier: Apache-2.0
// The City, Coverage, Partners, This node and Report pages: first versions, each a view of one API resource.
import { apiAll, apiGet, withQuery } from "../api.js";
import { clear, h, table } from "../dom.js";
import { fmtNumber, fmtTime, t } from "../i18n.js";
import { liveSubscribe } from "../live.js";

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
	const res = await fetch(withQuery(`/api/v1/cities/${city}/report`, { from: q.get("from"), to: q.get("to"), format: "markdown" }));
	const text = res.ok ? await res.text() : `${res.status} ${res.statusText}`;
	main.append(h("article.report", null, h("pre", null, text)));
}
