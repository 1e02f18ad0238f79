"""Messages on PostgreSQL (store.backend = postgresql, docs/cluster.md "Messages"): two
nodes on one database. Mail delivered over SMTP through node A is read over IMAP on
node B byte for byte (a body of several chunks too, and a partial fetch of it; POP3 and
JMAP Email/get on B too), and a
session on B in IDLE is told of the next delivery through A; flags
set on B are seen on A with the same CONDSTORE MODSEQ; IMAP APPEND on either node; the
quota refuses exactly at the limit, whichever node writes; SORT and THREAD on B of
mail delivered through A."""
import base64
import http.client
import imaplib
import json
import poplib
import re
import smtplib

import pytest

from conftest import DOMAIN
from pgfixture import pg_nodes, pg_query


@pytest.fixture(scope="module")
def nodes(postamt_bin):
    """Two running nodes on one new database, made once for the file."""
    with pg_nodes(postamt_bin, users=()) as made:
        yield made


@pytest.fixture
def cluster(nodes, request):
    request.node._postamt_servers = list(nodes[1:])  # their logs on failure
    return nodes


def imap(srv, user):
    m = imaplib.IMAP4(srv.host, srv.port("imap"))
    m.login(user, "secret")
    return m


def deliver(srv, rcpt, msg):
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=20) as s:
        s.ehlo("client.example")
        return s.sendmail("sender@elsewhere.example", [rcpt], msg)


def jmap(srv, user, calls):
    """One JMAP request with Basic auth on srv's HTTPS port; its methodResponses."""
    c = http.client.HTTPSConnection(srv.tls_name, srv.port("https"), context=srv.ssl_context(), timeout=20)
    auth = {"Authorization": "Basic " + base64.b64encode(("%s:secret" % user).encode()).decode(),
            "Content-Type": "application/json"}
    c.request("GET", "/.well-known/jmap", headers=auth)
    r = c.getresponse()
    assert r.status == 200
    account = json.loads(r.read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    for call in calls:
        call[1]["accountId"] = account
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], "methodCalls": calls})
    c.request("POST", "/jmap/api", body, auth)
    r = c.getresponse()
    data = r.read()
    assert r.status == 200, data
    c.close()
    return json.loads(data)["methodResponses"]


def fetch(m, what, uid="1"):
    typ, data = m.uid("FETCH", uid, what)
    assert typ == "OK", data
    return data


def body_of(m, uid, section="BODY.PEEK[]"):
    data = fetch(m, section, uid)
    return data[0][1]


def test_smtp_on_a_read_on_b(cluster):
    uri, a, b = cluster
    user = "reader@" + DOMAIN
    a.add_user(user, "secret")
    small = b"From: <sender@elsewhere.example>\r\nTo: <%s>\r\nSubject: hello\r\nMessage-ID: <s1@x>\r\n\r\nhi there\r\n" % user.encode()
    # several chunks of 256 KiB, and bytes that are not text
    line = bytes(range(32, 127)) + b"\r\n"
    big = (b"From: <sender@elsewhere.example>\r\nTo: <%s>\r\nSubject: big\r\nMessage-ID: <b1@x>\r\n\r\n" % user.encode()
           + line * (700 * 1024 // len(line)))
    assert deliver(a, user, small) == {}
    assert deliver(a, user, big) == {}
    # the delivery's Sieve and junk filter steps ran on the database too
    assert "event=sieve_error" not in a.log() and "event=junk_error" not in a.log(), a.log_tail()
    mb, ma = imap(b, user), imap(a, user)
    typ, data = mb.select("INBOX")
    assert typ == "OK" and data == [b"2"], data
    ma.select("INBOX", readonly=True)
    got_small, got_big = body_of(mb, "1"), body_of(mb, "2")
    # what was delivered, after the Return-Path and trace fields the server puts first
    assert got_small.endswith(small) and got_small.startswith(b"Return-Path: <sender@elsewhere.example>\r\n")
    assert got_big.endswith(big)
    assert len(got_big) > 2 * 256 * 1024
    # byte for byte the same through either node, and RFC822.SIZE agrees
    assert body_of(ma, "1") == got_small and body_of(ma, "2") == got_big
    size = fetch(mb, "RFC822.SIZE", "2")[0]
    assert int(re.search(rb"RFC822\.SIZE (\d+)", size).group(1)) == len(got_big)
    # a partial fetch across a chunk boundary
    part = fetch(mb, "BODY.PEEK[]<262000.1000>", "2")
    assert part[0][1] == got_big[262000:263000]
    part = fetch(mb, "BODY.PEEK[]<700000.100000>", "2")
    assert part[0][1] == got_big[700000:800000]
    hdr = got_big[:got_big.index(b"\r\n\r\n") + 4]
    assert fetch(mb, "BODY.PEEK[HEADER]", "2")[0][1] == hdr
    assert fetch(mb, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]", "2")[0][1] == b"Subject: big\r\n\r\n"
    # several items in one FETCH: a range and a whole section
    data = fetch(mb, "(BODY.PEEK[]<10.20> BODY.PEEK[TEXT])", "2")
    assert data[0][1] == got_big[10:30] and data[1][1] == got_big[len(hdr):], data[0][0]
    # envelope and body structure from the stored metadata
    env = fetch(mb, "(ENVELOPE BODYSTRUCTURE)", "1")[0]
    assert b'"hello"' in env and b'"<s1@x>"' in env and b'("TEXT" "PLAIN"' in env.upper()
    # the body is in the database, as chunks; nothing under DIR/blobs
    rows = pg_query(uri, "SELECT count(*), sum(length(data)) FROM message_chunks c JOIN messages m"
                    " ON m.email_id = c.email_id JOIN accounts ac ON ac.id = m.account_id"
                    " WHERE ac.address = '%s'" % user)
    assert rows == [["4", str(len(got_small) + len(got_big))]], rows
    # POP3 on B: the same bytes
    p = poplib.POP3(b.host, b.port("pop3"), timeout=20)
    p.user(user)
    p.pass_("secret")
    assert p.stat() == (2, len(got_small) + len(got_big))
    assert b"\r\n".join(p.retr(1)[1]) + b"\r\n" == got_small
    p.quit()
    # JMAP Email/get on B (the id is IMAP's EMAILID, RFC 8474)
    email_id = re.search(rb"EMAILID \(([^)]+)\)", fetch(ma, "EMAILID", "1")[0]).group(1).decode()
    got = jmap(b, user, [["Email/get", {"ids": [email_id], "properties": ["subject", "size", "blobId"]}, "g"]])
    e = got[0][1]["list"][0]
    assert e["subject"] == "hello" and e["size"] == len(got_small), got
    # a session on B in IDLE is told of the next delivery through A (change events)
    idle = imaplib.IMAP4(b.host, b.port("imap"))
    idle.login(user, "secret")
    idle.select("INBOX")
    idle.send(b"i1 IDLE\r\n")
    assert idle.readline().startswith(b"+")
    assert deliver(a, user, small) == {}
    idle.sock.settimeout(20)
    line = idle.readline()
    while line and b"EXISTS" not in line:
        line = idle.readline()
    assert line == b"* 3 EXISTS\r\n", line
    idle.send(b"DONE\r\n")
    line = idle.readline()
    while line.startswith(b"* "):
        line = idle.readline()
    assert line.startswith(b"i1 OK"), line
    idle.shutdown()
    # and a session not in IDLE at its next command
    mb.untagged_responses.pop("EXISTS", None)
    assert mb.noop()[0] == "OK"
    assert mb.response("EXISTS") == ("EXISTS", [b"3"])
    for m in (ma, mb):
        m.logout()


def test_flags_on_b_seen_on_a_with_modseq(cluster):
    uri, a, b = cluster
    user = "flags@" + DOMAIN
    a.add_user(user, "secret")
    assert deliver(a, user, b"Subject: f\r\n\r\nflag me\r\n") == {}
    mb, ma = imap(b, user), imap(a, user)
    for m in (ma, mb):
        assert m.enable("CONDSTORE")[0] == "OK"
        m.select("INBOX")
    typ, data = mb.uid("STORE", "1", "+FLAGS", r"(\Flagged $Work)")
    assert typ == "OK", data
    m_b = re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1)
    got = fetch(ma, "(FLAGS MODSEQ)", "1")[0]
    assert rb"\Flagged" in got and b"$Work" in got, got
    assert re.search(rb"MODSEQ \((\d+)\)", got).group(1) == m_b
    # the unchanged-since guard sees B's change on A
    typ, data = ma.uid("STORE", "1", "(UNCHANGEDSINCE 1) +FLAGS", r"(\Seen)")
    assert typ == "OK" and ma.response("MODIFIED") == ("MODIFIED", [b"1"]), data
    typ, data = ma.uid("STORE", "1", "(UNCHANGEDSINCE %s) +FLAGS" % m_b.decode(), r"(\Seen)")
    assert typ == "OK", data
    got = fetch(mb, "(FLAGS MODSEQ)", "1")[0]
    assert rb"\Seen" in got and int(re.search(rb"MODSEQ \((\d+)\)", got).group(1)) > int(m_b)
    # SEARCH (no full-text index on this backend: BODY reads the message)
    assert deliver(a, user, b"Subject: other\r\n\r\nnothing\r\n") == {}
    mb.noop()
    for m in (ma, mb):
        for crit, want in (("FLAGGED", b"1"), ("SUBJECT f", b"1"), ("BODY \"flag me\"", b"1"),
                           ("UNSEEN", b"2"), ("KEYWORD $Work", b"1"), ("TEXT nothing", b"2")):
            typ, data = m.uid("SEARCH", *crit.split(" ", 1))
            assert typ == "OK" and data == [want], (crit, data)
    # MOVE on B, seen on A
    typ, data = mb.uid("MOVE", "2", "Archive")
    assert typ == "OK", data
    ma.select("Archive", readonly=True)
    assert fetch(ma, "BODY.PEEK[TEXT]", "1")[0][1] == b"nothing\r\n"
    for m in (ma, mb):
        m.logout()


def test_append_and_quota_exact(cluster):
    uri, a, b = cluster
    user = "full@" + DOMAIN
    a.add_user(user, "secret")
    pg_query(uri, "UPDATE accounts SET quota = 3000 WHERE address = '%s'" % user)
    msg = b"Subject: q\r\n\r\n" + b"x" * (1000 - 16) + b"\r\n"
    assert len(msg) == 1000
    ma, mb = imap(a, user), imap(b, user)
    # APPEND through both nodes up to exactly the limit
    for m in (ma, mb, ma):
        typ, data = m.append("INBOX", None, None, msg)
        assert typ == "OK" and b"APPENDUID" in data[0], data
    typ, data = mb.append("INBOX", None, None, b"Subject: one more\r\n\r\n")
    assert typ == "NO" and b"OVERQUOTA" in data[0], data
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        deliver(b, user, b"Subject: over\r\n\r\nno room\r\n")
    code, text = e.value.recipients[user]
    assert code == 452 and b"4.2.2" in text, (code, text)
    assert pg_query(uri, "SELECT usage, messages FROM accounts WHERE address = '%s'" % user) == [["3000", "3"]]
    mb.select("INBOX", readonly=True)
    assert [body_of(mb, str(u)) for u in (1, 2, 3)] == [msg] * 3
    for m in (ma, mb):
        m.logout()


def test_sort_and_thread_on_b(cluster):
    uri, a, b = cluster
    user = "sorted@" + DOMAIN
    a.add_user(user, "secret")
    for msg in (b"From: Zed <z@x.example>\r\nSubject: beta\r\nMessage-ID: <b@x>\r\n\r\nb\r\n",
                b"From: adam <a@x.example>\r\nSubject: Alpha\r\nMessage-ID: <a@x>\r\n\r\na\r\n",
                b"From: Mia <m@x.example>\r\nSubject: Re: alpha\r\nMessage-ID: <r@x>\r\n"
                b"In-Reply-To: <a@x>\r\nReferences: <a@x>\r\n\r\nr\r\n"):
        assert deliver(a, user, msg) == {}
    mb = imap(b, user)
    mb.select("INBOX", readonly=True)
    typ, data = mb.uid("SORT", "(SUBJECT)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"2 3 1"], data
    typ, data = mb.uid("SORT", "(REVERSE DISPLAYFROM)", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"1 3 2"], data
    typ, data = mb.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
    assert typ == "OK" and data == [b"(1)(2 3)"], data
    mb.logout()
