"""IMAP with real clients nobody here wrote: curl imap:// and imaps:// (list,
examine, search, fetch by UID) and mbsync (isync) syncing a mailbox both ways."""

import imaplib
import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import finish_server, have_tool, new_server

USER = "clients@example.test"
PW = "secret"


@pytest.fixture(scope="module")
def srv(postamt_bin):
    s = new_server(postamt_bin, users=[(USER, PW), ("mbsync@example.test", PW)])
    yield s
    finish_server(s)


def deliver(srv, rcpt, subject):
    msg = "From: a@remote.test\r\nTo: %s\r\nSubject: %s\r\n\r\nbody of %s\r\n" % (rcpt, subject, subject)
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("a@remote.test", [rcpt], msg.encode())


def curl(srv, url, *args, tls=False):
    port = srv.port("imaps" if tls else "imap")
    scheme = "imaps" if tls else "imap"
    cmd = ["curl", "-sS", "--max-time", "10", "-u", "%s:%s" % (USER, PW),
           "%s://localhost:%d/%s" % (scheme, port, url), "--resolve", "localhost:%d:127.0.0.1" % port]
    if tls:
        cmd += ["--cacert", srv.cafile]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (cmd, r.stderr)
    return r.stdout


@pytest.mark.skipif(not have_tool("curl"), reason="curl not installed")
@pytest.mark.parametrize("tls", [False, True])
def test_curl(srv, tls):
    deliver(srv, USER, "curl subject %s" % tls)
    out = curl(srv, "", tls=tls)
    assert '"INBOX"' in out and "\\Sent" in out, out
    out = curl(srv, "INBOX", "-X", "EXAMINE INBOX", tls=tls)
    assert "EXISTS" in out and "UIDVALIDITY" in out, out
    out = curl(srv, "INBOX?SUBJECT%%20%%22curl%%20subject%%20%s%%22" % tls, tls=tls)
    m = re.search(r"\* SEARCH ((?:\d+ ?)+)", out)
    assert m, out
    seq = m.group(1).split()[-1]
    out = curl(srv, "INBOX", "-X", "UID SEARCH SUBJECT \"curl subject %s\"" % tls, tls=tls)
    uid = re.search(r"\* SEARCH ((?:\d+ ?)+)", out).group(1).split()[-1]
    out = curl(srv, "INBOX;UID=%s" % uid, tls=tls)
    assert "Subject: curl subject %s" % tls in out and "body of curl subject" in out, out
    out = curl(srv, "INBOX;UID=%s;SECTION=HEADER.FIELDS%%20(SUBJECT)" % uid, tls=tls)
    assert out.strip() == "Subject: curl subject %s" % tls, out
    assert seq


MBSYNCRC = """IMAPAccount t
Host localhost
Port {port}
User mbsync@example.test
Pass secret
SSLType IMAPS
CertificateFile {ca}

IMAPStore remote
Account t

MaildirStore local
Path {dir}/
Inbox {dir}/INBOX
SubFolders Verbatim

Channel ch
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
"""


def mbsync(srv, rc):
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def local_files(d):
    out = {}
    for sub in ("cur", "new"):
        p = os.path.join(d, "INBOX", sub)
        for f in os.listdir(p):
            with open(os.path.join(p, f), "rb") as fh:
                subj = re.search(rb"Subject: (.*)\r?\n", fh.read()).group(1).decode()
            out[subj] = os.path.join(p, f)
    return out


@pytest.mark.skipif(not have_tool("mbsync"), reason="isync (mbsync) not installed")
def test_mbsync_two_way(srv, tmp_path):
    for s in ("one", "two", "three", "four"):
        deliver(srv, "mbsync@example.test", s)
    d = tmp_path / "mail"
    d.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(MBSYNCRC.format(port=srv.port("imaps"), ca=srv.cafile, dir=d))
    mbsync(srv, str(rc))
    files = local_files(str(d))
    assert set(files) == {"one", "two", "three", "four"}, files
    # local side: flag "one", delete "two"
    f = files["one"]
    base, _, flags = f.rpartition(":2,")
    os.rename(f, base + ":2," + "".join(sorted(set(flags + "F"))))
    os.unlink(files["two"])
    # server side: flag "three", delete "four"
    m = imaplib.IMAP4_SSL(srv.host, srv.port("imaps"), ssl_context=srv.ssl_context(), timeout=10)
    m.login("mbsync@example.test", PW)
    m.select("INBOX")
    _, d3 = m.search(None, "SUBJECT", "three")
    _, d4 = m.search(None, "SUBJECT", "four")
    m.store(d3[0].decode(), "+FLAGS", "(\\Flagged)")
    m.store(d4[0].decode(), "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    mbsync(srv, str(rc))
    files = local_files(str(d))
    assert set(files) == {"one", "three"}, files
    assert "F" in files["three"].rpartition(":2,")[2], files
    m = imaplib.IMAP4_SSL(srv.host, srv.port("imaps"), ssl_context=srv.ssl_context(), timeout=10)
    m.login("mbsync@example.test", PW)
    m.select("INBOX")
    typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    msgs = {x[1].decode().split(":", 1)[1].strip(): x[0].decode() for x in data if isinstance(x, tuple)}
    m.logout()
    assert set(msgs) == {"one", "three"}, msgs
    assert "\\Flagged" in msgs["one"], msgs
