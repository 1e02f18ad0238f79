"""Two nodes on one PostgreSQL database under load (store.backend = postgresql,
docs/cluster.md "Testing"):

- IDLE across nodes: an IDLE session on node B sees each of 50 deliveries made over
  SMTP through node A, one at a time; the latency from A's 250 to B's `* N EXISTS` is
  printed (median, p90, max; nothing asserts how long it took).
- Flags and CONDSTORE (RFC 7162) agree across nodes: STORE with UNCHANGEDSINCE through
  both nodes on the same messages, FETCH (FLAGS MODSEQ) identical on A and B, and a
  STORE through B with an UNCHANGEDSINCE older than a change made through A is refused
  for that message (MODIFIED) and leaves its flags alone.
- kill -9 in an SMTP storm: 8 client threads deliver to local users, 6 through node A
  and 2 through B; node A gets SIGKILL in the middle (its clients go on through B),
  then is started again. Every message that got a 250 is in the mailboxes exactly
  once (by Message-ID, read over IMAP on node B). A message whose 250 never arrived
  may or may not be there (the commit can precede the kill of the answer), but never
  twice."""
import imaplib
import re
import smtplib
import statistics
import threading
import time

import pytest

from conftest import DOMAIN
from pgfixture import pg_nodes
from test_cluster_notify_pg import Watcher
from test_imap_ext import Client

IDLER = "ida@" + DOMAIN
FLAGGER = "flo@" + DOMAIN
STORM = ["s%d@%s" % (i, DOMAIN) for i in range(4)]
ROUNDS = 50


@pytest.fixture(scope="module")
def nodes(postamt_bin):
    """Two nodes on one new database, started once for the file."""
    with pg_nodes(postamt_bin, users=[IDLER, FLAGGER] + STORM) as made:
        yield made


@pytest.fixture
def cluster(nodes, request):
    request.node._postamt_servers = list(nodes[1:])  # their logs on failure
    return nodes


def smtp(srv):
    s = smtplib.SMTP(srv.host, srv.port("smtp"), timeout=30)
    s.ehlo("client.example")
    return s


def message(rcpt, mid, subject="storm"):
    return ("From: <sender@elsewhere.example>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\n"
            "body of %s\r\n" % (rcpt, subject, mid, mid)).encode()


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def test_idle_on_b_sees_each_delivery_through_a(cluster):
    uri, a, b = cluster
    wb = Client(b, IDLER, timeout=60)
    wb.ok("SELECT INBOX")
    wb.send("i1 IDLE\r\n")
    assert wb.line().startswith("+"), "no IDLE continuation"
    w = Watcher(wb)
    s = smtp(a)
    lat = []
    since = 0
    for i in range(1, ROUNDS + 1):
        s.mail("sender@elsewhere.example")
        s.rcpt(IDLER)
        code, _ = s.data(message(IDLER, "idle%d@x" % i))
        t250 = time.monotonic()
        assert code == 250
        since, t1 = w.wait(r"^\* %d EXISTS$" % i, since)
        lat.append((t1 - t250) * 1000)
    s.quit()
    lat.sort()
    p90 = lat[int(0.9 * (len(lat) - 1))]
    print("\nSMTP 250 on A -> IDLE EXISTS on B over %d deliveries: median %.1f ms, p90 %.1f, max %.1f"
          " (negative: EXISTS came before the client read the 250; load average %s)"
          % (ROUNDS, statistics.median(lat), p90, lat[-1], load()))
    wb.send("DONE\r\n")
    w.wait(r"^i1 OK", since)
    # every delivery once, in order
    assert [l for _, l in w.lines if l.endswith("EXISTS")] == ["* %d EXISTS" % i for i in range(1, ROUNDS + 1)]


def fetch_flags(c):
    """{uid: (flags, modseq)} of the selected mailbox after a NOOP, without \\Recent."""
    c.ok("NOOP")
    u, t = c.cmd("UID FETCH 1:* (FLAGS MODSEQ)")
    assert " OK" in t, (u, t)
    got = {}
    for line in u:
        m = re.match(r"^\* \d+ FETCH \((.*)\)$", line)
        if not m:
            continue
        uid = re.search(r"UID (\d+)", m.group(1)).group(1)
        flags = re.search(r"FLAGS \(([^)]*)\)", m.group(1)).group(1)
        modseq = re.search(r"MODSEQ \((\d+)\)", m.group(1)).group(1)
        # \Recent is the session's own (RFC 3501), not the message's
        got[int(uid)] = (sorted(f for f in flags.split() if f != "\\Recent"), int(modseq))
    return got


def test_flags_and_condstore_agree_across_nodes(cluster):
    uri, a, b = cluster
    s = smtp(a)
    for i in range(3):
        s.sendmail("sender@elsewhere.example", [FLAGGER], message(FLAGGER, "flag%d@x" % i))
    s.quit()
    ca, cb = Client(a, FLAGGER), Client(b, FLAGGER)
    for c in (ca, cb):
        c.ok("ENABLE CONDSTORE")
        c.ok("SELECT INBOX")
    start = fetch_flags(ca)
    assert sorted(start) == [1, 2, 3] and fetch_flags(cb) == start
    # alternating changes through both nodes, each guarded by the modseq last seen
    # through the other node: all succeed, both nodes agree after each
    for k, (c, other) in enumerate([(ca, cb), (cb, ca)] * 4):
        seen = fetch_flags(other)
        uid = k % 3 + 1
        u, t = c.cmd("UID STORE %d (UNCHANGEDSINCE %d) +FLAGS ($K%d)" % (uid, seen[uid][1], k))
        assert " OK" in t and "MODIFIED" not in t, (u, t)
        now_a, now_b = fetch_flags(ca), fetch_flags(cb)
        assert now_a == now_b, (k, now_a, now_b)
        assert "$K%d" % k in now_a[uid][0] and now_a[uid][1] > seen[uid][1]
    # B read the modseqs; then A changes message 2; B's guarded STORE of 1:3 with what
    # it read is refused for 2 only
    before = fetch_flags(cb)
    u, t = ca.cmd("UID STORE 2 +FLAGS (\\Flagged)")
    assert " OK" in t, (u, t)
    old = max(m for _, m in before.values())
    u, t = cb.cmd("UID STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Answered)" % old)
    assert re.search(r" OK \[MODIFIED 2\]", t), (u, t)
    after_a, after_b = fetch_flags(ca), fetch_flags(cb)
    assert after_a == after_b, (after_a, after_b)
    assert "\\Answered" in after_a[1][0] and "\\Answered" in after_a[3][0]
    assert "\\Answered" not in after_a[2][0] and "\\Flagged" in after_a[2][0], after_a
    # every message changed since B read them (one STORE may give its messages one
    # modseq, RFC 7162 3.1); 2's is A's change, which B's STORE left alone
    assert min(m for _, m in after_a.values()) > old
    assert after_a[2][1] < min(after_a[1][1], after_a[3][1])
    # an UNCHANGEDSINCE older than A's change, all of it refused through B
    u, t = cb.cmd("UID STORE 2 (UNCHANGEDSINCE %d) -FLAGS (\\Flagged)" % before[2][1])
    assert re.search(r" OK \[MODIFIED 2\]", t), (u, t)
    assert fetch_flags(ca) == fetch_flags(cb) == after_a
    for c in (ca, cb):
        c.ok("LOGOUT")


def test_kill_node_in_smtp_storm_loses_and_duplicates_nothing(cluster):
    uri, a, b = cluster
    acked = []  # Message-IDs answered 250
    tried = []  # every Message-ID whose DATA was sent
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def client(k):
        srv = a if k < 6 else b
        s = None
        n = 0
        while not stop.is_set():
            rcpt = STORM[(k + n) % len(STORM)]
            mid = "storm-%d-%d@x" % (k, n)
            n += 1
            try:
                if s is None:
                    s = smtp(srv)
                s.mail("sender@elsewhere.example")
                s.rcpt(rcpt)
                with lock:
                    tried.append(mid)
                code, resp = s.data(message(rcpt, mid))
                if code == 250:
                    with lock:
                        acked.append(mid)
                else:
                    s.rset()
            except (OSError, smtplib.SMTPException):
                # node A gone: this client goes on through node B
                try:
                    if s is not None:
                        s.close()
                except OSError:
                    pass
                s = None
                if srv is a and not a.running():
                    srv = b
                elif srv is b:
                    with lock:
                        errors.append((k, mid))
        if s is not None:
            try:
                s.quit()
            except (OSError, smtplib.SMTPException):
                pass

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(8)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    deadline = time.monotonic() + 30
    while len(acked) < 150 and time.monotonic() < deadline:  # the storm is on
        time.sleep(0.01)
    at_kill = len(acked)
    a.proc.kill()  # SIGKILL in the middle
    a.proc.wait()
    killed_at = time.monotonic()
    while len(acked) < at_kill + 150 and time.monotonic() < killed_at + 30:  # it goes on through B
        time.sleep(0.01)
    stop.set()
    for th in threads:
        th.join(60)
    took = time.monotonic() - t0
    assert not errors, errors  # node B answered every client throughout
    a.start()  # a restarted node adds nothing and loses nothing
    # read every mailbox of every storm account over IMAP on node B
    found = {}
    for user in STORM:
        m = imaplib.IMAP4(b.host, b.port("imap"))
        m.login(user, "secret")
        typ, boxes = m.list()
        assert typ == "OK", boxes
        for line in boxes:
            name = line.decode().rsplit(' "/" ', 1)[1]
            typ, data = m.select(name, readonly=True)
            assert typ == "OK", data
            if data == [b"0"]:
                continue
            typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            assert typ == "OK", data
            for part in data:
                if isinstance(part, tuple):
                    mid = re.search(rb"<([^>]+)>", part[1]).group(1).decode()
                    found[mid] = found.get(mid, 0) + 1
        m.logout()
    dup = {k: v for k, v in found.items() if v != 1}
    lost = [mid for mid in acked if mid not in found]
    unacked = set(tried) - set(acked)
    print("\nstorm: %d acknowledged (%d before the kill), %d sent without a 250, %d of those stored;"
          " %.1f s; load average %s"
          % (len(acked), at_kill, len(unacked), len(unacked & set(found)), took, load()))
    assert not lost, lost
    assert not dup, dup
    assert set(found) <= set(tried), set(found) - set(tried)
    assert len(acked) > at_kill  # deliveries went on after the kill
