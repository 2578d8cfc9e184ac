/* SPDX-License-Identifier: Apache-2.0 */
/* The node seen by its service manager: systemd's notify protocol
 * (sd_notify(3)), READY=1, STATUS=, WATCHDOG=1 and STOPPING=1. */
#ifndef LCF_NOTIFY_H
#define LCF_NOTIFY_H

struct node;
struct notify;

/*
 * Every function here does nothing when NOTIFY_SOCKET is unset (lcnode not
 * started by systemd as Type=notify), and a socket that cannot be reached is
 * said once in the log, never an error: the node runs on.
 */

/* STATUS=what, before the loop runs (what the node is doing while it
 * starts: opening the store, say). */
void notify_starting(const char *what);

/*
 * Once start-up is done (the store open, every service started): READY=1
 * when the peer port and, unless [http] is off, the HTTP port listen, with
 * the first STATUS= (records held, peers connected). When the HTTP port could
 * not be bound the node is never ready: STATUS= says why, and systemd's start
 * timeout ends it. Then, on n->loop, STATUS= again whenever what it says
 * changes (looked at every NOTIFY_STATUS_MS), and WATCHDOG=1 every half of
 * WATCHDOG_USEC when systemd asks for it (sd_watchdog_enabled), from the loop,
 * so a loop that stops turning stops the pings. *out (NULL without
 * NOTIFY_SOCKET) is freed with notify_free.
 */
#define NOTIFY_STATUS_MS 2000
void notify_start(struct node *n, struct notify **out);
/* STOPPING=1, and stops the timers: the loop may end (accepts NULL). */
void notify_stopping(struct notify *nt);
/* Frees nt once the loop has ended and its handles are closed (accepts NULL). */
void notify_free(struct notify *nt);

#endif
