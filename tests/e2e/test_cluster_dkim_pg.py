"""DKIM keys shared in PostgreSQL (store.backend = postgresql, docs/cluster.md): a
domain added through node A gets its keys in the database, not in A's DIR; node B
lists the same keys and prints the same DNS records, and mail submitted through node
B to a loopback sink (`route.remote.test`) is signed with A's keys and verifies with
python3-dkim against the records A published. A rotation through B is seen by A, and
a retired key leaves both listings."""
import os
import re
import smtplib
import socketserver
import threading

import dkim
import pytest

from conftest import finish_server
from pgfixture import pg_database, pg_query

OTHER = "signed.test"
LIST_LINE = re.compile(r"^(\S+) (ed25519|rsa) (signing|published|waiting until \S+) (v=DKIM1; .*)$")


class Sink:
    """A minimal SMTP server on loopback that keeps each message it accepts."""

    def __init__(self):
        self.cond = threading.Condition()
        self.messages = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                try:
                    self.reply("220 sink.remote.test ESMTP")
                    while True:
                        line = self.rfile.readline()
                        if not line:
                            return
                        verb = line[:4].upper()
                        if verb in (b"EHLO", b"HELO"):
                            self.reply("250-sink.remote.test\r\n250 8BITMIME")
                        elif verb == b"DATA":
                            self.reply("354 go ahead")
                            data = b""
                            while not data.endswith(b"\r\n.\r\n"):
                                chunk = self.rfile.readline()
                                if not chunk:
                                    return
                                data += chunk
                            body = data[:-5] + b"\r\n"
                            body = re.sub(rb"(?m)^\.\.", b".", body)  # undo dot-stuffing
                            self.reply("250 ok")
                            with sink.cond:
                                sink.messages.append(body)
                                sink.cond.notify_all()
                        elif verb == b"QUIT":
                            self.reply("221 bye")
                            return
                        else:
                            self.reply("250 ok")
                except OSError:
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n, timeout=30):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.messages) >= n, timeout)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def nodes(postamt_bin, request):
    from conftest import Server, e2e_tmpdir, free_offset, init_datadir, quiet_dns_server

    uri = pg_database()
    sink = Sink()
    dns = quiet_dns_server()
    made = []
    for _ in range(2):
        parent = e2e_tmpdir("dir")
        offset = free_offset()
        srv = Server(postamt_bin, init_datadir(postamt_bin, parent, offset, ("--store", uri)), offset, parent)
        srv.add_config("dns.server = " + dns, "route.remote.test = 127.0.0.1:%d" % sink.port,
                       "queue.starttls = no")
        made.append(srv)
    a, b = made
    yield uri, sink, a, b
    sink.stop()
    try:
        for srv in (a, b):
            if srv.proc is not None and srv.proc.poll() is None:
                finish_server(srv)
    finally:
        for srv in (a, b):
            srv.kill()


def key_list(srv, domain=OTHER):
    """{selector: (alg, state, TXT)} from `postamt dkim list D`."""
    r = srv.run("dkim", "list", domain)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        m = LIST_LINE.match(line)
        assert m, line
        out[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    return out


def dkim_records(srv, domain=OTHER):
    """The DKIM TXT lines of `postamt dns D`."""
    r = srv.run("dns", domain)
    assert r.returncode == 0, r.stderr
    return sorted(l for l in r.stdout.splitlines() if "._domainkey." in l)


def test_domain_added_on_a_signs_on_b(nodes, request):
    uri, sink, a, b = nodes
    request.node._postamt_servers = [a, b]
    r = a.run("domain", "add", OTHER)
    assert r.returncode == 0, r.stderr
    assert "._domainkey.%s. 3600 IN TXT" % OTHER in r.stdout
    a.add_user("alice@" + OTHER, "secret")
    # the keys are rows of the shared database, not files of node A
    assert not os.path.exists(os.path.join(a.dir, "dkim", OTHER))
    rows = pg_query(uri, "SELECT algorithm, active FROM dkim_keys WHERE domain = '%s' ORDER BY 1" % OTHER)
    assert rows == [["ed25519", "1"], ["rsa", "1"]], rows
    # both nodes list the same keys and print the same DNS records
    keys = key_list(a)
    assert len(keys) == 2 and all(k[1] == "signing" for k in keys.values()), keys
    assert key_list(b) == keys
    assert dkim_records(a) == dkim_records(b) and len(dkim_records(a)) == 2
    # mail submitted through node B is signed with A's keys
    b.start()
    msg = ("From: Alice <alice@%s>\r\nTo: <bob@remote.test>\r\nSubject: signed by the cluster\r\n"
           "Message-ID: <c1@%s>\r\n\r\nHello from node B.\r\n" % (OTHER, OTHER))
    with smtplib.SMTP(b.host, b.port("submission"), timeout=20) as c:
        c.starttls(context=b.ssl_context())
        c.login("alice@" + OTHER, "secret")
        assert c.sendmail("alice@" + OTHER, ["bob@remote.test"], msg.encode()) == {}
    assert sink.wait(1), b.log_tail()
    signed = sink.messages[0]

    def dnsfunc(name, timeout=5):
        m = re.match(rb"^([^.]+)\._domainkey\.(.+?)\.?$", name)
        if not m or m.group(2).decode() != OTHER or m.group(1).decode() not in keys:
            return None
        return keys[m.group(1).decode()][2].encode()

    head = signed.split(b"\r\n\r\n")[0] + b"\r\n"
    sigs = re.findall(rb"(?mi)^DKIM-Signature:((?:.*\r\n[ \t].*)*.*)", head)
    assert len(sigs) == 2, signed[:2000]
    d = dkim.DKIM(signed)
    seen = set()
    for idx, sig in enumerate(sigs):
        assert d.verify(idx=idx, dnsfunc=dnsfunc), (idx, sig)
        tags = dict(re.findall(rb"([a-z]+)=([^;]*)", re.sub(rb"\s+", b"", sig)))
        assert tags[b"d"] == OTHER.encode()
        seen.add((tags[b"a"].decode(), tags[b"s"].decode()))
    assert seen == {("ed25519-sha256", s) for s, k in keys.items() if k[0] == "ed25519"} | \
        {("rsa-sha256", s) for s, k in keys.items() if k[0] == "rsa"}


def test_rotate_on_b_retire_on_a(nodes, request):
    uri, sink, a, b = nodes
    request.node._postamt_servers = [a, b]
    before = key_list(a)
    r = b.run("dkim", "rotate", OTHER)
    assert r.returncode == 0, r.stderr
    after = key_list(a)
    new = sorted(set(after) - set(before))
    assert len(new) == 2 and all(after[s][1].startswith("waiting until") for s in new), after
    assert key_list(b) == after
    assert dkim_records(a) == dkim_records(b) and len(dkim_records(b)) == 4
    # the signing key is refused on any node; a waiting one is retired through A
    signing = [s for s, k in after.items() if k[1] == "signing"]
    r = b.run("dkim", "retire", OTHER, signing[0])
    assert r.returncode != 0 and "signing" in r.stderr, (r.stdout, r.stderr)
    r = a.run("dkim", "retire", OTHER, new[0])
    assert r.returncode == 0, r.stderr
    assert new[0] not in key_list(b)
    assert pg_query(uri, "SELECT active FROM dkim_keys WHERE selector = '%s'" % new[0]) == [["0"]]
