"""Change events between two nodes on one PostgreSQL database (store.backend =
postgresql, docs/cluster.md "Change events"): an IMAP NOTIFY session on node B
(RFC 5465: MailboxName, SubscriptionChange) sees the mailboxes that a session of the
same user creates, unsubscribes and deletes on node A, as LIST lines, without sending a
command; the latency from A's CREATE to B's LIST is printed (median of 50, while
another account's mailboxes are created and deleted through node A; nothing
asserts how long it took). Then the listeners' connections are killed with
pg_terminate_backend: node B logs event=store_pg_listen_lost and
event=store_pg_listen_resync, its NOTIFY session gets a STATUS of its watched
mailboxes (the resync), and A's next change reaches B again."""
import re
import statistics
import threading
import time

import pytest

from conftest import DOMAIN
from pgfixture import pg_nodes, pg_query
from test_imap_ext import Client

USER = "nora@" + DOMAIN
LOADER = "lars@" + DOMAIN  # another account's changes meanwhile
ROUNDS = 50


@pytest.fixture(scope="module")
def nodes(postamt_bin):
    """Two nodes on one new database, started once for the file."""
    with pg_nodes(postamt_bin, users=(USER, LOADER)) as made:
        yield made


class Watcher:
    """Node B's NOTIFY session read by a thread of its own: each line with the
    monotonic time it arrived."""

    def __init__(self, client):
        self.c = client
        self.cond = threading.Condition()
        self.lines = []
        self.error = None
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            while True:
                line = self.c.line()
                with self.cond:
                    self.lines.append((time.monotonic(), line))
                    self.cond.notify_all()
        except Exception as e:  # the socket's timeout or its close ends the thread
            with self.cond:
                self.error = e
                self.cond.notify_all()

    def wait(self, pattern, since=0, timeout=20):
        """(index, arrival time) of the first line from index since matching pattern."""
        rx = re.compile(pattern)

        def find():
            for i in range(since, len(self.lines)):
                if rx.search(self.lines[i][1]):
                    return i
            return None

        with self.cond:
            self.cond.wait_for(lambda: find() is not None or self.error is not None, timeout)
            i = find()
            assert i is not None, "no line matching %r; got %r (%r)" % (pattern, self.lines[since:], self.error)
            return i, self.lines[i][0]


def test_mailbox_events_reach_the_other_node(nodes):
    uri, a, b = nodes
    wb = Client(b, USER, timeout=60)
    u, t = wb.cmd("NOTIFY SET (personal (MailboxName SubscriptionChange))")
    assert " OK" in t, (u, t)
    w = Watcher(wb)
    ca = Client(a, USER)
    stop = threading.Event()
    churned = [0]

    def churn(k):  # the load: CREATE and DELETE of another account's mailboxes
        c = Client(a, LOADER)
        name = "churn%d" % k
        while not stop.is_set():
            c.ok("CREATE " + name)
            c.ok("DELETE " + name)
            churned[0] += 2
        c.close()

    # through node A only: the same through both nodes at once runs into a deadlock
    # between two nodes' mailbox transactions (PostgreSQL detects it, one CREATE fails)
    loaders = [threading.Thread(target=churn, args=(k,), daemon=True) for k in range(2)]
    for th in loaders:
        th.start()
    deadline = time.monotonic() + 30
    while churned[0] < 4 and time.monotonic() < deadline:  # the load is on
        time.sleep(0.01)
    lat = []
    since = 0
    for i in range(ROUNDS):
        t0 = time.monotonic()
        ca.ok("CREATE box%d" % i)
        since, t1 = w.wait(r'^\* LIST \([^)]*\) "/" "?box%d"?$' % i, since)
        lat.append((t1 - t0) * 1000)
    ca.ok("UNSUBSCRIBE box0")  # CREATE subscribed it
    since, _ = w.wait(r'^\* LIST \(\) "/" "?box0"?$', since)
    ca.ok("DELETE box1")
    since, _ = w.wait(r'^\* LIST \(\\NonExistent\) "/" "?box1"?$', since)
    stop.set()
    for th in loaders:
        th.join()
    load = open("/proc/loadavg").read().split()[:3]
    print("\ncross-node CREATE -> NOTIFY LIST latency over %d: median %.1f ms, min %.1f, max %.1f"
          " (meanwhile %d changes of another account through node A; load average %s)"
          % (ROUNDS, statistics.median(lat), min(lat), max(lat), churned[0], " ".join(load)))
    # the other account's changes reached nobody here: B's session saw only its own boxes
    assert not any("churn" in line for _, line in w.lines), w.lines
    ca.close()
    wb.close()


def test_listener_killed_resyncs(nodes):
    uri, a, b = nodes
    wb = Client(b, USER, timeout=60)
    # STATUS: the watched mailboxes are known to the session from the start
    u, t = wb.cmd("NOTIFY SET STATUS (personal (MessageNew MessageExpunge MailboxName))")
    assert " OK" in t, (u, t)
    assert any(l.startswith('* STATUS "box2"') or l.startswith("* STATUS box2") for l in u), u
    w = Watcher(wb)
    mark = b.log_size()
    pg_query(uri, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  " WHERE application_name = 'postamt listen' AND datname = current_database()")
    assert b.wait_log(r"event=store_pg_listen_lost ", timeout=20, since=mark), b.log_tail()
    assert b.wait_log(r"event=store_pg_listen_resync accounts=1", timeout=20, since=mark), b.log_tail()
    since, _ = w.wait(r'^\* STATUS "?box2"? ')
    # listening again: A's next change reaches B
    ca = Client(a, USER)
    ca.ok("CREATE after")
    w.wait(r'^\* LIST \([^)]*\) "/" "?after"?$', since)
    assert len(pg_query(uri, "SELECT pid FROM pg_stat_activity WHERE application_name = 'postamt listen'"
                             " AND datname = current_database()")) == 2
    ca.close()
    wb.close()
