"""IMAP end to end (issue 5): Python imaplib over IMAPS and STARTTLS, raw protocol
checks for literals, limits and bad input, and the client traps of
peers-features.md section 4, each in its own test."""

import imaplib
import re
import smtplib
import socket
import ssl
import threading
import time

import pytest

from conftest import finish_server, new_server

USER = "imapuser@example.test"
OTHER = "other@example.test"
PW = "secret"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(USER, PW), (OTHER, PW), ("idler@example.test", PW),
                                       ("quota@example.test", PW), ("sync@example.test", PW)])
    yield s
    finish_server(s)


def deliver(srv, rcpt, subject="hello", body="body text\r\n", extra=""):
    msg = ("From: Sender <sender@remote.test>\r\nTo: %s\r\nSubject: %s\r\n"
           "Message-ID: <%f@remote.test>\r\n%s\r\n%s" % (rcpt, subject, time.time(), extra, body))
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("sender@remote.test", [rcpt], msg.encode())


def imaps(srv, user=USER):
    m = imaplib.IMAP4_SSL(srv.host, srv.port("imaps"), ssl_context=srv.ssl_context(), timeout=10)
    m.login(user, PW)
    return m


def raw(srv, user=None):
    """A LineClient on plain IMAP (loopback: LOGIN allowed), logged in when user is given."""
    c = srv.connect("imap", timeout=10)
    assert c.readline().startswith("* OK")
    if user:
        c.sendline("l1 LOGIN %s %s" % (user, PW))
        _, t = c.read_imap_tagged("l1")
        assert t.startswith("l1 OK"), t
    return c


def cmd(c, tag, line, timeout=10):
    c.sendline("%s %s" % (tag, line))
    return c.read_imap_tagged(tag, timeout)


# -- imaplib: the ordinary client work ----------------------------------------------

def test_imaplib_imaps_session(srv):
    deliver(srv, USER, "first message")
    deliver(srv, USER, "second message")
    m = imaps(srv)
    try:
        typ, boxes = m.list()
        assert typ == "OK"
        names = [b.decode() for b in boxes]
        assert any(n.endswith('"INBOX"') for n in names), names
        assert any("\\Drafts" in n and '"Drafts"' in n for n in names), names
        assert not any("\\Draft)" in n or "\\Draft " in n for n in names), names
        typ, data = m.select("INBOX")
        assert typ == "OK" and int(data[0]) >= 2
        typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
        assert typ == "OK" and len(data) >= 2
        typ, data = m.search(None, "SUBJECT", '"second message"')
        assert typ == "OK" and data[0].split(), data
        n = data[0].split()[0]
        typ, data = m.fetch(n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert b"Subject: second message" in data[0][1]
        typ, data = m.store(n, "+FLAGS", "(\\Flagged)")
        assert typ == "OK" and b"\\Flagged" in data[0]
        typ, data = m.copy(n, "Archive")
        assert typ == "OK"
        typ, data = m.append("INBOX", "(\\Seen)", None, b"Subject: appended\r\n\r\nappended body\r\n")
        assert typ == "OK" and b"APPENDUID" in data[0]
        typ, data = m.uid("SEARCH", None, "SUBJECT", "appended")
        uid = data[0].split()[-1]
        typ, data = m.uid("MOVE", uid, "Trash")
        assert typ == "OK", data
        typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
        typ, data = m.expunge()
        assert typ == "OK" and data[-1] == b"1", data
        typ, data = m.status("Trash", "(MESSAGES UIDNEXT UNSEEN SIZE)")
        assert typ == "OK" and b"MESSAGES 1" in data[0], data
        m.close()
    finally:
        m.logout()


def test_imaplib_starttls(srv):
    m = imaplib.IMAP4(srv.host, srv.port("imap"), timeout=10)
    try:
        m.starttls(srv.ssl_context())
        assert "STARTTLS" not in m.capabilities
        m.login(USER, PW)
        typ, _ = m.select("INBOX", readonly=True)
        assert typ == "OK"
    finally:
        m.logout()


def test_idle_sees_other_sessions_store_and_smtp_delivery(srv):
    deliver(srv, "idler@example.test", "to flag")
    a = raw(srv, "idler@example.test")
    b = imaps(srv, "idler@example.test")
    try:
        _, t = cmd(a, "s1", "SELECT INBOX")
        assert "[READ-WRITE]" in t
        a.sendline("i1 IDLE")
        assert a.readline().startswith("+ ")
        b.select("INBOX")
        t0 = time.monotonic()
        b.store("1", "+FLAGS", "(\\Flagged)")
        line = a.readline(timeout=1.5)
        assert re.match(r"\* 1 FETCH \(.*FLAGS \(.*\\Flagged", line), line
        assert time.monotonic() - t0 < 1.5
        t0 = time.monotonic()
        deliver(srv, "idler@example.test", "new while idling")
        line = a.readline(timeout=3)
        while "RECENT" in line:
            line = a.readline(timeout=3)
        assert re.match(r"\* 2 EXISTS", line), line
        # pipelined commands right after DONE (iOS 18 Mail)
        a.send("DONE\r\nn1 NOOP\r\nn2 FETCH 2 (UID)\r\n")
        untagged, t = a.read_imap_tagged("i1")
        assert t.startswith("i1 OK"), t
        _, t = a.read_imap_tagged("n1")
        assert t.startswith("n1 OK")
        untagged, t = a.read_imap_tagged("n2")
        assert t.startswith("n2 OK") and any("UID" in u for u in untagged), untagged
    finally:
        a.close()
        b.logout()


def test_several_idle_connections_per_user(srv):
    conns = []
    try:
        for i in range(4):
            c = raw(srv, USER)
            cmd(c, "s", "SELECT INBOX")
            c.sendline("i IDLE")
            assert c.readline().startswith("+ ")
            conns.append(c)
        deliver(srv, USER, "for every idler")
        for c in conns:
            line = c.readline(timeout=3)
            assert "EXISTS" in line, line
            c.sendline("DONE")
            _, t = c.read_imap_tagged("i")
            assert t.startswith("i OK")
    finally:
        for c in conns:
            c.close()


def test_new_mail_reported_to_noop(srv):
    c = raw(srv, OTHER)
    try:
        untagged, _ = cmd(c, "s", "SELECT INBOX")
        exists = [int(u.split()[1]) for u in untagged if u.endswith(" EXISTS")][0]
        deliver(srv, OTHER, "noop me")
        time.sleep(0.3)
        untagged, t = cmd(c, "n", "NOOP")
        assert "* %d EXISTS" % (exists + 1) in untagged, untagged
        assert not any(u.startswith("* STATUS") for u in untagged), untagged
    finally:
        c.close()


def test_no_expunge_during_fetch_store_search(srv):
    deliver(srv, OTHER, "to be expunged")
    a = raw(srv, OTHER)
    b = imaps(srv, OTHER)
    try:
        untagged, _ = cmd(a, "s", "SELECT INBOX")
        n = [int(u.split()[1]) for u in untagged if u.endswith(" EXISTS")][0]
        b.select("INBOX")
        b.store(str(n), "+FLAGS", "(\\Deleted)")
        b.expunge()
        time.sleep(0.3)
        for tag, line in (("f", "FETCH 1:* (FLAGS)"), ("st", "STORE 1 +FLAGS (\\Seen)"), ("se", "SEARCH ALL")):
            untagged, t = cmd(a, tag, line)
            # FETCH of a message expunged meanwhile: NO [EXPUNGEISSUED], as Dovecot (issue 16)
            assert t.startswith(tag + " OK") or tag == "f" and t.startswith("f NO [EXPUNGEISSUED]"), t
            assert not any("EXPUNGE" in u for u in untagged), (line, untagged)
        untagged, t = cmd(a, "n", "NOOP")
        assert "* %d EXPUNGE" % n in untagged, untagged
    finally:
        a.close()
        b.logout()


def test_uidvalidity_stable(srv):
    def uidvalidity():
        c = raw(srv, USER)
        try:
            untagged, _ = cmd(c, "s", "EXAMINE INBOX")
            return [u for u in untagged if "UIDVALIDITY" in u][0]
        finally:
            c.close()
    first = uidvalidity()
    deliver(srv, USER, "between")
    assert uidvalidity() == first


def test_esearch_tag_is_quoted(srv):
    c = raw(srv, USER)
    try:
        cmd(c, "e", "ENABLE IMAP4rev2")
        cmd(c, "s", "SELECT INBOX")
        untagged, t = cmd(c, "x1", "SEARCH RETURN (COUNT MIN) ALL")
        assert any(u.startswith('* ESEARCH (TAG "x1") ') and "COUNT" in u for u in untagged), untagged
        untagged, t = cmd(c, "x2", "UID SEARCH ALL")
        assert any(u.startswith('* ESEARCH (TAG "x2") UID') for u in untagged), untagged
    finally:
        c.close()


def test_searchres_saved_result(srv):
    c = raw(srv, USER)
    try:
        cmd(c, "s", "SELECT INBOX")
        untagged, t = cmd(c, "a", "SEARCH RETURN (SAVE) ALL")
        assert t.startswith("a OK") and not any("ESEARCH" in u for u in untagged)
        untagged, t = cmd(c, "b", "FETCH $ (UID)")
        assert t.startswith("b OK") and any("FETCH" in u for u in untagged), untagged
    finally:
        c.close()


def test_special_use_and_utf7_names(srv):
    c = raw(srv, USER)
    try:
        _, t = cmd(c, "c1", 'CREATE "R&-D"')
        assert t.startswith("c1 OK"), t
        _, t = cmd(c, "c2", 'CREATE "Gr&APw-n"')  # Grün
        assert t.startswith("c2 OK"), t
        _, t = cmd(c, "c3", 'CREATE "MyDrafts" (USE (\\Drafts))')
        assert t.startswith("c3 OK"), t
        untagged, t = cmd(c, "l", 'LIST "" "*"')
        assert '* LIST (\\HasNoChildren) "/" "R&-D"' in untagged, untagged
        assert '* LIST (\\HasNoChildren) "/" "Gr&APw-n"' in untagged, untagged
        assert any(u.endswith('"Sent"') and "\\Sent" in u for u in untagged), untagged
        assert any(u.endswith('"MyDrafts"') and "\\Drafts" in u for u in untagged), untagged
        untagged, t = cmd(c, "l2", 'LIST (SPECIAL-USE) "" "*" RETURN (STATUS (MESSAGES))')
        assert t.startswith("l2 OK"), t
        assert not any('"R&-D"' in u for u in untagged), untagged
        assert any(u.startswith("* STATUS") for u in untagged), untagged
        for bad in ('"a/../b"', '"bad&Jjo"', '"x&AGE-"', '"%"', '"a*b"'):
            _, t = cmd(c, "b", "CREATE " + bad)
            assert t.startswith("b NO") or t.startswith("b BAD"), (bad, t)
    finally:
        c.close()


def test_bodystructure_complete(srv):
    body = ("--XyZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
            "--XyZ\r\nContent-Type: image/png; name=\"a.png\"\r\nContent-Disposition: attachment; filename=\"a.png\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XyZ--\r\n")
    deliver(srv, "sync@example.test", "multipart", body,
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XyZ"\r\n')
    c = raw(srv, "sync@example.test")
    try:
        cmd(c, "s", "SELECT INBOX")
        untagged, t = cmd(c, "f", "FETCH 1 (BODYSTRUCTURE BINARY.SIZE[2] BODY.PEEK[5] BODY.PEEK[1.MIME])")
        text = " ".join(untagged)
        assert '"boundary" "XyZ"' in text, text
        assert '"attachment" ("filename" "a.png")' in text, text
        assert "BINARY.SIZE[2] 8" in text, text
        assert 'BODY[5] ""' in text, text
        untagged, t = cmd(c, "g", "FETCH 1 (BINARY.PEEK[2])")
        assert t.startswith("g OK"), t
    finally:
        c.close()


def test_quota_and_overquota(srv):
    srv.run("user", "quota", "quota@example.test", "2K")
    m = imaps(srv, "quota@example.test")
    try:
        typ, data = m.getquotaroot("INBOX")
        assert typ == "OK"
        assert b"STORAGE 0 2" in data[1][0], data
        typ, data = m.append("INBOX", None, None, b"Subject: big\r\n\r\n" + b"x" * 4000 + b"\r\n")
        assert typ == "NO" and b"OVERQUOTA" in data[0], data
    finally:
        m.logout()


def test_append_with_flags_and_date(srv):
    m = imaps(srv)
    try:
        date = imaplib.Time2Internaldate(837596665)
        typ, data = m.append("Drafts", "(\\Draft $Label1)", date, b"Subject: dated\r\n\r\nx\r\n")
        assert typ == "OK", data
        uid = re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1).decode()
        m.select("Drafts")
        typ, data = m.uid("FETCH", uid, "(FLAGS INTERNALDATE)")
        assert b"\\Draft" in data[0] and b"$Label1" in data[0], data
        assert b"17-Jul-1996" in data[0], data
        typ, data = m.append("NoSuchBox", None, None, b"Subject: x\r\n\r\nx\r\n")
        assert typ == "NO" and b"TRYCREATE" in data[0], data
    finally:
        m.logout()


def test_list_pattern_with_many_wildcards_is_refused(srv):
    c = raw(srv, USER)
    try:
        _, t = cmd(c, "l", 'LIST "" "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"')
        assert t.startswith("l NO"), t
        untagged, t = cmd(c, "m", 'LIST "" "%"')
        assert t.startswith("m OK") and untagged
    finally:
        c.close()


# -- literals and bad input ---------------------------------------------------------

def test_synchronizing_literal_works_and_oversize_is_refused_before_plus(srv):
    c = raw(srv)
    try:
        c.sendline("a LOGIN {%d}" % len(USER))
        assert c.readline().startswith("+ ")
        c.send(USER + " {%d}\r\n" % len(PW))
        assert c.readline().startswith("+ ")
        c.send(PW + "\r\n")
        _, t = c.read_imap_tagged("a")
        assert t.startswith("a OK"), t
        c.sendline("b APPEND INBOX {999999999}")
        line = c.readline()
        assert line.startswith("b NO [TOOBIG]"), line
        # the client abandons the command; the next line is a command again
        c.sendline("c NOOP")
        _, t = c.read_imap_tagged("c")
        assert t.startswith("c OK"), t
        c.sendline("d SELECT {4294967296}")
        line = c.readline()
        assert line.startswith("d NO") or line.startswith("d BAD"), line
        _, t = cmd(c, "e", "SELECT {-1}")
        assert t.startswith("e BAD"), t
    finally:
        c.close()


def test_non_synchronizing_literal_over_limit_closes(srv):
    c = raw(srv, USER)
    try:
        c.sendline("a SELECT {100000+}")
        text, closed = c.read_all(5)
        assert "* BYE" in text, text
        assert closed
    finally:
        c.close()


def test_literal_plus_and_literal8_append(srv):
    c = raw(srv, USER)
    try:
        msg = b"Subject: lit+\r\n\r\nhi\r\n"
        c.send(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        _, t = c.read_imap_tagged("a")
        assert t.startswith("a OK [APPENDUID"), t
        msg = b"Subject: lit8\r\n\r\nnul\x00here\r\n"
        c.sendline("b APPEND INBOX ~{%d}" % len(msg))
        assert c.readline().startswith("+ ")
        c.send(msg + b"\r\n")
        _, t = c.read_imap_tagged("b")
        assert t.startswith("b OK"), t
    finally:
        c.close()


@pytest.mark.parametrize("line", [
    'SELECT "INBOX',
    "SEARCH " + "(" * 4000 + "ALL" + ")" * 4000,
    "FETCH 1:4294967296 (UID)",
    "FETCH 0 (UID)",
    "FETCH 1 (BODY[1.2.HEADER.FIELDS.NOTX (A)])",
    "STORE 1 +FLAGS (\\Bogus)",
])
def test_bad_input_is_bad(srv, line):
    c = raw(srv, USER)
    try:
        cmd(c, "s", "SELECT INBOX")
        _, t = cmd(c, "x", line)
        assert t.startswith("x BAD") or t.startswith("x NO"), t
        _, t = cmd(c, "y", "NOOP")
        assert t.startswith("y OK"), t
    finally:
        c.close()


@pytest.mark.parametrize("line", ["FETCH 1:4294967295 (UID)", "FETCH *:* (UID)", "UID FETCH 1:* (UID)",
                                  "UID FETCH 4294967295 (UID)", "SEARCH 1:4294967295", "UID SEARCH UID *:*"])
def test_huge_sequence_sets(srv, line):
    c = raw(srv, USER)
    try:
        cmd(c, "s", "SELECT INBOX")
        _, t = cmd(c, "x", line)
        assert t.startswith("x OK") or t.startswith("x BAD"), t
    finally:
        c.close()


def test_deep_search_nesting_and_many_ranges_do_not_crash(srv):
    for payload in ("SEARCH " + "(" * 10000 + "ALL" + ")" * 10000,
                    "UID FETCH " + ",".join(str(i) for i in range(1, 100001)) + " (UID)"):
        c = raw(srv, USER)
        try:
            cmd(c, "s", "SELECT INBOX")
            c.sendline("x " + payload)
            text, _ = c.read_all(5)
            assert "x BAD" in text or "* BYE" in text, text[:200]
        finally:
            c.close()
    assert srv.serving(["imap"])


def test_wrong_state(srv):
    c = raw(srv)
    try:
        _, t = cmd(c, "a", "SELECT INBOX")
        assert t.startswith("a BAD"), t
        c.sendline("l LOGIN %s %s" % (USER, PW))
        c.read_imap_tagged("l")
        _, t = cmd(c, "b", "FETCH 1 (UID)")
        assert t.startswith("b BAD"), t
        _, t = cmd(c, "c", "LOGIN x y")
        assert t.startswith("c BAD"), t
    finally:
        c.close()


def test_wrong_passwords_are_delayed_and_refused(srv):
    c = raw(srv)
    try:
        t0 = time.monotonic()
        for i in range(3):
            _, t = cmd(c, "w%d" % i, "LOGIN %s wrong" % OTHER)
            assert t.startswith("w%d NO [AUTHENTICATIONFAILED]" % i), t
        assert time.monotonic() - t0 >= 2.0
    finally:
        c.close()


def test_authenticate_plain_sasl_ir(srv):
    import base64
    c = raw(srv)
    try:
        ir = base64.b64encode(b"\0" + USER.encode() + b"\0" + PW.encode()).decode()
        _, t = cmd(c, "a", "AUTHENTICATE PLAIN " + ir)
        assert t.startswith("a OK"), t
    finally:
        c.close()
    c = raw(srv)
    try:
        c.sendline("b AUTHENTICATE LOGIN")
        assert c.readline().startswith("+ ")
        c.sendline(base64.b64encode(USER.encode()).decode())
        assert c.readline().startswith("+ ")
        c.sendline(base64.b64encode(PW.encode()).decode())
        _, t = c.read_imap_tagged("b")
        assert t.startswith("b OK"), t
    finally:
        c.close()


def test_user_ip_connection_limit(make_server):
    s = make_server(["limits.imap_connections_per_user_ip = 2"], users=[(USER, PW)])
    held = [raw(s, USER), raw(s, USER)]
    try:
        c = raw(s)
        _, t = cmd(c, "l", "LOGIN %s %s" % (USER, PW))
        assert t.startswith("l NO"), t
        c.close()
        held.pop().close()
        time.sleep(0.3)
        c = raw(s, USER)
        c.close()
    finally:
        for h in held:
            h.close()


@pytest.mark.skipif(not __import__("os").environ.get("POSTAMT_E2E_SLOW"),
                    reason="takes over two minutes; set POSTAMT_E2E_SLOW=1")
def test_idle_still_here_every_two_minutes(srv):
    c = raw(srv, USER)
    try:
        cmd(c, "s", "SELECT INBOX")
        c.sendline("i IDLE")
        assert c.readline().startswith("+ ")
        t0 = time.monotonic()
        line = c.readline(timeout=150)
        assert line == "* OK Still here", line
        assert 110 <= time.monotonic() - t0 <= 140
        c.sendline("DONE")
        _, t = c.read_imap_tagged("i")
        assert t.startswith("i OK")
    finally:
        c.close()
