"""Isolation between accounts (hardening issue, item 6): alice tries, through every
protocol, to reach bob's mail and gets nothing.

bob has a message in INBOX and one in his own mailbox "Secret", both carrying a
marker. alice then tries IMAP mailbox names that escape upwards (../), wildcards,
absolute paths, other namespaces (#news., #shared, Other Users/, ~bob/), bob's own
mailbox names, COPY/MOVE into them, AUTHENTICATE with bob as authorization identity;
POP3 USER/PASS for bob inside her session; SMTP AUTH as alice with bob's address as
sender (and with bob as authorization identity); JMAP with bob's accountId, bob's
email, mailbox, thread and blob ids. Nothing may answer with bob's data, and bob's
mailboxes must be unchanged afterwards."""

import base64
import imaplib
import json
import poplib
import re
import smtplib
import ssl
import urllib.error
import urllib.request

import pytest

from conftest import finish_server, new_server

ALICE, ALICE_PW = "alice@example.test", "alice-pw-1"
BOB, BOB_PW = "bob@example.test", "bob-pw-2"
MARK = "BOBSECRET7731"
SECRET_BOX = "Secret"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(ALICE, ALICE_PW), (BOB, BOB_PW)])
    # bob: one message in INBOX (by SMTP), one in his own mailbox
    with smtplib.SMTP(s.host, s.port("smtp"), timeout=10) as c:
        c.sendmail("someone@example.org", [BOB], "Subject: %s inbox\r\n\r\n%s in the inbox\r\n" % (MARK, MARK))
    b = imap_login(s, BOB, BOB_PW)
    assert b.create(SECRET_BOX)[0] == "OK"
    assert b.append(SECRET_BOX, None, None, ("Subject: %s box\r\n\r\n%s in Secret\r\n" % (MARK, MARK)).encode())[0] == "OK"
    b.logout()
    # alice: one message of her own
    a = imap_login(s, ALICE, ALICE_PW)
    assert a.append("INBOX", None, None, b"Subject: alice\r\n\r\nalice's own\r\n")[0] == "OK"
    a.logout()
    yield s
    finish_server(s)


def imap_login(s, user, pw):
    c = imaplib.IMAP4(s.host, s.port("imap"), timeout=15)
    c.login(user, pw)
    return c


def bob_counts(s):
    b = imap_login(s, BOB, BOB_PW)
    counts = {}
    for box in ("INBOX", SECRET_BOX):
        typ, data = b.status(box, "(MESSAGES)")
        assert typ == "OK"
        counts[box] = int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
    typ, data = b.list()
    names = sorted(data)
    b.logout()
    return counts, names


def no_mark(data):
    text = repr(data)
    assert MARK not in text and "bob@" not in text.lower(), "bob's data reached alice: %s" % text[:500]


# ------------------------------------------------------------------ IMAP

ESCAPES = [
    "../bob@example.test/INBOX", "../bob@example.test/" + SECRET_BOX, "../bob/INBOX", "../" + SECRET_BOX,
    "INBOX/../../bob@example.test/INBOX", "./../INBOX", "..", ".", "/", "/INBOX",
    "/bob@example.test/INBOX", "/etc/passwd", "//bob@example.test/INBOX",
    "~bob/INBOX", "~bob@example.test/INBOX", "~bob@example.test/" + SECRET_BOX,
    "Other Users/bob/INBOX", "Other Users/bob@example.test/INBOX", "Other Users/bob@example.test/" + SECRET_BOX,
    "#news.comp.mail", "#shared/INBOX", "#shared/bob@example.test/INBOX", "#user/bob/INBOX",
    "Shared Folders/bob@example.test/INBOX", "user/bob/INBOX", "user.bob", "bob@example.test",
    "bob@example.test/INBOX", SECRET_BOX, "%", "*", "INBOX/%", "INBOX*",
    "INBOX\\..\\bob", "../\u0000x", "&Li4-/bob",  # "&Li4-" is ".." in modified UTF-7
]


def cmd(c, *args):
    """(typ, data) of one command; BAD (imaplib raises it) counts as a refusal too."""
    try:
        return c._simple_command(*args)
    except imaplib.IMAP4.error as e:
        return "BAD", [str(e).encode()]


def imap_quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_imap_list_shows_only_own_mailboxes(srv):
    a = imap_login(srv, ALICE, ALICE_PW)
    typ, own = a.list()
    assert typ == "OK"
    own_names = sorted(own)
    no_mark(own)
    patterns = [('""', '"*"'), ('""', "%"), ('""', '"%/%"'), ('"*"', '"*"'), ('"../"', '"*"'), ('""', '"../*"'),
                ('""', '"../%"'), ('"/"', '"*"'), ('""', '"/*"'), ('"~bob/"', '"*"'), ('""', '"~bob/*"'),
                ('"Other Users/"', '"*"'), ('""', '"Other Users/*"'), ('"#news."', '"*"'), ('"#shared/"', '"*"'),
                ('""', '"#shared/*"'), ('""', '"bob*"'), ('""', '"*Secret*"'), ('""', '"' + SECRET_BOX + '"'),
                ('"INBOX"', '"../../*"'), ('""', '"*/../*"')]
    for ref, pat in patterns:
        typ, data = cmd(a, "LIST", ref, pat)
        typ, data = a._untagged_response(typ, data, "LIST")
        if typ != "OK":
            continue
        no_mark(data)
        for item in data:
            if item is None:
                continue
            line = item if isinstance(item, bytes) else item[0]
            assert SECRET_BOX.encode() not in line, "LIST %s %s shows bob's mailbox: %r" % (ref, pat, line)
            assert line in own_names, "LIST %s %s shows a mailbox alice does not have: %r" % (ref, pat, line)
    typ, data = cmd(a, "LSUB", '""', '"*"')
    typ, data = a._untagged_response(typ, data, "LSUB")
    no_mark(data)
    typ, data = a.namespace()
    assert typ == "OK"
    # a personal namespace only: neither other users' nor shared ones
    assert re.match(rb'^\(\(".*?" ".*?"\)\) NIL NIL$', data[0]), data
    a.logout()


@pytest.mark.parametrize("name", ESCAPES)
def test_imap_other_mailbox_names_are_refused(srv, name):
    a = imap_login(srv, ALICE, ALICE_PW)
    q = imap_quote(name)
    for verb in ("SELECT", "EXAMINE"):
        typ, data = cmd(a, verb, q)
        assert typ != "OK", "%s %s: %s %r" % (verb, name, typ, data)
        no_mark(a.untagged_responses)
        a.untagged_responses.clear()
    typ, data = cmd(a, "STATUS", q, "(MESSAGES UIDNEXT)")
    assert typ != "OK", "STATUS %s: %r" % (name, data)
    if ".." in name.split("/") or name.startswith("/") or name in (".", "..", "%", "*") or "\u0000" in name:
        for verb in ("CREATE", "SUBSCRIBE"):
            typ, data = cmd(a, verb, q)
            assert typ != "OK", "%s %s was accepted" % (verb, name)
        typ, data = cmd(a, "RENAME", "INBOX", q)
        assert typ != "OK", "RENAME INBOX %s was accepted" % name
        typ, data = cmd(a, "DELETE", q)
        assert typ != "OK", "DELETE %s was accepted" % name
    a.logout()


def test_imap_copy_move_append_into_other_account(srv):
    before = bob_counts(srv)
    a = imap_login(srv, ALICE, ALICE_PW)
    assert a.select("INBOX")[0] == "OK"
    for name in ESCAPES + ["Other Users/bob@example.test/INBOX"]:
        q = imap_quote(name)
        for verb in ("COPY", "MOVE"):
            typ, data = cmd(a, verb, "1", q)
            assert typ != "OK", "%s 1 %s: %r" % (verb, name, data)
        typ, data = cmd(a, "UID", "COPY", "1:*", q)
        assert typ != "OK", "UID COPY 1:* %s: %r" % (name, data)
        try:
            a.append(q, None, None, b"Subject: from alice\r\n\r\nx\r\n")
        except imaplib.IMAP4.error:
            pass  # if accepted at all, it is alice's own mailbox: bob_counts below tells
    # alice's own messages only, whatever UIDs she asks for
    typ, data = a.uid("FETCH", "1:4294967295", "(BODY.PEEK[])")
    assert typ == "OK"
    no_mark(data)
    typ, data = a.uid("SEARCH", None, "ALL")
    assert typ == "OK"
    typ, data = a.search(None, "TEXT", MARK)
    assert typ == "OK" and data == [b""], "SEARCH finds bob's marker in alice's INBOX: %r" % data
    a.logout()
    assert bob_counts(srv) == before, "bob's mailboxes changed: %r -> %r" % (before, bob_counts(srv))


def test_imap_authenticate_as_bob_with_alice_password(srv):
    c = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=15)
    # RFC 4616: authzid \0 authcid \0 passwd
    blob = ("%s\0%s\0%s" % (BOB, ALICE, ALICE_PW)).encode()
    try:
        typ, data = c.authenticate("PLAIN", lambda _: blob)
    except imaplib.IMAP4.error:
        typ = "NO"
    if typ == "OK":
        # accepted: then as alice, never as bob
        typ, data = c.select("INBOX", readonly=True)
        typ, data = c.fetch("1:*", "(BODY.PEEK[])")
        no_mark(data)
    c.logout()
    c = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=15)
    with pytest.raises(imaplib.IMAP4.error):
        c.login(BOB, ALICE_PW)
    c.logout()


# ------------------------------------------------------------------ POP3

def test_pop3_user_switch_after_login(srv):
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=15)
    p.user(ALICE)
    p.pass_(ALICE_PW)
    for cmd in ("USER " + BOB, "PASS " + BOB_PW, "PASS " + ALICE_PW, "APOP " + BOB + " 0123456789abcdef0123456789abcdef",
                "AUTH PLAIN " + base64.b64encode(("\0%s\0%s" % (BOB, BOB_PW)).encode()).decode()):
        with pytest.raises(poplib.error_proto):
            p._shortcmd(cmd)
    n = len(p.list()[1])
    for i in range(1, n + 1):
        no_mark(p.retr(i)[1])
    no_mark(p.uidl()[1])
    p.quit()
    # bob's password is bob's; alice's is alice's
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=15)
    p.user(BOB)
    with pytest.raises(poplib.error_proto):
        p.pass_(ALICE_PW)
    p.close()


def test_pop3_authzid_bob(srv):
    p = poplib.POP3(srv.host, srv.port("pop3"), timeout=15)
    blob = base64.b64encode(("%s\0%s\0%s" % (BOB, ALICE, ALICE_PW)).encode()).decode()
    try:
        p._shortcmd("AUTH PLAIN " + blob)
        ok = True
    except poplib.error_proto:
        ok = False
    if ok:
        n = len(p.list()[1])
        for i in range(1, n + 1):
            no_mark(p.retr(i)[1])
    p.close()


# ------------------------------------------------------------------ SMTP

def submission(srv):
    ctx = srv.ssl_context()
    return smtplib.SMTP_SSL(srv.host, srv.port("submissions"), timeout=15, context=ctx)


@pytest.mark.parametrize("sender", [BOB, "BOB@example.test", "bob@EXAMPLE.TEST", '"bob"@example.test',
                                    "@relay.example:bob@example.test", "bob@example.test.", "postmaster@example.test"])
def test_smtp_auth_alice_cannot_send_as_bob(srv, sender):
    with submission(srv) as c:
        c.ehlo("alice.example")
        c.login(ALICE, ALICE_PW)
        code, msg = c.mail("<%s>" % sender)
        if sender == "postmaster@example.test" and code == 250:
            pytest.fail("alice may use postmaster@ as sender: %r" % msg)
        assert code // 100 == 5, "MAIL FROM:<%s> as alice: %d %r" % (sender, code, msg)


def test_smtp_authzid_bob_is_not_bob(srv):
    with submission(srv) as c:
        c.ehlo("alice.example")
        blob = base64.b64encode(("%s\0%s\0%s" % (BOB, ALICE, ALICE_PW)).encode()).decode()
        code, msg = c.docmd("AUTH", "PLAIN " + blob)
        if code == 235:
            code, msg = c.mail("<%s>" % BOB)
            assert code // 100 == 5, "authzid bob let alice send as bob: %d %r" % (code, msg)
        else:
            assert code // 100 == 5, (code, msg)


# ------------------------------------------------------------------ JMAP

def jmap(srv, user, pw, path, body=None):
    ctx = srv.ssl_context()
    url = "https://%s:%d%s" % (srv.tls_name, srv.port("https"), path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode())
    if data is not None:
        req.add_header("Content-Type", "application/json")
    # the certificate is for localhost; connect to 127.0.0.1
    handler = urllib.request.HTTPSHandler(context=ctx)
    opener = urllib.request.build_opener(handler)
    url_ip = url.replace(srv.tls_name, srv.host, 1)
    req.full_url = url_ip
    req.add_header("Host", "%s:%d" % (srv.tls_name, srv.port("https")))
    ctx.check_hostname = False
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


def session(srv, user, pw):
    st, raw = jmap(srv, user, pw, "/jmap/session")
    assert st == 200, (st, raw[:300])
    s = json.loads(raw)
    return s, s["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def call(srv, user, pw, calls):
    st, raw = jmap(srv, user, pw, "/jmap/api", {"using": USING, "methodCalls": calls})
    return st, raw


def test_jmap_other_account(srv):
    bs, bob_acc = session(srv, BOB, BOB_PW)
    as_, alice_acc = session(srv, ALICE, ALICE_PW)
    assert bob_acc != alice_acc
    assert list(as_["accounts"]) == [alice_acc], "alice's session lists other accounts: %r" % as_["accounts"]
    # bob's own ids, as bob sees them
    st, raw = call(srv, BOB, BOB_PW, [
        ["Email/query", {"accountId": bob_acc}, "q"],
        ["Email/get", {"accountId": bob_acc, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                       "properties": ["id", "blobId", "threadId", "mailboxIds", "subject"]}, "g"],
        ["Mailbox/get", {"accountId": bob_acc, "ids": None}, "m"]])
    assert st == 200, raw[:300]
    resp = json.loads(raw)["methodResponses"]
    emails = resp[1][1]["list"]
    assert len(emails) == 2 and all(MARK in e["subject"] for e in emails), emails
    email_ids = [e["id"] for e in emails]
    blob_ids = [e["blobId"] for e in emails]
    thread_ids = [e["threadId"] for e in emails]
    box_ids = [m["id"] for m in resp[2][1]["list"]]

    # alice names bob's account: refused
    for method, args in [("Email/query", {}), ("Email/get", {"ids": email_ids}), ("Mailbox/get", {"ids": None}),
                         ("Thread/get", {"ids": thread_ids}), ("Email/changes", {"sinceState": "0"}),
                         ("Email/set", {"destroy": email_ids}),
                         ("Mailbox/set", {"destroy": box_ids}),
                         ("Email/copy", {"fromAccountId": bob_acc, "create": {
                             "c1": {"id": email_ids[0], "mailboxIds": {box_ids[0]: True}}}})]:
        a = dict(args, accountId=bob_acc)
        st, raw = call(srv, ALICE, ALICE_PW, [[method, a, "x"]])
        text = raw.decode("utf-8", "replace")
        assert MARK not in text, "%s with bob's accountId leaks: %s" % (method, text[:400])
        if st == 200:
            r = json.loads(raw)["methodResponses"][0]
            assert r[0] == "error", "%s with bob's accountId: %s" % (method, text[:400])
            assert r[1]["type"] in ("accountNotFound", "forbidden", "accountNotSupportedByMethod", "unknownMethod"), r

    # alice's own account, bob's ids: nothing found, nothing changed
    st, raw = call(srv, ALICE, ALICE_PW, [
        ["Email/get", {"accountId": alice_acc, "ids": email_ids, "properties": ["subject", "preview", "blobId"]}, "a"],
        ["Mailbox/get", {"accountId": alice_acc, "ids": box_ids}, "b"],
        ["Thread/get", {"accountId": alice_acc, "ids": thread_ids}, "c"],
        ["Email/set", {"accountId": alice_acc, "destroy": email_ids,
                       "update": {email_ids[0]: {"keywords/$seen": True}}}, "d"],
        ["Mailbox/set", {"accountId": alice_acc, "destroy": box_ids}, "e"],
        ["Email/query", {"accountId": alice_acc, "filter": {"text": MARK}}, "f"],
        ["Email/query", {"accountId": alice_acc, "filter": {"inMailbox": box_ids[0]}}, "g"]])
    assert st == 200, raw[:300]
    text = raw.decode()
    assert MARK not in text, "bob's data in alice's replies: %s" % text[:600]
    resp = json.loads(raw)["methodResponses"]
    assert resp[0][1]["list"] == [] and sorted(resp[0][1]["notFound"]) == sorted(email_ids), resp[0]
    assert resp[1][1]["list"] == [], resp[1]
    assert resp[2][1]["list"] == [], resp[2]
    assert not resp[3][1].get("destroyed") and not resp[3][1].get("updated"), resp[3]
    assert not resp[4][1].get("destroyed"), resp[4]
    assert resp[5][1].get("ids", []) == [], resp[5]
    assert resp[6][0] == "error" or resp[6][1].get("ids", []) == [], resp[6]

    # blobs: bob's blob ids under either account
    tmpl = as_.get("downloadUrl", "/jmap/download/{accountId}/{blobId}/{name}?accept={type}")
    for acc in (alice_acc, bob_acc):
        for blob in blob_ids + ["0", "..", "../" + blob_ids[0], blob_ids[0] + "/../x", "%2e%2e"]:
            path = (tmpl.replace("{accountId}", acc).replace("{blobId}", blob).replace("{name}", "x.eml")
                    .replace("{type}", "application/octet-stream"))
            path = re.sub(r"^https?://[^/]+", "", path)
            st, raw = jmap(srv, ALICE, ALICE_PW, path)
            assert MARK.encode() not in raw, "download %s as alice gave bob's message" % path
            assert st in (400, 403, 404), "download %s as alice: %d" % (path, st)

    assert bob_counts(srv)[0] == {"INBOX": 1, SECRET_BOX: 1}
