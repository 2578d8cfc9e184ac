// SPDX-License-Identifier: Apache-2.0
// Unit tests for the table of record kinds: names, lookups, and that it agrees
// with proto/lcf.proto (every Kind has an entry whose body is its Content field).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/kinds.h"
#include "model/validate.h"

static void
test_names(void **state)
{
	char buf[256];

	(void)state;
	assert_string_equal(kinds_name(LCF__KIND__KIND_CITY), "city");
	assert_string_equal(kinds_name(LCF__KIND__KIND_PRACTICE), "practice");
	assert_string_equal(kinds_name(LCF__KIND__KIND_INDICATOR), "indicator");
	assert_string_equal(kinds_name(LCF__KIND__KIND_CATALOG), "catalog");
	assert_string_equal(kinds_name(LCF__KIND__KIND_UNSPECIFIED), "unknown");
	assert_string_equal(kinds_name(99), "unknown");
	assert_int_equal(kinds_by_name("practice")->kind, LCF__KIND__KIND_PRACTICE);
	assert_int_equal(kinds_by_name("Indicator")->kind, LCF__KIND__KIND_INDICATOR);
	assert_int_equal(kinds_by_name("catalog")->kind, LCF__KIND__KIND_CATALOG);
	assert_int_equal(kinds_by_name("city")->kind, LCF__KIND__KIND_CITY);
	assert_null(kinds_by_name("unknown"));
	assert_null(kinds_by_name("unspecified"));
	assert_null(kinds_by_name(NULL));
	assert_string_equal(kinds_names(buf, sizeof(buf), ", "),
	    "city, practice, indicator, membership, revocation, endpoint, "
	    "catalog, succession, beacon");
	/* Cut to fit, never past the buffer. */
	assert_string_equal(kinds_names(buf, 8, ", "), "city, p");
	/* Beacons came with protocol version 3: never sent to a version-2 peer. */
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_BEACON)->since, 3);
	assert_false(kinds_peer_takes(LCF__KIND__KIND_BEACON, 2));
	assert_true(kinds_peer_takes(LCF__KIND__KIND_BEACON, 3));
	assert_true(kinds_late(LCF__KIND__KIND_BEACON));
	assert_false(kinds_late(LCF__KIND__KIND_SUCCESSION));
	/* Only the newest beacon of an author is kept (PROTOCOL 1.2); no kind
	 * a version-2 peer takes may be pruned so, since that peer keeps
	 * every version and the sets would never agree. */
	assert_true(kinds_newest_only(LCF__KIND__KIND_BEACON));
	assert_false(kinds_newest_only(LCF__KIND__KIND_PRACTICE));
	assert_false(kinds_newest_only(29));
	{
		const struct kinds_def *k;
		size_t i;

		for (i = 0; (k = kinds_at(i)) != NULL; i++)
			if (k->flags & KINDS_NEWEST_ONLY)
				assert_true(kinds_late((int)k->kind));
	}
}

/* Every value of the Kind enum but UNSPECIFIED has exactly one entry, in kind
 * order, below KINDS_LIMIT, and its body is Content's field of the same name. */
static void
test_table_matches_proto(void **state)
{
	const ProtobufCEnumDescriptor *ed = &lcf__kind__descriptor;
	const ProtobufCFieldDescriptor *f;
	const struct kinds_def *k;
	size_t i, n = 0;
	int last = 0;

	(void)state;
	for (i = 0; i < ed->n_values; i++) {
		if (ed->values[i].value == LCF__KIND__KIND_UNSPECIFIED)
			continue;
		k = kinds_by_kind(ed->values[i].value);
		if (k == NULL)
			fail_msg("kind %s has no entry in the table", ed->values[i].name);
		n++;
	}
	for (i = 0; (k = kinds_at(i)) != NULL; i++) {
		assert_true((int)k->kind > last);
		assert_true((int)k->kind < KINDS_LIMIT);
		last = (int)k->kind;
		f = protobuf_c_message_descriptor_get_field(&lcf__content__descriptor,
		    (unsigned)k->body_case);
		assert_non_null(f);
		assert_string_equal(f->name, k->name);
		assert_ptr_equal(f->descriptor, k->body);
		assert_ptr_equal(kinds_by_case(k->body_case), k);
		assert_non_null(k->validate);
		assert_non_null(k->noun);
	}
	assert_int_equal(i, n);
	assert_null(kinds_by_case(LCF__CONTENT__BODY__NOT_SET));
}

static void
test_set_body_and_default_key(void **state)
{
	Lcf__Content c = LCF__CONTENT__INIT;
	Lcf__Practice p = LCF__PRACTICE__INIT;
	Lcf__CityProfile cp = LCF__CITY_PROFILE__INIT;
	char key[64];

	(void)state;
	p.title = "Green Roofs for All";
	c.has_kind = 1;
	c.kind = LCF__KIND__KIND_PRACTICE;
	kinds_set_body(&c, kinds_by_kind(c.kind), &p.base);
	assert_int_equal(c.body_case, LCF__CONTENT__BODY_PRACTICE);
	assert_ptr_equal(c.practice, &p);
	kinds_default_key(&c, key, sizeof(key));
	assert_string_equal(key, "green-roofs-for-all");
	c.kind = LCF__KIND__KIND_CITY;
	kinds_set_body(&c, kinds_by_kind(c.kind), &cp.base);
	assert_ptr_equal(c.city, &cp);
	kinds_default_key(&c, key, sizeof(key));
	assert_string_equal(key, "profile");
	c.kind = LCF__KIND__KIND_MEMBERSHIP;
	kinds_default_key(&c, key, sizeof(key));
	assert_string_equal(key, "");
}

/* Federation kinds are the ones a city may not sign. */
static void
test_signers(void **state)
{
	(void)state;
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_MEMBERSHIP)->signer,
	    KINDS_SIGNER_FEDERATION);
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_REVOCATION)->signer,
	    KINDS_SIGNER_FEDERATION);
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_CATALOG)->signer,
	    KINDS_SIGNER_FEDERATION);
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_CITY)->signer,
	    KINDS_SIGNER_AUTHOR);
	assert_int_equal(kinds_by_kind(LCF__KIND__KIND_SUCCESSION)->signer,
	    KINDS_SIGNER_AUTHOR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table_matches_proto),
		cmocka_unit_test(test_set_body_and_default_key),
		cmocka_unit_test(test_signers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
