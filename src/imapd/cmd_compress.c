/* cmd_compress.c: RFC 4978 COMPRESS=DEFLATE.
 *   compress = "COMPRESS" SP algorithm;  algorithm = "DEFLATE"
 * The tagged OK goes out uncompressed; every byte after it, both ways, is raw
 * DEFLATE (conn_compress_start in src/lib/conn.c: TLS stays below, IDLE updates
 * and everything else above are flushed with a sync flush as they are written).
 * A second COMPRESS gets NO [COMPRESSIONACTIVE] (§3); unknown algorithms are BAD. */
#include "session.h"

#include "log.h"

void imap_cmd_compress(struct imap_session *is, struct imap_cmd *cmd)
{
	struct imap_cur *c = &cmd->args;
	struct bytes alg;
	if (imap_cur_atom(c, &alg) < 0 || imap_cur_eol(c) < 0) {
		imap_bad_args(is, cmd);
		return;
	}
	if (!bytes_ieq(alg, "DEFLATE")) {
		imap_tagged(is, "BAD", "Unknown compression algorithm");
		imap_client_error(is);
		return;
	}
	if (conn_is_compressed(is->c)) {
		imap_tagged(is, "NO", "[COMPRESSIONACTIVE] DEFLATE is already active");
		return;
	}
	imap_tagged(is, "OK", "DEFLATE active");
	const char *error;
	if (conn_compress_start(is->c, &error) < 0)
		conn_log(is->c, LOG_ERROR, "event=compress_error error=\"%s\"", error);
	else
		conn_log(is->c, LOG_DEBUG, "event=compress_start");
}
