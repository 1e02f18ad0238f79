/* http_util.h: pure helpers on parts of an HTTP request (RFC 9110, RFC 3986, RFC 6265):
 * splitting and percent-decoding the request target, query parameters, cookies,
 * Accept-Encoding, If-None-Match and Basic credentials. No I/O, no allocation
 * beyond the caller's buffers. */
#ifndef POSTAMT_HTTP_UTIL_H
#define POSTAMT_HTTP_UTIL_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Splits an origin-form target ("/a/b?x=y") into its percent-decoded path (in out,
 * NUL-terminated) and the raw query (without '?', empty when none). Returns 1, or
 * -1 when the target is not origin-form, decodes to a NUL byte, a control byte or a
 * bad escape, has a "." or ".." segment (also encoded as %2e), or does not fit. */
int http_target_split(struct bytes target, char *out, size_t outlen, struct bytes *query_r);

/* Percent-decodes (and '+' to space) the value of query parameter name into out.
 * Returns 1 when present, 0 when absent, -1 when it does not fit, has a bad escape
 * or decodes to a NUL or control byte. */
int http_query_get(struct bytes query, const char *name, char *out, size_t outlen);

/* The value of cookie name in a Cookie header value, or an empty view. */
struct bytes http_cookie_get(struct bytes header, const char *name);

/* True if the Accept-Encoding value allows gzip (not with q=0). */
bool http_accepts_gzip(struct bytes accept_encoding);

/* True if the If-None-Match value lists etag (given without quotes) or is "*". */
bool http_etag_matches(struct bytes if_none_match, const char *etag);

/* True if an Origin value ("https://host:port") names the same host as the Host
 * header value (scheme https). */
bool http_origin_matches(struct bytes origin, struct bytes host);

/* Percent-encodes s for a URL path segment or RFC 5987 filename* value into out.
 * Returns the length, or -1 when it does not fit. */
int http_pct_encode(const char *s, char *out, size_t outlen);

/* Replaces, in place, each Unicode bidirectional control in the UTF-8 text s (U+061C,
 * U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) with '_', so that a file name such
 * as "invoice<U+202E>fdp.exe" cannot pretend to end in ".pdf". Returns how many. */
int http_filename_clean(char *s);

/* True if a download of this media type may be shown inline (Content-Disposition:
 * inline) rather than saved: PDF and the raster image types browsers decode
 * without running anything. Never SVG or HTML, which can carry script. Case-
 * insensitive, parameters not allowed. */
bool http_inline_type_ok(const char *type);

#endif
