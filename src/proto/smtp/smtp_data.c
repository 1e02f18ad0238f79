/* smtp_data.c: dot-unstuffing state machine and the BDAT scanner (see smtp_data.h). */
#include "smtp_data.h"

enum {
	ST_LINE_START, /* after CRLF (or at the start) */
	ST_TEXT,       /* inside a line */
	ST_CR,         /* after a CR inside a line */
	ST_DOT,        /* a "." at the start of a line */
	ST_DOT_CR,     /* "." CR at the start of a line */
};

void smtp_data_init(struct smtp_data *d, uint64_t max)
{
	*d = (struct smtp_data){ .state = ST_LINE_START, .max = max };
}

static void put(struct smtp_data *d, struct buf *out, const char *p, size_t n)
{
	d->size += n;
	if (d->too_big)
		return;
	if (d->size > d->max) {
		d->too_big = true;
		return;
	}
	buf_append(out, p, n);
}

int smtp_data_feed(struct smtp_data *d, struct bytes in, struct buf *out, size_t *used_r)
{
	size_t i = 0;
	size_t run = 0; /* start of a run of plain text bytes to copy at once */
	while (i < in.len) {
		unsigned char c = (unsigned char)in.p[i];
		switch (d->state) {
		case ST_TEXT:
			if (c == '\r') {
				put(d, out, in.p + run, i - run);
				d->state = ST_CR;
			} else if (c == '\n') {
				d->bare_eol = true; /* stays inside the line: no end of data here */
			} else if (c == '\0') {
				d->nul = true;
			}
			i++;
			break;
		case ST_LINE_START:
			if (c == '.') {
				d->state = ST_DOT;
				i++;
				break;
			}
			d->state = ST_TEXT;
			run = i;
			break; /* the byte is looked at again as text */
		case ST_CR:
			if (c == '\n') {
				put(d, out, "\r\n", 2);
				d->state = ST_LINE_START;
				i++;
			} else {
				d->bare_eol = true;
				put(d, out, "\r", 1);
				d->state = ST_TEXT;
				run = i;
			}
			break;
		case ST_DOT:
			if (c == '\r') {
				d->state = ST_DOT_CR;
				i++;
			} else {
				d->state = ST_TEXT; /* the stuffed dot is dropped */
				run = i;
			}
			break;
		case ST_DOT_CR:
			if (c == '\n') {
				*used_r = i + 1;
				d->state = ST_LINE_START;
				return 1;
			}
			d->state = ST_CR; /* "." then a bare CR: the dot was stuffing */
			break;
		}
	}
	if (d->state == ST_TEXT)
		put(d, out, in.p + run, i - run);
	*used_r = i;
	return 0;
}

void smtp_data_scan(struct smtp_data *d, struct bytes in)
{
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (d->state == ST_CR && c != '\n')
			d->bare_eol = true; /* a CR not followed by LF */
		if (c == '\n' && d->state != ST_CR)
			d->bare_eol = true; /* an LF without its CR */
		else if (c == '\0')
			d->nul = true;
		d->state = c == '\r' ? ST_CR : ST_TEXT;
	}
}

void smtp_data_scan_end(struct smtp_data *d)
{
	if (d->state == ST_CR)
		d->bare_eol = true;
	d->state = ST_TEXT;
}
