// SPDX-License-Identifier: Apache-2.0
// The node's event stream (/api/v1/events, Server-Sent Events) shared by the pages that update live.
const listeners = new Set();
let source = null;

function open() {
	source = new EventSource("/api/v1/events");
	for (const name of ["stored", "membership", "link", "resync", "reset"]) {
		source.addEventListener(name, (e) => {
			let data = null;
			try {
				data = JSON.parse(e.data);
			} catch (err) {
				data = null;
			}
			for (const fn of listeners) fn(name, data, e);
		});
	}
	source.addEventListener("open", () => { for (const fn of listeners) fn("open", null); });
	source.addEventListener("error", () => { for (const fn of listeners) fn("error", null); });
}

/* Calls fn(name, data) for each event until the returned function is called;
 * the stream closes when no page listens. */
export function liveSubscribe(fn) {
	listeners.add(fn);
	if (!source) open();
	return () => {
		listeners.delete(fn);
		if (listeners.size === 0 && source) {
			source.close();
			source = null;
		}
	};
}

/* Calls fn at most once per ms however many events come (a burst of records
 * is one refresh). */
export function debounce(fn, ms) {
	let timer = null;
	return () => {
		if (timer) return;
		timer = setTimeout(() => {
			timer = null;
			fn();
		}, ms);
	};
}
