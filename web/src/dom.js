// SPDX-License-Identifier: Apache-2.0
// Building DOM nodes without HTML strings (text is always text, never markup).

/* h("tag.class#id", {attr: value, on: {click: fn}}, ...children) */
export function h(spec, attrs, ...children) {
	const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
	const el = document.createElement(m[1] || "div");
	for (const part of m[2].match(/[.#][\w-]+/g) || []) {
		if (part[0] === ".") el.classList.add(part.slice(1));
		else el.id = part.slice(1);
	}
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v == null || v === false) continue;
			if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
			else if (k in el && typeof v !== "string") el[k] = v;
			else el.setAttribute(k, v === true ? "" : v);
		}
	}
	append(el, children);
	return el;
}

export function append(el, children) {
	for (const c of children.flat(Infinity)) {
		if (c == null || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

/* A table: headers (strings) and rows (arrays of cells). */
export function table(caption, headers, rows, cls) {
	return h(`table${cls ? "." + cls : ""}`, null,
		caption ? h("caption", null, caption) : null,
		h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
		h("tbody", null, rows.map((r) => h("tr", null, r.map((c, i) =>
			i === 0 ? h("th", { scope: "row" }, c) : h("td", null, c))))));
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}
