/* SPDX-License-Identifier: Apache-2.0 */
/* Code lists: ISO 3166-1, ISO 4217, BCP 47 syntax, KFLC sub-areas, clusters. */
#ifndef LCF_CODES_H
#define LCF_CODES_H

/* Each returns 1 when s is valid, else 0. Upper-case codes are exact-case. */
int code_country_valid(const char *s);      /* ISO 3166-1 alpha-2, e.g. "RO" */
int code_currency_valid(const char *s);     /* ISO 4217 alpha, e.g. "EUR" */
int code_bcp47_valid(const char *s);        /* RFC 5646 well-formed tag */
int code_subarea_valid(const char *s);      /* "1.1" .. "3.3" */
int code_cluster_valid(const char *s);      /* "esd", "literacy", ... */
int code_spdx_valid(const char *s);         /* SPDX id syntax, e.g. "CC-BY-4.0" */

/* Name of a KFLC sub-area ("2.2" -> "Revitalized learning in families and
 * communities"), or NULL. Static storage. */
const char *code_subarea_name(const char *id);
/* Space-separated lists of the valid sub-area and cluster ids (static). */
const char *code_subarea_list(void);
const char *code_cluster_list(void);

#endif
