// SPDX-License-Identifier: Apache-2.0
// Requests to the node's JSON API; a failure becomes an Error whose message says what to do.
import { t } from "./i18n.js";

export class ApiError extends Error {
	constructor(message, status) {
		super(message);
		this.status = status;
	}
}

/* GET path (with query params, arrays repeated) as JSON. */
export async function apiGet(path, params, opts) {
	const url = withQuery(path, params);
	let res;
	try {
		res = await fetch(url, { headers: { Accept: "application/json" }, ...(opts || {}) });
	} catch (e) {
		throw new ApiError(t("error.network", { url }), 0);
	}
	if (!res.ok) {
		let detail = res.statusText;
		try {
			const p = await res.json();
			detail = p.detail || p.title || detail;
		} catch (e) {
			/* not a problem document */
		}
		throw new ApiError(t("error.http", { status: res.status, url, detail }), res.status);
	}
	return res.json();
}

export function withQuery(path, params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {})) {
		if (v == null || v === "") continue;
		for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
	}
	const s = q.toString();
	return s ? `${path}?${s}` : path;
}

/* Every item of a paged list (follows `next`), at most max. */
export async function apiAll(path, params, max) {
	let page = await apiGet(path, { limit: 500, ...(params || {}) });
	const items = [...page.items];
	while (page.next && items.length < (max || 5000)) {
		page = await apiGet(page.next);
		items.push(...page.items);
	}
	return items;
}
