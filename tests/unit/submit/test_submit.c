/* test_submit.c: the message pipeline (src/submit) against a real store in a
 * temporary directory and a real (not started) outbound queue: the sender and
 * recipient rules, postmaster@, the one size definition, the trace headers, the
 * quota, the hook contract with test hooks (add a header, pick a mailbox,
 * refuse with a reason), in order, and the hourly send limits of an account. */
#include "../store/helpers.h"

#include "queue.h"
#include "submit.h"

static struct settings settings = { .hostname = "mx.example.test", .message_max = 4096, .recipients_max = 5 };
static struct settings_ref sref;

struct pfix {
	struct fixture *f;
	struct queue *q;
	struct submit *sp;
};

static int setup(void **state)
{
	struct pfix *p = calloc(1, sizeof(*p));
	if (fixture_setup((void **)&p->f) < 0)
		return -1;
	settings_publish(&sref, &settings);
	struct queue_settings qs = { .hostname = "mx.example.test", .no_fsync = true };
	const char *err;
	p->q = queue_open(p->f->dir, &qs, &err);
	assert_non_null(p->q);
	p->sp = submit_new(p->f->s, p->q, &sref, NULL);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pfix *p = *state;
	submit_free(&p->sp);
	queue_close(&p->q);
	void *f = p->f;
	fixture_teardown(&f);
	free(p);
	return 0;
}

static const struct submit_origin webmail_a = { .kind = SUBMIT_KIND_WEBMAIL, .client_ip = "192.0.2.1",
						.helo = "webmail", .with = "HTTPSA", .tls = true,
						.auth_user = "a@example.test" };

static struct submit_origin origin_a(struct pfix *p, enum submit_kind kind)
{
	struct submit_origin o = webmail_a;
	o.kind = kind;
	o.auth_account = p->f->acct;
	if (kind != SUBMIT_KIND_WEBMAIL) {
		o.helo = "client.example";
		o.with = "ESMTPSA";
	}
	return o;
}

static int send(struct pfix *p, const struct submit_origin *o, const char *sender, const char *to, const char *text,
		struct submit_outcome *out)
{
	struct submit_message m = { .origin = o, .sender = sender };
	buf_puts(&m.data, text);
	const char *rcpts[] = { to };
	return submit_send(p->sp, &m, rcpts, 1, p->f->a, out);
}

/* The newest message of a mailbox of acct ("INBOX" or another name), or NULL. */
static const char *newest(struct pfix *p, int64_t acct, const char *mailbox)
{
	struct store_mailbox mb;
	const char *err;
	if (store_mailbox_get(p->f->s, p->f->a, acct, mailbox, &mb, &err) <= 0)
		return NULL;
	struct store_msg *msgs;
	size_t n;
	assert_true(store_msg_list(p->f->s, p->f->a, acct, mb.id, NULL, 0, &msgs, &n, &err) >= 0);
	if (n == 0)
		return NULL;
	const char *data;
	size_t len;
	assert_int_equal(store_msg_read(p->f->s, p->f->a, acct, mb.id, msgs[n - 1].uid, &data, &len, &err), 1);
	return data;
}

/* The field names of the header, in order, as "Name,Name,". */
static const char *field_names(struct pfix *p, const char *msg)
{
	struct buf b = { 0 };
	for (const char *l = msg; *l != '\0' && !(l[0] == '\r' && l[1] == '\n');) {
		if (*l != ' ' && *l != '\t') {
			const char *colon = strchr(l, ':');
			buf_append(&b, l, (size_t)(colon - l));
			buf_putc(&b, ',');
		}
		l = strstr(l, "\r\n") + 2;
	}
	const char *s = arena_strdup(p->f->a, b.data ? b.data : "");
	buf_free(&b);
	return s;
}

static const char plain[] = "From: a@example.test\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nbody\r\n";

static void trace_headers_in_order(void **state)
{
	struct pfix *p = *state;
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
	assert_int_equal(out.nlocal, 1);
	const char *msg = newest(p, p->f->acct2, "INBOX");
	assert_non_null(msg);
	assert_string_equal(field_names(p, msg), "Return-Path,Received,Date,Message-ID,From,To,Subject,");
	assert_non_null(strstr(msg, "Received: from webmail ([192.0.2.1])\r\n\tby mx.example.test (postamt) with HTTPSA"));
	assert_non_null(strstr(msg, "for <b@example.test>"));
	/* a Date and Message-ID that came with the message stay, none is added */
	const char *dated = "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nFrom: a@example.test\r\n\r\nb\r\n";
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", dated, &out), SUBMIT_OK);
	assert_string_equal(field_names(p, newest(p, p->f->acct2, "INBOX")), "Return-Path,Received,Date,Message-ID,From,");
	/* port 25 adds no Date or Message-ID (RFC 6409 §8.3 is for submission) */
	struct submit_origin mx = { .kind = SUBMIT_KIND_MX, .client_ip = "198.51.100.7", .helo = "remote", .with = "ESMTP" };
	assert_int_equal(send(p, &mx, "x@remote.test", "b@example.test", "Subject: s\r\n\r\nb\r\n", &out), SUBMIT_OK);
	assert_string_equal(field_names(p, newest(p, p->f->acct2, "INBOX")), "Return-Path,Received,Subject,");
}

static void postmaster_of_every_domain(void **state)
{
	struct pfix *p = *state;
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	/* no account or alias postmaster@: the domain's first account gets it */
	assert_int_equal(send(p, &o, "a@example.test", "postmaster@example.test", plain, &out), SUBMIT_OK);
	assert_non_null(newest(p, p->f->acct, "INBOX"));
	struct submit_rcpt r;
	const char *err;
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "Postmaster@EXAMPLE.test", false, 0, 0, &r, &err), SUBMIT_OK);
	assert_int_equal(r.naccounts, 1);
	assert_int_equal(r.accounts[0], p->f->acct);
	/* "postmaster" alone: postmaster@ the first local domain */
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "postmaster", false, 0, 0, &r, &err), SUBMIT_OK);
	assert_int_equal(r.accounts[0], p->f->acct);
}

static void refusals(void **state)
{
	struct pfix *p = *state;
	struct submit_origin o = origin_a(p, SUBMIT_KIND_SUBMISSION);
	struct submit_outcome out;
	assert_int_equal(send(p, &o, "a@example.test", "nobody@example.test", plain, &out), SUBMIT_UNKNOWN_RCPT);
	assert_string_equal(out.detail, "nobody@example.test");
	assert_int_equal(send(p, &o, "b@example.test", "b@example.test", plain, &out), SUBMIT_FORBIDDEN_SENDER);
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", "From: b@example.test\r\n\r\nx\r\n", &out),
			 SUBMIT_FORBIDDEN_FROM);
	assert_string_equal(out.detail, "b@example.test");
	assert_null(newest(p, p->f->acct2, "INBOX"));
	/* port 25: no relaying, no local senders without AUTH, the null sender is fine */
	struct submit_origin mx = { .kind = SUBMIT_KIND_MX, .client_ip = "198.51.100.7", .helo = "r", .with = "ESMTP" };
	struct submit_rcpt r;
	const char *err;
	assert_int_equal(submit_rcpt(p->sp, &mx, p->f->a, "x@remote.test", false, 0, 0, &r, &err), SUBMIT_RELAY_DENIED);
	assert_int_equal(submit_sender(p->sp, &mx, p->f->a, "a@example.test", 0, &err), SUBMIT_LOCAL_SENDER);
	assert_int_equal(submit_sender(p->sp, &mx, p->f->a, "", 0, &err), SUBMIT_OK);
	assert_int_equal(submit_sender(p->sp, &mx, p->f->a, "x@remote.test", 4097, &err), SUBMIT_TOO_BIG);
	/* without a queue, remote recipients cannot be taken */
	struct submit *noq = submit_new(p->f->s, NULL, &sref, NULL);
	assert_int_equal(submit_rcpt(noq, &o, p->f->a, "x@remote.test", false, 0, 0, &r, &err), SUBMIT_NO_OUTBOUND);
	submit_free(&noq);
	assert_null(noq);
	/* with one, they are queued durably and the id is the queue's */
	assert_int_equal(send(p, &o, "a@example.test", "x@remote.test", plain, &out), SUBMIT_OK);
	assert_int_equal(out.nremote, 1);
	assert_int_equal(strlen(out.id), 20); /* a queue id (queue_spool.c), not the pipeline's own */
	struct submit_message m = { .origin = &o, .sender = "a@example.test" };
	const char *many[] = { "b@example.test", "b@example.test", "b@example.test", "b@example.test",
			       "b@example.test", "b@example.test" };
	assert_int_equal(submit_send(p->sp, &m, many, 6, p->f->a, &out), SUBMIT_TOO_MANY_RCPTS);
	assert_int_equal(submit_send(p->sp, &m, many, 0, p->f->a, &out), SUBMIT_NO_RCPTS);
}

/* One size definition: the bytes handed in, before trace headers. */
static void size_before_trace_headers(void **state)
{
	struct pfix *p = *state;
	struct submit_origin o = origin_a(p, SUBMIT_KIND_SUBMISSION);
	struct submit_outcome out;
	char *text = malloc(settings.message_max + 2);
	const char head[] = "From: a@example.test\r\n\r\n";
	memcpy(text, head, sizeof(head) - 1);
	memset(text + sizeof(head) - 1, 'x', settings.message_max - (sizeof(head) - 1));
	text[settings.message_max] = '\0';
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", text, &out), SUBMIT_OK);
	assert_true(out.size > settings.message_max); /* the trace headers do not count */
	text[settings.message_max] = 'x';
	text[settings.message_max + 1] = '\0';
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", text, &out), SUBMIT_TOO_BIG);
	free(text);
}

static void over_quota(void **state)
{
	struct pfix *p = *state;
	const char *err;
	assert_true(store_account_set_quota(p->f->s, "b@example.test", 100, &err) >= 0);
	struct submit_origin o = origin_a(p, SUBMIT_KIND_SUBMISSION);
	struct submit_outcome out;
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_OVER_QUOTA);
	assert_null(newest(p, p->f->acct2, "INBOX"));
	/* the pre-check at RCPT time with a declared size */
	struct submit_rcpt r;
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b@example.test", false, 1000, 0, &r, &err),
			 SUBMIT_OVER_QUOTA);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b@example.test", false, 10, 0, &r, &err), SUBMIT_OK);
}

/* ------------------------------------------------------------------ hooks */

struct hook_log {
	char order[16];
	size_t n;
};

static int hook_tag(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct hook_log *l = ctx;
	l->order[l->n++] = 'T';
	assert_non_null(m->origin);
	assert_string_equal(m->sender, "a@example.test");
	assert_int_equal(m->nrcpts, 1);
	assert_true(m->message.len > 0 && strncmp(m->message.p, "Received: ", 10) == 0);
	buf_puts(m->headers, "X-Test-Hook: tagged\r\n");
	m->mailbox = arena_strdup(m->arena, "Filtered");
	return SUBMIT_OK;
}

static int hook_second(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct hook_log *l = ctx;
	l->order[l->n++] = 'S';
	buf_puts(m->headers, "X-Second: 2\r\n");
	return SUBMIT_OK;
}

static int hook_refuse(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct hook_log *l = ctx;
	l->order[l->n++] = 'R';
	if (strstr(m->message.p, "Subject: spam") == NULL)
		return SUBMIT_OK;
	*reason_r = "looks like spam";
	return SUBMIT_POLICY;
}

static void hooks_in_order(void **state)
{
	struct pfix *p = *state;
	struct hook_log log = { 0 };
	submit_hook_add(p->sp, &(struct submit_hook){ "tag", hook_tag, &log });
	submit_hook_add(p->sp, &(struct submit_hook){ "second", hook_second, &log });
	submit_hook_add(p->sp, &(struct submit_hook){ "refuse", hook_refuse, &log });
	const char *err;
	assert_true(store_mailbox_create(p->f->s, p->f->acct2, "Filtered", 0, NULL, &err) >= 0);
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
	assert_string_equal(log.order, "TSR");
	assert_null(newest(p, p->f->acct2, "INBOX"));
	const char *msg = newest(p, p->f->acct2, "Filtered");
	assert_non_null(msg);
	assert_string_equal(field_names(p, msg),
			    "Return-Path,X-Test-Hook,X-Second,Received,Date,Message-ID,From,To,Subject,");
	/* a refusal stops the rest and stores nothing */
	memset(&log, 0, sizeof(log));
	const char *spam = "From: a@example.test\r\nSubject: spam\r\n\r\nbuy\r\n";
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", spam, &out), SUBMIT_POLICY);
	assert_string_equal(out.detail, "looks like spam");
	assert_string_equal(log.order, "TSR");
	/* a mailbox the account does not have: INBOX */
	memset(&log, 0, sizeof(log));
	assert_int_equal(send(p, &o, "a@example.test", "a@example.test", plain, &out), SUBMIT_OK);
	assert_non_null(newest(p, p->f->acct, "INBOX"));
}

/* A hook that removes header fields: "X-Drop" fields (whole, with their
 * continuation lines) and, to show that every hook sees the same message, the
 * same field again from a second call; bad spans are refused. */
static int hook_drop(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	const char *p = m->message.p;
	size_t n = m->message.len;
	int *bad = ctx;
	/* not whole fields: a part of a line, a continuation line, past the header */
	*bad += submit_hook_drop(m, 1, 5) < 0;
	*bad += submit_hook_drop(m, 0, n + 1) < 0;
	*bad += submit_hook_drop(m, n, 0) < 0;
	*bad += submit_hook_drop(m, 0, n) < 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) + 1 : n;
		if (end - i <= 2)
			break;
		if (strncmp(p + i, "X-Drop:", 7) == 0) {
			size_t e = end;
			while (e < n && (p[e] == ' ' || p[e] == '\t')) {
				nl = memchr(p + e, '\n', n - e);
				e = nl ? (size_t)(nl - p) + 1 : n;
			}
			/* the first line only: refused when the field is folded */
			*bad += submit_hook_drop(m, i, end - i) < 0;
			assert_int_equal(submit_hook_drop(m, i, e - i), 1);
			assert_int_equal(submit_hook_drop(m, i, e - i), 1);
			end = e;
		}
		i = end;
	}
	buf_puts(m->headers, "X-Added: yes\r\n");
	return SUBMIT_OK;
}

static void hooks_drop_fields(void **state)
{
	struct pfix *p = *state;
	int bad = 0;
	submit_hook_add(p->sp, &(struct submit_hook){ "drop", hook_drop, &bad });
	submit_hook_add(p->sp, &(struct submit_hook){ "drop2", hook_drop, &bad });
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	const char *text = "From: a@example.test\r\nX-Drop: one\r\n\tfolded\r\nTo: b@example.test\r\n"
			   "X-Drop: two\r\nSubject: hi\r\n\r\nX-Drop: in the body\r\n";
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", text, &out), SUBMIT_OK);
	assert_int_equal(bad, 2 * 5); /* in each hook: four bad spans, the folded field cut after its first line */
	const char *msg = newest(p, p->f->acct2, "INBOX");
	assert_non_null(msg);
	assert_string_equal(field_names(p, msg), "Return-Path,X-Added,X-Added,Received,Date,Message-ID,From,To,Subject,");
	assert_non_null(strstr(msg, "\r\n\r\nX-Drop: in the body\r\n"));
	assert_null(strstr(msg, "folded"));
}

/* A hook that files into Junk finds it even in an account that deleted it. */
static int hook_junk(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	m->mailbox = "Junk";
	return SUBMIT_OK;
}

static void junk_recreated(void **state)
{
	struct pfix *p = *state;
	const char *err;
	assert_true(store_mailbox_delete(p->f->s, p->f->acct2, "Junk", &err) >= 0);
	struct store_mailbox mb;
	assert_int_equal(store_mailbox_get(p->f->s, p->f->a, p->f->acct2, "Junk", &mb, &err), 0);
	submit_hook_add(p->sp, &(struct submit_hook){ "junk", hook_junk, NULL });
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
	assert_non_null(newest(p, p->f->acct2, "Junk"));
	assert_null(newest(p, p->f->acct2, "INBOX"));
	assert_int_equal(store_mailbox_get(p->f->s, p->f->a, p->f->acct2, "Junk", &mb, &err), 1);
	assert_int_equal(mb.special_use, STORE_SU_JUNK);
}

/* A hook that sets keywords: valid ones (twice is harmless), refused bad ones. */
static int hook_keywords(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	(void)reason_r;
	int *bad = ctx;
	*bad += submit_hook_keyword(m, "\\Seen") < 0;
	*bad += submit_hook_keyword(m, "two words") < 0;
	*bad += submit_hook_keyword(m, "") < 0;
	*bad += submit_hook_keyword(m, "br]acket") < 0;
	assert_int_equal(submit_hook_keyword(m, "$Junk"), 1);
	assert_int_equal(submit_hook_keyword(m, "$junk"), 1);
	assert_int_equal(submit_hook_keyword(m, "Filtered"), 1);
	m->mailbox = "Junk";
	return SUBMIT_OK;
}

/* Keywords a hook sets land on every local copy (and nothing else does). */
static void hooks_set_keywords(void **state)
{
	struct pfix *p = *state;
	int bad = 0;
	submit_hook_add(p->sp, &(struct submit_hook){ "keywords", hook_keywords, &bad });
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	struct submit_message m = { .origin = &o, .sender = "a@example.test" };
	buf_puts(&m.data, plain);
	const char *rcpts[] = { "a@example.test", "b@example.test" };
	assert_int_equal(submit_send(p->sp, &m, rcpts, 2, p->f->a, &out), SUBMIT_OK);
	assert_int_equal(bad, 4);
	const int64_t accts[] = { p->f->acct, p->f->acct2 };
	for (size_t i = 0; i < 2; i++) {
		struct store_mailbox mb;
		const char *err;
		assert_int_equal(store_mailbox_get(p->f->s, p->f->a, accts[i], "Junk", &mb, &err), 1);
		struct store_msg *msgs;
		size_t n;
		assert_true(store_msg_list(p->f->s, p->f->a, accts[i], mb.id, NULL, 0, &msgs, &n, &err) >= 0);
		assert_int_equal(n, 1);
		assert_string_equal(msgs[0].keywords, "$Junk Filtered");
	}
}

/* A hook that gives account b two copies (Work with \\Seen and a keyword, created;
 * a missing folder that falls back to INBOX) and account a none. */
static int hook_plan(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	struct pfix *p = ctx;
	static const char *const kw[] = { "$Work", NULL };
	const struct submit_copy copies[] = {
		{ .mailbox = "Work", .create = true, .flags = STORE_F_SEEN, .keywords = kw },
		{ .mailbox = "Missing" },
	};
	assert_int_equal(submit_hook_keyword(m, "Hooked"), 1);
	assert_int_equal(submit_hook_deliver(m, p->f->acct2, copies, 2), 1);
	assert_int_equal(submit_hook_deliver(m, p->f->acct, NULL, 0), 1);
	assert_int_equal(submit_hook_deliver(m, 999999, NULL, 0), -1); /* not a recipient */
	return SUBMIT_OK;
}

/* Per-account copies replace the default delivery of those accounts only. */
static void hooks_deliver_per_account(void **state)
{
	struct pfix *p = *state;
	submit_hook_add(p->sp, &(struct submit_hook){ "plan", hook_plan, p });
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	struct submit_message m = { .origin = &o, .sender = "a@example.test" };
	buf_puts(&m.data, plain);
	const char *rcpts[] = { "a@example.test", "b@example.test" };
	assert_int_equal(submit_send(p->sp, &m, rcpts, 2, p->f->a, &out), SUBMIT_OK);
	assert_null(newest(p, p->f->acct, "INBOX")); /* none for a */
	assert_non_null(newest(p, p->f->acct2, "INBOX")); /* Missing fell back to INBOX */
	struct store_mailbox mb;
	const char *err;
	assert_int_equal(store_mailbox_get(p->f->s, p->f->a, p->f->acct2, "Work", &mb, &err), 1);
	struct store_msg *msgs;
	size_t n;
	assert_true(store_msg_list(p->f->s, p->f->a, p->f->acct2, mb.id, NULL, 0, &msgs, &n, &err) >= 0);
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0].flags & STORE_F_SEEN, STORE_F_SEEN);
	assert_string_equal(msgs[0].keywords, "$Work Hooked");
	assert_int_equal(store_mailbox_get(p->f->s, p->f->a, p->f->acct2, "Missing", &mb, &err), 0);
}

/* What a script sends: no sender check (a local or SRS sender without a login),
 * remote recipients queued, local ones delivered; subaddresses resolve. */
static void resend_and_subaddress(void **state)
{
	struct pfix *p = *state;
	const char *err;
	const char msg[] = "From: x@far.test\r\nSubject: fwd\r\n\r\nbody\r\n";
	assert_int_equal(submit_resend(p->sp, "SRS0=abcd=aa=far.test=x@example.test", "b@example.test", msg,
				       sizeof(msg) - 1, &err), 1);
	const char *got = newest(p, p->f->acct2, "INBOX");
	assert_non_null(got);
	assert_true(strncmp(got, "Return-Path: <SRS0=abcd=aa=far.test=x@example.test>\r\n", 52) == 0);
	assert_int_equal(submit_resend(p->sp, "", "x@remote.test", msg, sizeof(msg) - 1, &err), 1);
	assert_int_equal(submit_resend(p->sp, "", "nobody@example.test", msg, sizeof(msg) - 1, &err), 0);
	/* user+detail@ reaches user@ and keeps the detail in the recipient */
	struct settings s2 = settings;
	s2.subaddress_delimiter = "+-";
	settings_publish(&sref, &s2);
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_rcpt rc;
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b+lists@example.test", false, 0, 0, &rc, &err), SUBMIT_OK);
	assert_string_equal(rc.address, "b+lists@example.test");
	assert_int_equal(rc.naccounts, 1);
	assert_int_equal(rc.accounts[0], p->f->acct2);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b-x@example.test", false, 0, 0, &rc, &err), SUBMIT_OK);
	s2.subaddress_delimiter = "";
	settings_publish(&sref, &s2);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b+lists@example.test", false, 0, 0, &rc, &err),
			 SUBMIT_UNKNOWN_RCPT);
	const char *base;
	assert_int_equal(submit_subaddress_base(p->f->a, "u+d+e@x.test", "+", &base), 1);
	assert_string_equal(base, "u@x.test");
	assert_int_equal(submit_subaddress_base(p->f->a, "+d@x.test", "+", &base), 0);
	assert_int_equal(submit_subaddress_base(p->f->a, "u@x+y.test", "+", &base), 0);
	settings_publish(&sref, &settings);
}

/* Bounces from the queue take the same path: resolved, traced, hooked, committed. */
static void bounces(void **state)
{
	struct pfix *p = *state;
	const char *err;
	const char dsn[] = "From: MAILER-DAEMON@mx.example.test\r\nSubject: Undelivered\r\n\r\nsorry\r\n";
	assert_int_equal(submit_bounce(p->sp, "a@example.test", dsn, sizeof(dsn) - 1, &err), 1);
	const char *msg = newest(p, p->f->acct, "INBOX");
	assert_non_null(msg);
	assert_string_equal(field_names(p, msg), "Return-Path,Received,From,Subject,");
	const char want[] = "Return-Path: <>\r\nReceived: by mx.example.test (postamt) id ";
	assert_true(strncmp(msg, want, sizeof(want) - 1) == 0);
	/* an unknown local sender: dropped for good; a remote one: queued */
	assert_int_equal(submit_bounce(p->sp, "nobody@example.test", dsn, sizeof(dsn) - 1, &err), 0);
	assert_int_equal(submit_bounce(p->sp, "x@remote.test", dsn, sizeof(dsn) - 1, &err), 1);
	/* no size limit: a DSN's size follows the message it returns */
	char *big = malloc(settings.message_max * 2);
	memcpy(big, dsn, sizeof(dsn) - 1);
	memset(big + sizeof(dsn) - 1, 'x', settings.message_max * 2 - sizeof(dsn) + 1);
	memcpy(big + settings.message_max * 2 - 2, "\r\n", 2);
	int r = submit_bounce(p->sp, "a@example.test", big, settings.message_max * 2, &err);
	if (r != 1)
		fail_msg("%d %s", r, err);
	free(big);
}

/* ------------------------------------------------------------------ send limits */

/* limits.send_per_hour: the third message of an account with a cap of 2 is refused at
 * the sender stage and at the data stage; other kinds are not counted; a reload to 0
 * lifts the cap. */
static void send_limit_messages(void **state)
{
	struct pfix *p = *state;
	struct settings capped = settings;
	capped.send_per_hour = 2;
	settings_publish(&sref, &capped);
	struct submit_origin web = origin_a(p, SUBMIT_KIND_WEBMAIL), sub = origin_a(p, SUBMIT_KIND_SUBMISSION);
	struct submit_outcome out;
	const char *detail;
	assert_int_equal(send(p, &web, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
	assert_int_equal(submit_sender(p->sp, &sub, p->f->a, "a@example.test", 0, &detail), SUBMIT_OK);
	assert_int_equal(send(p, &sub, "a@example.test", "x@remote.test", plain, &out), SUBMIT_OK);
	/* both kinds share the account's count */
	assert_int_equal(send(p, &web, "a@example.test", "b@example.test", plain, &out), SUBMIT_RATE_LIMITED);
	assert_string_equal(out.detail, "2 messages per hour");
	assert_int_equal(submit_sender(p->sp, &sub, p->f->a, "a@example.test", 0, &detail), SUBMIT_RATE_LIMITED);
	assert_string_equal(detail, "2 messages per hour");
	/* port 25 and bounces are never counted */
	struct submit_origin mx = { .kind = SUBMIT_KIND_MX, .client_ip = "198.51.100.7", .helo = "r", .with = "ESMTP" };
	assert_int_equal(send(p, &mx, "x@remote.test", "a@example.test", plain, &out), SUBMIT_OK);
	const char dsn[] = "From: MAILER-DAEMON@mx.example.test\r\nSubject: Undelivered\r\n\r\nsorry\r\n";
	const char *err;
	assert_int_equal(submit_bounce(p->sp, "a@example.test", dsn, sizeof(dsn) - 1, &err), 1);
	/* another account has its own count */
	struct submit_origin b = web;
	b.auth_user = "b@example.test";
	b.auth_account = p->f->acct2;
	const char from_b[] = "From: b@example.test\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nbody\r\n";
	assert_int_equal(send(p, &b, "b@example.test", "a@example.test", from_b, &out), SUBMIT_OK);
	/* a reload that sets 0 lifts the cap at once */
	settings_publish(&sref, &settings);
	assert_int_equal(send(p, &web, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
}

/* limits.recipients_per_hour: checked at RCPT with the transaction's recipients
 * already accepted, local ones included, and counted at the data stage. */
static void send_limit_recipients(void **state)
{
	struct pfix *p = *state;
	struct settings capped = settings;
	capped.recipients_per_hour = 3;
	settings_publish(&sref, &capped);
	struct submit_origin o = origin_a(p, SUBMIT_KIND_SUBMISSION);
	struct submit_rcpt r;
	const char *err;
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b@example.test", false, 0, 2, &r, &err), SUBMIT_OK);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "b@example.test", false, 0, 3, &r, &err), SUBMIT_RATE_LIMITED);
	assert_string_equal(err, "3 recipients per hour");
	/* two local recipients are counted */
	struct submit_message m = { .origin = &o, .sender = "a@example.test" };
	buf_puts(&m.data, plain);
	const char *two[] = { "b@example.test", "a@example.test" };
	struct submit_outcome out;
	assert_int_equal(submit_send(p->sp, &m, two, 2, p->f->a, &out), SUBMIT_OK);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "x@remote.test", false, 0, 0, &r, &err), SUBMIT_OK);
	assert_int_equal(submit_rcpt(p->sp, &o, p->f->a, "x@remote.test", false, 0, 1, &r, &err), SUBMIT_RATE_LIMITED);
	/* the webmail gets it for the whole list */
	struct submit_origin web = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_message m2 = { .origin = &web, .sender = "a@example.test" };
	buf_puts(&m2.data, plain);
	assert_int_equal(submit_send(p->sp, &m2, two, 2, p->f->a, &out), SUBMIT_RATE_LIMITED);
	assert_string_equal(out.detail, "3 recipients per hour");
	settings_publish(&sref, &settings);
}

static int refuse_all(void *ctx, struct submit_hook_msg *m, const char **reason_r)
{
	bool *on = ctx;
	if (!*on)
		return SUBMIT_OK;
	*reason_r = "refused";
	return SUBMIT_POLICY;
}

/* A message refused after it was counted (here by a hook) gives its count back. */
static void send_limit_refused_not_counted(void **state)
{
	struct pfix *p = *state;
	bool refuse = true;
	submit_hook_add(p->sp, &(struct submit_hook){ "refuse", refuse_all, &refuse });
	struct settings capped = settings;
	capped.send_per_hour = 1;
	settings_publish(&sref, &capped);
	struct submit_origin o = origin_a(p, SUBMIT_KIND_WEBMAIL);
	struct submit_outcome out;
	for (int i = 0; i < 3; i++)
		assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_POLICY);
	refuse = false;
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_OK);
	assert_int_equal(send(p, &o, "a@example.test", "b@example.test", plain, &out), SUBMIT_RATE_LIMITED);
	settings_publish(&sref, &settings);
}

static void result_names(void **state)
{
	for (int r = SUBMIT_RESULT_MIN; r < 0; r++) {
		assert_string_not_equal(submit_result_name(r), "unknown");
		for (int k = r + 1; k < 0; k++)
			assert_string_not_equal(submit_result_name(r), submit_result_name(k));
	}
	assert_string_equal(submit_result_name(SUBMIT_OK), "ok");
	assert_string_equal(submit_result_name(-99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(trace_headers_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(postmaster_of_every_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(size_before_trace_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(over_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(hooks_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(hooks_drop_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(junk_recreated, setup, teardown),
		cmocka_unit_test_setup_teardown(hooks_set_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(bounces, setup, teardown),
		cmocka_unit_test_setup_teardown(hooks_deliver_per_account, setup, teardown),
		cmocka_unit_test_setup_teardown(resend_and_subaddress, setup, teardown),
		cmocka_unit_test_setup_teardown(send_limit_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(send_limit_recipients, setup, teardown),
		cmocka_unit_test_setup_teardown(send_limit_refused_not_counted, setup, teardown),
		cmocka_unit_test(result_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
