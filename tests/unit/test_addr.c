// SPDX-License-Identifier: Apache-2.0
// Unit tests for base/addr: printing addresses (parsing is tested in test_config).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/addr.h"
#include "base/error.h"

static void
test_format(void **state)
{
	char buf[ADDR_STR_MAX], small[8];
	char *s;

	(void)state;
	assert_string_equal(addr_format(buf, sizeof(buf), "192.0.2.1", 7400),
	    "192.0.2.1:7400");
	assert_string_equal(addr_format(buf, sizeof(buf), "::1", 7400), "[::1]:7400");
	assert_string_equal(addr_format(buf, sizeof(buf), "node.example", 1),
	    "node.example:1");
	/* Cut to fit, NUL-terminated. */
	assert_string_equal(addr_format(small, sizeof(small), "192.0.2.1", 7400),
	    "192.0.2");
	s = addr_format_dup("fe80::2", 65535);
	assert_string_equal(s, "[fe80::2]:65535");
	free(s);
}

static void
test_round_trip(void **state)
{
	static const char *const in[] = { "127.0.0.1:9", "[2001:db8::7]:7400",
	    "host.example:80" };
	char host[256], buf[ADDR_STR_MAX];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(addr_parse_hostport(in[i], host, sizeof(host), &port), 0);
		assert_string_equal(addr_format(buf, sizeof(buf), host, port), in[i]);
	}
}

static void
test_sockaddr(void **state)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	struct sockaddr other;
	char buf[ADDR_STR_MAX] = "unchanged";

	(void)state;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_port = htons(7400);
	inet_pton(AF_INET, "198.51.100.4", &a4.sin_addr);
	assert_int_equal(addr_format_sockaddr(buf, sizeof(buf),
	    (struct sockaddr *)&a4), 0);
	assert_string_equal(buf, "198.51.100.4:7400");
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	assert_int_equal(addr_format_sockaddr(buf, sizeof(buf),
	    (struct sockaddr *)&a6), 0);
	assert_string_equal(buf, "[2001:db8::1]:443");
	/* Another family leaves the buffer as it was. */
	memset(&other, 0, sizeof(other));
	other.sa_family = AF_UNIX;
	assert_int_equal(addr_format_sockaddr(buf, sizeof(buf), &other), LCF_EINVAL);
	assert_string_equal(buf, "[2001:db8::1]:443");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
