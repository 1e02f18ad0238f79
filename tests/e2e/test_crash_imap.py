"""Crash safety with an IMAP APPEND storm (hardening issue, item 3, second half): 8
imaplib connections APPEND to INBOX while the server is killed with SIGKILL at a
random moment and restarted, 20 times. Every APPEND that got its tagged OK must be in
INBOX exactly once and whole; an APPEND whose OK was lost with the connection may be
there, but at most once; UIDs only grow, UIDVALIDITY never changes, and the account's
usage equals the sum of its messages."""

import imaplib
import random
import re
import threading
import time

USER = "icrash@example.test"
ROUNDS = 20
WORKERS = 8


def body_for(tag):
    line = ("%s " % tag) * 10
    return ("Subject: %s\r\nMessage-ID: <%s@icrash.test>\r\n\r\n%s" % (tag, tag, (line + "\r\n") * 20)).encode()


def login(srv, timeout=10):
    c = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=timeout)
    c.login(USER, "secret")
    return c


def storm(srv, rnd, accepted, stop):
    lock = threading.Lock()

    def worker(w):
        n = 0
        while not stop.is_set():
            try:
                c = login(srv)
                while not stop.is_set():
                    tag = "r%02dw%dn%04d" % (rnd, w, n)
                    n += 1
                    typ, _ = c.append("INBOX", None, None, body_for(tag))
                    if typ == "OK":
                        with lock:
                            accepted.add(tag)
            except Exception:  # imaplib.IMAP4.abort, OSError: the server is gone or restarting
                time.sleep(0.02)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(WORKERS)]
    for t in threads:
        t.start()
    return threads


def inbox(srv):
    """(uidvalidity, [(uid, size, raw)]) of INBOX."""
    c = login(srv, timeout=60)
    typ, _ = c.select("INBOX", readonly=True)
    assert typ == "OK"
    uidvalidity = int(c.untagged_responses["UIDVALIDITY"][0])
    msgs = []
    typ, data = c.uid("FETCH", "1:*", "(UID RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK", data
    for item in data:
        if not isinstance(item, tuple):
            continue
        head, raw = item
        uid = int(re.search(rb"UID (\d+)", head).group(1))
        size = int(re.search(rb"RFC822\.SIZE (\d+)", head).group(1))
        msgs.append((uid, size, raw))
    c.logout()
    msgs.sort()
    return uidvalidity, msgs


def test_imap_append_storm_with_sigkill(make_server):
    srv = make_server(users=[USER])
    accepted = set()
    uidvalidity = None
    rng = random.Random(1147)
    for rnd in range(ROUNDS):
        stop = threading.Event()
        threads = storm(srv, rnd, accepted, stop)
        time.sleep(rng.uniform(0.3, 0.9))
        srv.kill()  # SIGKILL, in the middle of whatever it was doing
        stop.set()
        for t in threads:
            t.join(15)
        srv.start()
        v, _ = inbox(srv)
        assert uidvalidity in (None, v), "UIDVALIDITY changed from %s to %s" % (uidvalidity, v)
        uidvalidity = v
    v, msgs = inbox(srv)
    assert v == uidvalidity
    assert accepted, "the storm appended nothing at all"
    seen = {}
    last_uid = 0
    total = 0
    for uid, size, raw in msgs:
        assert uid > last_uid, "UIDs not increasing: %d after %d" % (uid, last_uid)
        last_uid = uid
        assert size == len(raw), "RFC822.SIZE %d but %d bytes" % (size, len(raw))
        total += size
        m = re.search(rb"Subject: (r\d+w\dn\d+)", raw)
        assert m, "a message without its tag: %r" % raw[:200]
        tag = m.group(1).decode()
        seen[tag] = seen.get(tag, 0) + 1
        assert raw == body_for(tag), "message %s is not whole" % tag
    dups = [t for t, n in seen.items() if n > 1]
    assert not dups, "appended more than once: %s" % dups[:10]
    missing = sorted(accepted - set(seen))
    assert not missing, "%d APPENDs got OK and are gone, e.g. %s" % (len(missing), missing[:10])
    r = srv.run("user", "list")
    line = [l for l in r.stdout.splitlines() if l.startswith(USER)][0]
    usage = int(re.search(r"usage=(\d+)", line).group(1))
    count = int(re.search(r"messages=(\d+)", line).group(1))
    assert count == len(msgs)
    assert usage == total, "quota usage %d, messages add up to %d" % (usage, total)
