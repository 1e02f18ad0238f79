/* store_space.c: a full disk: the free-space check and the reserve file.
 *
 * Two defences keep a full disk from locking users out (review finding 10). First,
 * limits.disk_reserve: new messages (SMTP, APPEND, JMAP, and every store delivery or
 * append) are refused with STORE_ENOSPACE, a temporary error, while the free space of
 * DIR's file system minus the message would drop below it; deletions never look at
 * it. statvfs is cached for a second, and the cache is dropped when the committer
 * unlinks message files, so a freed disk accepts mail at once.
 *
 * Second, the reserve file DIR/db/reserve (limits.disk_reserve_file bytes, allocated
 * with posix_fallocate). When something else fills the disk anyway, a write of the
 * database fails with SQLITE_FULL (or ENOSPC/EDQUOT/EFBIG). The committer then gives
 * the reserve up and runs again only the ops that delete (expunge, setting \Deleted,
 * MOVE, removing a mailbox or an account: store_op.may_use_reserve), so users can
 * free space; their rows shrink and their blobs are unlinked after the COMMIT. SQLite
 * in WAL mode appends every change, deletions included, to the WAL, so a deletion
 * needs a few pages of new space until a checkpoint lets the WAL start over; the
 * reserve provides them. Other ops of that batch fail with STORE_ENOSPACE. While the
 * reserve is missing the committer looks once a second and re-creates it as soon as
 * twice its size is free again. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1; /* never 0 */
}

void store_space_init(struct store *s)
{
	pthread_mutex_init(&s->sp_mu, NULL);
	atomic_store(&s->disk_reserve, s->opt.disk_reserve);
	s->reserve_path = xasprintf("%s/db/reserve", s->dir);
}

void store_space_destroy(struct store *s)
{
	pthread_mutex_destroy(&s->sp_mu);
	free(s->reserve_path);
	s->reserve_path = NULL;
}

bool store_errno_full(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG;
}

bool store_db_full(struct db *c)
{
	int ec = sqlite3_extended_errcode(c->db);
	if ((ec & 0xff) == SQLITE_FULL)
		return true;
	return (ec & 0xff) == SQLITE_IOERR && store_errno_full(sqlite3_system_errno(c->db));
}

void store_space_invalidate(struct store *s)
{
	pthread_mutex_lock(&s->sp_mu);
	s->sp_at = 0;
	pthread_mutex_unlock(&s->sp_mu);
}

/* The free bytes of DIR/blobs' file system for an unprivileged writer, at most a
 * second old. 1, or -1 when statvfs fails. */
static int space_free(struct store *s, uint64_t *free_r)
{
	int64_t now = now_ms();
	int r = 1;
	pthread_mutex_lock(&s->sp_mu);
	if (s->sp_at == 0 || now - s->sp_at >= 1000) {
		struct statvfs v;
		if (statvfs(s->blobdir, &v) == 0) {
			s->sp_free = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
			s->sp_at = now;
		} else {
			log_error("event=store_error what=statvfs path=%s errno=%d", s->blobdir, errno);
			r = -1;
		}
	}
	*free_r = s->sp_free;
	pthread_mutex_unlock(&s->sp_mu);
	return r;
}

int store_space_check(struct store *s, uint64_t size, const char **error_r)
{
	uint64_t reserve = atomic_load(&s->disk_reserve);
	uint64_t avail;
	if (reserve == 0 || space_free(s, &avail) < 0)
		return 1;
	if (avail >= reserve && avail - reserve >= size)
		return 1;
	*error_r = store_set_error("the server's disk is nearly full (below limits.disk_reserve); "
				   "try again later");
	return STORE_ENOSPACE;
}

void store_set_disk_reserve(struct store *s, uint64_t bytes)
{
	atomic_store(&s->disk_reserve, bytes);
}

int store_reserve_make(struct store *s)
{
	uint64_t size = s->opt.reserve_file;
	if (size == 0)
		return 0;
	struct stat st;
	if (stat(s->reserve_path, &st) == 0 && (uint64_t)st.st_size >= size) {
		s->reserve_missing = false;
		return 1;
	}
	s->reserve_missing = true;
	s->reserve_tried = now_ms();
	char *tmp = xasprintf("%s.tmp", s->reserve_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int e = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)size);
	if (fd >= 0)
		close(fd);
	if (e == 0 && rename(tmp, s->reserve_path) < 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		free(tmp);
		log_warn("event=store_reserve_failed path=%s size=%llu error=\"%s\"", s->reserve_path,
			 (unsigned long long)size, strerror(e));
		return store_errno_full(e) ? 0 : -1;
	}
	free(tmp);
	s->reserve_missing = false;
	store_space_invalidate(s);
	log_info("event=store_reserve_created path=%s size=%llu", s->reserve_path, (unsigned long long)size);
	return 1;
}

bool store_reserve_release(struct store *s)
{
	if (s->opt.reserve_file == 0 || s->reserve_missing)
		return false;
	s->reserve_missing = true;
	s->reserve_tried = now_ms();
	if (unlink(s->reserve_path) < 0)
		return false;
	store_space_invalidate(s);
	log_warn("event=store_disk_full action=reserve_released path=%s size=%llu", s->reserve_path,
		 (unsigned long long)s->opt.reserve_file);
	return true;
}

void store_reserve_maintain(struct store *s)
{
	if (!s->reserve_missing)
		return;
	if (now_ms() - s->reserve_tried < 1000)
		return;
	s->reserve_tried = now_ms();
	uint64_t avail;
	if (space_free(s, &avail) < 0 || avail / 2 < s->opt.reserve_file)
		return;
	store_reserve_make(s);
}
