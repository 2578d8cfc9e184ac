// SPDX-License-Identifier: Apache-2.0
// The City page: profile, practices, and one chart per indicator over its periods beside the federation's median (uPlot), each with a table for screen readers.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { apiAll, apiGet } from "../api.js";
import { h, table } from "../dom.js";
import { fmtNumber, t } from "../i18n.js";

/* A label from the catalogs: key PREFIX.NAME, else the name itself. */
export function label(prefix, k) {
	const key = `${prefix}.${k}`;
	const s = t(key);
	return s === key ? k : s;
}

function value(v) {
	if (Array.isArray(v)) return v.map(value).join(", ");
	if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${label("prac.f", k)}: ${value(x)}`).join("; ");
	return String(v);
}

/* A value broken down by sex, age band or group is no city total. */
function total(iv) {
	const d = iv.disaggregation || {};
	return !d.sex && !d.age_band && !d.group;
}

/* The city's total values of each indicator: id -> [{period, value, unit}],
 * a period once (the newest record), periods in order. */
function series(values) {
	const by = new Map();
	for (const r of values) {
		const iv = r.indicator;
		if (!iv || r.deleted || !total(iv) || iv.value == null) continue;
		if (!by.has(iv.indicator)) by.set(iv.indicator, new Map());
		const m = by.get(iv.indicator);
		const old = m.get(iv.period);
		if (!old || old.timestamp < r.timestamp) m.set(iv.period, { period: iv.period, value: iv.value, unit: iv.unit, timestamp: r.timestamp });
	}
	const out = new Map();
	for (const [id, m] of by) out.set(id, [...m.values()].sort((a, b) => a.period.localeCompare(b.period)));
	return out;
}

function chart(box, name, points, medians) {
	const width = Math.max(280, Math.min(560, (box.parentElement?.clientWidth || 600) - 16));
	const xs = points.map((_, i) => i);
	const opts = {
		width, height: 220,
		scales: { x: { time: false } },
		axes: [
			{ values: (u, ticks) => ticks.map((i) => points[i]?.period ?? ""), space: 60, incrs: [1] },
			{ values: (u, ticks) => ticks.map((v) => fmtNumber(v)) },
		],
		series: [
			{ label: t("city.chart.period"), value: (u, i) => points[i]?.period ?? "" },
			{ label: name, stroke: "#1f5f8b", width: 2, points: { size: 7 } },
			{ label: t("city.chart.median"), stroke: "#b35900", width: 2, dash: [6, 4], points: { size: 7 } },
		],
		legend: { show: true },
	};
	return new uPlot(opts, [xs, points.map((p) => p.value), medians], box);
}

/* One indicator: a chart (an image for assistive technology, described by
 * the table after it) and the table of the same numbers. */
function indicatorSection(ind, points, summary) {
	const med = points.map((p) => summary.get(`${ind.id}\u0000${p.period}`) || null);
	const id = `chart-${ind.id.replace(/[^\w-]/g, "_")}`;
	const box = h("div.chart", { id, role: "img", "aria-label": t("city.chart.alt", { name: ind.name || ind.id }) });
	const tbl = table(t("city.chart.table", { name: ind.name || ind.id }),
		[t("city.chart.period"), t("city.chart.value"), t("city.chart.median"), t("city.chart.cities")],
		points.map((p, i) => [p.period, `${fmtNumber(p.value)}${p.unit ? " " + p.unit : ""}`,
			med[i] ? fmtNumber(med[i].median) : "—", med[i] ? fmtNumber(med[i].cities) : "—"]), "chart-data");
	const section = h("section.indicator", { "data-indicator": ind.id },
		h("h3", null, ind.name || ind.id, " ", h("small", null, `(${ind.id})`)), box, h("div.scroll", { tabindex: "0" }, tbl));
	return { section, draw: () => chart(box, t("city.chart.city"), points, med.map((m) => (m ? m.median : null))) };
}

export async function cityPage(main, rest) {
	if (!rest.length) {
		const cities = await apiAll("/api/v1/cities");
		main.append(h("h1", null, t("city.choose")),
			h("ul.cities", null, cities.map((c) => h("li", null, h("a", { href: `/city/${c.id}` }, `${c.name} (${c.country})`)))));
		return;
	}
	const c = await apiGet(`/api/v1/cities/${encodeURIComponent(rest[0])}`);
	const [practices, values, summary, catalog] = await Promise.all([
		apiGet("/api/v1/practices", { city: c.id, limit: 100 }),
		apiAll("/api/v1/indicators", { city: c.id }),
		apiGet("/api/v1/indicators/summary"),
		apiGet("/api/v1/catalog"),
	]);
	const prof = c.profile?.city || {};
	const med = new Map((summary.items || []).map((s) => [`${s.indicator}\u0000${s.period}`, s]));
	const mine = series(values);
	const inds = (catalog.indicators || []).filter((i) => mine.has(i.id));
	const sections = inds.map((i) => indicatorSection(i, mine.get(i.id), med));
	main.append(h("h1", null, `${c.name} (${c.country})`),
		h("h2", null, t("city.profile")),
		h("dl.fields", null, Object.entries(prof).filter(([k]) => k !== "name")
			.map(([k, v]) => [h("dt", null, label("city.f", k)), h("dd", null, value(v))])),
		h("h2", null, t("city.practices")),
		practices.items.length ? h("ul", null, practices.items.map((p) => h("li", null, h("a", { href: `/practices/${p.id}` }, p.practice?.title || p.key))))
			: h("p", null, t("city.nopractices")),
		h("h2", null, t("city.indicators")),
		h("p", null, t("city.charts.help")),
		sections.length ? h("div.charts", null, sections.map((s) => s.section)) : h("p", null, t("city.noindicators")));
	const charts = sections.map((s) => s.draw());
	return () => charts.forEach((u) => u.destroy());
}
