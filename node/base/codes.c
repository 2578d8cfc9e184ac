// SPDX-License-Identifier: Apache-2.0
// Code lists and syntax checks: ISO 3166-1, ISO 4217, BCP 47, KFLC sub-areas, clusters, SPDX.
#include <stdlib.h>
#include <string.h>

#include "base/codes.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Longest BCP 47 tag accepted. Real tags are far shorter; the cap keeps the
 * subtag array below on the stack and bounds the work per tag. */
#define BCP47_MAX_LEN 128
#define BCP47_MAX_SUBTAGS (BCP47_MAX_LEN / 2 + 1)

#define SPDX_MAX_LEN 64

/* ISO 3166-1 alpha-2: every officially assigned code, sorted. */
static const char *const countries[] = {
	"AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
	"AU", "AW", "AX", "AZ",
	"BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN",
	"BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ",
	"CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO",
	"CR", "CU", "CV", "CW", "CX", "CY", "CZ",
	"DE", "DJ", "DK", "DM", "DO", "DZ",
	"EC", "EE", "EG", "EH", "ER", "ES", "ET",
	"FI", "FJ", "FK", "FM", "FO", "FR",
	"GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP",
	"GQ", "GR", "GS", "GT", "GU", "GW", "GY",
	"HK", "HM", "HN", "HR", "HT", "HU",
	"ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT",
	"JE", "JM", "JO", "JP",
	"KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ",
	"LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY",
	"MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO",
	"MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ",
	"NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
	"OM",
	"PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT",
	"PW", "PY",
	"QA",
	"RE", "RO", "RS", "RU", "RW",
	"SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
	"SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ",
	"TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
	"TT", "TV", "TW", "TZ",
	"UA", "UG", "UM", "US", "UY", "UZ",
	"VA", "VC", "VE", "VG", "VI", "VN", "VU",
	"WF", "WS",
	"YE", "YT",
	"ZA", "ZM", "ZW",
};

/*
 * ISO 4217 alphabetic codes in use in 2025, sorted: national currencies, fund
 * codes and the X codes for supranational units and precious metals. Codes still
 * in a changeover (ANG beside XCG, SLL beside SLE) stay so that older budgets
 * validate. XTS (reserved for testing) and XXX (no currency) are left out on
 * purpose: neither can price a practice's annual cost.
 */
static const char *const currencies[] = {
	"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
	"BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV",
	"BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
	"CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU",
	"CRC", "CUC", "CUP", "CVE", "CZK",
	"DJF", "DKK", "DOP", "DZD",
	"EGP", "ERN", "ETB", "EUR",
	"FJD", "FKP",
	"GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
	"HKD", "HNL", "HTG", "HUF",
	"IDR", "ILS", "INR", "IQD", "IRR", "ISK",
	"JMD", "JOD", "JPY",
	"KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
	"LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
	"MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
	"MWK", "MXN", "MXV", "MYR", "MZN",
	"NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
	"OMR",
	"PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
	"QAR",
	"RON", "RSD", "RUB", "RWF",
	"SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS",
	"SRD", "SSP", "STN", "SVC", "SYP", "SZL",
	"THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
	"UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
	"VED", "VES", "VND", "VUV",
	"WST",
	"XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR",
	"XOF", "XPD", "XPF", "XPT", "XSU", "XUA",
	"YER",
	"ZAR", "ZMW", "ZWG",
};

/* ISO 639-1 two-letter language codes, sorted (lower case, as BCP 47 writes them). */
static const char *const languages[] = {
	"aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az",
	"ba", "be", "bg", "bh", "bi", "bm", "bn", "bo", "br", "bs",
	"ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy",
	"da", "de", "dv", "dz",
	"ee", "el", "en", "eo", "es", "et", "eu",
	"fa", "ff", "fi", "fj", "fo", "fr", "fy",
	"ga", "gd", "gl", "gn", "gu", "gv",
	"ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
	"ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu",
	"ja", "jv",
	"ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku",
	"kv", "kw", "ky",
	"la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv",
	"mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my",
	"na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny",
	"oc", "oj", "om", "or", "os",
	"pa", "pi", "pl", "ps", "pt",
	"qu",
	"rm", "rn", "ro", "ru", "rw",
	"sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq",
	"sr", "ss", "st", "su", "sv", "sw",
	"ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt",
	"tw", "ty",
	"ug", "uk", "ur", "uz",
	"ve", "vi", "vo",
	"wa", "wo",
	"xh",
	"yi", "yo",
	"za", "zh", "zu",
};

/* The twelve sub-areas of UNESCO's Key Features of Learning Cities, in id order. */
static const struct subarea {
	const char *id;
	const char *name;
} subareas[] = {
	{ "1.1", "Individual empowerment and social cohesion" },
	{ "1.2", "Economic development and cultural prosperity" },
	{ "1.3", "Sustainable development" },
	{ "2.1", "Inclusive learning in the education system" },
	{ "2.2", "Revitalized learning in families and communities" },
	{ "2.3", "Effective learning for and in the workplace" },
	{ "2.4", "Extended use of modern learning technologies" },
	{ "2.5", "Enhanced quality and excellence in learning" },
	{ "2.6", "A vibrant culture of learning throughout life" },
	{ "3.1", "Strong political will and commitment" },
	{ "3.2", "Governance and participation of all stakeholders" },
	{ "3.3", "Mobilization and utilization of resources" },
};

static const char *const clusters[] = {
	"esd", "equity_inclusion", "monitoring_evaluation", "global_citizenship",
	"entrepreneurship", "health_wellbeing", "literacy", "climate",
};

static const char subarea_list[] =
    "1.1 1.2 1.3 2.1 2.2 2.3 2.4 2.5 2.6 3.1 3.2 3.3";
static const char cluster_list[] =
    "esd equity_inclusion monitoring_evaluation global_citizenship "
    "entrepreneurship health_wellbeing literacy climate";

static int
cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
in_sorted(const char *s, const char *const *table, size_t n)
{
	return s != NULL && bsearch(s, table, n, sizeof(*table), cmp_str) != NULL;
}

static int
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int
is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

/* True when s is exactly len characters, each of class cls. */
static int
fixed_code(const char *s, size_t len, int (*cls)(int))
{
	size_t i = 0;

	if (s == NULL || strlen(s) != len)
		i = len + 1;
	while (i < len && cls((unsigned char)s[i]))
		i++;
	return i == len;
}

int
code_country_valid(const char *s)
{
	return fixed_code(s, 2, is_upper) && in_sorted(s, countries, NELEM(countries));
}

int
code_currency_valid(const char *s)
{
	return fixed_code(s, 3, is_upper) && in_sorted(s, currencies, NELEM(currencies));
}

/* One subtag of a tag being parsed: where it starts and how long it is. */
struct subtag {
	const char *p;
	size_t len;
};

static int
subtag_all(const struct subtag *t, int (*cls)(int))
{
	size_t i = 0;

	while (i < t->len && cls((unsigned char)t->p[i]))
		i++;
	return i == t->len;
}

static int
subtag_is(const struct subtag *t, size_t len, int (*cls)(int))
{
	return t->len == len && subtag_all(t, cls);
}

static int
lang_iso639_1(const struct subtag *t)
{
	char lower[3];

	lower[0] = (char)(t->p[0] | 0x20);
	lower[1] = (char)(t->p[1] | 0x20);
	lower[2] = '\0';
	return in_sorted(lower, languages, NELEM(languages));
}

static int
is_privateuse_start(const struct subtag *t)
{
	return t->len == 1 && (t->p[0] == 'x' || t->p[0] == 'X');
}

/* An extension's singleton: any letter or digit but 'x'. */
static int
is_singleton(const struct subtag *t)
{
	return t->len == 1 && !is_privateuse_start(t);
}

/* variant = 5*8alphanum / (DIGIT 3alphanum) */
static int
is_variant(const struct subtag *t)
{
	return t->len >= 5 || (t->len == 4 && is_digit((unsigned char)t->p[0]));
}

/*
 * Splits s on '-' into t. Fails on an empty subtag (leading, trailing or double
 * hyphen), a subtag over 8 characters, a character that is not ASCII
 * alphanumeric or more than max subtags: the lexical rules every production
 * shares. The grammar below can then look at lengths and classes only.
 */
static int
bcp47_split(const char *s, struct subtag *t, size_t max, size_t *nt)
{
	const char *p = s, *start;
	size_t n = 0;
	int ok = 1;

	while (ok) {
		start = p;
		while (is_alnum((unsigned char)*p))
			p++;
		if (p == start || p - start > 8 || n == max ||
		    (*p != '\0' && *p != '-')) {
			ok = 0;
			break;
		}
		t[n].p = start;
		t[n].len = (size_t)(p - start);
		n++;
		if (*p == '\0')
			break;
		p++;
	}
	*nt = n;
	return ok;
}

/*
 * The RFC 5646 langtag production over split subtags:
 *   language ["-" script] ["-" region] *("-" variant) *("-" extension)
 *   ["-" privateuse]
 * Returns the index of the first subtag it could not place, n when all fit.
 */
static size_t
bcp47_langtag(const struct subtag *t, size_t n)
{
	size_t i = 1, k;

	/* extlang: up to three 3-letter subtags after a 2-3 letter language. */
	for (k = 0; k < 3 && i < n && subtag_is(&t[i], 3, is_alpha); k++)
		i++;
	if (i < n && subtag_is(&t[i], 4, is_alpha))
		i++;
	if (i < n && (subtag_is(&t[i], 2, is_alpha) || subtag_is(&t[i], 3, is_digit)))
		i++;
	while (i < n && is_variant(&t[i]))
		i++;
	/* extension = singleton 1*("-" (2*8alphanum)) */
	while (i + 1 < n && is_singleton(&t[i]) && t[i + 1].len >= 2) {
		i += 2;
		while (i < n && t[i].len >= 2)
			i++;
	}
	/* privateuse = "x" 1*("-" (1*8alphanum)) takes the rest. */
	if (i + 1 < n && is_privateuse_start(&t[i]))
		i = n;
	return i;
}

int
code_bcp47_valid(const char *s)
{
	struct subtag t[BCP47_MAX_SUBTAGS];
	size_t n = 0;
	int ok = 0;

	if (s == NULL || *s == '\0' || strlen(s) > BCP47_MAX_LEN ||
	    !bcp47_split(s, t, BCP47_MAX_SUBTAGS, &n))
		ok = 0;
	else if (is_privateuse_start(&t[0]))
		ok = n >= 2;
	/*
	 * RFC 5646 also makes 4-8 letter primary subtags well-formed, but the
	 * registry holds none (4 letters are reserved, 5-8 letters have never been
	 * registered), so such a tag is in practice a language name typed by
	 * mistake ("english", "french") and is refused. Two letters must be
	 * ISO 639-1; three letters (ISO 639-2/3/5) are accepted without a list.
	 */
	else if (!subtag_all(&t[0], is_alpha) || t[0].len < 2 || t[0].len > 3)
		ok = 0;
	else if (t[0].len == 2 && !lang_iso639_1(&t[0]))
		ok = 0;
	else
		ok = bcp47_langtag(t, n) == n;
	return ok;
}

int
code_subarea_valid(const char *s)
{
	return code_subarea_name(s) != NULL;
}

const char *
code_subarea_name(const char *id)
{
	const char *name = NULL;
	size_t i;

	for (i = 0; id != NULL && name == NULL && i < NELEM(subareas); i++)
		if (strcmp(subareas[i].id, id) == 0)
			name = subareas[i].name;
	return name;
}

int
code_cluster_valid(const char *s)
{
	size_t i;
	int found = 0;

	for (i = 0; s != NULL && !found && i < NELEM(clusters); i++)
		found = strcmp(clusters[i], s) == 0;
	return found;
}

const char *
code_subarea_list(void)
{
	return subarea_list;
}

const char *
code_cluster_list(void)
{
	return cluster_list;
}

/*
 * SPDX short identifiers: idstring = 1*(ALPHA / DIGIT / "-" / "."), optionally
 * followed by "+" ("or later"). "LicenseRef-..." ids share the syntax. The id
 * must start with a letter or digit so that stray punctuation is caught.
 */
int
code_spdx_valid(const char *s)
{
	size_t i = 1, len = s != NULL ? strlen(s) : 0;
	int ok = 0;

	if (len > 0 && len <= SPDX_MAX_LEN && is_alnum((unsigned char)s[0])) {
		while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '.' || (s[i] == '+' && i == len - 1)))
			i++;
		ok = i == len;
	}
	return ok;
}
