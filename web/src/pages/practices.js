// SPDX-License-Identifier: Apache-2.0
// The Practices page: search with lcctl practice list's query syntax and filters, ranked results, a detail view with versions, and the shortlist.
import { apiAll, apiGet, withQuery } from "../api.js";
import { append, clear, h, table } from "../dom.js";
import { fmtTime, t } from "../i18n.js";
import { debounce, liveSubscribe } from "../live.js";
import { shortlistClear, shortlistGet, shortlistHas, shortlistToggle } from "../shortlist.js";

const FILTERS = ["text", "area", "cluster", "country", "lang", "sdg", "since", "sort", "city"];
/* A shortlist's ids in the CSV link: 16 hex digits each (unique in any real
 * store) keep 200 of them within the node's 4 KB URL limit. */
const ID_DIGITS = 16;
const SHORTLIST_MAX = 200;

/* The address of the shortlist's CSV: the API's own, so the file is the
 * bytes `lcctl practice list --csv` would print for those practices. */
export function shortlistCsvUrl(list) {
	return withQuery("/api/v1/practices", { id: list.map((x) => x.id.slice(0, ID_DIGITS)).join(","), format: "csv" });
}
const PAGE = 50;

function field(id, label, control, help) {
	control.id = id;
	if (help) control.setAttribute("aria-describedby", `${id}-help`);
	return h("div.field", null, h("label", { for: id }, label), control,
		help ? h("small", { id: `${id}-help` }, help) : null);
}

function select(name, value, options) {
	return h("select", { name }, options.map(([v, label]) =>
		h("option", { value: v, selected: v === value }, label)));
}

/* The practice fields' labels (message keys prac.f.NAME); a field with no
 * label shows its name. */
export function fieldLabel(k) {
	const key = `prac.f.${k}`;
	const s = t(key);
	return s === key ? k : s;
}

function searchForm(q, cities, catalog, onSubmit) {
	const v = (k) => q.get(k) || "";
	const form = h("form.search", { role: "search", on: { submit: (e) => {
		e.preventDefault();
		const p = new URLSearchParams();
		for (const [k, x] of new FormData(form)) if (x) p.append(k, x);
		onSubmit(p);
	} } },
	field("q-text", t("prac.search"), h("input", { type: "search", name: "text", value: v("text") }), t("prac.search.help")),
	field("q-area", t("prac.area"), select("area", v("area"), [["", t("prac.any")],
		...(catalog.kflc_areas || []).map((a) => [a.id, `${a.id} ${a.name}`])])),
	field("q-cluster", t("prac.cluster"), select("cluster", v("cluster"), [["", t("prac.any")],
		...(catalog.clusters || []).map((c) => [c, t(`cluster.${c}`) === `cluster.${c}` ? c : t(`cluster.${c}`)])])),
	field("q-country", t("prac.country"), select("country", v("country"), [["", t("prac.any")],
		...[...new Set(cities.map((c) => c.country).filter(Boolean))].sort().map((c) => [c, c])])),
	field("q-lang", t("prac.lang"), h("input", { name: "lang", value: v("lang"), size: 5 })),
	field("q-sdg", t("prac.sdg"), select("sdg", v("sdg"), [["", t("prac.any")],
		...Array.from({ length: 17 }, (_, i) => [String(i + 1), String(i + 1)])])),
	field("q-since", t("prac.since"), h("input", { type: "date", name: "since", value: v("since") })),
	field("q-sort", t("prac.sort"), select("sort", v("sort"), [["", t("prac.sort.default")],
		["relevance", t("prac.sort.relevance")], ["newest", t("prac.sort.newest")]])),
	field("q-city", t("prac.city"), select("city", v("city"), [["", t("prac.any")],
		...cities.map((c) => [c.id, c.name])])),
	h("button", { type: "submit" }, t("prac.apply")));
	return form;
}

function toggleButton(p, after) {
	const b = h("button.toggle", { type: "button", "aria-pressed": String(shortlistHas(p.id)) });
	const label = () => {
		const on = shortlistHas(p.id);
		b.textContent = on ? t("prac.remove") : t("prac.add");
		b.setAttribute("aria-pressed", String(on));
	};
	label();
	b.addEventListener("click", () => {
		shortlistToggle(p.id, p.practice?.title || p.key);
		label();
		if (after) after();
	});
	return b;
}

function resultItem(p, after) {
	const pr = p.practice || {};
	return h("li.result", { "data-id": p.id },
		h("h3", null, h("a", { href: `/practices/${p.id}` }, pr.title || p.key)),
		h("p.meta", null, t("prac.by", { city: p.city_name || p.author.slice(0, 12) }), " · ",
			pr.language || "", " · ", (pr.kflc_areas || []).join(", "), " · ", fmtTime(p.timestamp)),
		h("p", null, pr.summary || ""),
		toggleButton(p, after));
}

function renderShortlist(box, params) {
	const list = shortlistGet();
	clear(box).append(h("h2", null, t("prac.shortlist")));
	if (!list.length) {
		box.append(h("p", null, t("prac.shortlist.empty")));
		return;
	}
	box.append(h("ol", null, list.map((x) => h("li", null, h("a", { href: `/practices/${x.id}` }, x.title || x.id)))),
		list.length <= SHORTLIST_MAX
			? h("p", null, h("a.csv", { href: shortlistCsvUrl(list), download: "shortlist.csv", type: "text/csv" }, t("prac.shortlist.csv")))
			: h("p.error", null, t("prac.shortlist.toolong", { n: SHORTLIST_MAX })),
		h("p", null,
			h("button", { type: "button", on: { click: () => {
				shortlistClear();
				renderShortlist(box, params);
			} } }, t("prac.shortlist.clear"))));
}

async function listView(main, q) {
	const [cities, catalog] = await Promise.all([apiAll("/api/v1/cities"), apiGet("/api/v1/catalog")]);
	const results = h("div.results", { "aria-live": "polite" });
	const shortlist = h("aside.shortlist", { "aria-label": t("prac.shortlist") });
	const run = async (params) => {
		const query = {};
		for (const k of FILTERS) if (params.get(k)) query[k] = params.get(k);
		const page = await apiGet("/api/v1/practices", { ...query, limit: PAGE });
		const items = [...page.items];
		const ul = h("ul.results-list", null, items.map((p) => resultItem(p, () => renderShortlist(shortlist))));
		const count = h("p.count", null, items.length ? t("prac.count", { n: items.length }) : t("prac.none"));
		clear(results).append(count, ul);
		let next = page.next;
		if (next) {
			const more = h("button", { type: "button" }, t("prac.more"));
			more.addEventListener("click", async () => {
				const pg = await apiGet(next);
				for (const p of pg.items) ul.append(resultItem(p, () => renderShortlist(shortlist)));
				items.push(...pg.items);
				count.textContent = t("prac.count", { n: items.length });
				next = pg.next;
				if (!next) more.remove();
			});
			results.append(more);
		}
	};
	const form = searchForm(q, cities, catalog, (params) => {
		const s = params.toString();
		history.replaceState(null, "", s ? `/practices?${s}` : "/practices");
		run(params).catch((err) => clear(results).append(h("p.error", { role: "alert" }, err.message)));
	});
	main.append(h("h1", null, t("prac.title")), form, h("div.cols", null, results, shortlist));
	renderShortlist(shortlist);
	await run(q);
	/* New records show without a reload: the search runs again. */
	const again = debounce(() => run(new URLSearchParams(location.search)).catch(() => {}), 500);
	return liveSubscribe((name, data) => {
		if (name === "stored" && data && data.kind === "practice") again();
	});
}

/* A field's value as text: lists joined, nested fields labelled. */
function value(v) {
	if (Array.isArray(v)) return v.map(value).join(", ");
	if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${fieldLabel(k)}: ${value(x)}`).join("; ");
	return String(v);
}

async function detailView(main, id) {
	const [p, versions] = await Promise.all([
		apiGet(`/api/v1/practices/${encodeURIComponent(id)}`),
		apiGet(`/api/v1/practices/${encodeURIComponent(id)}/versions`),
	]);
	const pr = p.practice || {};
	const fields = Object.entries(pr).filter(([k]) => k !== "translations" && k !== "title");
	const tr = pr.translations || [];
	append(main, [
		h("p", null, h("a", { href: "/practices" }, t("prac.back"))),
		h("h1", null, pr.title || p.key),
		h("p.meta", null, h("a", { href: `/city/${p.author}` }, p.city_name || p.author), " · ", fmtTime(p.timestamp)),
		toggleButton(p),
		h("dl.fields", null, fields.map(([k, v]) => [h("dt", null, fieldLabel(k)), h("dd", null, value(v))])),
		tr.length ? [h("h2", null, t("prac.translations")), tr.map((x) => h("section", { lang: x.language },
			h("h3", null, `${x.title || ""} (${x.language})`), h("p", null, x.summary || "")))] : null,
		h("h2", null, t("prac.versions")),
		h("div.scroll", { tabindex: "0" }, table(null, [t("col.seq"), t("col.id"), t("col.stored")],
			(versions.items || []).map((v) => [String(v.seq), h("code", null, v.id.slice(0, 16)), fmtTime(v.timestamp)])))]);
}

export async function practicesPage(main, rest, q) {
	if (rest.length) return detailView(main, rest[0]);
	return listView(main, q);
}
