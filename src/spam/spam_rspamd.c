/* spam_rspamd.c: the pure half of the rspamd client (spam_rspamd.h): the URL, the
 * request head of rspamd's /checkv2 protocol (fields IP, Helo, From, Rcpt,
 * Queue-Id, MTA-Name, User) and the response, an HTTP/1.x reply whose body is a
 * JSON object. The response is untrusted: the head is parsed by hand with limits,
 * the body by jansson, and only "action" (one of six words) and "score" (a number)
 * are taken from it; rspamd's own texts never reach an SMTP reply. */
#include "spam_rspamd.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const action_names[] = {
	[SPAM_RSPAMD_NO_ACTION] = "no action",     [SPAM_RSPAMD_GREYLIST] = "greylist",
	[SPAM_RSPAMD_ADD_HEADER] = "add header",   [SPAM_RSPAMD_REWRITE_SUBJECT] = "rewrite subject",
	[SPAM_RSPAMD_SOFT_REJECT] = "soft reject", [SPAM_RSPAMD_REJECT] = "reject",
};

const char *spam_rspamd_action_name(enum spam_rspamd_action a)
{
	return (size_t)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

enum spam_rspamd_verdict spam_rspamd_verdict(enum spam_rspamd_action a)
{
	switch (a) {
	case SPAM_RSPAMD_REJECT:
		return SPAM_RSPAMD_REFUSE;
	case SPAM_RSPAMD_SOFT_REJECT:
	case SPAM_RSPAMD_GREYLIST:
		return SPAM_RSPAMD_TEMP;
	case SPAM_RSPAMD_ADD_HEADER:
	case SPAM_RSPAMD_REWRITE_SUBJECT:
		return SPAM_RSPAMD_JUNK;
	case SPAM_RSPAMD_NO_ACTION:
		break;
	}
	return SPAM_RSPAMD_INBOX;
}

int spam_rspamd_url_parse(const char *url, struct spam_rspamd_url *u_r, const char **error_r)
{
	memset(u_r, 0, sizeof(*u_r));
	if (strncasecmp(url, "http://", 7) != 0) {
		*error_r = "expected http://HOST:PORT";
		return -1;
	}
	const char *p = url + 7, *host, *hend;
	if (*p == '[') {
		host = p + 1;
		hend = strchr(host, ']');
		if (hend == NULL) {
			*error_r = "unterminated [IPv6] address";
			return -1;
		}
		p = hend + 1;
	} else {
		host = p;
		while (*p != '\0' && *p != ':' && *p != '/')
			p++;
		hend = p;
	}
	size_t hlen = (size_t)(hend - host);
	if (hlen == 0 || hlen >= sizeof(u_r->host)) {
		*error_r = "missing or too long host";
		return -1;
	}
	for (const char *c = host; c < hend; c++) {
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != ':' && *c != '_') {
			*error_r = "bad character in host";
			return -1;
		}
	}
	memcpy(u_r->host, host, hlen);
	strcpy(u_r->port, "11333");
	if (*p == ':') {
		p++;
		size_t n = 0;
		unsigned long port = 0;
		while (isdigit((unsigned char)p[n]) && n < 6)
			port = port * 10 + (unsigned long)(p[n++] - '0');
		if (n == 0 || port == 0 || port > 65535) {
			*error_r = "bad port";
			return -1;
		}
		snprintf(u_r->port, sizeof(u_r->port), "%lu", port);
		p += n;
	}
	if (p[0] == '/' && p[1] == '\0')
		p++;
	if (*p != '\0') {
		*error_r = "unexpected text after HOST:PORT (no path)";
		return -1;
	}
	return 1;
}

/* One "Name: value\r\n" with control bytes left out. */
static void field(struct buf *out, const char *name, const char *value)
{
	buf_puts(out, name);
	buf_puts(out, ": ");
	for (const unsigned char *v = (const unsigned char *)value; *v != '\0'; v++)
		if (*v >= 0x20 && *v != 0x7f)
			buf_putc(out, (char)*v);
	buf_puts(out, "\r\n");
}

void spam_rspamd_request(struct buf *out, const struct spam_rspamd_url *u, const struct spam_rspamd_req *r,
			 size_t body_len)
{
	bool v6 = strchr(u->host, ':') != NULL;
	buf_printf(out, "POST /checkv2 HTTP/1.1\r\nHost: %s%s%s:%s\r\nConnection: close\r\nContent-Length: %zu\r\n",
		   v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, body_len);
	if (r->ip != NULL)
		field(out, "IP", r->ip);
	if (r->helo != NULL && r->helo[0] != '\0')
		field(out, "Helo", r->helo);
	field(out, "From", r->from[0] != '\0' ? r->from : "<>");
	for (size_t i = 0; i < r->nrcpts; i++)
		field(out, "Rcpt", r->rcpts[i]);
	if (r->queue_id != NULL)
		field(out, "Queue-Id", r->queue_id);
	if (r->mta_name != NULL)
		field(out, "MTA-Name", r->mta_name);
	if (r->user != NULL)
		field(out, "User", r->user);
	buf_puts(out, "\r\n");
}

/* The value of header field `name` in head[0..len) (the lines after the status
 * line), trimmed; 1 found, 0 not. */
static int head_field(const char *head, size_t len, const char *name, struct bytes *value_r)
{
	size_t nlen = strlen(name), pos = 0;
	while (pos < len) {
		const char *line = head + pos;
		const char *eol = memchr(line, '\n', len - pos);
		size_t llen = eol != NULL ? (size_t)(eol - line) : len - pos;
		pos += llen + 1;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			*value_r = bytes_trim((struct bytes){ line + nlen + 1, llen - nlen - 1 });
			return 1;
		}
	}
	return 0;
}

static int parse_body(const char *body, size_t len, struct spam_rspamd_result *r, const char **error_r)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		*error_r = "the answer is not a JSON object";
		return -1;
	}
	int ret = -1;
	const char *action = json_string_value(json_object_get(root, "action"));
	json_t *score = json_object_get(root, "score");
	json_t *req = json_object_get(root, "required_score");
	*error_r = "the answer has no known action";
	for (size_t i = 0; action != NULL && i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (strcmp(action, action_names[i]) == 0) {
			r->action = (enum spam_rspamd_action)i;
			ret = 1;
		}
	}
	if (ret > 0 && (!json_is_number(score) || !isfinite(json_number_value(score)))) {
		*error_r = "the answer has no numeric score";
		ret = -1;
	}
	if (ret > 0) {
		r->score = json_number_value(score);
		r->required = json_is_number(req) && isfinite(json_number_value(req)) ? json_number_value(req) : 0;
	}
	json_decref(root);
	return ret;
}

int spam_rspamd_response(const char *data, size_t len, bool eof, size_t max, struct spam_rspamd_result *result_r,
			 const char **error_r)
{
	memset(result_r, 0, sizeof(*result_r));
	if (len > max) {
		*error_r = "the answer is too long (spam.rspamd_response_max)";
		return -1;
	}
	/* the head ends at the first empty line */
	const char *end = NULL;
	size_t hlen = 0, sep = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n') {
			end = data + i;
			sep = 2;
			break;
		}
		if (i + 3 < len && memcmp(data + i, "\r\n\r\n", 4) == 0) {
			end = data + i;
			sep = 4;
			break;
		}
	}
	if (end == NULL) {
		if (eof) {
			*error_r = "the connection closed before the answer's head ended";
			return -1;
		}
		return 0;
	}
	hlen = (size_t)(end - data);
	/* HTTP/1.x SP 3DIGIT */
	if (hlen < 12 || memcmp(data, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)data[7]) || data[8] != ' ' ||
	    !isdigit((unsigned char)data[9]) || !isdigit((unsigned char)data[10]) ||
	    !isdigit((unsigned char)data[11])) {
		*error_r = "the answer is not HTTP/1.x";
		return -1;
	}
	if (memcmp(data + 9, "200", 3) != 0) {
		*error_r = "rspamd answered with an HTTP error";
		return -1;
	}
	const char *fields = memchr(data, '\n', hlen);
	size_t flen = fields != NULL ? hlen - (size_t)(fields + 1 - data) : 0;
	fields = fields != NULL ? fields + 1 : data + hlen;
	struct bytes v;
	if (head_field(fields, flen, "Transfer-Encoding", &v) > 0 ||
	    head_field(fields, flen, "Content-Encoding", &v) > 0) {
		*error_r = "the answer is encoded (chunked or compressed), which was not asked for";
		return -1;
	}
	const char *body = end + sep;
	size_t have = len - (size_t)(body - data);
	if (head_field(fields, flen, "Content-Length", &v) > 0) {
		uint64_t clen;
		if (buf_parse_uint64(v, max, &clen) < 0) {
			*error_r = "bad Content-Length";
			return -1;
		}
		if (have < clen) {
			if (eof) {
				*error_r = "the connection closed in the middle of the answer";
				return -1;
			}
			return 0;
		}
		have = (size_t)clen;
	} else if (!eof) {
		return 0;
	}
	return parse_body(body, have, result_r, error_r);
}
