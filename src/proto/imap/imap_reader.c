/* imap_reader.c: command framing with literals (see imap_reader.h).
 *
 * RFC 9051 §9: literal = "{" number64 ["+"] "}" CRLF *CHAR8; literal8 = "~{" number64
 * "}" CRLF *OCTET; RFC 7888 §3: "{" number64 "+}" is the non-synchronizing form. */
#include "imap_reader.h"

#include <string.h>

void imap_reader_init(struct imap_reader *r, size_t line_max)
{
	memset(r, 0, sizeof(*r));
	r->line_max = line_max;
}

void imap_reader_free(struct imap_reader *r)
{
	buf_free(&r->cmd);
	memset(r, 0, sizeof(*r));
}

void imap_reader_reset(struct imap_reader *r)
{
	size_t line_max = r->line_max;
	buf_reset(&r->cmd);
	struct buf keep = r->cmd;
	memset(r, 0, sizeof(*r));
	r->cmd = keep;
	r->line_max = line_max;
}

struct bytes imap_reader_command(const struct imap_reader *r)
{
	return (struct bytes){ r->cmd.data ? r->cmd.data : "", r->cmd.len };
}

size_t imap_reader_size(const struct imap_reader *r)
{
	return r->cmd.len;
}

/* Does the line cmd[line_start..] end with a literal header? Sets the lit_* fields. */
static bool literal_header(struct imap_reader *r)
{
	const char *s = r->cmd.data + r->line_start;
	size_t n = r->cmd.len - r->line_start;
	if (n < 3 || s[n - 1] != '}')
		return false;
	size_t i = n - 1;
	bool plus = false;
	if (s[i - 1] == '+') {
		plus = true;
		i--;
	}
	size_t end = i; /* one past the last digit */
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || s[i - 1] != '{')
		return false;
	uint64_t v = 0;
	for (size_t k = i; k < end; k++) {
		unsigned d = (unsigned)(s[k] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + d;
	}
	r->lit8 = i >= 2 && s[i - 2] == '~';
	r->lit_size = v;
	r->lit_sync = !plus;
	return true;
}

int imap_reader_feed(struct imap_reader *r, const char *p, size_t n, size_t *used_r)
{
	size_t i = 0;
	*used_r = 0;
	while (i < n) {
		switch (r->state) {
		case IMAP_RD_DONE:
			return IMAP_READ_COMMAND;
		case IMAP_RD_DECIDE:
			*used_r = i;
			return IMAP_READ_LITERAL;
		case IMAP_RD_LITERAL: {
			size_t take = n - i;
			if ((uint64_t)take > r->lit_left)
				take = (size_t)r->lit_left;
			buf_append(&r->cmd, p + i, take);
			i += take;
			r->lit_left -= take;
			if (r->lit_left == 0) {
				r->state = IMAP_RD_LINE;
				r->line_start = r->cmd.len;
			}
			break;
		}
		case IMAP_RD_LINE: {
			const char *nl = memchr(p + i, '\n', n - i);
			size_t take = nl ? (size_t)(nl - (p + i)) : n - i;
			size_t have = r->cmd.len - r->line_start;
			/* a CR at the end (before the LF, now or later) is not counted */
			size_t counted = have + take;
			char last = take > 0 ? p[i + take - 1] : have > 0 ? r->cmd.data[r->cmd.len - 1] : '\0';
			if (last == '\r')
				counted--;
			if (counted > r->line_max) {
				*used_r = i;
				return IMAP_READ_TOO_LONG;
			}
			buf_append(&r->cmd, p + i, take);
			i += take;
			if (nl == NULL)
				break;
			i++; /* the LF */
			if (r->cmd.len > r->line_start && r->cmd.data[r->cmd.len - 1] == '\r') {
				r->cmd.len--;
				r->cmd.data[r->cmd.len] = '\0';
			}
			if (literal_header(r)) {
				buf_append(&r->cmd, "\r\n", 2);
				r->literals++;
				r->state = IMAP_RD_DECIDE;
				*used_r = i;
				return IMAP_READ_LITERAL;
			}
			r->state = IMAP_RD_DONE;
			*used_r = i;
			return IMAP_READ_COMMAND;
		}
		}
	}
	*used_r = i;
	if (r->state == IMAP_RD_DONE)
		return IMAP_READ_COMMAND;
	if (r->state == IMAP_RD_DECIDE)
		return IMAP_READ_LITERAL;
	return IMAP_READ_MORE;
}

void imap_reader_literal_accept(struct imap_reader *r)
{
	if (r->state != IMAP_RD_DECIDE)
		return;
	r->lit_left = r->lit_size;
	if (r->lit_left == 0) {
		r->state = IMAP_RD_LINE;
		r->line_start = r->cmd.len;
	} else {
		r->state = IMAP_RD_LITERAL;
	}
}
