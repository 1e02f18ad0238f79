/* http_parse.h: pure, incremental parsing of an HTTP/1.1 request head (RFC 9112 §2-5).
 *
 * The parser gets all bytes buffered so far and either needs more, fails, or returns
 * the request line and header fields as views into those bytes plus the head's
 * length. It never reads a socket. */
#ifndef POSTAMT_HTTP_PARSE_H
#define POSTAMT_HTTP_PARSE_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

struct http_header {
	struct bytes name, value;
};

struct http_request {
	struct bytes method, target, version;
	int minor; /* HTTP/1.x */
	struct http_header headers[HTTP_MAX_HEADERS];
	int nheaders;
	size_t head_len;         /* bytes of the head, including the blank line */
	bool has_length;
	uint64_t content_length;
	bool chunked;            /* Transfer-Encoding: chunked */
	bool keep_alive;         /* after Connection and the version's default */
};

/* Returns 1 with *req_r when the head is complete, 0 when more bytes are needed, -1
 * with *status_r (400, 413, 431, 501, 505) and *error_r on a bad request. */
int http_parse_request(struct bytes in, struct http_request *req_r, int *status_r, const char **error_r);
/* The value of the first header named name (case-insensitive), or an empty view. */
struct bytes http_header_get(const struct http_request *req, const char *name);

#endif
