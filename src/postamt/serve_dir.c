/* serve_dir.c: the data directory of a running server (see serve_dir.h).
 *
 * The lock is flock(2) on DIR/postamt.lock: it belongs to the open file, so it
 * lasts as long as the process keeps the descriptor and goes when the process
 * dies, however it dies. The file holds the PID of the holder, only to name it in
 * the refusal of a second `serve`. Command-line commands never take this lock:
 * they work next to a running server through SQLite's own locking. */
#include "serve_dir.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PID written in the lock file, or 0 when it cannot be read. */
static long holder_pid(int fd)
{
	char text[32];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	char *end;
	long pid = strtol(text, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int serve_dir_enter(const char *dir, int *lock_fd_r, char *err, size_t errlen)
{
	*lock_fd_r = -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "cannot open the data directory %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = openat(dfd, SERVE_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EACCES) /* someone else's file: flock needs no write access */
		fd = openat(dfd, SERVE_LOCK_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the lock file %s/%s: %s", dir, SERVE_LOCK_FILE, strerror(errno));
		close(dfd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		long pid = e == EWOULDBLOCK ? holder_pid(fd) : 0;
		if (e != EWOULDBLOCK)
			snprintf(err, errlen, "cannot lock %s/%s: %s", dir, SERVE_LOCK_FILE, strerror(e));
		else if (pid > 0)
			snprintf(err, errlen, "%s is in use by another postamt serve (pid %ld); stop that one first", dir,
				 pid);
		else
			snprintf(err, errlen, "%s is in use by another postamt serve; stop that one first", dir);
		close(fd);
		close(dfd);
		return e == EWOULDBLOCK ? 0 : -1;
	}
	/* ours now: say who holds it (best effort, only for the message above) */
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) != n) {
		/* read-only or full: the lock holds all the same */
	}
	if (fchdir(dfd) < 0) {
		snprintf(err, errlen, "cannot enter the data directory %s: %s", dir, strerror(errno));
		close(fd);
		close(dfd);
		return -1;
	}
	close(dfd);
	*lock_fd_r = fd;
	return 1;
}

int serve_dir_check(const char *dir, const char *user, char *err, size_t errlen)
{
	static const char *const parts[] = { ".", "db", "blobs", "queue" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct stat st;
		bool present = i == 0 || lstat(parts[i], &st) == 0 || errno != ENOENT;
		if (!present)
			continue; /* created later, inside a directory that passed */
		if (access(parts[i], R_OK | W_OK | X_OK) < 0) {
			int e = errno;
			const char *hint = e == EACCES ? " (DIR and everything in it must belong to that user: chown -R)"
						       : "";
			if (i == 0)
				snprintf(err, errlen, "user '%s' cannot use the data directory %s: %s%s", user, dir,
					 strerror(e), hint);
			else
				snprintf(err, errlen, "user '%s' cannot use %s/%s: %s%s", user, dir, parts[i],
					 strerror(e), hint);
			return -1;
		}
	}
	return 1;
}
