// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text forms: endpoints, MACs, error and drop-reason names. No root needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "replicast.h"
#include "unit.h"

static void check_roundtrip(const char *text, int family, unsigned int port)
{
	char buf[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_endpoint ep;
	int err = replicast_endpoint_parse(text, &ep);

	CHECK(err == 0, "'%s' parses (got %d)", text, err);
	CHECK_EQ(family, ep.family, "family");
	CHECK_EQ(port, ep.port, "port");
	replicast_endpoint_format(&ep, buf, sizeof(buf));
	CHECK(!strcmp(buf, text), "'%s' formats back (got '%s')", text, buf);
}

static void check_rejected(const char *text)
{
	struct replicast_endpoint ep;

	CHECK(replicast_endpoint_parse(text, &ep) == -EINVAL, "'%s' is rejected", text);
}

/* A port range, or one port, parses to its first and last port and formats
 * back to the same text. */
static void check_range(const char *text, int family, unsigned int first, unsigned int last)
{
	char buf[REPLICAST_RANGE_STRLEN];
	struct replicast_endpoint ep;
	uint16_t port_last = 0;
	int err = replicast_range_parse(text, &ep, &port_last);

	CHECK(err == 0, "range '%s' parses (got %d)", text, err);
	CHECK_EQ(family, ep.family, "range family");
	CHECK_EQ(first, ep.port, "range's first port");
	CHECK_EQ(last, port_last, "range's last port");
	replicast_range_format(&ep, port_last, buf, sizeof(buf));
	CHECK(!strcmp(buf, text), "range '%s' formats back (got '%s')", text, buf);
}

static void check_range_rejected(const char *text, int want)
{
	struct replicast_endpoint ep;
	uint16_t last;
	int err = replicast_range_parse(text, &ep, &last);

	CHECK(err == want, "range '%s' is rejected with %d (got %d)", text, want, err);
}

static void check_ranges(void)
{
	char buf[REPLICAST_RANGE_STRLEN];
	struct replicast_endpoint ep;
	uint16_t last;

	check_range("10.0.0.1:2055-2060", AF_INET, 2055, 2060);
	check_range("10.0.0.1:2055", AF_INET, 2055, 2055);
	check_range("[fd00::1]:2055-2060", AF_INET6, 2055, 2060);
	check_range("10.0.0.1:1-1024", AF_INET, 1, 1024);
	check_range("10.0.0.1:64512-65535", AF_INET, 64512, 65535);
	CHECK(!replicast_range_parse("10.0.0.1:7-7", &ep, &last) && ep.port == 7 && last == 7,
	      "P-P is the one port P");
	check_range_rejected("10.0.0.1:2060-2055", -EINVAL);
	check_range_rejected(":0-5", -EINVAL);
	check_range_rejected("10.0.0.1:0-5", -EINVAL);
	check_range_rejected("10.0.0.1:1-70000", -EINVAL);
	check_range_rejected("1-70000", -EINVAL);
	check_range_rejected("10.0.0.1:2055-", -EINVAL);
	check_range_rejected("10.0.0.1:-2055", -EINVAL);
	check_range_rejected("10.0.0.1:2055--2060", -EINVAL);
	check_range_rejected("10.0.0.1:2055-2060-2070", -EINVAL);
	check_range_rejected("10.0.0.1:2055-+2060", -EINVAL);
	check_range_rejected("[fd00::1]:5-", -EINVAL);
	check_range_rejected("10.0.0.1:1-1025", -E2BIG);
	check_range_rejected("10.0.0.1:1000-60000", -E2BIG);
	CHECK(replicast_endpoint_parse("10.0.0.1:2055-2060", &ep) == -EINVAL,
	      "replicast_endpoint_parse takes no range");
	/* The longest text there is fits REPLICAST_RANGE_STRLEN. */
	replicast_range_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:64512-65535", &ep,
			      &last);
	replicast_range_format(&ep, last, buf, sizeof(buf));
	CHECK(strstr(buf, "]:64512-65535") != NULL, "the longest range formats whole (%s)", buf);
}

/* Equality is family, address and port; the socket address carries them in
 * network byte order. */
static void check_equal_and_sockaddr(void)
{
	struct replicast_endpoint a, b, c;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	replicast_endpoint_parse("10.1.2.3:5000", &a);
	replicast_endpoint_parse("10.1.2.3:5000", &b);
	replicast_endpoint_parse("10.1.2.3:5001", &c);
	CHECK(replicast_endpoint_equal(&a, &b), "same address and port are equal");
	CHECK(!replicast_endpoint_equal(&a, &c), "another port is not");
	replicast_endpoint_parse("10.1.2.4:5000", &c);
	CHECK(!replicast_endpoint_equal(&a, &c), "another address is not");
	replicast_endpoint_parse("[::ffff:10.1.2.3]:5000", &c);
	CHECK(!replicast_endpoint_equal(&a, &c), "a v4-mapped IPv6 address is another family");
	CHECK_EQ((int)sizeof(*sin), (int)replicast_endpoint_sockaddr(&a, &ss), "IPv4 sockaddr length");
	CHECK(sin->sin_family == AF_INET && sin->sin_port == htons(5000) &&
	      sin->sin_addr.s_addr == htonl(0x0a010203), "IPv4 sockaddr holds address and port");
	replicast_endpoint_parse("[fd00::7]:6000", &a);
	replicast_endpoint_parse("[fd00::7]:6000", &b);
	CHECK(replicast_endpoint_equal(&a, &b), "IPv6: same address and port are equal");
	CHECK_EQ((int)sizeof(*sin6), (int)replicast_endpoint_sockaddr(&a, &ss), "IPv6 sockaddr length");
	CHECK(sin6->sin6_family == AF_INET6 && sin6->sin6_port == htons(6000) &&
	      sin6->sin6_addr.s6_addr[15] == 7 && sin6->sin6_addr.s6_addr[0] == 0xfd,
	      "IPv6 sockaddr holds address and port");
	a.family = AF_UNIX;
	CHECK_EQ(0, (int)replicast_endpoint_sockaddr(&a, &ss), "another family has no sockaddr");
}

int main(void)
{
	struct replicast_endpoint ep;
	uint8_t mac[6];
	int i;

	check_roundtrip("10.0.0.1:5000", AF_INET, 5000);
	check_roundtrip("255.255.255.255:65535", AF_INET, 65535);
	check_roundtrip("[fd00::1]:1", AF_INET6, 1);
	check_roundtrip("[2001:db8::dead:beef]:6000", AF_INET6, 6000);

	CHECK(!replicast_endpoint_parse("192.0.2.7:80", &ep) &&
	      ep.addr.v4.s_addr == inet_addr("192.0.2.7"), "IPv4 bytes are network order");

	check_rejected("");
	check_rejected("10.0.0.1");
	check_rejected("10.0.0.1:");
	check_rejected("10.0.0.1:0");
	check_rejected("10.0.0.1:65536");
	check_rejected("10.0.0.1:-1");
	check_rejected("10.0.0.1:+5");
	check_rejected("10.0.0.1:80x");
	check_rejected("10.0.0.256:80");
	check_rejected("host.example:80");
	check_rejected("fd00::1:80");
	check_rejected("[fd00::1]80");
	check_rejected("[fd00::1]:");
	check_rejected("[10.0.0.1]:80");
	check_rejected("[]:80");
	check_rejected(":80");

	CHECK(!replicast_mac_parse("02:00:0a:ff:00:01", mac) && mac[0] == 0x02 && mac[2] == 0x0a &&
	      mac[3] == 0xff && mac[5] == 0x01, "MAC parses to its bytes");
	CHECK(replicast_mac_parse("02:00:0a:ff:00", mac) == -EINVAL, "short MAC rejected");
	CHECK(replicast_mac_parse("02:00:0a:ff:00:01:02", mac) == -EINVAL, "long MAC rejected");
	CHECK(replicast_mac_parse("02-00-0a-ff-00-01", mac) == -EINVAL, "dashes rejected");
	CHECK(replicast_mac_parse("0g:00:0a:ff:00:01", mac) == -EINVAL, "non-hex rejected");
	CHECK(replicast_mac_parse("2:0:a:ff:0:1", mac) == -EINVAL, "unpadded rejected");

	check_equal_and_sockaddr();
	check_ranges();

	for (i = 0; i < replicast_drop_reason_count(); i++)
		CHECK(strcmp(replicast_drop_reason_name(i), "unknown") != 0,
		      "drop reason %d has a name (%s)", i, replicast_drop_reason_name(i));
	CHECK(!strcmp(replicast_drop_reason_name(-1), "unknown"), "out of range reason");
	CHECK(!strcmp(replicast_strerror(-ENOSPC), "table full"), "ENOSPC explained");
	CHECK(strlen(replicast_strerror(-ENOMEM)) > 0, "other errors fall back to strerror");
	return unit_summary();
}
