// SPDX-License-Identifier: Apache-2.0
// A progress-report draft as a Markdown document: headings and tables a
// person reads as it is, or turns into a web page or a word-processor file.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/codes.h"
#include "view/report.h"

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Text from a city's records, safe inside a table cell and a line: control
 * characters and line breaks become spaces, Markdown's marks are escaped. */
static void
md_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fputc(' ', f);
		else if (strchr("\\`*_[]<>|#", ch) != NULL)
			fprintf(f, "\\%c", ch);
		else
			fputc(ch, f);
	}
}

/* Text inside a code span: no backtick, no line break. */
static void
md_code(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == '`' ? ' ' : *s, f);
}

static void
md_date(FILE *f, json_int_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) != NULL && strftime(buf, sizeof(buf), "%Y-%m-%d",
	    &tm) > 0)
		fputs(buf, f);
}

/* A list of strings joined by ", "; sub-area ids with their names. */
static void
md_list(FILE *f, const json_t *a, int areas)
{
	const json_t *x;
	size_t i;

	json_array_foreach(a, i, x) {
		const char *s = json_string_value(x);

		fputs(i ? ", " : "", f);
		md_text(f, s);
		if (areas && s != NULL && code_subarea_name(s) != NULL) {
			fputc(' ', f);
			md_text(f, code_subarea_name(s));
		}
	}
}

static void
profile_row(FILE *f, const char *label, const json_t *v, int areas)
{
	if (v == NULL || json_is_null(v) || (json_is_array(v) &&
	    json_array_size(v) == 0))
		return;
	fprintf(f, "| %s | ", label);
	if (json_is_array(v))
		md_list(f, v, areas);
	else if (json_is_string(v))
		md_text(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_number(v))
		fprintf(f, "%g", json_number_value(v));
	fputs(" |\n", f);
}

static void
profile(FILE *f, const json_t *r)
{
	const json_t *p = json_object_get(json_object_get(r, "profile"), "city");
	const json_t *ct = json_object_get(p, "contact");

	fputs("## Profile\n\n", f);
	if (p == NULL) {
		fputs("This city has published no profile.\n\n", f);
		return;
	}
	fputs("| Field | Value |\n|---|---|\n", f);
	profile_row(f, "Name", json_object_get(p, "name"), 0);
	profile_row(f, "Country", json_object_get(p, "country"), 0);
	profile_row(f, "Region", json_object_get(p, "region"), 0);
	profile_row(f, "Population", json_object_get(p, "population"), 0);
	profile_row(f, "Population year", json_object_get(p, "population_year"), 0);
	profile_row(f, "Area (km²)", json_object_get(p, "area_km2"), 0);
	profile_row(f, "Languages", json_object_get(p, "languages"), 0);
	profile_row(f, "Website", json_object_get(p, "website"), 0);
	profile_row(f, "Network member since",
	    json_object_get(p, "network_member_since"), 0);
	profile_row(f, "Contact", json_object_get(ct, "name"), 0);
	profile_row(f, "Contact role", json_object_get(ct, "role"), 0);
	profile_row(f, "Contact e-mail", json_object_get(ct, "email"), 0);
	profile_row(f, "Challenges", json_object_get(p, "challenges"), 1);
	profile_row(f, "Strengths", json_object_get(p, "strengths"), 1);
	fputc('\n', f);
}

static void
value_cells(FILE *f, const json_t *v)
{
	if (v == NULL || json_is_null(v)) {
		fputs(" – | – |", f);
		return;
	}
	fprintf(f, " %g", json_number_value(json_object_get(v, "value")));
	if (str(v, "unit") != NULL) {
		fputc(' ', f);
		md_text(f, str(v, "unit"));
	}
	fputs(" | ", f);
	md_text(f, str(v, "period"));
	fputs(" |", f);
}

static void
indicators(FILE *f, const json_t *r, const char *cycle)
{
	const json_t *tot = json_object_get(r, "totals"), *x, *ch;
	size_t i;

	fprintf(f, "## Indicators\n\n%lld of the %lld indicators of the catalog "
	    "have a value for %s. The change is the latest value less the one of "
	    "the period before it.\n\n",
	    (long long)json_integer_value(json_object_get(tot, "reported")),
	    (long long)json_integer_value(json_object_get(tot, "indicators")),
	    cycle);
	if (json_integer_value(json_object_get(tot, "reported")) == 0)
		return;
	fputs("| Indicator | Sub-area | Latest | Period | Previous | Period | "
	    "Change |\n|---|---|---:|---|---:|---|---:|\n", f);
	json_array_foreach(json_object_get(r, "indicators"), i, x) {
		if (json_is_null(json_object_get(x, "latest")))
			continue;
		fputs("| ", f);
		md_text(f, str(x, "name"));
		fputs(" (`", f);
		md_code(f, str(x, "id"));
		fputs("`) | ", f);
		md_text(f, str(x, "sub_area"));
		fputs(" |", f);
		value_cells(f, json_object_get(x, "latest"));
		value_cells(f, json_object_get(x, "previous"));
		ch = json_object_get(x, "change");
		if (json_is_number(ch))
			fprintf(f, " %+g |\n", json_number_value(ch));
		else
			fputs(" – |\n", f);
	}
	fputc('\n', f);
}

static void
practices(FILE *f, const json_t *r, const char *cycle)
{
	const json_t *pr = json_object_get(r, "practices"), *g, *x;
	size_t i, k;

	fprintf(f, "## Practices published in %s\n\n", cycle);
	if (json_integer_value(json_object_get(pr, "total")) == 0) {
		fputs("None.\n\n", f);
		return;
	}
	fprintf(f, "Practices: %lld, by KFLC sub-area (a practice in several "
	    "sub-areas is listed under each).\n\n",
	    (long long)json_integer_value(json_object_get(pr, "total")));
	json_array_foreach(json_object_get(pr, "by_area"), i, g) {
		fputs("### ", f);
		md_text(f, str(g, "area"));
		fputc(' ', f);
		md_text(f, str(g, "name"));
		fputs("\n\n", f);
		json_array_foreach(json_object_get(g, "items"), k, x) {
			fputs("- **", f);
			md_text(f, str(x, "title"));
			fputs("** (", f);
			if (str(x, "language") != NULL) {
				md_text(f, str(x, "language"));
				fputs(", ", f);
			}
			md_date(f, json_integer_value(json_object_get(x,
			    "published_ms")));
			fputs(")\n", f);
		}
		fputc('\n', f);
	}
}

char *
view_report_markdown(const json_t *r)
{
	const json_t *cy = json_object_get(r, "cycle"), *x;
	char *buf = NULL, cycle[32];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	snprintf(cycle, sizeof(cycle), "%lld–%lld",
	    (long long)json_integer_value(json_object_get(cy, "from")),
	    (long long)json_integer_value(json_object_get(cy, "to")));
	fprintf(f, "# Progress report %s: ", cycle);
	md_text(f, str(r, "name") != NULL ? str(r, "name") : str(r, "id"));
	if (str(r, "country") != NULL) {
		fputs(" (", f);
		md_text(f, str(r, "country"));
		fputc(')', f);
	}
	fputs("\n\nA draft made on ", f);
	md_date(f, json_integer_value(json_object_get(r, "generated_ms")));
	fprintf(f, " from the records this node holds. City id `%s`; membership: "
	    "%s; indicator catalog: ", str(r, "id"),
	    str(json_object_get(r, "membership"), "state"));
	md_text(f, str(r, "catalog"));
	fputs(".\n\n", f);
	profile(f, r);
	indicators(f, r, cycle);
	practices(f, r, cycle);
	fprintf(f, "## Indicators not reported for %s\n\n", cycle);
	if (json_array_size(json_object_get(r, "not_reported")) == 0)
		fputs("None: every indicator of the catalog has a value.\n", f);
	json_array_foreach(json_object_get(r, "not_reported"), i, x) {
		fputs("- ", f);
		md_text(f, str(x, "name"));
		fputs(" (`", f);
		md_code(f, str(x, "id"));
		fputs("`, sub-area ", f);
		md_text(f, str(x, "sub_area"));
		fputs(")\n", f);
	}
	fclose(f);
	return buf;
}
