/* SPDX-License-Identifier: Apache-2.0 */
/* One small logging module: timestamped lines on stderr, errno preserved;
 * when stderr is systemd's journal, each line starts with its syslog priority
 * ("<4>" for a warning) instead of the timestamp. */
#ifndef LCF_LOG_H
#define LCF_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/* Sets the program name shown in each line and the most verbose level printed,
 * and finds whether stderr is the journal (JOURNAL_STREAM names stderr's
 * device and inode). */
void log_init(const char *progname, int level);
int log_get_level(void);

/* log_warn appends ": strerror(errno)"; the x variants do not. Never pass key material. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* SD_ERR ("<3>") when stderr is the journal, else "": for a program that
 * prints its own error lines (lcctl), needing no log_init. */
const char *log_err_prefix(void);
/* "PROGNAME: message" alone on stderr, whatever the level: the line a program
 * that cannot start leaves; "<3>" before it when stderr is the journal. */
void log_failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
