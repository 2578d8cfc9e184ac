// SPDX-License-Identifier: Apache-2.0
// The shortlist of practices, kept in the browser (localStorage): ids and titles in the order added.
const KEY = "lcf.shortlist";

export function shortlistGet() {
	try {
		const v = JSON.parse(localStorage.getItem(KEY) || "[]");
		return Array.isArray(v) ? v.filter((x) => x && typeof x.id === "string") : [];
	} catch (e) {
		return [];
	}
}

function save(list) {
	localStorage.setItem(KEY, JSON.stringify(list));
}

export function shortlistHas(id) {
	return shortlistGet().some((x) => x.id === id);
}

export function shortlistToggle(id, title) {
	const list = shortlistGet();
	const i = list.findIndex((x) => x.id === id);
	if (i >= 0) list.splice(i, 1);
	else list.push({ id, title });
	save(list);
	return i < 0;
}

export function shortlistClear() {
	save([]);
}
