// SPDX-License-Identifier: Apache-2.0
// The dashboard's figures in Chromium (puppeteer-core): the federation page's transfer (bytes on the wire, compressed) and largest contentful paint, the map and members table's render time (first screenful, every row), and a search's time in the practices page. Prints "key value" lines.
// Usage: node dashboard.mjs URL MODE  (MODE: demo for transfer and LCP, scale for the render and search times; env CHROMIUM, RUNS)
import puppeteer from "puppeteer-core";

const [base, mode] = process.argv.slice(2);
const runs = Number(process.env.RUNS || 5);
const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-GB"],
});
let markers = 0;
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];

/* One cold load of the federation page: bytes received (compressed, headers
 * included) until the page has drawn, and its largest contentful paint. */
async function demoRun() {
	const ctx = await browser.createBrowserContext();
	const page = await ctx.newPage();
	await page.setViewport({ width: 1200, height: 900 });
	const cdp = await page.createCDPSession();
	await cdp.send("Network.enable");
	await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
	let bytes = 0;
	cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
	await page.evaluateOnNewDocument(() => {
		window.__lcp = 0;
		new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lcp = e.startTime; })
			.observe({ type: "largest-contentful-paint", buffered: true });
	});
	await page.goto(base + "/", { waitUntil: "networkidle2" });
	await page.waitForSelector("table.members tbody tr");
	/* LCP is final at the first input; a click ends it. */
	await page.mouse.click(5, 890);
	const lcp = await page.evaluate(() => window.__lcp);
	await ctx.close();
	return { bytes, lcp };
}

/* One load of the federation page on a large federation: ms from the start
 * of navigation until every member has its table row and every placed city
 * its marker. Then a search in the practices page: ms from the click to the
 * results drawn. */
async function scaleRun(nmembers, query) {
	const ctx = await browser.createBrowserContext();
	const page = await ctx.newPage();
	await page.setViewport({ width: 1200, height: 900 });
	/* The times are taken in the page: an animation-frame loop finds the
	 * map with a screenful of rows (the same frame unless the page draws a
	 * large table's rest later), then with every row, and notes the time in a task
	 * queued from that frame, so after its style, layout and paint (the
	 * check itself runs before them; a round trip to puppeteer would add its
	 * own latency). */
	await page.evaluateOnNewDocument((n, k) => {
		const tick = () => {
			if (location.pathname !== "/") return;
			const rows = document.querySelectorAll("table.members tbody tr").length;
			const map = !!document.querySelector("svg.map");
			if (map && rows >= k && window.__first === undefined) {
				window.__first = null;
				setTimeout(() => { window.__first = performance.now(); }, 0);
			}
			if (map && rows >= n) setTimeout(() => { window.__all = performance.now(); }, 0);
			else requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
	}, nmembers, Math.min(nmembers, 20));
	await page.goto(base + "/", { waitUntil: "domcontentloaded" });
	await page.waitForFunction(() => window.__all != null && window.__first != null, { timeout: 60000 });
	const [first, render] = await page.evaluate(() => [window.__first, window.__all]);
	/* Where the time went: the page's marks (federation.js) and its
	 * requests' durations. */
	const parts = await page.evaluate(() => {
		const at = (n) => performance.getEntriesByName(n).at(-1)?.startTime ?? NaN;
		const req = {};
		for (const r of performance.getEntriesByType("resource")) {
			const k = new URL(r.name).pathname.replace(/-[0-9a-f]{10}\./, ".");
			req[k] = (req[k] || 0) + r.duration;
		}
		return { start: at("lcf-fed-fetch"), fetched: at("lcf-fed-fetched"), drawn: at("lcf-fed-drawn"), req };
	});
	/* A mark the page did not set comes back null. */
	const ms = (x) => (Number.isFinite(x) ? x.toFixed(0) : "?");
	console.error(`# run: page code starts ${ms(parts.start)} ms, data in ${ms(parts.fetched - parts.start)} ms, ` +
		`drawn in ${ms(parts.drawn - parts.fetched)} ms, rows+markers seen at ${ms(render)} ms; requests: ` +
		Object.entries(parts.req).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", "));
	markers = await page.$$eval("svg.map [data-city]", (m) => m.length);
	await page.goto(base + "/practices", { waitUntil: "domcontentloaded" });
	await page.waitForSelector("li.result", { timeout: 60000 });
	await page.type("#q-text", query);
	const search = await page.evaluate(() => new Promise((resolve) => {
		const box = document.querySelector("div.results");
		const t0 = performance.now();
		const obs = new MutationObserver(() => {
			if (box.querySelector("p.count")) {
				obs.disconnect();
				requestAnimationFrame(() => resolve(performance.now() - t0));
			}
		});
		obs.observe(box, { childList: true });
		document.querySelector("form.search button[type=submit]").click();
	}));
	await ctx.close();
	return { first, render, search };
}

try {
	if (mode === "demo") {
		const r = [];
		for (let i = 0; i < runs; i++) r.push(await demoRun());
		console.log(`transfer_bytes ${median(r.map((x) => x.bytes))}`);
		console.log(`lcp_ms ${median(r.map((x) => x.lcp)).toFixed(0)}`);
	} else {
		const members = Number(process.env.MEMBERS);
		const r = [];
		for (let i = 0; i < runs; i++) r.push(await scaleRun(members, process.env.QUERY || "learning"));
		console.log(`markers ${markers}`);
		console.log(`first_ms ${median(r.map((x) => x.first)).toFixed(0)}`);
		console.log(`render_ms ${median(r.map((x) => x.render)).toFixed(0)}`);
		console.log(`first_max_ms ${Math.max(...r.map((x) => x.first)).toFixed(0)}`);
		console.log(`render_max_ms ${Math.max(...r.map((x) => x.render)).toFixed(0)}`);
		console.log(`search_ms ${median(r.map((x) => x.search)).toFixed(0)}`);
		console.log(`search_max_ms ${Math.max(...r.map((x) => x.search)).toFixed(0)}`);
	}
} finally {
	await browser.close();
}
