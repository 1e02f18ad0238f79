/* helpers.h: shared helpers of the Sieve tests: compile a script (expecting
 * success or an exact error), run it over a message with options, and get the
 * actions in sieve_result_format's text form. */
#ifndef TEST_SIEVE_HELPERS_H
#define TEST_SIEVE_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "sieve.h"

static const char msg_plain[] = "Return-Path: <alice@example.org>\r\n"
				"From: Alice Example <alice@example.org>\r\n"
				"To: bob+lists@example.com, \"Carol, C.\" <carol@example.net>\r\n"
				"Cc: dave@Example.COM\r\n"
				"Subject: [dev] Meeting at 10\r\n"
				"Date: Mon, 07 Dec 2026 09:30:15 +0100\r\n"
				"Received: from a by b; Sun, 06 Dec 2026 23:00:00 -0500\r\n"
				"Received: from c by d; Sat, 05 Dec 2026 12:00:00 +0000\r\n"
				"Message-ID: <m1@example.org>\r\n"
				"X-Priority: 2\r\n"
				"\r\n"
				"Hello Bob,\r\nthe meeting is at 10 in room 42.\r\n";

static const char msg_mime[] = "From: shop@example.net\r\n"
			       "To: bob@example.com\r\n"
			       "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
			       "\r\n"
			       "--b\r\n"
			       "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n"
			       "\r\n"
			       "Ihre Rechnung: Summe =E2=82=AC 12\r\n"
			       "--b\r\n"
			       "Content-Type: text/html\r\n"
			       "\r\n"
			       "<p>Hallo <b>Welt</b></p>\r\n"
			       "--b\r\n"
			       "Content-Type: application/octet-stream\r\n"
			       "Content-Transfer-Encoding: base64\r\n"
			       "\r\n"
			       "c2VjcmV0IGJ5dGVz\r\n"
			       "--b--\r\n";

/* Options of one run. */
struct opts {
	const char *from, *to, *auth, *delim;
	int spam; /* 0 = unclassified unless set_spam */
	bool set_spam;
	int64_t now;
	int tz;
	const char *seen_id;             /* duplicate: this id was seen */
	const char *mailboxes;           /* space-separated existing mailboxes */
	const char *inc_name, *inc_text; /* include: one script */
	const struct sieve_limits *lim;
};

static inline int cb_dup(void *ctx, const char *handle, const char *id, uint64_t seconds)
{
	const struct opts *o = ctx;
	(void)handle;
	(void)seconds;
	return o->seen_id != NULL && strcmp(o->seen_id, id) == 0;
}

static inline int cb_mbox(void *ctx, const char *mailbox)
{
	const struct opts *o = ctx;
	if (strcasecmp(mailbox, "INBOX") == 0)
		return 1;
	if (o->mailboxes == NULL)
		return 0;
	size_t n = strlen(mailbox);
	for (const char *p = o->mailboxes; *p;) {
		const char *e = strchr(p, ' ');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, mailbox, n) == 0)
			return 1;
		p += l + (e != NULL);
	}
	return 0;
}

static inline int cb_inc(void *ctx, bool global, const char *name, const char **text_r, size_t *len_r)
{
	const struct opts *o = ctx;
	(void)global;
	if (o->inc_name == NULL || strcmp(o->inc_name, name) != 0)
		return 0;
	*text_r = o->inc_text;
	*len_r = strlen(o->inc_text);
	return 1;
}

/* Compiles script; fails the test on an error. */
static inline struct sieve_program *compile_ok(const char *script, const struct sieve_limits *lim)
{
	struct arena *a = arena_new();
	struct sieve_program *p = NULL;
	const char *err = NULL;
	int r = sieve_compile(script, strlen(script), lim, a, &p, &err);
	if (r < 0)
		fail_msg("compile failed: %s\n%s", err, script);
	arena_free(&a);
	return p;
}

/* Asserts that script fails to compile with exactly `want`. */
static inline void compile_err(const char *script, const struct sieve_limits *lim, const char *want)
{
	struct arena *a = arena_new();
	struct sieve_program *p = NULL;
	const char *err = NULL;
	int r = sieve_compile(script, strlen(script), lim, a, &p, &err);
	if (r >= 0)
		fail_msg("compiled, expected \"%s\":\n%s", want, script);
	assert_null(p);
	assert_string_equal(err, want);
	arena_free(&a);
}

/* Runs a compiled program; returns the text form (malloc'd) or "ERROR: ..." */
static inline char *run_prog(const struct sieve_program *p, const char *msg, const struct opts *o)
{
	struct opts dflt = { 0 };
	if (o == NULL)
		o = &dflt;
	struct arena *a = arena_new();
	struct sieve_message m = {
		.data = msg,
		.len = strlen(msg),
		.env_from = o->from != NULL ? o->from : "alice@example.org",
		.env_to = o->to != NULL ? o->to : "bob+lists@example.com",
		.auth = o->auth,
		.subaddress_delimiter = o->delim,
		.spam_percent = o->set_spam ? o->spam : -1,
		.now = o->now != 0 ? o->now : 1796638800, /* 2026-12-07 10:20:00 UTC (a Monday) */
		.tz_minutes = o->tz,
		.duplicate = cb_dup,
		.mailbox_exists = cb_mbox,
		.include = cb_inc,
		.ctx = (void *)o,
	};
	struct sieve_result r;
	const char *err;
	char *out;
	if (sieve_run(p, &m, a, &r, &err) < 0) {
		out = xasprintf("ERROR: %s", err);
	} else {
		struct buf b = { 0 };
		sieve_result_format(&r, &b);
		for (size_t i = 0; i < r.ndups; i++)
			buf_printf(&b, "dup %s %s %llu%s\n", r.dups[i].handle, r.dups[i].id,
				   (unsigned long long)r.dups[i].seconds, r.dups[i].last ? " last" : "");
		out = xstrdup(buf_str(&b));
		buf_free(&b);
	}
	arena_free(&a);
	return out;
}

/* Compiles and runs script over msg, asserts the text form equals want. */
static inline void expect(const char *script, const char *msg, const struct opts *o, const char *want)
{
	struct sieve_program *p = compile_ok(script, o != NULL ? o->lim : NULL);
	char *got = run_prog(p, msg, o);
	if (strcmp(got, want) != 0)
		fail_msg("script:\n%s\nwant:\n%s\ngot:\n%s", script, want, got);
	free(got);
	sieve_program_free(&p);
}

#endif
