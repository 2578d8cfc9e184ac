// SPDX-License-Identifier: Apache-2.0
// Unit tests of store/backup.c (backup files: write, check, install, compact),
// store/store_meta.c and core/custody.c's option parsing, on real LMDB stores.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/error.h"
#include "base/util.h"
#include "base/xmalloc.h"
#include "core/custody.h"
#include "model/identity.h"
#include "store/backup.h"
#include "store/store.h"
#include "unit_util.h"

#define MAP (64u << 20)

struct fx {
	char dir[64];
	struct identity *id;
	struct store *s;
};

static char *
path(const struct fx *f, const char *name)
{
	return xasprintf("%s/%s", f->dir, name);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char err[256], *db;

	snprintf(f->dir, sizeof(f->dir), "/tmp/lcf-backup-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->id = identity_new();
	identity_generate(f->id);
	db = path(f, "db");
	assert_int_equal(store_open(db, MAP, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_meta_put(f->s, "city", f->id->pk, 32), 0);
	free(db);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	identity_free(f->id);
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

static void
test_meta(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	size_t len;

	assert_int_equal(store_meta_get(f->s, "city", buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(buf, f->id->pk, 32);
	assert_int_equal(store_meta_get(f->s, "nothing", buf, sizeof(buf), &len),
	    LCF_ENOTFOUND);
	assert_int_equal(store_meta_get(f->s, "city", buf, 8, &len), LCF_ETOOBIG);
	assert_int_equal(store_meta_put(f->s, "city", NULL, 0), 0);
	assert_int_equal(store_meta_get(f->s, "city", buf, sizeof(buf), &len),
	    LCF_ENOTFOUND);
	/* Deleting what is not there is not an error. */
	assert_int_equal(store_meta_put(f->s, "city", NULL, 0), 0);
}

static void
test_write_and_install(void **state)
{
	struct fx *f = *state;
	struct backup_info w, r;
	struct identity *back = identity_new();
	char err[1024], *file = path(f, "b.lcfbak"), *dest = path(f, "restored");
	char *db = path(f, "restored/db"), *key = path(f, "restored/identity.key");
	struct stat st;

	assert_int_equal(backup_write(f->s, f->id, file, 0, &w, err, sizeof(err)), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal((uint64_t)st.st_size, w.bytes);
	assert_memory_equal(w.city, f->id->pk, 32);
	/* Never over an existing file without force; with it, replaced. */
	assert_int_equal(backup_write(f->s, f->id, file, 0, &w, err, sizeof(err)),
	    LCF_EEXIST);
	assert_non_null(strstr(err, "--force"));
	assert_int_equal(backup_write(f->s, f->id, file, 1, &w, err, sizeof(err)), 0);
	/* A relative path is refused: the node resolves nothing. */
	assert_int_equal(backup_write(f->s, f->id, "rel.lcfbak", 0, &w, err,
	    sizeof(err)), LCF_EINVAL);

	assert_int_equal(mkdir(dest, 0700), 0);
	assert_int_equal(backup_install(file, db, key, 0, MAP, &r, err,
	    sizeof(err)), 0);
	assert_memory_equal(r.city, f->id->pk, 32);
	/* The key written from the backup is this city's, 0600. */
	assert_int_equal(identity_load(back, key), 0);
	assert_memory_equal(back->pk, f->id->pk, 32);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A second install keeps the first store aside. */
	assert_int_equal(backup_install(file, db, key, 0, MAP, &r, err,
	    sizeof(err)), 0);
	identity_free(back);
	free(file);
	free(dest);
	free(db);
	free(key);
}

/* Flips one byte of file at off. */
static void
damage(const char *file, long off)
{
	FILE *fp = fopen(file, "r+b");
	int c;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc(c ^ 0x01, fp);
	fclose(fp);
}

static void
test_damaged(void **state)
{
	struct fx *f = *state;
	struct backup_info w, r;
	char err[1024], *file = path(f, "d.lcfbak"), *db = path(f, "x/db");
	char *key = path(f, "x/identity.key"), *x = path(f, "x");
	char *copy = path(f, "x/db.restore");
	static const struct {
		long off;
		const char *says;
	} cases[] = {
		{ 0, "is not an lcf backup" },
		{ 8 + 3, "format version" },
		{ 16, "not the key of the city it names" },
		{ 48, "not the key of the city it names" },
		{ 80 + 7, "cut short or damaged" },
		{ 112, "does not match its checksum" },
		{ BACKUP_HEADER_LEN + 100, "does not match its checksum" },
	};
	size_t i;

	assert_int_equal(mkdir(x, 0700), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(backup_write(f->s, f->id, file, 1, &w, err,
		    sizeof(err)), 0);
		damage(file, cases[i].off);
		err[0] = '\0';
		assert_int_not_equal(backup_install(file, db, key, 0, MAP, &r, err,
		    sizeof(err)), 0);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("byte %ld: expected '%s' in '%s'", cases[i].off,
			    cases[i].says, err);
		/* Nothing installed. */
		assert_int_not_equal(access(db, F_OK), 0);
		assert_int_not_equal(access(key, F_OK), 0);
		assert_int_not_equal(access(copy, F_OK), 0);
	}
	free(copy);
	free(file);
	free(db);
	free(key);
	free(x);
}

/* The key file at path is pk's. */
static void
assert_key_is(const char *path, const uint8_t pk[32])
{
	struct identity *k = identity_new();

	assert_int_equal(identity_load(k, path), 0);
	assert_memory_equal(k->pk, pk, 32);
	identity_free(k);
}

static void
test_other_city(void **state)
{
	struct fx *f = *state;
	struct identity *other = identity_new();
	struct backup_info w, r;
	char err[1024], *file = path(f, "o.lcfbak"), *x = path(f, "y");
	char *db = path(f, "y/db"), *key = path(f, "y/identity.key");
	char hex[LCF_ID_HEX], *aside;

	/* A key of another city where the backup would go. */
	identity_generate(other);
	assert_int_equal(mkdir(x, 0700), 0);
	assert_int_equal(identity_save(other, key), 0);
	assert_int_equal(backup_write(f->s, f->id, file, 0, &w, err, sizeof(err)), 0);
	assert_int_equal(backup_install(file, db, key, 0, MAP, &r, err, sizeof(err)),
	    LCF_EPERM);
	assert_non_null(strstr(err, "is a backup of city"));
	assert_int_not_equal(access(db, F_OK), 0);
	/* Unless the caller knows that key never published: kept aside. */
	assert_int_equal(backup_install(file, db, key, BACKUP_KEY_UNUSED, MAP, &r,
	    err, sizeof(err)), 0);
	assert_key_is(key, f->id->pk);
	hex_encode(other->pk, 32, hex);
	aside = xasprintf("%s.unused-%.12s", key, hex);
	assert_key_is(aside, other->pk);
	free(aside);
	unit_rm_tree(db);
	/* A store that records another city than the backup's key. */
	unlink(key);
	assert_int_equal(store_meta_put(f->s, "city", other->pk, 32), 0);
	assert_int_equal(backup_write(f->s, f->id, file, 1, &w, err, sizeof(err)), 0);
	assert_int_equal(backup_install(file, db, key, 0, MAP, &r, err, sizeof(err)),
	    LCF_EINVAL);
	assert_non_null(strstr(err, "belongs to another city"));
	identity_free(other);
	free(file);
	free(x);
	free(db);
	free(key);
}

static void
test_compact(void **state)
{
	struct fx *f = *state;
	char err[1024], *db = path(f, "db");
	uint64_t before, after;

	/* The store must be closed: compacting is offline. */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(backup_compact(db, &before, &after, err, sizeof(err)), 0);
	assert_true(after > 0);
	assert_true(after <= before);
	assert_int_equal(store_open(db, MAP, &f->s, err, sizeof(err)), 0);
	free(db);
}

static void
test_options(void **state)
{
	char a0[] = "lcnode", a1[] = "-d", a2[] = "D", a3[] = "--restore",
	    a4[] = "F", a5[] = "-v", a6[] = "--new-store", a7[] = "--restore=G";
	char *argv[8];
	struct custody_opts o;
	int argc;

	(void)state;
	argv[0] = a0, argv[1] = a1, argv[2] = a2, argv[3] = a3, argv[4] = a4;
	argv[5] = a5, argv[6] = NULL;
	argc = 6;
	assert_int_equal(custody_options(&argc, argv, &o), -1);
	assert_int_equal(argc, 4);
	assert_string_equal(o.restore_file, "F");
	assert_string_equal(argv[3], "-v");
	assert_null(argv[4]);
	argv[0] = a0, argv[1] = a6, argv[2] = a7, argv[3] = NULL;
	argc = 3;
	assert_int_equal(custody_options(&argc, argv, &o), 2);
	argv[0] = a0, argv[1] = a3, argv[2] = NULL;
	argc = 2;
	assert_int_equal(custody_options(&argc, argv, &o), 2);
	argv[0] = a0, argv[1] = a6, argv[2] = NULL;
	argc = 2;
	assert_int_equal(custody_options(&argc, argv, &o), -1);
	assert_int_equal(o.new_store, 1);
	assert_int_equal(argc, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_and_install, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_city, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test(test_options),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
