/* fake_smtp.h: a scripted SMTP server on loopback (a thread of the test) for the
 * queue's delivery tests, and the helpers those tests share. Recipients decide the
 * answer by their local part: "bad..." gets 550 5.1.1, "later..." 451 4.3.0, anything
 * else 250. Options: no EHLO, no PIPELINING, STARTTLS (tls), a broken handshake,
 * implicit TLS, and AUTH (auth_mechs offered; auth_expect the one accepted initial
 * response of AUTH PLAIN, which MAIL then requires). */
#ifndef TEST_QUEUE_FAKE_SMTP_H
#define TEST_QUEUE_FAKE_SMTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "queue.h"

struct received {
	char sender[256];
	char rcpts[512];
	char *data;
	bool tls;    /* the transaction ran over TLS */
	bool authed; /* after a successful AUTH */
};

struct fake {
	int lfd;
	uint16_t port;
	pthread_t thread;
	atomic_bool stop;
	bool no_ehlo, no_pipelining;
	SSL_CTX *tls;            /* offer STARTTLS with this context (or, with implicit, use it at once) */
	bool break_tls;          /* answer the ClientHello with garbage */
	bool implicit;           /* TLS from the first byte (RFC 8314) */
	const char *auth_mechs;  /* offered as "AUTH <mechs>", in the clear too; NULL: no AUTH */
	const char *auth_expect; /* the accepted AUTH PLAIN response (base64); NULL: AUTH not required */
	char tls_version[32];    /* of the last handshake */
	pthread_mutex_t lock;
	struct received msgs[32];
	int nmsgs;
	int sessions;
	int auth_lines;    /* AUTH commands received */
	int auth_in_clear; /* ... of them outside TLS */
};

struct fake *fake_start(void);
void fake_stop(struct fake **fp);
/* Messages received so far. */
int fake_count(struct fake *f);
/* A received message with this recipient list, or NULL. */
struct received *fake_find(struct fake *f, const char *rcpts);
/* Whether any message received for rcpts contains s. */
bool fake_has(struct fake *f, const char *rcpts, const char *s);
/* An int field of f read under its lock. */
int fake_get(struct fake *f, const int *field);

/* Messages in DIR/queue (999 when it cannot be read). */
int queued(const char *dir);
/* Queues one message (asserts success). */
void submit(struct queue *q, const char *sender, const char *const *rcpts, size_t n, const char *data);
/* Settings for tests: short retries and timeouts, no fsync, resolver data for .test. */
struct queue_settings settings(struct queue_route *routes, size_t nroutes);

/* Waits up to `seconds` for cond to hold. */
#define WAIT_FOR(cond, seconds)                            \
	do {                                               \
		time_t deadline_ = time(NULL) + (seconds); \
		while (!(cond) && time(NULL) < deadline_)  \
			usleep(20000);                     \
		assert_true(cond);                         \
	} while (0)

#endif
