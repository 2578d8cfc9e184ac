/* SPDX-License-Identifier: Apache-2.0 */
/* A progress-report draft (view "report", report.c) as a Markdown document
 * (report_md.c). */
#ifndef LCF_VIEW_REPORT_H
#define LCF_VIEW_REPORT_H

#include <jansson.h>

/* The Markdown of report, the JSON view_report builds: a heading, the
 * profile, a table of indicators, the practices by sub-area and the
 * indicators not reported. A new string the caller frees. */
char *view_report_markdown(const json_t *report);

#endif
