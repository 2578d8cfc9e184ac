// SPDX-License-Identifier: Apache-2.0
// Logging to stderr with a UTC timestamp, level and program name; to the
// journal, with each line's syslog priority instead of the timestamp.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static const char *log_name = "lcf";
static int log_level = LOG_LEVEL_INFO;
static int log_journal;         /* stderr is a stream to journald */

/*
 * systemd's protocol (systemd.exec(5), JOURNAL_STREAM): a service whose
 * stderr goes to the journal is told the stream's "DEVICE:INODE". It is only
 * ours if stderr is still that file: a child that inherited the variable, or
 * a redirection, makes the two differ.
 */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char extra;

	if (e == NULL || sscanf(e, "%ju:%ju%c", &dev, &ino, &extra) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

const char *
log_err_prefix(void)
{
	return stderr_is_journal() ? SD_ERR : "";
}

void
log_init(const char *progname, int level)
{
	log_name = progname;
	log_level = level;
	log_journal = stderr_is_journal();
}

int
log_get_level(void)
{
	return log_level;
}

/* The journal keeps its own timestamp and the program's name: a line there
 * is "<PRIORITY>TAG: message"; elsewhere "TIMESTAMP PROGRAM TAG: message". */
static void
vlog(const char *prio, const char *tag, int with_errno, int err,
    const char *fmt, va_list ap)
{
	char head[128], ts[32], msg[1024];
	struct timespec now;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		snprintf(head, sizeof(head), "%s%s", prio, tag);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(head, sizeof(head), "%s.%03ldZ %s %s", ts,
		    now.tv_nsec / 1000000, log_name, tag);
	}
	if (with_errno)
		fprintf(stderr, "%s: %s: %s\n", head, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", head, msg);
}

#define LOG_BODY(level, prio, tag, with_errno)                             \
	do {                                                               \
		int saved = errno;                                         \
		va_list ap;                                                \
		if (log_level >= (level)) {                                \
			va_start(ap, fmt);                                 \
			vlog(prio, tag, with_errno, saved, fmt, ap);       \
			va_end(ap);                                        \
		}                                                          \
		errno = saved;                                             \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, SD_WARNING, "warning", 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, SD_WARNING, "warning", 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, SD_INFO, "info", 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, SD_DEBUG, "debug", 0); }

void
log_failx(const char *fmt, ...)
{
	int saved = errno;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s: %s\n", log_journal ? SD_ERR : "", log_name, msg);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, SD_ERR, "fatal", 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, SD_ERR, "fatal", 0);
	exit(1);
}
