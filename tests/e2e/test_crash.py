"""Crash safety (hardening issue, item 3): an SMTP storm over 8 connections, the
server killed with SIGKILL at a random moment, restarted, 20 times. Every message
that got a 250 must be in the mailbox exactly once and whole; messages whose 250
was lost with the connection may be there, but at most once; UIDs only grow,
UIDVALIDITY never changes, and the account's usage equals the sum of its messages."""

import poplib
import random
import re
import smtplib
import threading
import time

USER = "crash@example.test"
ROUNDS = 20
WORKERS = 8


def body_for(tag):
    # distinct, checkable content: half-written messages cannot pass for whole ones
    line = ("%s " % tag) * 10
    return "Subject: %s\r\nMessage-ID: <%s@crash.test>\r\n\r\n%s" % (tag, tag, (line + "\r\n") * 20)


def storm(srv, rnd, accepted, stop):
    def worker(w):
        n = 0
        while not stop.is_set():
            try:
                s = smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10)
                s.ehlo("storm")
                while not stop.is_set():
                    tag = "r%02dw%dn%04d" % (rnd, w, n)
                    n += 1
                    s.sendmail("storm@example.org", [USER], body_for(tag))
                    with lock:
                        accepted.add(tag)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)  # the server is gone or restarting

    lock = threading.Lock()
    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(WORKERS)]
    for t in threads:
        t.start()
    return threads


def pop3_messages(srv):
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=30)
    p.user(USER)
    p.pass_("secret")
    uidl = [line.decode().split() for line in p.uidl()[1]]
    sizes = [int(line.split()[1]) for line in p.list()[1]]
    msgs = []
    for (num, uid), size in zip(uidl, sizes):
        lines = p.retr(int(num))[1]
        msgs.append((uid, size, b"\r\n".join(lines) + b"\r\n"))
    p.quit()
    return msgs


def test_smtp_storm_with_sigkill(make_server):
    srv = make_server(users=[USER])
    accepted = set()
    uidvalidity = None
    rng = random.Random(4711)
    for rnd in range(ROUNDS):
        stop = threading.Event()
        threads = storm(srv, rnd, accepted, stop)
        time.sleep(rng.uniform(0.2, 0.8))
        srv.kill()  # SIGKILL, in the middle of whatever it was doing
        stop.set()
        for t in threads:
            t.join(15)
        srv.start()
        msgs = pop3_messages(srv)
        if msgs:
            v = msgs[0][0].split(".")[0]
            assert uidvalidity in (None, v), "UIDVALIDITY changed from %s to %s" % (uidvalidity, v)
            uidvalidity = v
    msgs = pop3_messages(srv)
    assert accepted, "the storm delivered nothing at all"
    seen = {}
    last_uid = 0
    total = 0
    for uid, size, raw in msgs:
        u = int(uid.split(".")[1])
        assert u > last_uid, "UIDs not increasing: %d after %d" % (u, last_uid)
        last_uid = u
        total += size
        m = re.search(rb"Subject: (r\d+w\dn\d+)", raw)
        assert m, "a message without its tag: %r" % raw[:200]
        tag = m.group(1).decode()
        seen[tag] = seen.get(tag, 0) + 1
        want = body_for(tag).encode()
        assert raw.endswith(want), "message %s is not whole" % tag
    dups = [t for t, n in seen.items() if n > 1]
    assert not dups, "delivered more than once: %s" % dups[:10]
    missing = sorted(accepted - set(seen))
    assert not missing, "%d messages got a 250 and are gone, e.g. %s" % (len(missing), missing[:10])
    r = srv.run("user", "list")
    line = [l for l in r.stdout.splitlines() if l.startswith(USER)][0]
    usage = int(re.search(r"usage=(\d+)", line).group(1))
    count = int(re.search(r"messages=(\d+)", line).group(1))
    assert count == len(msgs)
    assert usage == total, "quota usage %d, messages add up to %d" % (usage, total)
