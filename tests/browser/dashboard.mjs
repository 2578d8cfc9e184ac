// SPDX-License-Identifier: Apache-2.0
// The dashboard in a real Chromium (puppeteer-core) against a running federation: pages load without console errors, show what the API holds, search narrows, the shortlist persists, records arrive live, a city that goes down (B, stopped by the test) turns unreachable live, operator data is refused through a proxy, axe-core finds no serious violation, the report prints to PDF. Prints TAP lines.
// Usage: node dashboard.mjs URL_A  (env: LCCTL, DIR_C: a node to publish on; PDF: where to print the report)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { AxePuppeteer } from "@axe-core/puppeteer";

const base = process.argv[2];
let failed = 0;
function ok(name) {
	console.log(`ok - ${name}`);
}
function notOk(name, why) {
	failed++;
	console.log(`not ok - ${name}: ${why}`);
}
function expect(name, cond, why) {
	if (cond) ok(name);
	else notOk(name, why);
}

async function api(path, headers) {
	const res = await fetch(base + path, { headers: headers || {} });
	if (!res.ok) throw new Error(`${path}: ${res.status}`);
	return res.json();
}

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-GB"],
});
const page = await browser.newPage();
const errors = [];
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));
page.on("requestfailed", (r) => {
	/* An event stream closed by leaving its page is no failure. */
	if (!r.url().includes("/api/v1/events")) errors.push(`${r.url()}: ${r.failure()?.errorText}`);
});
await page.setViewport({ width: 1200, height: 900 });

/* Loads path and waits until its page has rendered (no "Loading"). */
async function load(path) {
	await page.goto(base + path, { waitUntil: "load" });
	await page.waitForFunction(() => document.querySelector("main h1") &&
	    !document.querySelector("main > p.loading"), { timeout: 10000 });
}

async function axe(name) {
	const r = await new AxePuppeteer(page).analyze();
	const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
	expect(`${name}: axe-core finds no serious or critical violation`, bad.length === 0,
		bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`).join("; "));
}

async function pageCheck(name, path) {
	errors.length = 0;
	await load(path);
	const err = await page.$eval("main", (m) => m.querySelector(".error")?.textContent || "");
	expect(`${name}: loads with no console error and no error shown`, errors.length === 0 && err === "",
		`${errors.join(" | ")} ${err}`);
	await axe(name);
}

const text = () => page.$eval("main", (m) => m.innerText);
/* The report's cycle: from the sample values' years to this one, when the
 * sample practices were published. */
const cycle = `from=2023&to=${new Date().getUTCFullYear()}`;

/* Clicks the link selector names and returns the bytes the browser saved. */
const downloads = mkdtempSync(join(tmpdir(), "lcf-dl-"));
async function download(selector, name) {
	const cdp = await page.createCDPSession();
	await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
	await page.click(selector);
	const file = join(downloads, name);
	for (let i = 0; i < 100 && !(existsSync(file) && !readdirSync(downloads).some((f) => f.endsWith(".crdownload"))); i++)
		await new Promise((r) => setTimeout(r, 50));
	await cdp.detach();
	return existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
}

async function apiBytes(path) {
	const res = await fetch(base + path);
	if (!res.ok) throw new Error(`${path}: ${res.status}`);
	return Buffer.from(await res.arrayBuffer());
}

try {
	const status = await api("/api/v1/federation/status");
	const cities = await api("/api/v1/cities");
	const cityId = cities.items[0].id;

	// Federation: every member's name in the table, a marker per placed city.
	await pageCheck("federation page", "/");
	const fedText = await text();
	const missingNames = status.items.map((m) => m.name).filter((n) => !fedText.includes(n));
	expect("federation page lists every member the API gives", status.items.length >= 3 && missingNames.length === 0,
		`${status.items.length} members, missing ${missingNames.join(", ")}`);
	const placed = cities.items.filter((c) => c.profile?.city?.latitude != null).length;
	const markers = await page.$$eval("svg.map [data-city]", (m) => m.length);
	expect("the map places each city with coordinates", markers === placed && placed >= 3, `${markers} markers, ${placed} placed`);
	const navLinks = await page.$$eval("nav a", (a) => a.map((x) => x.getAttribute("href")));
	expect("the navigation bar links every page", ["/", "/practices", "/city", "/coverage", "/partners", "/node", "/report"]
		.every((p) => navLinks.includes(p)), navLinks.join(" "));

	// At 360 px nothing runs off the side.
	await page.setViewport({ width: 360, height: 740 });
	await load("/");
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	expect("the federation page fits 360 px", sw <= 360, `scrollWidth ${sw}`);
	await page.setViewport({ width: 1200, height: 900 });

	// Practices: the list is the API's; a search narrows it to the API's answer.
	await pageCheck("practices page", "/practices");
	const all = await api("/api/v1/practices?limit=50");
	const shown = await page.$$eval("li.result", (l) => l.map((x) => x.dataset.id));
	expect("practices page shows the API's first page", shown.length === all.items.length &&
		shown.every((id, i) => id === all.items[i].id), `${shown.length} vs ${all.items.length}`);
	await page.type("#q-text", "famil*");
	await Promise.all([
		page.waitForResponse((r) => r.url().includes("/api/v1/practices?text=")),
		page.click("form.search button[type=submit]"),
	]);
	await page.waitForFunction((n) => document.querySelectorAll("li.result").length !== n, { timeout: 5000 }, shown.length)
		.catch(() => {});
	const found = await page.$$eval("li.result", (l) => l.map((x) => x.dataset.id));
	const want = await api("/api/v1/practices?text=famil*&limit=50");
	expect("a search narrows the results to the API's answer", found.length > 0 && found.length < shown.length &&
		found.join() === want.items.map((x) => x.id).join(), `${found.length} shown, API ${want.items.length}, of ${shown.length}`);
	expect("the search is kept in the address", page.url().includes("text=famil"), page.url());

	// The filters are lists: areas and clusters from /api/v1/catalog, countries from the cities.
	{
		const catalog = await api("/api/v1/catalog");
		const opts = await page.$$eval("#q-area option, #q-cluster option, #q-country option",
			(o) => o.map((x) => `${x.parentElement.id}:${x.value}`).filter((x) => !x.endsWith(":")));
		const wantOpts = [...catalog.kflc_areas.map((a) => `q-area:${a.id}`), ...catalog.clusters.map((c) => `q-cluster:${c}`),
			...[...new Set(cities.items.map((c) => c.country))].sort().map((c) => `q-country:${c}`)];
		expect("the area, cluster and country filters list the catalog's sub-areas and clusters and the cities' countries",
			opts.join() === wantOpts.join() && catalog.kflc_areas.length > 0, `${opts.length} options, ${wantOpts.length} wanted`);
		for (const [sel, param, v] of [["#q-country", "country", cities.items[1].country], ["#q-area", "area", "2.2"]]) {
			await page.$eval("#q-text", (i) => { i.value = ""; });
			await page.select(sel, v);
			await Promise.all([
				page.waitForResponse((r) => r.url().includes(`${param}=${v}`)),
				page.click("form.search button[type=submit]"),
			]);
			await new Promise((r) => setTimeout(r, 200));
			const got = await page.$$eval("li.result", (l) => l.map((x) => x.dataset.id));
			const api1 = await api(`/api/v1/practices?${param}=${v}&limit=50`);
			expect(`the ${param} filter narrows to the API's answer`, got.length > 0 && got.join() === api1.items.map((x) => x.id).join(),
				`${got.length} shown, API ${api1.items.length}`);
			await page.select(sel, "");
		}
		await page.goto(`${base}/practices?text=famil*`, { waitUntil: "load" });
		await page.waitForSelector("li.result");
	}

	// Shortlist: two practices, still there after a reload.
	const buttons = await page.$$("li.result button.toggle");
	await buttons[0].click();
	if (buttons[1]) await buttons[1].click();
	await page.reload({ waitUntil: "load" });
	await page.waitForSelector("aside.shortlist ol li");
	const kept = await page.$$eval("aside.shortlist ol li", (l) => l.length);
	expect("the shortlist is kept in the browser", kept === Math.min(2, found.length), `${kept} kept`);
	const picked = found.slice(0, 2);
	const csv = await download("aside.shortlist a.csv", "shortlist.csv");
	const apiCsv = await apiBytes(`/api/v1/practices?id=${picked.join(",")}&format=csv`);
	expect("the shortlist's CSV download is the API's CSV of those practices, byte for byte",
		csv.length > 0 && csv.equals(apiCsv), `${csv.length} bytes downloaded, API ${apiCsv.length}`);
	const rows = csv.toString("utf8").split("\r\n").filter(Boolean);
	const wantKeys = want.items.slice(0, 2).map((x) => x.key);
	expect("the CSV holds a header and the shortlisted practices, in order",
		rows.length === picked.length + 1 && rows[0].startsWith("key,title,") &&
		rows.slice(1).every((r, i) => r.startsWith(wantKeys[i] + ",")), rows.map((r) => r.slice(0, 40)).join(" | "));

	// Detail with versions.
	await pageCheck("practice detail", `/practices/${all.items[0].id}`);
	const detail = await text();
	expect("the detail shows the practice's title and versions",
		detail.includes(all.items[0].practice.title) && (await page.$$("main table tbody tr")).length >= 1, "title or versions missing");

	// A failed request shows what went wrong and what to do, never a blank page.
	{
		const unknown = "0".repeat(64);
		const api = await fetch(`${base}/api/v1/cities/${unknown}`);
		const problem = await api.json();
		await page.goto(`${base}/city/${unknown}`, { waitUntil: "load" });
		await page.waitForFunction(() => document.querySelector("main .error"), { timeout: 10000 });
		const shown = await page.$eval("main .error", (e) => e.textContent);
		expect("an unknown city's page says the node's answer (404) and its reason",
			api.status === 404 && shown.includes("404") && shown.includes(problem.detail), `${api.status} ${shown}`);
		expect("and keeps the navigation, so the visitor can go on",
			(await page.$$("nav a")).length >= 7, "no navigation");
	}

	// Other pages load and show the API's data.
	await pageCheck("city page", `/city/${cityId}`);
	expect("the city page shows the city's name", (await text()).includes(cities.items[0].name), cities.items[0].name);
	{
		const summary = await api("/api/v1/indicators/summary");
		const vals = await api(`/api/v1/indicators?city=${cityId}&limit=500`);
		const want = new Set(vals.items.filter((r) => r.indicator && !r.indicator.disaggregation).map((r) => r.indicator.indicator));
		const sections = await page.$$eval("section.indicator", (s) => s.map((x) => ({
			id: x.dataset.indicator,
			canvas: !!x.querySelector("canvas"),
			img: x.querySelector("[role=img]")?.getAttribute("aria-label") || "",
			rows: [...x.querySelectorAll("table.chart-data tbody tr")].map((r) => [...r.children].map((c) => c.textContent)),
		})));
		expect("the city page draws one chart per indicator the city reported", sections.length === want.size && want.size > 0 &&
			sections.every((x) => want.has(x.id) && x.canvas && x.img), `${sections.length} charts, ${want.size} indicators`);
		const med = new Map(summary.items.map((m) => [`${m.indicator} ${m.period}`, m]));
		const bad = [];
		let rows = 0;
		for (const sec of sections) for (const [period, , median, n] of sec.rows) {
			rows++;
			const m = med.get(`${sec.id} ${period}`);
			if (!m || median !== m.median.toLocaleString("en-GB") || n !== String(m.cities)) bad.push(`${sec.id} ${period}: ${median}/${n}`);
		}
		expect("each chart's table gives the federation's median and count from /api/v1/indicators/summary",
			rows > 0 && bad.length === 0, `${rows} rows; ${bad.slice(0, 3).join("; ")}`);
	}
	await pageCheck("coverage page", "/coverage?period=2024");
	{
		const cov = await api("/api/v1/coverage?period=2024");
		const heat = await page.$$eval("table.heat tbody tr", (r) => r.map((x) => ({
			id: x.dataset.city, have: x.querySelectorAll("td.have").length, miss: x.querySelectorAll("td.miss").length,
			sr: [...x.querySelectorAll("td.miss .sr")].every((s) => s.textContent.trim() === "missing"),
		})));
		const cols = await page.$$eval("table.heat thead th[data-indicator]", (c) => c.map((x) => x.dataset.indicator));
		expect("the heat map has a column per catalog indicator and a row per city",
			cols.join() === cov.indicators.map((i) => i.id).join() && heat.length === cov.cities.length && heat.length >= 3,
			`${cols.length} columns, ${heat.length} rows`);
		expect("each city's reported cells are the API's, missing ones said in words",
			heat.every((r, i) => r.id === cov.cities[i].id && r.have === cov.cities[i].reported &&
				r.miss === cov.indicators.length - cov.cities[i].reported && r.sr) && cov.totals.reported > 0,
			JSON.stringify(heat.slice(0, 2)));
		const foot = await page.$$eval("table.heat tfoot td[data-indicator]", (c) => c.map((x) => x.textContent));
		expect("the totals per indicator are the API's", foot.length === cov.indicators.length &&
			foot.every((f, i) => f === `${cov.indicators[i].reported} of ${cov.indicators[i].reported + cov.indicators[i].missing}`), foot.slice(0, 3).join(" | "));
		const perCity = await page.$$eval("table.heat tbody td.total", (c) => c.map((x) => x.textContent));
		expect("and per city", perCity.every((f, i) => f === `${cov.cities[i].reported} of ${cov.indicators.length}`), perCity.join(" | "));
	}
	const covCsv = await download("main a.csv", "coverage-2024.csv");
	const covApi = await apiBytes("/api/v1/coverage?period=2024&format=csv");
	expect("the coverage CSV download is the API's CSV, byte for byte", covCsv.length > 0 && covCsv.equals(covApi),
		`${covCsv.length} bytes downloaded, API ${covApi.length}`);
	await page.$eval("#cov-period", (i) => { i.value = ""; });
	await page.type("#cov-period", "2023");
	await Promise.all([page.waitForResponse((r) => r.url().includes("/api/v1/coverage?period=2023")), page.click("form.period button")]);
	await page.waitForFunction(() => document.querySelector("main h1")?.textContent.includes("2023"), { timeout: 5000 }).catch(() => {});
	{
		const c23 = await api("/api/v1/coverage?period=2023");
		const have = await page.$$eval("table.heat td.have", (c) => c.length);
		expect("the period chooser shows another period's coverage", page.url().includes("period=2023") && have === c23.totals.reported,
			`${page.url()}: ${have} cells, API ${c23.totals.reported}`);
	}
	await pageCheck("partners page", "/partners");
	await pageCheck("this node page", "/node");
	expect("this node lists its peers from loopback", (await page.$$("main table tbody tr")).length >= 1, "no peer row");
	{
		const token = execFileSync(process.env.LCCTL, ["-d", process.env.DIR_A, "http", "token"]).toString().trim();
		const st = await api("/api/v1/status", { Authorization: `Bearer ${token}` });
		const peers = await api("/api/v1/peers", { Authorization: `Bearer ${token}` });
		const m = await page.$$eval("dd[data-metric]", (d) => Object.fromEntries(d.map((x) => [x.dataset.metric, x.textContent])));
		expect("this node shows the main metrics of /api/v1/status", m.records === st.records_total.toLocaleString("en-GB") &&
			m.peers === `${st.peers_connected} of ${st.peers_known} known` && m.version === st.version && /^\d+$/.test(m.http || ""),
			JSON.stringify(m));
		const rows = await page.$$eval("main table tbody tr th", (r) => r.map((x) => x.textContent));
		expect("and the peers of /api/v1/peers", rows.length === peers.items.length &&
			peers.items.every((p) => rows.includes(p.city_name || p.id.slice(0, 12))), rows.join(", "));
		process.env.TOKEN = token;
	}
	await pageCheck("report page", `/report?city=${cityId}&${cycle}`);
	{
		const rep = await api(`/api/v1/cities/${cityId}/report?${cycle}`);
		const doc = await page.$eval("article.report", (a) => ({
			h2: [...a.querySelectorAll("h2")].map((x) => x.textContent),
			tables: [...a.querySelectorAll("table")].map((x) => x.querySelectorAll("tbody tr").length),
			items: a.querySelectorAll("li strong").length,
			raw: a.textContent.includes("|---") || a.textContent.includes("**"),
		}));
		const nPr = rep.practices.by_area.reduce((n, g) => n + g.items.length, 0);
		expect("the report is laid out as HTML: sections, the indicator table, the practices",
			doc.h2.length >= 4 && doc.tables.includes(rep.totals.reported) && doc.items === nPr && !doc.raw,
			JSON.stringify(doc));
	}

	// In French: the catalogs' French strings, the page's language said.
	await page.evaluate(() => localStorage.setItem("lcf.lang", "fr"));
	await pageCheck("coverage page in French", "/coverage?period=2024");
	{
		const fr = JSON.parse(readFileSync(process.env.FR_JSON, "utf8"));
		const got = await page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("main h1").textContent,
			th: [...document.querySelectorAll("table.heat thead th")].map((x) => x.textContent),
			nav: [...document.querySelectorAll("nav a")].map((x) => x.textContent) }));
		expect("the pages speak French when chosen", got.lang === "fr" && got.h1 === fr["cov.title.period"].replace("{period}", "2024") &&
			got.th[0] === fr["col.city"] && got.th[got.th.length - 1] === fr["cov.reported"] && got.nav.includes(fr["nav.practices"]),
			JSON.stringify({ ...got, th: got.th.slice(0, 2) }));
	}
	await pageCheck("practice detail in French", `/practices/${all.items[0].id}`);
	{
		const fr = JSON.parse(readFileSync(process.env.FR_JSON, "utf8"));
		const dts = await page.$$eval("dl.fields dt", (d) => d.map((x) => x.textContent));
		const frLabels = new Set(Object.entries(fr).filter(([k]) => k.startsWith("prac.f.")).map(([, v]) => v));
		const raw = dts.filter((d) => !frLabels.has(d));
		expect("every field of a practice is labelled from the catalog", dts.length > 3 && raw.length === 0, raw.join(", "));
		const heads = await page.$$eval("main table thead th", (x) => x.map((y) => y.textContent));
		expect("and the versions table's headers", heads.join() === [fr["col.seq"], fr["col.id"], fr["col.stored"]].join(), heads.join());
	}
	await page.evaluate(() => localStorage.setItem("lcf.lang", "en"));

	// Operator data through a proxy, without the token: refused, and said so.
	await page.setExtraHTTPHeaders({ "X-Forwarded-For": "192.0.2.7" });
	errors.length = 0;
	await load("/node");
	expect("this node is refused through a proxy without the token",
		(await page.$eval("main", (m) => m.querySelector(".error")?.textContent || "")).includes("token"), await text());
	await page.type("#node-token", "0".repeat(64));
	await page.click("form.signin button");
	await page.waitForFunction(() => !document.querySelector("form.signin .error")?.hidden, { timeout: 5000 }).catch(() => {});
	expect("a wrong token is refused, and said so", (await text()).includes("refused this token") && !(await page.$("dd[data-metric]")),
		await text());
	await page.$eval("#node-token", (i) => { i.value = ""; });
	await page.type("#node-token", process.env.TOKEN);
	await page.click("form.signin button");
	await page.waitForSelector("dd[data-metric=records]", { timeout: 5000 }).catch(() => {});
	expect("the node's token signs in through the proxy: the metrics and peers show",
		!!(await page.$("dd[data-metric=records]")) && (await page.$$("main table tbody tr")).length >= 1, await text());
	errors.length = 0;
	await page.reload({ waitUntil: "load" });
	await page.waitForSelector("dd[data-metric=records]", { timeout: 5000 }).catch(() => {});
	expect("the session outlives a reload", !!(await page.$("dd[data-metric=records]")), await text());
	/* A link event shows in the live stream (operator data). */
	execFileSync(process.env.LCCTL, ["-d", process.env.DIR_C, "practice", "add", "--title", `Event test ${Date.now()}`,
		"--summary", "For the event stream.", "--language", "en", "--area", "2.2"]);
	const ev = await page.waitForSelector("ol.events li[data-event=stored]", { timeout: 10000 }).then(() => true, () => false);
	expect("the live event stream shows a record stored on another node", ev, "no stored event within 10 s");
	await page.click("main button[type=button]");
	await page.waitForSelector("form.signin", { timeout: 5000 }).catch(() => {});
	expect("signing out asks for the token again", !!(await page.$("form.signin")), await text());
	await page.setExtraHTTPHeaders({});

	// Report to PDF (A4), for pdftotext.
	if (process.env.PDF) {
		await load(`/report?city=${cityId}&${cycle}`);
		await page.pdf({ path: process.env.PDF, format: "A4" });
		ok("the report prints to PDF");
	}

	// Screenshots for the README (SCREENSHOTS=docs/img): small, 8-bit colour.
	if (process.env.SCREENSHOTS) {
		await page.setViewport({ width: 900, height: 620 });
		for (const [name, path] of [["federation", "/"], ["coverage", "/coverage?period=2024"]]) {
			await load(path);
			await page.screenshot({ path: join(process.env.SCREENSHOTS, `${name}.png`) });
		}
		await page.setViewport({ width: 1200, height: 900 });
		ok("screenshots written");
	}

	// Live: a practice published on another node shows on both pages without a reload.
	await load("/");
	const page2 = await browser.newPage();
	await page2.goto(`${base}/practices?sort=newest`, { waitUntil: "load" });
	await page2.waitForSelector("li.result");
	const title = `Live browser test ${Date.now()}`;
	execFileSync(process.env.LCCTL, ["-d", process.env.DIR_C, "practice", "add", "--title", title,
		"--summary", "Published while the dashboard is open.", "--language", "en", "--area", "2.2"]);
	const t0 = Date.now();
	const arrived = (p) => p.waitForFunction((s) => document.querySelector("main").innerText.includes(s),
		{ timeout: 15000 }, title).then(() => true, () => false);
	/* Chromium slows the timers of a tab in the background: each page is
	 * looked at in front. */
	expect("a practice published on another node appears on the practices page without a reload",
		await arrived(page2), "not shown within 15 s");
	await page.bringToFront();
	expect("and on the federation page", await arrived(page), "not shown within 15 s");
	console.log(`# arrived in ${Date.now() - t0} ms`);

	// Live: a city that goes down. B, A's peer, stops; its row and marker on
	// the open federation page turn unreachable without a reload (the link
	// event of the stream).
	const idB = process.env.ID_B;
	const rowState = () => page.evaluate((id) => ({
		row: document.querySelector(`table.members tr[data-city="${id}"] td:nth-of-type(2)`)?.textContent || "",
		marker: document.querySelector(`svg.map [data-city="${id}"]`)?.getAttribute("data-state") || "",
		same: window.__sameDocument === true,
	}), idB);
	/* Which events the stream carries meanwhile (for the log). */
	await page.evaluate(() => {
		window.__sameDocument = true;
		window.__events = [];
		const es = new EventSource("/api/v1/events");
		for (const name of ["stored", "membership", "link", "resync", "reset"])
			es.addEventListener(name, (e) => window.__events.push(name === "link" ? `link ${JSON.parse(e.data).state}` : name));
		window.__eventSource = es;
	});
	const before = await rowState();
	expect("the federation page shows B reachable while it runs", before.row === "reachable" && before.marker === "reachable",
		JSON.stringify(before));
	process.kill(Number(readFileSync(join(process.env.DIR_B, "test.pid"), "utf8")), "SIGTERM");
	const t1 = Date.now();
	const down = await page.waitForFunction((id) => {
		const row = document.querySelector(`table.members tr[data-city="${id}"] td:nth-of-type(2)`)?.textContent;
		const mk = document.querySelector(`svg.map [data-city="${id}"]`)?.getAttribute("data-state");
		return row === "unreachable" && mk === "unreachable";
	}, { timeout: 8000 }, idB).then(() => true, () => false);
	const after = await rowState();
	expect("a city that goes down shows unreachable on the federation page (row and marker) within 8 s",
		down && after.same, `${JSON.stringify(after)} after ${Date.now() - t1} ms`);
	console.log(`# shown down in ${Date.now() - t1} ms; events meanwhile: ${await page.evaluate(() => {
		window.__eventSource.close();
		return [...new Set(window.__events)].join(", ");
	})}`);
	errors.length = 0;
} catch (e) {
	notOk("the browser test ran to its end", e.stack || String(e));
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
