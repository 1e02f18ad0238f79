/* smtp_cmd_data.c: DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030 §2).
 *   data = "DATA" CRLF                bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF
 * DATA: check the transaction has recipients and did not use BDAT, reply 354, then
 * decode the dot-stuffed text (smtp_data) until CRLF "." CRLF. BDAT: the chunk is
 * always read, even when the command is refused (RFC 3030 §2: otherwise its bytes
 * would be taken for commands); a refused chunk is discarded and answered after.
 * Both apply one policy to the message: bare CR, bare LF and NUL are refused (554
 * after the end of the data, the LAST chunk for BDAT). The message text is read by
 * continuations (lib/conn) that own the input until the end of the data or chunk. */
#include "session.h"

#include "log.h"

#include <inttypes.h>
#include <string.h>

#define DATA_PEEK (256 * 1024)

static void data_input(void *arg);
static void bdat_input(void *arg);
static const struct conn_continuation data_k = { .data = data_input };
static const struct conn_continuation bdat_k = { .data = bdat_input };

void smtp_cmd_data(struct smtp_session *ss, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &ss->txn;
	if (cmd->arg.len > 0) {
		smtp_reply(ss, 501, "5.5.4", "Syntax: DATA");
		smtp_error(ss);
		return;
	}
	if (!t->active) {
		smtp_reply(ss, 503, "5.5.1", "Need MAIL command");
		smtp_error(ss);
		return;
	}
	if (t->nrcpts == 0) {
		smtp_reply(ss, 503, "5.5.1", "Need RCPT command");
		smtp_error(ss);
		return;
	}
	if (t->bdat) {
		smtp_reply(ss, 503, "5.5.1", "DATA after BDAT is not allowed");
		smtp_error(ss);
		return;
	}
	smtp_data_init(&t->dec, ss->s->message_max);
	buf_reset(&t->data);
	conn_continue(ss->c, &data_k, ss);
	smtp_reply(ss, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* Counts the received data against limits.message_memory; past it, the rest of the
 * message is still read (to stay in step with the client) but dropped, and the
 * transaction ends with 452 4.3.1 (smtp_deliver). */
static void hold_data(struct smtp_session *ss)
{
	struct smtp_txn *t = &ss->txn;
	if (!t->no_memory && conn_mem_reserve(ss->c, t->data.len) == 0) {
		conn_log(ss->c, LOG_WARN, "event=message_memory_full size=%zu", t->data.len);
		t->no_memory = true;
		buf_free(&t->data);
		conn_mem_release(ss->c);
	}
	if (t->no_memory)
		buf_reset(&t->data);
}

static void data_input(void *arg)
{
	struct smtp_session *ss = arg;
	struct smtp_txn *t = &ss->txn;
	size_t avail;
	while ((avail = conn_input_len(ss->c)) > 0) {
		size_t n = avail < DATA_PEEK ? avail : DATA_PEEK;
		const char *p = conn_input_peek(ss->c, n);
		size_t used;
		int done = smtp_data_feed(&t->dec, (struct bytes){ p, n }, &t->data, &used);
		conn_input_consume(ss->c, used);
		hold_data(ss);
		if (done) {
			conn_continue_end(ss->c);
			smtp_deliver(ss);
			return;
		}
	}
}

/* RFC 3030 §2: chunk-size = 1*DIGIT; end-marker = "LAST" */
static int parse_bdat(struct bytes arg, uint64_t *size_r, bool *last_r)
{
	const char *sp = memchr(arg.p, ' ', arg.len);
	struct bytes num = { arg.p, sp ? (size_t)(sp - arg.p) : arg.len };
	*last_r = false;
	if (buf_parse_uint64(num, UINT64_MAX / 2, size_r) < 0)
		return -1;
	if (sp != NULL) {
		struct bytes rest = { sp + 1, arg.len - num.len - 1 };
		if (!bytes_ieq(rest, "LAST"))
			return -1;
		*last_r = true;
	}
	return 1;
}

void smtp_cmd_bdat(struct smtp_session *ss, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &ss->txn;
	uint64_t size;
	bool last;
	if (parse_bdat(cmd->arg, &size, &last) < 0) {
		/* without a size the chunk cannot be skipped: the session is out of step */
		smtp_reply(ss, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		conn_close(ss->c);
		return;
	}
	ss->bdat_failed = false;
	if (!t->active)
		ss->bdat_err = (struct smtp_error){ 503, "5.5.1", "Need MAIL command" };
	else if (t->nrcpts == 0)
		ss->bdat_err = (struct smtp_error){ 503, "5.5.1", "Need RCPT command" };
	else
		ss->bdat_err.code = 0;
	ss->bdat_failed = ss->bdat_err.code != 0;
	if (!ss->bdat_failed && !t->bdat) {
		t->bdat = true;
		smtp_data_init(&t->dec, ss->s->message_max);
		buf_reset(&t->data);
	}
	t->bdat_left = size;
	t->bdat_last = last;
	conn_continue(ss->c, &bdat_k, ss);
	bdat_input(ss); /* BDAT 0 LAST ends here, without waiting for input */
}

static void bdat_input(void *arg)
{
	struct smtp_session *ss = arg;
	struct smtp_txn *t = &ss->txn;
	while (t->bdat_left > 0) {
		size_t avail = conn_input_len(ss->c);
		if (avail == 0)
			return;
		size_t n = avail < t->bdat_left ? avail : (size_t)t->bdat_left;
		if (n > DATA_PEEK)
			n = DATA_PEEK;
		if (!ss->bdat_failed) {
			/* the same policy as DATA: bare CR, bare LF and NUL are refused at
			 * the end (smtp_deliver); BINARYMIME is not offered */
			smtp_data_scan(&t->dec, (struct bytes){ conn_input_peek(ss->c, n), n });
			t->dec.size += n;
			if (t->dec.size > t->dec.max)
				t->dec.too_big = true;
			if (!t->dec.too_big) {
				buf_append(&t->data, conn_input_peek(ss->c, n), n);
				hold_data(ss);
			}
		}
		conn_input_consume(ss->c, n);
		t->bdat_left -= n;
		t->bdat_total += n;
	}
	conn_continue_end(ss->c);
	if (ss->bdat_failed) {
		smtp_reply(ss, ss->bdat_err.code, ss->bdat_err.enh, "%s", ss->bdat_err.text);
		smtp_error(ss);
		return;
	}
	if (t->bdat_last) {
		smtp_data_scan_end(&t->dec);
		smtp_deliver(ss);
		return;
	}
	smtp_reply(ss, 250, "2.0.0", "%" PRIu64 " octets received", t->dec.size);
}
