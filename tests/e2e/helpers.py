"""Small client helpers and a capture SMTP server shared by the e2e test files.

Before, each test file had its own copy of these (issue 15 item 8). What is here:
- accounts: new_user (a fresh address per call), user_stats (`postamt user list`),
  UserPool (hands out the next of a fixed list of users);
- IMAP: imap_messages (every INBOX message as raw bytes, read only);
- POP3 over a conftest.LineClient: pop_cmd, read_multiline;
- JMAP over HTTP Basic: Jmap;
- CaptureSMTP: an SMTP server on loopback that keeps every message it accepts;
- serve_fails: runs `postamt serve` expecting it to refuse to start.
"""

import base64
import http.client
import imaplib
import itertools
import json
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import DOMAIN

# ------------------------------------------------------------------ accounts

_seq = itertools.count(1)


def new_user(srv, prefix="u", quota=None, password="secret", domain=DOMAIN):
    """A fresh account (prefix + a number unique in the test run), so tests sharing a
    module's server do not see each other's mail."""
    addr = "%s%d@%s" % (prefix, next(_seq), domain)
    srv.add_user(addr, password, *(("--quota", quota) if quota else ()))
    return addr


def user_stats(srv, addr):
    """{'quota': .., 'usage': int, 'messages': int} from `postamt user list`."""
    r = srv.run("user", "list")
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == addr:
            d = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
            return {"quota": d.get("quota"), "usage": int(d["usage"]), "messages": int(d["messages"])}
    raise AssertionError("%s not in user list:\n%s" % (addr, r.stdout))


class UserPool:
    """Calling it returns the next user of a fixed list (made with the module's server)."""

    def __init__(self, users):
        self.users = users
        self.next = 0

    def __call__(self):
        u = self.users[self.next]
        self.next += 1
        return u


# ------------------------------------------------------------------ stored messages

def port25_head(sender, hostname="localhost"):
    """A regex for how a message delivered from port 25 begins: Return-Path, then the
    mail-authentication checks' Authentication-Results field (folded, the first of the
    stored copy, DESIGN.md §1 "Mail authentication"), the junk filter's verdict, then our Received."""
    return re.compile(rb"Return-Path: <%s>\r\nAuthentication-Results: %s;\r\n(?:\t[^\r\n]*\r\n)+"
                      rb"X-Postamt-Junk: [^\r\n]*\r\nReceived: "
                      % (re.escape(sender.encode()), re.escape(hostname.encode())))


# ------------------------------------------------------------------ IMAP

def mailbox(srv, user, name="INBOX"):
    """The messages of one mailbox of user (password "secret") as raw bytes, in UID
    order; [] when the mailbox does not exist. Selected read-only (BODY.PEEK)."""
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(user, "secret")
        typ, _ = m.select('"%s"' % name, readonly=True)
        if typ != "OK":
            return []
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[])")
            out.append(parts[0][1])
        return out
    finally:
        m.logout()


def imap_messages(srv, user, password="secret"):
    """Every message in user's INBOX as raw bytes (BODY.PEEK[], INBOX selected read-only)."""
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    try:
        m.login(user, password)
        m.select("INBOX", readonly=True)
        _, data = m.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, parts = m.fetch(num, "(BODY.PEEK[])")
            out.append(parts[0][1])
        return out
    finally:
        try:
            m.logout()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------ POP3 over a LineClient

def pop_cmd(c, line):
    """Sends one POP3 command line; returns the first reply line."""
    c.sendline(line)
    return c.readline()


def read_multiline(c, timeout=None):
    """The body of a multi-line reply as bytes, dot-unstuffed, with its line ends
    exactly as sent (the final CRLF before "." included)."""
    deadline = time.monotonic() + (c.timeout if timeout is None else timeout)
    while True:
        if c.buf.startswith(b".\r\n"):
            c.buf = c.buf[3:]
            return b""
        i = c.buf.find(b"\r\n.\r\n")
        if i >= 0:
            body, c.buf = c.buf[:i + 2], c.buf[i + 5:]
            return re.sub(rb"(?m)^\.", b"", body)
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no end of multi-line reply; got %r" % c.buf[-200:])
        c._fill(left)


# ------------------------------------------------------------------ JMAP

JMAP_USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"]


class Jmap:
    """JMAP over HTTP Basic on the server's HTTPS port (no webmail session is written)."""

    def __init__(self, srv, user, password="secret", timeout=20, using=JMAP_USING):
        self.conn = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(),
                                                timeout=timeout)
        tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.headers = {"Authorization": "Basic " + tok}
        self.using = using
        st, body = self.request("GET", "/.well-known/jmap")
        assert st == 200, body
        self.account = json.loads(body)["primaryAccounts"]["urn:ietf:params:jmap:mail"]

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes) of one request on the kept connection."""
        h = dict(self.headers)
        h.update(headers or {})
        self.conn.request(method, path, body, h)
        r = self.conn.getresponse()
        return r.status, r.read()

    def call(self, name, args):
        """The arguments of the response to one method call (asserted to be name)."""
        args = dict(args, accountId=self.account)
        st, body = self.request("POST", "/jmap/api", json.dumps({"using": self.using, "methodCalls": [[name, args, "c"]]}),
                                {"Content-Type": "application/json"})
        assert st == 200, body
        r = json.loads(body)["methodResponses"][0]
        assert r[0] == name, r
        return r[1]

    def upload(self, data):
        """(status, body) of an upload of a message."""
        return self.request("POST", "/jmap/upload/%s/" % self.account, data, {"Content-Type": "message/rfc822"})

    def mailbox(self, role):
        """The id of the mailbox with that role."""
        return [m["id"] for m in self.call("Mailbox/get", {"ids": None})["list"] if m.get("role") == role][0]


# ------------------------------------------------------------------ a capture SMTP server

class CaptureSMTP:
    """An SMTP server on loopback that accepts every message (RCPT to reject-*@ gets 550)
    and keeps (MAIL line, [RCPT lines], raw DATA up to and including CRLF . CRLF) in
    messages, and every command line in lines. ehlo_extra: more EHLO keywords (e.g.
    b"AUTH PLAIN LOGIN": a relay that offers a login without TLS; AUTH gets 535). One
    thread per connection; close() stops it."""

    def __init__(self, host="127.0.0.1", ehlo_extra=()):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.ehlo_extra = list(ehlo_extra)
        self.lines = []
        self.messages = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        s.settimeout(30)
        buf = b""
        mail, rcpts = None, []

        def line():
            nonlocal buf
            while b"\r\n" not in buf:
                d = s.recv(65536)
                if not d:
                    raise EOFError
                buf += d
            l, _, buf = buf.partition(b"\r\n")
            return l

        try:
            s.sendall(b"220 capture ESMTP\r\n")
            while True:
                l = line()
                with self.lock:
                    self.lines.append(l)
                verb = l[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    s.sendall(b"250-capture\r\n" + b"".join(b"250-" + k + b"\r\n" for k in self.ehlo_extra)
                              + b"250 8BITMIME\r\n")
                elif verb == b"AUTH":
                    s.sendall(b"535 5.7.8 no\r\n")
                elif verb == b"MAIL":
                    mail, rcpts = l, []
                    s.sendall(b"250 ok\r\n")
                elif verb == b"RCPT":
                    if b"reject-" in l:
                        s.sendall(b"550 5.1.1 no such user\r\n")
                    else:
                        rcpts.append(l)
                        s.sendall(b"250 ok\r\n")
                elif verb == b"DATA":
                    s.sendall(b"354 go\r\n")
                    while b"\r\n.\r\n" not in b"\r\n" + buf:
                        d = s.recv(65536)
                        if not d:
                            raise EOFError
                        buf += d
                    i = (b"\r\n" + buf).index(b"\r\n.\r\n")
                    data, buf = buf[:i + 3], buf[i + 3:]
                    with self.lock:
                        self.messages.append((mail, rcpts, data))
                    s.sendall(b"250 captured\r\n")
                elif verb == b"QUIT":
                    s.sendall(b"221 bye\r\n")
                    break
                else:
                    s.sendall(b"250 ok\r\n")
        except (EOFError, OSError):
            pass
        finally:
            s.close()

    def wait(self, needle, timeout=20):
        """The first kept message whose DATA contains needle (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for m in self.messages:
                    if needle in m[2]:
                        return m
            time.sleep(0.1)
        raise AssertionError("capture server got nothing with %r; got %d messages" % (needle, len(self.messages)))


# ------------------------------------------------------------------ serve

def serve_fails(bin_path, datadir, timeout=20):
    """Runs `serve` on datadir, expecting it to exit non-zero before serving; returns (status, stderr)."""
    p = subprocess.Popen([bin_path, "-d", datadir, "serve"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        pytest.fail("serve kept running instead of refusing\n%s" % err[-2000:])
    return p.returncode, err


# ------------------------------------------------------------------ the full-text index

def index_status(srv):
    """{'pending': n, 'too_big': n} from `postamt index status`."""
    r = srv.run("index", "status")
    assert r.returncode == 0, r.stderr
    return {k: int(v) for k, v in (kv.split("=") for kv in r.stdout.split())}


def wait_indexed(srv, timeout=60):
    """Waits until the server's indexer has written every waiting message (it runs every
    second), e.g. so that a memory measurement sees no indexing alongside."""
    deadline = time.monotonic() + timeout
    while index_status(srv)["pending"] != 0:
        assert time.monotonic() < deadline, "the indexer did not catch up: %s" % index_status(srv)
        time.sleep(0.2)
