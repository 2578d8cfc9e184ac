// SPDX-License-Identifier: Apache-2.0
// The This node page (operator data): a token sign-in when the node asks for one, the main metrics, the peers and their sync state, the live event stream.
import { apiGet } from "../api.js";
import { h, table } from "../dom.js";
import { fmtNumber, fmtTime, t } from "../i18n.js";
import { liveSubscribe } from "../live.js";

const SIGNED = "lcf.session";

function rerender() {
	window.dispatchEvent(new PopStateEvent("popstate"));
}

/* The form that trades the node's token for a session cookie (POST
 * /api/v1/session); the token itself is never kept by the page. */
function signInForm() {
	const msg = h("p.error", { role: "alert", hidden: true });
	const form = h("form.signin", { on: { submit: async (e) => {
		e.preventDefault();
		msg.hidden = true;
		let res;
		try {
			res = await fetch("/api/v1/session", { method: "POST", headers: { Authorization: `Bearer ${form.token.value.trim()}` } });
		} catch (err) {
			res = null;
		}
		if (res && res.ok) {
			try {
				sessionStorage.setItem(SIGNED, "1");
			} catch (err) {
				/* the sign-out button is then not shown */
			}
			rerender();
			return;
		}
		msg.textContent = res ? t("node.refused") : t("error.network", { url: "/api/v1/session" });
		msg.hidden = false;
	} } },
	h("div.field", null, h("label", { for: "node-token" }, t("node.token")),
		h("input#node-token", { name: "token", type: "password", autocomplete: "off", required: true, size: 40, "aria-describedby": "node-token-help" }),
		h("small#node-token-help", null, t("node.token.help"))),
	h("button", { type: "submit" }, t("node.signin")), msg);
	return form;
}

function signOutButton() {
	let on = false;
	try {
		on = sessionStorage.getItem(SIGNED) === "1";
	} catch (e) {
		on = false;
	}
	if (!on) return null;
	return h("p", null, h("button", { type: "button", on: { click: async () => {
		await fetch("/api/v1/session", { method: "DELETE" }).catch(() => {});
		try {
			sessionStorage.removeItem(SIGNED);
		} catch (e) {
			/* nothing kept */
		}
		rerender();
	} } }, t("node.signout")));
}

/* The samples of one metric in Prometheus' text format, summed. */
function metricSum(text, name) {
	let sum = 0;
	let seen = false;
	for (const line of text.split("\n")) {
		if (!line.startsWith(name)) continue;
		const rest = line.slice(name.length);
		if (rest[0] !== " " && rest[0] !== "{") continue;
		const v = Number(line.trim().split(/\s+/).pop());
		if (Number.isFinite(v)) {
			sum += v;
			seen = true;
		}
	}
	return seen ? sum : null;
}

function bytes(n) {
	return n == null ? "" : `${fmtNumber(Math.round(n / 1048576))} MiB`;
}

function metrics(st, prom) {
	const sync = st.sync || {};
	const rows = [
		["records", t("node.m.records"), fmtNumber(st.records_total)],
		["peers", t("node.m.peers"), t("node.m.peers.value", { connected: fmtNumber(st.peers_connected), known: fmtNumber(st.peers_known) })],
		["sync", t("node.m.sync"), sync.running > 0
			? t("node.m.sync.running", { n: fmtNumber(sync.running), stored: fmtNumber(sync.stored), expected: fmtNumber(sync.expected) })
			: t("node.m.sync.idle", { received: fmtNumber(sync.received) })],
		["db", t("node.m.db"), `${bytes(st.db_size)} / ${bytes(st.db_map_size)}`],
		["uptime", t("node.m.uptime"), t("node.m.uptime.value", { h: fmtNumber(Math.floor(st.uptime_ms / 3600000)), m: Math.floor(st.uptime_ms / 60000) % 60 })],
		["version", t("node.m.version"), st.version],
		["http", t("node.m.http"), fmtNumber(metricSum(prom, "lcf_http_connections"))],
		["reconciliations", t("node.m.reconciliations"), fmtNumber(metricSum(prom, "lcf_reconciliations_total"))],
	];
	return h("dl.fields.metrics", null, rows.map(([k, label, v]) => [h("dt", null, label), h("dd", { "data-metric": k }, v ?? "")]));
}

function peersTable(peers) {
	return table(null, [t("col.city"), t("col.state"), t("node.col.remote"), t("node.col.in"), t("node.col.out"), t("node.col.last_sync"), t("node.col.result")],
		(peers.items || []).map((x) => [x.city_name || x.id.slice(0, 12), t(`peer.${x.state}`) === `peer.${x.state}` ? x.state : t(`peer.${x.state}`),
			x.remote || x.address || "", fmtNumber(x.records_in), fmtNumber(x.records_out), fmtTime(x.last_sync_ms),
			x.last_sync_result ? (t(`node.result.${x.last_sync_result}`) === `node.result.${x.last_sync_result}` ? x.last_sync_result : t(`node.result.${x.last_sync_result}`)) : ""]));
}

export async function nodePage(main) {
	let peers;
	try {
		peers = await apiGet("/api/v1/peers");
	} catch (err) {
		if (err.status === 401) {
			main.append(h("h1", null, t("node.title")), h("p.error", { role: "alert" }, t("node.denied")), signInForm());
			return null;
		}
		throw err;
	}
	const [st, prom] = await Promise.all([
		apiGet("/api/v1/status"),
		fetch("/metrics").then((r) => (r.ok ? r.text() : "")).catch(() => ""),
	]);
	const log = h("ol.events", { "aria-live": "off" });
	main.append(h("h1", null, t("node.title")), signOutButton(),
		h("h2", null, t("node.metrics")), metrics(st, prom),
		h("h2", null, t("node.peers")),
		(peers.items || []).length ? h("div.scroll", { tabindex: "0" }, peersTable(peers)) : h("p", null, t("node.nopeers")),
		h("h2", null, t("node.events")), h("p", null, t("node.events.help")), log);
	return liveSubscribe((name, data) => {
		if (name === "open" || name === "error") return;
		const label = t(`ev.${name}`) === `ev.${name}` ? name : t(`ev.${name}`);
		log.prepend(h("li", { "data-event": name }, h("time", null, new Date().toLocaleTimeString()), " ", h("strong", null, label), " ",
			h("code", null, JSON.stringify(data))));
		while (log.children.length > 50) log.lastChild.remove();
	});
}
