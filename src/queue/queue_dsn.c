/* queue_dsn.c: delivery status notifications (RFC 3464) in a multipart/report
 * (RFC 6522), the bounce postamt sends to the envelope sender of a message it could
 * not deliver.
 *
 * Pure: the input is the queued message with its recipients' final states, the time
 * and a boundary; the output is the whole bounce as CRLF text, ready to be queued
 * with the null sender or stored in a local INBOX. Only failed recipients whose
 * NOTIFY asks for it (or that gave none) are reported. The third part carries the
 * original header (RET=HDRS, the default) or the whole message (RET=FULL). */
#include "queue_int.h"

#include "textfmt.h"

#include <string.h>

bool queue_dsn_wanted(const struct qrcpt *r)
{
	return r->state == QUEUE_RCPT_FAILED && !r->reported && (r->notify == 0 || (r->notify & SMTP_NOTIFY_FAILURE) != 0);
}

static void put_date(struct buf *out, time_t t)
{
	char date[TEXTFMT_DATE_MAX];
	textfmt_date((int64_t)t, date, sizeof(date));
	buf_puts(out, date);
}

/* Appends s with CR, LF and other controls turned into spaces (header-safe). */
static void put_clean(struct buf *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/* RFC 3461 §4: xtext "+HH" decoding (for ENVID and ORCPT). */
static void put_xtext_decoded(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		if (s[0] == '+' && s[1] != '\0' && s[2] != '\0') {
			const char *h = strchr(hex, s[1]), *l = strchr(hex, s[2]);
			if (h != NULL && l != NULL) {
				char c = (char)((h - hex) * 16 + (l - hex));
				buf_putc(out, c < 0x20 ? ' ' : c);
				s += 2;
				continue;
			}
		}
		buf_putc(out, *s);
	}
}

/* The status to report for r: its enhanced code, else one derived from the reply
 * code (RFC 3463 §3.1: X.0.0). */
static void put_status(struct buf *out, const struct qrcpt *r)
{
	if (r->enh[0] == '5' || r->enh[0] == '4')
		buf_puts(out, r->enh);
	else
		buf_puts(out, r->code >= 400 && r->code < 500 ? "4.0.0" : "5.0.0");
}

/* The end of the header: the offset just past the empty line, or the whole message
 * when it has no body. */
static size_t header_len(struct bytes m)
{
	if (m.len > 0 && (m.p[0] == '\n' || (m.p[0] == '\r' && m.len > 1 && m.p[1] == '\n')))
		return 0;
	for (size_t i = 0; i + 1 < m.len; i++) {
		if (m.p[i] != '\n')
			continue;
		if (m.p[i + 1] == '\n' || (m.p[i + 1] == '\r' && i + 2 < m.len && m.p[i + 2] == '\n'))
			return i + 1;
	}
	return m.len;
}

int queue_dsn_build(const struct dsn_input *in, struct buf *out)
{
	const struct qmsg *m = in->m;
	int nreport = 0;
	bool utf8 = false;
	for (size_t i = 0; i < m->nrcpts; i++) {
		if (!queue_dsn_wanted(&m->rcpts[i]))
			continue;
		nreport++;
		for (const unsigned char *p = (const unsigned char *)m->rcpts[i].address; *p; p++)
			utf8 |= *p >= 0x80;
	}
	if (nreport == 0 || m->sender == NULL || m->sender[0] == '\0')
		return 0;
	const char *b = in->boundary;

	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", in->hostname);
	buf_puts(out, "To: <");
	put_clean(out, m->sender);
	buf_puts(out, ">\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: ");
	put_date(out, in->now);
	buf_printf(out, "\r\nMessage-ID: <%s.dsn@%s>\r\n", m->id, in->hostname);
	buf_puts(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n", b);
	buf_puts(out, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	/* 1: for people */
	buf_printf(out, "--%s\r\nContent-Description: Notification\r\n", b);
	buf_printf(out, "Content-Type: text/plain; charset=%s\r\n\r\n", utf8 ? "utf-8" : "us-ascii");
	buf_printf(out, "This is the mail system at host %s.\r\n\r\n", in->hostname);
	buf_puts(out, "Your message could not be delivered to one or more recipients.\r\n"
		      "It is attached below (its header only, unless you asked for the whole message).\r\n\r\n");
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		if (!queue_dsn_wanted(r))
			continue;
		buf_puts(out, "<");
		put_clean(out, r->address);
		buf_puts(out, ">: ");
		if (r->remote_mta != NULL) {
			buf_puts(out, "host ");
			put_clean(out, r->remote_mta);
			buf_puts(out, " said: ");
		}
		put_clean(out, r->diag != NULL ? r->diag : "delivery failed");
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");

	/* 2: for programs (RFC 3464 §2) */
	buf_printf(out, "--%s\r\nContent-Description: Delivery report\r\n", b);
	buf_printf(out, "Content-Type: message/%sdelivery-status\r\n\r\n", utf8 ? "global-" : "");
	buf_printf(out, "Reporting-MTA: dns; %s\r\n", in->hostname);
	buf_printf(out, "X-Postamt-Queue-ID: %s\r\n", m->id);
	if (m->envid != NULL && m->envid[0] != '\0') {
		buf_puts(out, "Original-Envelope-Id: ");
		put_xtext_decoded(out, m->envid);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "Arrival-Date: ");
	put_date(out, m->created);
	buf_puts(out, "\r\n");
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		if (!queue_dsn_wanted(r))
			continue;
		buf_printf(out, "\r\nFinal-Recipient: %s; ", utf8 ? "utf-8" : "rfc822");
		put_clean(out, r->address);
		buf_puts(out, "\r\n");
		if (r->orcpt != NULL && strchr(r->orcpt, ';') != NULL) {
			const char *semi = strchr(r->orcpt, ';');
			buf_puts(out, "Original-Recipient: ");
			buf_append(out, r->orcpt, (size_t)(semi - r->orcpt));
			buf_puts(out, ";");
			put_xtext_decoded(out, semi + 1);
			buf_puts(out, "\r\n");
		}
		buf_puts(out, "Action: failed\r\nStatus: ");
		put_status(out, r);
		buf_puts(out, "\r\n");
		if (r->remote_mta != NULL) {
			buf_puts(out, "Remote-MTA: dns; ");
			put_clean(out, r->remote_mta);
			buf_puts(out, "\r\n");
		}
		if (r->diag != NULL) {
			buf_puts(out, r->code > 0 ? "Diagnostic-Code: smtp; " : "Diagnostic-Code: x-postamt; ");
			put_clean(out, r->diag);
			buf_puts(out, "\r\n");
		}
		buf_puts(out, "Last-Attempt-Date: ");
		put_date(out, in->now);
		buf_puts(out, "\r\n");
	}
	buf_puts(out, "\r\n");

	/* 3: the original */
	buf_printf(out, "--%s\r\n", b);
	if (m->ret == SMTP_RET_FULL) {
		buf_printf(out, "Content-Description: Undelivered Message\r\nContent-Type: %s\r\n\r\n",
			   utf8 ? "message/global" : "message/rfc822");
		buf_append(out, in->message.p, in->message.len);
	} else {
		buf_printf(out, "Content-Description: Undelivered Message Headers\r\n"
				"Content-Type: %s\r\n\r\n",
			   utf8 ? "message/global-headers" : "text/rfc822-headers");
		buf_append(out, in->message.p, header_len(in->message));
	}
	if (out->len >= 2 && !(out->data[out->len - 2] == '\r' && out->data[out->len - 1] == '\n'))
		buf_puts(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", b);
	return nreport;
}
