// SPDX-License-Identifier: Apache-2.0
// The Coverage page: a heat map of cities x catalog indicators for a period (reported or missing, shaded by value), totals per indicator and per city, a period chooser and the API's CSV.
import { apiGet, withQuery } from "../api.js";
import { h } from "../dom.js";
import { fmtNumber, t } from "../i18n.js";

/* The shade of a reported value: its place between the least and greatest
 * value of the indicator among the cities (0..1), light to dark. */
function shade(v, lo, hi) {
	const f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
	const light = Math.round(92 - f * 32);
	return { background: `hsl(130 45% ${light}%)`, color: "#111" };
}

function periodForm(period, known) {
	const form = h("form.period", { on: { submit: (e) => {
		e.preventDefault();
		history.pushState(null, "", withQuery("/coverage", { period: form.period.value.trim() }));
		window.dispatchEvent(new PopStateEvent("popstate"));
	} } },
	h("label", { for: "cov-period" }, t("cov.period")), " ",
	h("input#cov-period", { name: "period", value: period, size: 14, list: "cov-periods", "aria-describedby": "cov-period-help" }),
	h("datalist#cov-periods", null, known.map((p) => h("option", { value: p }))), " ",
	h("button", { type: "submit" }, t("cov.show")),
	h("small#cov-period-help", null, " ", t("cov.period.help")));
	return form;
}

function heatTable(cov) {
	const inds = cov.indicators || [];
	const range = new Map(inds.map((i) => {
		const vs = (cov.cities || []).map((c) => c.values?.[i.id]?.value).filter((v) => typeof v === "number");
		return [i.id, [Math.min(...vs), Math.max(...vs)]];
	}));
	/* A short column label: the sub-area and a letter for each of its
	 * indicators (1.1a, 1.1b, ...); the name in full for a title and for
	 * screen readers. */
	const seen = new Map();
	const short = inds.map((i) => {
		const area = i.sub_area || i.id.split("-")[0];
		const n = seen.get(area) || 0;
		seen.set(area, n + 1);
		return `${area}${String.fromCharCode(97 + (n % 26))}`;
	});
	const head = h("tr", null, h("th", { scope: "col" }, t("col.city")),
		inds.map((i, k) => h("th", { scope: "col", "data-indicator": i.id },
			h("abbr", { title: i.name }, short[k]), h("span.sr", null, ` ${i.name}`))),
		h("th", { scope: "col" }, t("cov.reported")));
	const rows = (cov.cities || []).map((c) => h("tr", { "data-city": c.id },
		h("th", { scope: "row" }, h("a", { href: `/city/${c.id}` }, c.name), ` (${c.country})`),
		inds.map((i) => {
			const v = c.values?.[i.id];
			if (!v) return h("td.miss", null, h("span", { "aria-hidden": "true" }, "✗"), h("span.sr", null, t("cov.missing")));
			const [lo, hi] = range.get(i.id);
			return h("td.have", { style: shade(v.value, lo, hi), title: `${i.name}: ${v.value} ${v.unit || ""} (${v.period})` },
				h("span", { "aria-hidden": "true" }, "✓ "), fmtNumber(v.value));
		}),
		h("td.total", null, t("cov.of", { n: c.reported, m: inds.length }))));
	const foot = h("tr", null, h("th", { scope: "row" }, t("cov.reported")),
		inds.map((i) => h("td.total", { "data-indicator": i.id }, t("cov.of", { n: i.reported, m: i.reported + i.missing }))),
		h("td.total", null, t("cov.of", { n: cov.totals?.reported ?? 0, m: cov.totals?.expected ?? 0 })));
	return h("table.heat", null, h("caption", null, t("cov.caption", { period: cov.period })),
		h("thead", null, head), h("tbody", null, rows), h("tfoot", null, foot));
}

export async function coveragePage(main, rest, q) {
	const period = q.get("period") || String(new Date().getFullYear() - 1);
	const [cov, summary] = await Promise.all([
		apiGet("/api/v1/coverage", { period }),
		apiGet("/api/v1/indicators/summary").catch(() => ({ items: [] })),
	]);
	const known = [...new Set((summary.items || []).map((s) => s.period))].sort().reverse();
	const tot = cov.totals || {};
	main.append(h("h1", null, t("cov.title.period", { period: cov.period })),
		periodForm(cov.period, known),
		h("p.summary", null, t("cov.summary", { reported: tot.reported ?? 0, expected: tot.expected ?? 0, cities: tot.cities ?? 0, indicators: tot.indicators ?? 0 })),
		h("p", null, h("a.csv", { href: withQuery("/api/v1/coverage", { period: cov.period, format: "csv" }), download: `coverage-${cov.period}.csv`, type: "text/csv" }, t("cov.csv"))),
		h("p.legend", null, h("span.have.swatch", { "aria-hidden": "true" }, "✓"), " ", t("cov.legend.have"), " ",
			h("span.miss.swatch", { "aria-hidden": "true" }, "✗"), " ", t("cov.legend.miss")),
		(cov.cities || []).length ? h("div.scroll", { tabindex: "0", role: "region", "aria-label": t("cov.caption", { period: cov.period }) }, heatTable(cov))
			: h("p", null, t("cov.nocities")));
}
