// SPDX-License-Identifier: Apache-2.0
// systemd's notify protocol for lcnode: ready once the ports listen, a status
// line kept current, watchdog pings from the loop, and stopping.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "admin/notify.h"
#include "base/log.h"
#include "base/xmalloc.h"
#include "core/node.h"
#include "http/http.h"
#include "model/kinds.h"
#include "net/peer.h"
#include "store/store.h"

struct notify {
	struct node *n;
	uv_timer_t status_timer;
	uv_timer_t watchdog;
	int watchdog_on;          /* systemd asked for pings */
	int ready;                /* READY=1 sent */
	uint64_t generation;      /* store_generation() when records was read */
	uint64_t records;         /* current records, tombstones left out */
	int records_known;        /* records was read */
	char status[512];         /* the last STATUS= sent */
};

/* A send that failed is said once: the node runs on without systemd's
 * attention, and the log says so without repeating it every few seconds. */
static int notify_failed;

static void
notify_send(const char *msg)
{
	int rc = sd_notify(0, msg);

	if (rc < 0 && !notify_failed) {
		notify_failed = 1;
		log_warnx("notify: cannot tell systemd through NOTIFY_SOCKET=%s: %s "
		    "(lcnode runs on without it)", getenv("NOTIFY_SOCKET"),
		    strerror(-rc));
	}
}

void
notify_starting(const char *what)
{
	char msg[600];

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", what);
	notify_send(msg);
}

/* The records held, read again only when the store has changed: the status
 * timer then costs one read of the environment's info. */
static void
read_records(struct notify *nt)
{
	struct store_stats st;
	uint64_t gen = store_generation(nt->n->store), sum = 0;
	size_t i;

	if (nt->records_known && gen == nt->generation)
		return;
	if (store_stats(nt->n->store, &st) != 0) {
		nt->records_known = 0;
		return;
	}
	for (i = 0; i < KINDS_LIMIT; i++)
		sum += st.kinds[i].current - st.kinds[i].deleted;
	nt->records = sum;
	nt->generation = gen;
	nt->records_known = 1;
}

/* Why the node is not ready (a sentence), or NULL when it is: the peer
 * listener is up once start-up has succeeded (peers_start fails otherwise);
 * the HTTP listener may be missing (http_start runs on without it). */
static const char *
not_ready(struct notify *nt)
{
	return http_problem(nt->n->http);
}

static void
make_status(struct notify *nt, char *buf, size_t len)
{
	struct peers_summary ps;
	const char *why = not_ready(nt);
	char records[64];

	if (why != NULL) {
		snprintf(buf, len, "not ready: %s", why);
		return;
	}
	read_records(nt);
	peers_summary(nt->n, &ps);
	if (nt->records_known)
		snprintf(records, sizeof(records), "%" PRIu64 " records held",
		    nt->records);
	else
		snprintf(records, sizeof(records), "records held unknown (the "
		    "store cannot be read: see the log)");
	snprintf(buf, len, "%s, %zu peers connected of %zu known", records,
	    ps.connected, ps.known);
}

/* READY=1 once the ports listen, and STATUS= when it has changed. */
static void
on_status(uv_timer_t *t)
{
	struct notify *nt = t->data;
	char status[sizeof(nt->status)], msg[sizeof(nt->status) + 32];

	if (nt->n->stopping)
		return;
	make_status(nt, status, sizeof(status));
	if (!nt->ready && not_ready(nt) == NULL) {
		nt->ready = 1;
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	} else if (strcmp(status, nt->status) != 0) {
		snprintf(msg, sizeof(msg), "STATUS=%s", status);
	} else {
		return;
	}
	memcpy(nt->status, status, sizeof(status));
	notify_send(msg);
}

static void
on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify_send("WATCHDOG=1");
}

void
notify_start(struct node *n, struct notify **out)
{
	struct notify *nt;
	uint64_t usec = 0;
	const char *why;

	*out = NULL;
	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	nt = xcalloc(1, sizeof(*nt));
	nt->n = n;
	uv_timer_init(n->loop, &nt->status_timer);
	nt->status_timer.data = nt;
	uv_timer_init(n->loop, &nt->watchdog);
	nt->watchdog.data = nt;
	/* sd_watchdog_enabled says 0 when WATCHDOG_PID names another process. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		nt->watchdog_on = 1;
		uv_timer_start(&nt->watchdog, on_watchdog, 0,
		    usec / 2000 > 0 ? usec / 2000 : 1);
	}
	if ((why = not_ready(nt)) != NULL)
		log_warnx("notify: not telling systemd the node is ready: %s", why);
	on_status(&nt->status_timer);
	uv_timer_start(&nt->status_timer, on_status, NOTIFY_STATUS_MS,
	    NOTIFY_STATUS_MS);
	log_debug("notify: %s; watchdog %s", nt->ready ? "ready" : "not ready",
	    nt->watchdog_on ? "on" : "off");
	*out = nt;
}

void
notify_stopping(struct notify *nt)
{
	if (nt == NULL)
		return;
	uv_timer_stop(&nt->status_timer);
	uv_timer_stop(&nt->watchdog);
	notify_send("STOPPING=1\nSTATUS=stopping");
}

void
notify_free(struct notify *nt)
{
	free(nt);
}
