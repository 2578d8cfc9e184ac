// SPDX-License-Identifier: Apache-2.0
// Bundles the dashboard (web/src/) with esbuild into OUT: index.html, assets named by their content's hash, and a gzip copy of each text file.
// Usage: node web/build.mjs NODE_MODULES OUT
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";

const [modulesArg, outArg] = process.argv.slice(2);
if (!modulesArg || !outArg) {
	console.error("usage: node web/build.mjs NODE_MODULES OUT");
	process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const modules = resolve(modulesArg);
const out = resolve(outArg);
const tmp = `${out}.tmp`;
const esbuild = await import(pathToFileURL(join(modules, "esbuild", "lib", "main.js")).href);

function hashed(name, bytes) {
	const h = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
	const dot = name.lastIndexOf(".");
	return `${name.slice(0, dot)}-${h}${name.slice(dot)}`;
}

rmSync(tmp, { recursive: true, force: true });
mkdirSync(join(tmp, "assets"), { recursive: true });

// The map's land (Natural Earth 1:110m boundaries from world-atlas), projected
// here once rather than in every visitor's browser: the countries as one SVG
// path in the map's W x H box (coordinates to 0.1 px), with the projection's
// scale and translation, so the page places markers without fitting again.
const { geoNaturalEarth1, geoPath } = await import(pathToFileURL(join(modules, "d3-geo", "src", "index.js")).href);
const { feature } = createRequire(join(modules, "noop.js"))("topojson-client");
const topo = JSON.parse(readFileSync(join(modules, "world-atlas", "countries-110m.json"), "utf8"));
const countries = feature(topo, topo.objects.countries);
const MAP_W = 960;
const MAP_H = 500;
const proj = geoNaturalEarth1().fitSize([MAP_W, MAP_H], countries);
const landPath = geoPath(proj).digits(1);
const landBytes = Buffer.from(JSON.stringify({
	width: MAP_W,
	height: MAP_H,
	scale: proj.scale(),
	translate: proj.translate(),
	d: countries.features.map((f) => landPath(f) || "").join(""),
}));
const landName = hashed("land-110m.json", landBytes);
writeFileSync(join(tmp, "assets", landName), landBytes);

const result = await esbuild.build({
	entryPoints: { app: join(here, "src", "main.js") },
	bundle: true,
	format: "esm",
	minify: true,
	sourcemap: false,
	target: ["es2020"],
	outdir: join(tmp, "assets"),
	entryNames: "[name]-[hash]",
	assetNames: "[name]-[hash]",
	nodePaths: [modules],
	loader: { ".json": "json" },
	define: { __LAND_URL__: JSON.stringify(`/assets/${landName}`) },
	metafile: true,
	logLevel: "warning",
});

let js = "";
let css = "";
for (const file of Object.keys(result.metafile.outputs)) {
	const name = basename(file);
	if (name.endsWith(".js")) js = name;
	if (name.endsWith(".css")) css = name;
}

// The favicon too: a browser asks for /favicon.ico otherwise (a 404 in its console).
const icon = readFileSync(join(here, "src", "icon.svg"));
const iconName = hashed("icon.svg", icon);
writeFileSync(join(tmp, "assets", iconName), icon);

const html = readFileSync(join(here, "src", "index.html"), "utf8")
	.replace("%APP_JS%", `/assets/${js}`)
	.replace("%APP_CSS%", `/assets/${css}`)
	.replace("%ICON%", `/assets/${iconName}`);
writeFileSync(join(tmp, "index.html"), html);

// gzip copies of what compresses (lcnode sends them to clients that take gzip).
function gzipAll(dir) {
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		const p = join(dir, e.name);
		if (e.isDirectory()) gzipAll(p);
		else if (/\.(html|js|css|json|svg)$/.test(e.name))
			writeFileSync(`${p}.gz`, gzipSync(readFileSync(p), { level: 9 }));
	}
}
gzipAll(tmp);

rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
