"""The outbound queue shared in PostgreSQL (store.backend = postgresql, docs/cluster.md):
two nodes on one database deliver to a local SMTP sink (`route.remote.test`), each
queued message exactly once, and a node killed with SIGKILL in the middle of a
delivery leaves its message to the other node once its lease (queue.lease, 3 s here)
has expired. Only outbound mail: submission with AUTH to a remote domain."""
import re
import smtplib
import socketserver
import threading
import time

import pytest

from conftest import DOMAIN, finish_server
from pgfixture import pg_database, pg_query


class SmtpSink:
    """A minimal SMTP server on loopback. Each transaction that it answers with 250
    after DATA is recorded as (Message-ID, recipients). While `hold` is set, the
    reply to DATA waits until hold is cleared and is then a 451 (never recorded):
    the connection of a killed node is gone by then."""

    def __init__(self):
        self.cond = threading.Condition()
        self.acked = []
        self.held = 0
        self.hold = False
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                try:
                    self.session()
                except (OSError, ValueError):
                    pass

            def session(self):
                self.reply("220 sink.remote.test ESMTP")
                rcpts = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode("ascii", "replace").strip()
                    verb = cmd[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-sink.remote.test\r\n250-8BITMIME\r\n250 PIPELINING")
                    elif verb == "MAIL":
                        rcpts = []
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(cmd[8:].strip("<> "))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            data += chunk
                        m = re.search(rb"(?im)^Message-ID: *<([^>]*)>", data)
                        mid = m.group(1).decode() if m else "?"
                        with sink.cond:
                            if sink.hold:
                                sink.held += 1
                                sink.cond.notify_all()
                                while sink.hold:
                                    sink.cond.wait()
                                held = True
                            else:
                                held = False
                        if held:
                            self.reply("451 held")
                            continue
                        self.reply("250 queued as %s" % mid)
                        with sink.cond:
                            sink.acked.append((mid, tuple(rcpts)))
                            sink.cond.notify_all()
                    elif verb == "RSET" or verb == "NOOP":
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 no")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=30):
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self), timeout)
        return ok

    def release(self):
        with self.cond:
            self.hold = False
            self.cond.notify_all()

    def stop(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def nodes(postamt_bin):
    """Two nodes on one new database and the sink, made once for the file (each init
    costs seconds); the tests leave them in the state the next one expects."""
    from conftest import Server, e2e_tmpdir, free_offset, init_datadir, quiet_dns_server

    uri = pg_database()
    sink = SmtpSink()
    dns = quiet_dns_server()
    made = []
    for _ in range(2):
        parent = e2e_tmpdir("dir")
        offset = free_offset()
        srv = Server(postamt_bin, init_datadir(postamt_bin, parent, offset, ("--store", uri)), offset, parent)
        srv.add_config("dns.server = " + dns, "route.remote.test = 127.0.0.1:%d" % sink.port,
                       "queue.starttls = no", "queue.lease = 3", "queue.retry_initial = 1",
                       "queue.retry_max = 2")
        made.append(srv)
    a, b = made
    a.add_user("alice@" + DOMAIN, "secret")
    yield uri, sink, a, b
    sink.stop()
    try:
        for srv in (a, b):
            if srv.proc is not None and srv.proc.poll() is None:
                finish_server(srv)
    finally:
        for srv in (a, b):
            srv.kill()


@pytest.fixture
def cluster(nodes, request):
    """The nodes with an empty queue and a fresh sink record."""
    uri, sink, a, b = nodes
    request.node._postamt_servers = [a, b]  # their logs on failure
    pg_query(uri, "DELETE FROM queue_messages")
    with sink.cond:
        sink.acked, sink.held, sink.hold = [], 0, False
    return nodes


def running(srv):
    return srv.proc is not None and srv.proc.poll() is None


def ensure(srv, up):
    if up and not running(srv):
        srv.start()
    elif not up and running(srv):
        finish_server(srv)


def submit(srv, mids, to="bob@remote.test"):
    """Sends one message per Message-ID through srv's submission port (one session)."""
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=20) as s:
        s.starttls(context=srv.ssl_context())
        s.login("alice@" + DOMAIN, "secret")
        for mid in mids:
            msg = ("From: <alice@%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n\r\nbody %s\r\n"
                   % (DOMAIN, to, mid, mid, mid))
            assert s.sendmail("alice@" + DOMAIN, [to], msg.encode()) == {}


def test_fifty_messages_through_two_nodes_each_delivered_once(cluster):
    uri, sink, a, b = cluster
    ensure(a, True)
    ensure(b, True)
    assert a.wait_log(r"event=queue_shared backend=postgresql", timeout=10), a.log_tail()
    mids = ["m%02d@cluster.test" % i for i in range(50)]
    t0 = time.monotonic()
    ta = threading.Thread(target=submit, args=(a, mids[:25]))
    ta.start()
    submit(b, mids[25:])
    ta.join()
    assert sink.wait(lambda s: len(s.acked) >= 50), (len(sink.acked), a.log_tail(), b.log_tail())
    print("50 messages submitted through two nodes and delivered in %.2f s" % (time.monotonic() - t0))
    # every message once, to its one recipient
    assert sorted(m for m, _ in sink.acked) == sorted(mids)
    assert all(r == ("bob@remote.test",) for _, r in sink.acked)
    # the queue empties: no row left, and `queue list` on either node says so
    deadline = time.monotonic() + 10
    while pg_query(uri, "SELECT count(*) FROM queue_messages") != [["0"]] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pg_query(uri, "SELECT count(*) FROM queue_messages") == [["0"]]
    assert pg_query(uri, "SELECT count(*) FROM queue_recipients") == [["0"]]
    for srv in (a, b):
        r = srv.run("queue", "list")
        assert r.returncode == 0 and r.stdout.strip() == "queue is empty", r.stderr
    time.sleep(1.5)  # a second claim round on both nodes finds nothing to send again
    assert len(sink.acked) == 50


def test_killed_node_messages_delivered_by_the_other(cluster):
    uri, sink, a, b = cluster
    ensure(a, True)
    ensure(b, True)
    sink.hold = True
    submit(a, ["held@cluster.test"])
    # A is in the middle of the delivery (the sink holds its DATA reply): its lease
    # is heartbeaten, so B does not take the message while A lives
    assert sink.wait(lambda s: s.held >= 1, timeout=20), a.log_tail()
    rows = pg_query(uri, "SELECT lease_owner FROM queue_messages")
    assert len(rows) == 1 and rows[0][0] != "", rows
    # `queue list` on B shows the message A holds
    r = b.run("queue", "list")
    assert r.returncode == 0 and "bob@remote.test" in r.stdout, r.stderr
    since = len(b.log())
    a.proc.kill()  # SIGKILL mid-delivery
    a.proc.wait()
    sink.release()
    assert sink.wait(lambda s: len(s.acked) >= 1, timeout=30), b.log_tail()
    assert sink.acked == [("held@cluster.test", ("bob@remote.test",))]
    qid = re.search(r"event=queue_claimed id=(\S+)", b.log()[since:])
    assert qid, b.log_tail()
    assert b.wait_log(r"event=queue_delivered id=%s " % re.escape(qid.group(1)), timeout=10)
    deadline = time.monotonic() + 10
    while pg_query(uri, "SELECT count(*) FROM queue_messages") != [["0"]] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pg_query(uri, "SELECT count(*) FROM queue_messages") == [["0"]]
    assert len(sink.acked) == 1


def test_queue_cli_on_the_shared_queue(cluster):
    uri, sink, a, b = cluster
    # no node running: the message waits in the database; the CLI lists, flushes and
    # deletes it from any node's DIR
    ensure(b, False)
    ensure(a, True)
    sink.hold = True
    submit(a, ["cli@cluster.test"])
    assert sink.wait(lambda s: s.held >= 1, timeout=20), a.log_tail()
    a.proc.kill()
    a.proc.wait()
    sink.release()
    r = b.run("queue", "list")
    assert r.returncode == 0 and "<alice@%s>" % DOMAIN in r.stdout and "bob@remote.test" in r.stdout, r.stderr
    qid = r.stdout.splitlines()[1].split()[0]
    r = b.run("queue", "flush")
    assert r.returncode == 0 and "1 message" in r.stdout, r.stderr
    # A's lease (3 s) still holds it: delete refuses until it expired
    r = b.run("queue", "delete", qid)
    assert r.returncode == 1 and "being delivered" in r.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = b.run("queue", "delete", qid)
        if r.returncode == 0:
            break
        time.sleep(0.5)
    assert r.returncode == 0 and "deleted " + qid in r.stdout, r.stderr
    assert b.run("queue", "list").stdout.strip() == "queue is empty"
    assert b.run("queue", "delete", qid).returncode == 1
    assert sink.acked == []
