/* fuzz_imap_stream.c: libFuzzer target for the IMAP command stream with literals:
 * the framing (src/proto/imap/imap_reader.h) and the argument parsers behind it
 * (imap_parse.h, imap_args.h, imap_search.h, imap_fetch.h, and imap_format.h for
 * mailbox names).
 *
 * The first byte seeds the split; the rest is what a client sends. The reader runs as
 * the session runs it (imapd/session.c): a literal is accepted when it is small enough
 * (the limit here is small so that refusals are exercised), a too big synchronizing
 * literal drops the command and reading goes on, a too big LITERAL+ or a too long line
 * ends the stream. The stream is fed whole, one byte at a time and in random pieces:
 * the three must produce the same events (kind, command bytes, literal size and form)
 * and leave the same bytes buffered (after a too long line only the event itself counts). Every complete command is then parsed as imapd
 * would: the command line, UID, and the arguments of SEARCH, FETCH, STORE, APPEND,
 * LIST, COPY/MOVE, LOGIN and the mailbox commands, checking that parsers return 1 or
 * -1 with an error, stay inside the command, return NUL-terminated strings of the
 * stated length, keep search nesting within IMAP_SEARCH_DEPTH_MAX, and that a mailbox
 * name that decodes from modified UTF-7 encodes back to the same bytes. */
#include "fuzz.h"
#include "arena.h"
#include "imap_args.h"
#include "imap_fetch.h"
#include "imap_format.h"
#include "imap_parse.h"
#include "imap_reader.h"
#include "imap_search.h"

#include <string.h>

#define LINE_MAX_TEST 512
#define LITERAL_MAX_TEST 2048
#define COMMAND_MAX_TEST 8192
#define MAX_EVENTS 256

struct event {
	int kind;
	uint64_t hash;     /* of the command bytes */
	size_t len;
	uint64_t lit_size;
	bool sync, lit8;
};

struct run {
	struct event ev[MAX_EVENTS];
	size_t n;
	size_t consumed;
	size_t buffered;
	bool too_long;
};

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* ---------------------------------------------------------------- parsing */

static void check_str(const struct imap_cur *cur, const struct imap_str *s)
{
	(void)cur;
	if (s->s == NULL)
		return;
	CHECK(s->s[s->len] == '\0');
	if (!s->literal)
		CHECK(strlen(s->s) == s->len);
}

static void check_cur(const struct imap_cur *cur, int r)
{
	CHECK(r == 1 || r == -1);
	CHECK(cur->pos <= cur->len);
	if (r < 0)
		CHECK(cur->error != NULL && cur->error[0] != '\0');
}

static void mailbox_name(const struct imap_str *s)
{
	if (s->s == NULL)
		return;
	struct buf utf8 = { 0 }, back = { 0 };
	if (imap_utf7_decode(&utf8, s->s, s->len) == 1) {
		CHECK(imap_utf7_encode(&back, buf_str(&utf8), utf8.len) == 1);
		CHECK(back.len == s->len && memcmp(buf_str(&back), s->s, s->len) == 0);
		buf_reset(&back);
		imap_put_mailbox(&back, buf_str(&utf8));
		CHECK(back.len > 0);
	}
	buf_free(&utf8);
	buf_free(&back);
}

static int search_depth(const struct imap_search *n)
{
	int d = 0;
	for (; n != NULL; n = n->next) {
		CHECK(n->key >= IMAP_SK_ALL && n->key <= IMAP_SK_THREADID);
		if (n->key == IMAP_SK_OR) {
			CHECK(n->sub != NULL && n->sub->next != NULL && n->sub->next->next == NULL);
		} else if (n->key == IMAP_SK_NOT) {
			CHECK(n->sub != NULL && n->sub->next == NULL);
		} else if (n->key != IMAP_SK_AND) {
			CHECK(n->sub == NULL);
		}
		if (n->key == IMAP_SK_HEADER)
			CHECK(n->field != NULL && n->str != NULL);
		if (n->set.n > 0)
			CHECK(n->set.r != NULL);
		int sd = 1 + search_depth(n->sub);
		if (sd > d)
			d = sd;
	}
	return d;
}

static void check_seqset(const struct imap_seqset *s)
{
	if (s->saved)
		return;
	CHECK(s->n > 0 && s->r != NULL);
}

static void parse_args(struct arena *a, struct bytes name, struct imap_cur *cur)
{
	int r;
	struct imap_str s1, s2;
	struct imap_seqset set;
	const char **flags;
	size_t nflags;
	if (bytes_ieq(name, "SEARCH")) {
		struct imap_search *prog = NULL;
		const char *charset = NULL;
		r = imap_search_parse(cur, &prog, &charset);
		check_cur(cur, r);
		if (r > 0) {
			CHECK(prog != NULL && prog->key == IMAP_SK_AND);
			CHECK(search_depth(prog) <= IMAP_SEARCH_DEPTH_MAX + 2);
			CHECK(imap_cur_end(cur));
		}
	} else if (bytes_ieq(name, "FETCH")) {
		r = imap_cur_seqset(cur, true, 1000, &set);
		check_cur(cur, r);
		if (r < 0)
			return;
		check_seqset(&set);
		if (imap_cur_sp(cur) < 0)
			return;
		struct imap_fetch f;
		memset(&f, 0, sizeof(f));
		r = imap_fetch_parse(cur, &f);
		check_cur(cur, r);
		if (r > 0) {
			size_t n = 0;
			for (const struct imap_fetch_body *b = f.bodies; b != NULL; b = b->next) {
				CHECK(b->part != NULL && b->name != NULL);
				if (b->text == IMAP_SECTION_FIELDS || b->text == IMAP_SECTION_FIELDS_NOT) {
					CHECK(b->fields != NULL);
					size_t k = 0;
					while (b->fields[k] != NULL)
						k++;
					CHECK(k == b->nfields && k > 0);
				}
				if (b->partial)
					CHECK(b->count > 0);
				if (!b->peek && b->kind != IMAP_BODY_BINARY_SIZE)
					CHECK(f.sets_seen);
				n++;
			}
			CHECK(n == f.nbodies);
		}
	} else if (bytes_ieq(name, "STORE")) {
		r = imap_cur_seqset(cur, true, 1000, &set);
		check_cur(cur, r);
		struct bytes op;
		if (r < 0 || imap_cur_sp(cur) < 0 || imap_cur_atom(cur, &op) < 0 || imap_cur_sp(cur) < 0)
			return;
		CHECK(op.len > 0 && view_inside(op, cur->p, cur->len));
		r = imap_cur_store_flags(cur, &flags, &nflags);
		check_cur(cur, r);
		if (r > 0) {
			for (size_t i = 0; i < nflags; i++)
				CHECK(flags[i] != NULL && flags[i][0] != '\0');
			CHECK(flags[nflags] == NULL);
		}
	} else if (bytes_ieq(name, "APPEND")) {
		r = imap_cur_astring(cur, &s1);
		check_cur(cur, r);
		if (r < 0)
			return;
		check_str(cur, &s1);
		mailbox_name(&s1);
		if (imap_cur_sp(cur) < 0)
			return;
		if (imap_cur_peek(cur) == '(') {
			r = imap_cur_flag_list(cur, &flags, &nflags);
			check_cur(cur, r);
			if (r < 0 || imap_cur_sp(cur) < 0)
				return;
			CHECK(flags[nflags] == NULL);
		}
		if (imap_cur_peek(cur) == '"') {
			int64_t t;
			int tz;
			r = imap_cur_datetime(cur, &t, &tz);
			check_cur(cur, r);
			if (r < 0 || imap_cur_sp(cur) < 0)
				return;
			CHECK(tz >= -24 * 60 && tz <= 24 * 60);
		}
		struct bytes msg;
		bool lit8;
		r = imap_cur_literal_view(cur, &msg, &lit8);
		check_cur(cur, r);
		if (r > 0)
			CHECK(view_inside(msg, cur->p, cur->len));
	} else if (bytes_ieq(name, "LIST") || bytes_ieq(name, "LSUB")) {
		r = imap_cur_astring(cur, &s1);
		check_cur(cur, r);
		if (r < 0 || imap_cur_sp(cur) < 0)
			return;
		check_str(cur, &s1);
		r = imap_cur_list_mailbox(cur, &s2);
		check_cur(cur, r);
		if (r > 0) {
			check_str(cur, &s2);
			mailbox_name(&s2);
		}
	} else if (bytes_ieq(name, "COPY") || bytes_ieq(name, "MOVE")) {
		r = imap_cur_seqset(cur, true, 1000, &set);
		check_cur(cur, r);
		if (r < 0 || imap_cur_sp(cur) < 0)
			return;
		check_seqset(&set);
		r = imap_cur_astring(cur, &s1);
		check_cur(cur, r);
		if (r > 0) {
			check_str(cur, &s1);
			mailbox_name(&s1);
		}
	} else if (bytes_ieq(name, "LOGIN") || bytes_ieq(name, "RENAME")) {
		r = imap_cur_astring(cur, &s1);
		check_cur(cur, r);
		if (r < 0 || imap_cur_sp(cur) < 0)
			return;
		check_str(cur, &s1);
		r = imap_cur_astring(cur, &s2);
		check_cur(cur, r);
		if (r > 0)
			check_str(cur, &s2);
	} else if (bytes_ieq(name, "SEARCHDATE")) {
		int y, m, d;
		r = imap_cur_date(cur, &y, &m, &d);
		check_cur(cur, r);
		if (r > 0) {
			CHECK(m >= 1 && m <= 12 && d >= 1 && d <= 31);
			(void)imap_days_from_civil(y, m, d);
		}
	} else if (bytes_ieq(name, "NUMBER")) {
		uint64_t v;
		r = imap_cur_number(cur, 1, 4294967295u, &v);
		check_cur(cur, r);
		if (r > 0)
			CHECK(v >= 1 && v <= 4294967295u);
	} else {
		/* SELECT, EXAMINE, CREATE, DELETE, SUBSCRIBE, STATUS, ...: a mailbox first, then
		 * anything as a sequence of atoms, nstrings and parentheses */
		r = imap_cur_astring(cur, &s1);
		check_cur(cur, r);
		if (r < 0)
			return;
		check_str(cur, &s1);
		mailbox_name(&s1);
		for (int guard = 0; guard < 1000 && !imap_cur_end(cur); guard++) {
			size_t before = cur->pos;
			if (imap_cur_skip(cur, ' ') || imap_cur_skip(cur, '(') || imap_cur_skip(cur, ')'))
				continue;
			struct bytes at;
			if (imap_cur_peek(cur) == '"' || imap_cur_peek(cur) == '{' || imap_cur_peek(cur) == '~')
				r = imap_cur_nstring(cur, &s2);
			else
				r = imap_cur_fetch_att(cur, &at);
			check_cur(cur, r);
			if (r < 0 || cur->pos == before)
				break;
		}
	}
	(void)a;
}

static void parse_command(struct bytes cmd)
{
	struct imap_command_line cl;
	const char *error = NULL;
	int r = imap_parse_command_line(cmd, &cl, &error);
	CHECK(r >= -1 && r <= 1);
	if (r <= 0)
		return;
	CHECK(view_inside(cl.args, cmd.p, cmd.len));
	struct arena *a = arena_new();
	struct imap_cur cur;
	imap_cur_init(&cur, a, cl.args);
	struct bytes name = cl.name;
	if (bytes_ieq(name, "UID")) {
		if (imap_cur_atom(&cur, &name) < 0 || (!imap_cur_end(&cur) && imap_cur_sp(&cur) < 0))
			goto out;
		CHECK(view_inside(name, cmd.p, cmd.len));
	}
	parse_args(a, name, &cur);
out:
	arena_free(&a);
}

/* ---------------------------------------------------------------- framing */

static void read_stream(const char *p, size_t len, size_t step, uint32_t seed, bool parse, struct run *out)
{
	memset(out, 0, sizeof(*out));
	struct imap_reader rd;
	imap_reader_init(&rd, LINE_MAX_TEST);
	size_t pos = 0, chunk_end = 0;
	uint32_t s = seed | 1;
	bool stop = false;
	while (!stop && out->n < MAX_EVENTS) {
		if (pos >= chunk_end) {
			if (pos >= len)
				break;
			size_t n = step ? step : 1 + rng_next(&s) % 97;
			chunk_end = pos + (n > len - pos ? len - pos : n);
		}
		size_t used = (size_t)-1;
		int r = imap_reader_feed(&rd, p + pos, chunk_end - pos, &used);
		CHECK(used <= chunk_end - pos);
		pos += used;
		if (r == IMAP_READ_MORE) {
			CHECK(pos == chunk_end);
			continue;
		}
		struct event *e = &out->ev[out->n++];
		struct bytes cmd = imap_reader_command(&rd);
		CHECK(cmd.len == imap_reader_size(&rd));
		e->kind = r;
		e->hash = fnv(cmd.p, cmd.len);
		e->len = cmd.len;
		switch (r) {
		case IMAP_READ_TOO_LONG:
			/* how much of the overlong line was taken depends on the pieces */
			e->hash = 0;
			e->len = 0;
			out->too_long = true;
			stop = true;
			break;
		case IMAP_READ_LITERAL: {
			e->lit_size = rd.lit_size;
			e->sync = rd.lit_sync;
			e->lit8 = rd.lit8;
			CHECK(rd.literals > 0);
			/* the literal header and a CRLF end the command so far */
			CHECK(cmd.len >= 5 && memcmp(cmd.p + cmd.len - 3, "}\r\n", 3) == 0);
			bool ok = rd.lit_size <= LITERAL_MAX_TEST && cmd.len + rd.lit_size <= COMMAND_MAX_TEST;
			if (ok)
				imap_reader_literal_accept(&rd);
			else if (rd.lit_sync)
				imap_reader_reset(&rd);
			else
				stop = true; /* LITERAL+ too big: the connection is closed */
			break;
		}
		case IMAP_READ_COMMAND:
			CHECK(cmd.len <= COMMAND_MAX_TEST + LINE_MAX_TEST * (rd.literals + 1) + 4 * rd.literals);
			if (parse)
				parse_command(cmd);
			imap_reader_reset(&rd);
			break;
		default:
			CHECK(!"unexpected reader result");
		}
	}
	out->consumed = pos;
	out->buffered = imap_reader_size(&rd);
	imap_reader_free(&rd);
}

static void same(const struct run *a, const struct run *b)
{
	CHECK(a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct event *x = &a->ev[i], *y = &b->ev[i];
		CHECK(x->kind == y->kind && x->hash == y->hash && x->len == y->len);
		if (x->kind == IMAP_READ_LITERAL)
			CHECK(x->lit_size == y->lit_size && x->sync == y->sync && x->lit8 == y->lit8);
	}
	CHECK(a->too_long == b->too_long);
	if (a->too_long)
		return;
	CHECK(a->consumed == b->consumed);
	if (a->n < MAX_EVENTS)
		CHECK(a->buffered == b->buffered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t seed = data[0] * 2654435761u;
	const char *p = (const char *)data + 1;
	size_t len = size - 1;
	static struct run whole, bytewise, pieces;
	read_stream(p, len, len ? len : 1, 0, true, &whole);
	read_stream(p, len, 1, 0, false, &bytewise);
	read_stream(p, len, 0, seed, false, &pieces);
	same(&whole, &bytewise);
	same(&whole, &pieces);
	return 0;
}
