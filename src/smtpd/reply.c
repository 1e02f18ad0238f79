/* reply.c: what the SMTP commands and the session share: replies (RFC 5321 §4.2,
 * multi-line with "CODE-"), the client-error count and its 421 (limits.errors_per_
 * session, counted by lib/conn), the quota refusal, the end of a transaction, whether
 * AUTH may be used, and reading a line (500 and close beyond limits.line_length). It
 * calls nothing else in smtpd, so neither the session (session.c) nor a verb
 * (commands.c, cmd_*.c) depends on the other. */
#include "session.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void smtp_reply(struct smtp_session *ss, int code, const char *enh, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* multi-line: every line but the last gets "CODE-" (RFC 5321 §4.2.1) */
	const char *line = text;
	for (;;) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		if (enh != NULL && enh[0] != '\0')
			conn_printf(ss->c, "%d%c%s %.*s\r\n", code, nl ? '-' : ' ', enh, len, line);
		else
			conn_printf(ss->c, "%d%c%.*s\r\n", code, nl ? '-' : ' ', len, line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

void smtp_error(struct smtp_session *ss)
{
	if (conn_client_error(ss->c) < 0) {
		smtp_reply(ss, 421, "4.7.0", "%s Too many errors, closing connection", ss->s->hostname);
		conn_close(ss->c);
	}
}

void smtp_quota_full(struct smtp_session *ss, const char *to, const char *text)
{
	bool temporary = ss->l->role == SMTPD_MX && ss->s->quota_full_temporary;
	int code = temporary ? 452 : 552;
	conn_log(ss->c, LOG_WARN, "event=quota_rejected from=<%s> to=<%s> reply=%d", ss->txn.mail.from.mailbox,
		 to != NULL ? to : "", code);
	smtp_reply(ss, code, temporary ? "4.2.2" : "5.2.2", "%s", text);
}

void smtp_txn_reset(struct smtp_session *ss)
{
	buf_free(&ss->txn.data);
	conn_mem_release(ss->c);
	memset(&ss->txn, 0, sizeof(ss->txn));
	arena_clear(ss->txn_arena);
}

bool smtp_auth_allowed(const struct smtp_session *ss)
{
	return ss->env->auth != NULL && conn_may_send_password(ss->c);
}

int smtp_next_line(struct smtp_session *ss, const struct conn_continuation *k, struct bytes *line_r)
{
	if (!conn_may_read(ss->c, k))
		return 0;
	int r = conn_read_line(ss->c, ss->s->line_max, line_r);
	if (r < 0) {
		conn_log(ss->c, LOG_WARN, "event=line_too_long limit=%zu", ss->s->line_max);
		smtp_reply(ss, 500, "5.5.2", "Line too long");
		conn_close(ss->c);
	}
	return r;
}
