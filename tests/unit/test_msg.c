/* Unit tests for the message helpers (libqs/src/msg.c). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include <qs/sq.h>

static qs_msg_t m;

static void
test_init_clears_header(void)
{
	memset(&m, 0xAB, sizeof(m));
	qs_msg_init(&m, 42);
	CHECK(m.hdr.opcode == 42);
	CHECK(m.hdr.len == 0 && m.hdr.ool_len == 0 && m.hdr.ool == 0);
	CHECK(m.hdr.txid == 0 && m.hdr.status == 0 && m.hdr.flags == 0);
}

static void
test_put_and_get(void)
{
	uint32_t a = 7, b = 0xDEADBEEF;
	size_t off = 0;
	qs_msg_init(&m, 1);
	CHECK(qs_msg_put(&m, &a, sizeof(a)) == 0);
	CHECK(qs_msg_put_str(&m, "hi") == 0);
	CHECK(qs_msg_put(&m, &b, sizeof(b)) == 0);
	CHECK(m.hdr.len == 4 + 3 + 4);
	const uint32_t *pa = qs_msg_get(&m, &off, sizeof(a));
	const char *s = qs_msg_get(&m, &off, 3);
	uint32_t pb;
	memcpy(&pb, qs_msg_get(&m, &off, sizeof(pb)), sizeof(pb));
	CHECK(pa && *pa == 7 && s && strcmp(s, "hi") == 0 && pb == b);
	CHECK(qs_msg_get(&m, &off, 1) == NULL); /* nothing left */
	CHECK(off == m.hdr.len);
}

static void
test_put_refuses_overflow(void)
{
	static uint8_t big[QS_MSG_INLINE];
	qs_msg_init(&m, 1);
	CHECK(qs_msg_put(&m, big, sizeof(big)) == 0);
	CHECK(qs_msg_put(&m, big, 1) == QS_E2BIG);
	CHECK(m.hdr.len == QS_MSG_INLINE); /* unchanged by the refusal */
	qs_msg_init(&m, 1);
	CHECK(qs_msg_put(&m, big, sizeof(big) + 1) == QS_E2BIG);
	CHECK(m.hdr.len == 0);
}

static void
test_get_bounds(void)
{
	size_t off = 0;
	qs_msg_init(&m, 1);
	qs_msg_put(&m, "abcd", 4);
	CHECK(qs_msg_get(&m, &off, 5) == NULL && off == 0);
	off = 5; /* past the end */
	CHECK(qs_msg_get(&m, &off, 0) == NULL);
	off = 2;
	CHECK(qs_msg_get(&m, &off, (size_t)-1) == NULL && off == 2);
}

static void
test_typed_view(void)
{
	struct pair { uint32_t x, y; } p = { 1, 2 };
	qs_msg_init(&m, 1);
	qs_msg_put(&m, &p, sizeof(p) - 1);
	CHECK(QS_MSG_AS(&m, struct pair) == NULL); /* too short */
	qs_msg_init(&m, 1);
	qs_msg_put(&m, &p, sizeof(p));
	const struct pair *v = QS_MSG_AS(&m, struct pair);
	CHECK(v && v->x == 1 && v->y == 2);
}

static void
test_ool(void)
{
	static char data[100];
	qs_msg_init(&m, 1);
	qs_msg_set_ool(&m, data, sizeof(data));
	CHECK(m.hdr.ool == (uint32_t)(uintptr_t)data);
	CHECK(m.hdr.ool_len == sizeof(data));
}

int
main(void)
{
	RUN(test_init_clears_header);
	RUN(test_put_and_get);
	RUN(test_put_refuses_overflow);
	RUN(test_get_bounds);
	RUN(test_typed_view);
	RUN(test_ool);
	return check_summary();
}
