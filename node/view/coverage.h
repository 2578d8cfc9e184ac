/* SPDX-License-Identifier: Apache-2.0 */
/* The coverage view's tabular form, shared by lcctl coverage --csv and the
 * HTTP API's /api/v1/coverage?format=csv so both write the same rows. */
#ifndef LCF_VIEW_COVERAGE_H
#define LCF_VIEW_COVERAGE_H

#include <jansson.h>

/* The rows of the coverage view's answer cov (borrowed) as flat objects for
 * csvout_json_rows: one per city (city_id, city, country, membership,
 * reported, then one column per catalog indicator in the catalog's order,
 * null where nothing was reported); with missing, one per pair not reported
 * (city_id, city, country, period, indicator). New reference. */
json_t *view_coverage_rows(const json_t *cov, int missing);

#endif
