// SPDX-License-Identifier: Apache-2.0
// The Federation page (/): the member cities on a world map by state, the summary line and members table of federation status, kept live by the event stream.
import { geoNaturalEarth1 } from "d3-geo";
import { apiAll, apiGet } from "../api.js";
import { append, clear, h, table } from "../dom.js";
import { fmtNumber, fmtTime, t } from "../i18n.js";
import { debounce, liveSubscribe } from "../live.js";

const SVG = "http://www.w3.org/2000/svg";

/* States, their marker shape (so the legend does not rely on colour alone). */
const STATES = {
	reachable: "circle",
	unreachable: "ring",
	inactive: "square",
	revoked: "cross",
	observer: "diamond",
};

/* The land, projected when the dashboard was built (web/build.mjs): the
 * countries as one path, and the projection's scale and translation. */
let land = null;

async function loadLand() {
	if (!land) {
		const res = await fetch(__LAND_URL__);
		if (!res.ok) throw new Error(t("error.http", { status: res.status, url: __LAND_URL__, detail: res.statusText }));
		land = await res.json();
	}
	return land;
}

function svg(tag, attrs) {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
	return el;
}

function stateOf(m) {
	if (m.role === "observer") return "observer";
	if (m.state === "revoked") return "revoked";
	if (m.inactive) return "inactive";
	return m.reachable ? "reachable" : "unreachable";
}

function marker(state, x, y, size) {
	const s = size;
	switch (STATES[state]) {
	case "square": return svg("rect", { x: x - s, y: y - s, width: 2 * s, height: 2 * s, class: `m ${state}` });
	case "diamond": return svg("path", { d: `M${x},${y - s * 1.3}L${x + s * 1.3},${y}L${x},${y + s * 1.3}L${x - s * 1.3},${y}Z`, class: `m ${state}` });
	case "cross": return svg("path", { d: `M${x - s},${y - s}L${x + s},${y + s}M${x - s},${y + s}L${x + s},${y - s}`, class: `m ${state}` });
	case "ring": return svg("circle", { cx: x, cy: y, r: s, class: `m ${state}` });
	default: return svg("circle", { cx: x, cy: y, r: s, class: `m ${state}` });
	}
}

function legend() {
	return h("div.legend", null, h("h3", null, t("fed.legend")), h("ul", null, Object.keys(STATES).map((st) => {
		const s = svg("svg", { width: 18, height: 18, viewBox: "0 0 18 18", "aria-hidden": "true" });
		s.append(marker(st, 9, 9, 6));
		return h("li", null, s, " ", t(`state.${st}`));
	})));
}

function drawMap(map, members, cities) {
	const proj = geoNaturalEarth1().scale(map.scale).translate(map.translate);
	const root = svg("svg", { viewBox: `0 0 ${map.width} ${map.height}`, role: "img", "aria-labelledby": "map-title map-desc", class: "map" });
	const title = svg("title", { id: "map-title" });
	title.textContent = t("fed.map");
	const desc = svg("desc", { id: "map-desc" });
	desc.textContent = t("fed.map.desc");
	root.append(title, desc);
	const g = svg("g", { class: "land" });
	g.append(svg("path", { d: map.d }));
	root.append(g);
	const byId = new Map(cities.map((c) => [c.id, c]));
	const missing = [];
	for (const m of members) {
		const p = m.latitude != null ? m : byId.get(m.id)?.profile?.city;
		if (!p || p.latitude == null || p.longitude == null) {
			missing.push(m.name);
			continue;
		}
		const [x, y] = proj([p.longitude, p.latitude]);
		const st = stateOf(m);
		const mk = marker(st, x, y, 7);
		const tip = svg("title");
		tip.textContent = `${m.name} (${t(`state.${st}`)})`;
		mk.append(tip);
		mk.setAttribute("data-city", m.id);
		mk.setAttribute("data-state", st);
		root.append(mk);
	}
	return { root, missing };
}

/* The members of federation status; on a node outside a federation, the
 * cities it holds. */
function membersOf(status, cities) {
	if (status.items && status.items.length) return status.items;
	return cities.map((c) => ({ id: c.id, name: c.name, country: c.country, role: "city",
		state: c.membership?.state, reachable: true, inactive: false }));
}

function memberCells(m) {
	return [
		m.role === "observer" ? m.name : h("a", { href: `/city/${m.id}` }, m.name),
		m.country || "",
		t(`state.${stateOf(m)}`),
		m.version || "",
		fmtTime(m.last_seen_ms),
		m.agrees == null ? "" : m.agrees ? t("agree.yes") : t("agree.no", { n: fmtNumber(m.difference) }),
		fmtNumber(m.records),
	];
}

function memberRow(m) {
	return h("tr", { "data-city": m.id }, memberCells(m).map((c, i) =>
		i === 0 ? h("th", { scope: "row" }, c) : h("td", null, c)));
}

function membersTable(members) {
	const tbl = table(t("fed.members"), [t("col.name"), t("col.country"), t("col.state"), t("col.version"),
		t("col.last_seen"), t("col.agreement"), t("col.records")], [], "members");
	const rows = document.createDocumentFragment();
	for (const m of members) rows.append(memberRow(m));
	tbl.tBodies[0].append(rows);
	return tbl;
}

export async function federationPage(main) {
	const body = h("div.fed");
	const live = h("p.live", { "aria-live": "polite" });
	main.append(h("h1", null, t("fed.title")), live, body);

	/* The map's boundaries and the API's answers are fetched side by side;
	 * the marks let a benchmark see where the time goes. */
	async function refresh() {
		performance.mark("lcf-fed-fetch");
		const [map, status, latest] = await Promise.all([
			loadLand(),
			apiGet("/api/v1/federation/status"),
			apiGet("/api/v1/practices", { limit: 5, sort: "newest" }),
		]);
		/* Federation status rows carry each city's place; the cities'
		 * profiles are fetched only when it has no rows. */
		const cities = status.items && status.items.length ? [] :
			await apiAll("/api/v1/cities");
		performance.mark("lcf-fed-fetched");
		const members = membersOf(status, cities);
		const s = status.summary || {};
		const { root, missing } = drawMap(map, members, cities);
		append(clear(body), [
			h("p.summary", null, t("fed.summary", {
				nodes: fmtNumber(s.nodes ?? members.length), cities: fmtNumber(s.cities ?? cities.length),
				observers: fmtNumber(s.observers ?? 0), reachable: fmtNumber(s.reachable ?? 0),
				agreeing: fmtNumber(s.agreeing ?? 0), inactive: fmtNumber(s.inactive ?? 0),
				warnings: fmtNumber(s.warnings ?? 0),
			})),
			h("div.mapbox", null, root, legend()),
			missing.length ? h("p", null, t("fed.nocoords", { names: missing.join(", ") })) : null,
			h("div.scroll", { tabindex: "0" }, membersTable(members)),
			h("h2", null, t("fed.latest")),
			h("ul.latest", null, latest.items.map((p) => h("li", null,
				h("a", { href: `/practices/${p.id}` }, p.practice?.title || p.key), " · ",
				p.city_name || "", " · ", fmtTime(p.timestamp))))]);
		performance.mark("lcf-fed-drawn");
	}
	await refresh();
	const again = debounce(() => refresh().catch((err) => {
		live.textContent = err.message;
	}), 500);
	const unsubscribe = liveSubscribe((name) => {
		if (name === "open") live.textContent = t("live.on");
		else if (name === "error") live.textContent = t("live.off");
		else again();
	});
	/* Reachability changes with time as well (beacons age). */
	const timer = setInterval(again, 30000);
	return () => {
		unsubscribe();
		clearInterval(timer);
	};
}
