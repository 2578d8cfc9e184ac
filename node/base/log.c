// SPDX-License-Identifier: Apache-2.0
// Logging to stderr with a UTC timestamp, level and program name.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

static const char *log_name = "lcf";
static int log_level = LOG_LEVEL_INFO;

void
log_init(const char *progname, int level)
{
	log_name = progname;
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

static void
vlog(const char *tag, int with_errno, int err, const char *fmt, va_list ap)
{
	char ts[32], msg[1024];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s.%03ldZ %s %s: %s: %s\n", ts, now.tv_nsec / 1000000,
		    log_name, tag, msg, strerror(err));
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, now.tv_nsec / 1000000,
		    log_name, tag, msg);
}

#define LOG_BODY(level, tag, with_errno)                                   \
	do {                                                               \
		int saved = errno;                                         \
		va_list ap;                                                \
		if (log_level >= (level)) {                                \
			va_start(ap, fmt);                                 \
			vlog(tag, with_errno, saved, fmt, ap);             \
			va_end(ap);                                        \
		}                                                          \
		errno = saved;                                             \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, "warning", 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, "warning", 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, "info", 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, "debug", 0); }

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "fatal", 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, "fatal", 0);
	exit(1);
}
