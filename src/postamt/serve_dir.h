/* serve_dir.h: the data directory of a running server: its lock and its access.
 *
 * `serve` opens DIR while it may still be root, takes an exclusive lock on
 * DIR/postamt.lock for the life of the process, and makes DIR its working
 * directory. From then on it reaches everything (db/, blobs/, queue/, tls/,
 * postamt.conf) relative to ".", as Postfix does with its queue directory, so the
 * unprivileged user it drops to needs no access to DIR's parents. */
#ifndef POSTAMT_SERVE_DIR_H
#define POSTAMT_SERVE_DIR_H

#include <stddef.h>

#define SERVE_LOCK_FILE "postamt.lock"

/* Opens dir, takes the exclusive lock on dir/postamt.lock without waiting, writes
 * this process's PID into it and chdirs into dir. The lock is held while *lock_fd_r
 * stays open (close it only at exit). Returns 1; 0 when another process holds the
 * lock (err names its PID when known); -1 on any other error. err gets one line. */
int serve_dir_enter(const char *dir, int *lock_fd_r, char *err, size_t errlen);
/* After dropping privileges: checks that this process may read, write and search
 * the working directory and the parts of it it writes (db, blobs, queue, when
 * present). Returns 1, or -1 with one line in err naming the path and the reason. */
int serve_dir_check(const char *dir, const char *user, char *err, size_t errlen);

#endif
