// SPDX-License-Identifier: Apache-2.0
// A renderer of the Markdown subset the node's report drafts use (node/view/report_md.c): headings, paragraphs, pipe tables with alignment, bullet lists, **bold**, `code`, backslash escapes. Builds DOM nodes; text is never parsed as HTML.
import { h } from "./dom.js";

/* Inline text: \x is x, **...** strong, `...` code. */
export function mdInline(s) {
	const out = [];
	let text = "";
	let strong = null;
	const flush = () => {
		if (!text) return;
		(strong || out).push(text);
		text = "";
	};
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (c === "\\" && i + 1 < s.length) {
			text += s[++i];
		} else if (c === "`") {
			const end = s.indexOf("`", i + 1);
			if (end < 0) {
				text += c;
				continue;
			}
			flush();
			(strong || out).push(h("code", null, s.slice(i + 1, end)));
			i = end;
		} else if (c === "*" && s[i + 1] === "*") {
			flush();
			if (strong) {
				out.push(h("strong", null, strong));
				strong = null;
			} else {
				strong = [];
			}
			i++;
		} else {
			text += c;
		}
	}
	flush();
	if (strong) out.push("**", ...strong);
	return out;
}

/* The cells of a table row "| a | b |" (a "\|" stays inside its cell). */
function cells(line) {
	const out = [];
	let cur = "";
	const s = line.trim().replace(/^\|/, "").replace(/\|$/, "");
	for (let i = 0; i < s.length; i++) {
		if (s[i] === "\\" && i + 1 < s.length) {
			cur += s[i] + s[i + 1];
			i++;
		} else if (s[i] === "|") {
			out.push(cur.trim());
			cur = "";
		} else {
			cur += s[i];
		}
	}
	out.push(cur.trim());
	return out;
}

function mdTable(lines) {
	const head = cells(lines[0]);
	const align = cells(lines[1]).map((c) => (c.endsWith(":") ? "right" : null));
	const body = lines.slice(2).map(cells);
	const cls = (i) => (align[i] === "right" ? "num" : null);
	return h("div.scroll", { tabindex: "0" }, h("table", null,
		h("thead", null, h("tr", null, head.map((c, i) => h("th", { scope: "col", class: cls(i) }, mdInline(c))))),
		h("tbody", null, body.map((r) => h("tr", null, r.map((c, i) => h("td", { class: cls(i) }, mdInline(c))))))));
}

/* The document's blocks as nodes. */
export function mdRender(src) {
	const lines = src.replace(/\r\n?/g, "\n").split("\n");
	const out = [];
	let para = [];
	const endPara = () => {
		if (para.length) out.push(h("p", null, mdInline(para.join(" "))));
		para = [];
	};
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		const head = /^(#{1,6}) +(.*)$/.exec(line);
		if (head) {
			endPara();
			out.push(h(`h${head[1].length}`, null, mdInline(head[2])));
		} else if (line.startsWith("|") && /^\|?[\s:|-]+\|?$/.test(lines[i + 1] || "") && lines[i + 1].includes("-")) {
			endPara();
			const rows = [];
			while (i < lines.length && lines[i].startsWith("|")) rows.push(lines[i++]);
			i--;
			out.push(mdTable(rows));
		} else if (/^[-*] /.test(line)) {
			endPara();
			const items = [];
			while (i < lines.length && /^[-*] /.test(lines[i])) items.push(lines[i++].slice(2));
			i--;
			out.push(h("ul", null, items.map((x) => h("li", null, mdInline(x)))));
		} else if (line.trim() === "") {
			endPara();
		} else {
			para.push(line.trim());
		}
	}
	endPara();
	return out;
}
