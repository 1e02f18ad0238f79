"""DKIM signing of outgoing mail (docs/deliverability.md, "DKIM signing"), checked with
Debian's python3-dkim as the verifier.

A message an authenticated user submits on port 587 (smtplib, STARTTLS, AUTH) or
through the webmail (JMAP EmailSubmission), From: a local domain with keys, carries an
ed25519-sha256 and an rsa-sha256 DKIM-Signature that python3-dkim verifies against the
TXT records `postamt dkim list` prints: the copy stored for a local recipient (read back
over IMAP) and the bytes the queue hands to the next hop (a capture server behind
`route.remote.test`). Port-25 mail is not signed. `postamt dkim rotate` takes effect
without a restart (the hook watches DIR/dkim), and after SIGHUP at once; `dkim retire`
removes an old key and refuses the signing one."""

import re
import smtplib
import time

import pytest

dkim = pytest.importorskip("dkim")  # python3-dkim (scripts/install-deps)

from conftest import DOMAIN, finish_server, new_server  # noqa: E402
from helpers import CaptureSMTP, imap_messages  # noqa: E402
from test_smtp_policy import Jmap  # noqa: E402

ALICE, BOB = "alice@" + DOMAIN, "bob@" + DOMAIN


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    cap = CaptureSMTP()
    s = new_server(postamt_bin, tmp_path_factory, ["route.remote.test = 127.0.0.1:%d" % cap.port],
                   users=[ALICE, BOB])
    s.capture = cap
    yield s
    finish_server(s)
    cap.close()


def key_records(srv, domain=DOMAIN):
    """{selector: TXT} from `postamt dkim list D` (SELECTOR ALG signing|published TXT)."""
    r = srv.run("dkim", "list", domain)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        sel, alg, state, txt = line.split(" ", 3)
        out[sel] = (alg, state, txt)
    return out


def verify_all(srv, msg):
    """Verifies every DKIM-Signature of msg with python3-dkim; returns [(a=, s=)]."""
    recs = key_records(srv)

    def dnsfunc(name, timeout=5):
        m = re.match(rb"^([^.]+)\._domainkey\.(.+?)\.?$", name)
        if not m or m.group(2).decode() != DOMAIN or m.group(1).decode() not in recs:
            return None
        return recs[m.group(1).decode()][2].encode()

    d = dkim.DKIM(msg)
    sigs = re.findall(rb"(?mi)^DKIM-Signature:((?:.*\r\n[ \t].*)*.*)", msg.split(b"\r\n\r\n")[0] + b"\r\n")
    found = []
    for idx, sig in enumerate(sigs):
        ok = d.verify(idx=idx, dnsfunc=dnsfunc)
        tags = dict(re.findall(rb"([a-z]+)=([^;]*)", re.sub(rb"\s+", b"", sig)))
        assert ok, (idx, sig, msg[:1500])
        found.append((tags[b"a"].decode(), tags[b"s"].decode()))
    return found


def smtp_send(srv, rcpts, subject, frm=ALICE, extra=""):
    msg = ("From: Alice <%s>\r\nTo: %s\r\nSubject: %s\r\n%s\r\nHello,\r\n\r\n.a line with a dot\r\n"
           "trailing spaces   \r\n\r\n\r\n" % (frm, ", ".join(rcpts), subject, extra))
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=20) as c:
        c.starttls(context=srv.ssl_context())
        c.login(ALICE, "secret")
        c.sendmail(ALICE, rcpts, msg.encode())


def stored(srv, user, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        got = [m for m in imap_messages(srv, user) if needle in m]
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def signing_selectors(srv):
    return {alg: sel for sel, (alg, state, _) in key_records(srv).items() if state == "signing"}


def test_submission_is_signed_and_verifies(srv):
    smtp_send(srv, [BOB, "carol@remote.test"], "dkim 587",
              extra="List-Id: <team.example.test>\r\nX-Mailer: smtplib\r\n")
    local = stored(srv, BOB, b"dkim 587")
    assert len(local) == 1
    sel = signing_selectors(srv)
    assert sorted(verify_all(srv, local[0])) == sorted([("ed25519-sha256", sel["ed25519"]),
                                                        ("rsa-sha256", sel["rsa"])])
    head = local[0].split(b"\r\n\r\n")[0]
    assert b"c=relaxed/relaxed" in head and b"l=" not in re.sub(rb"\s+", b"", head).split(b"bh=")[0]
    # the signatures sit above the trace headers, below Return-Path
    names = [ln.split(b":")[0] for ln in head.split(b"\r\n") if ln[:1] not in (b" ", b"\t")]
    assert names[:4] == [b"Return-Path", b"DKIM-Signature", b"DKIM-Signature", b"Received"], names
    # the bytes that leave through the queue verify as well
    srv.capture.wait(b"dkim 587")
    out = [d for _, _, d in srv.capture.messages if b"dkim 587" in d]
    assert len(out) == 1
    assert out[0].endswith(b"\r\n.\r\n") and b"\r\n..a line with a dot" in out[0]
    # the wire form (dot-stuffed, with its terminator) back to the message
    wire = re.sub(rb"(?m)^\.", b"", out[0][:-3])
    assert len(verify_all(srv, wire)) == 2


def test_webmail_is_signed(srv):
    cl = Jmap(srv, ALICE)
    try:
        raw = ("From: %s\r\nTo: %s\r\nSubject: dkim webmail\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain\r\n\r\nfrom the webmail\r\n" % (ALICE, BOB)).encode()
        r = cl.submit(cl.import_raw(raw), ALICE, [BOB])
        assert "s" in r.get("created", {}), r
    finally:
        cl.conn.close()
    got = stored(srv, BOB, b"dkim webmail")
    assert len(got) == 1
    assert sorted(a for a, _ in verify_all(srv, got[0])) == ["ed25519-sha256", "rsa-sha256"]


def test_port25_mail_is_not_signed(srv):
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=20) as c:
        c.sendmail("someone@elsewhere.test", [BOB],
                   b"From: someone@elsewhere.test\r\nTo: bob@example.test\r\nSubject: dkim mx\r\n\r\nhi\r\n")
    got = stored(srv, BOB, b"dkim mx")
    assert len(got) == 1 and b"DKIM-Signature" not in got[0]


def test_rotation_takes_effect_without_restart(srv):
    before = signing_selectors(srv)
    r = srv.run("dkim", "rotate", DOMAIN)
    assert r.returncode == 0, r.stderr
    after = signing_selectors(srv)
    assert after["ed25519"] > before["ed25519"] and after["rsa"] > before["rsa"]
    recs = key_records(srv)
    assert before["ed25519"] in recs and recs[before["ed25519"]][1] == "published"
    # the hook notices the change of DIR/dkim by itself (checked once a second)
    deadline, n, used = time.monotonic() + 10, 0, None
    while time.monotonic() < deadline:
        n += 1
        smtp_send(srv, [BOB], "rotated %d" % n)
        used = dict(verify_all(srv, stored(srv, BOB, b"rotated %d" % n)[0]))
        if used["ed25519-sha256"] == after["ed25519"]:
            break
        time.sleep(0.5)
    assert used == {"ed25519-sha256": after["ed25519"], "rsa-sha256": after["rsa"]}, used
    # the old keys can go now; the signing ones cannot
    assert srv.run("dkim", "retire", DOMAIN, after["ed25519"]).returncode == 1
    assert srv.run("dkim", "retire", DOMAIN, before["ed25519"]).returncode == 0
    assert srv.run("dkim", "retire", DOMAIN, before["rsa"]).returncode == 0
    assert set(key_records(srv)) == {after["ed25519"], after["rsa"]}


def test_sighup_reloads_keys_at_once(srv):
    import signal
    since = srv.log_size()
    r = srv.run("dkim", "rotate", DOMAIN)
    assert r.returncode == 0, r.stderr
    srv.send_signal(signal.SIGHUP)
    # the watch runs only when a message is signed, so this load is SIGHUP's
    srv.wait_log(r"event=dkim_keys_loaded reason=reload", since=since)
    srv.wait_log(r"event=reloaded", since=since)
    smtp_send(srv, [BOB], "after hup")
    used = dict(verify_all(srv, stored(srv, BOB, b"after hup")[0]))
    assert used["ed25519-sha256"] == signing_selectors(srv)["ed25519"]
    assert not re.search(r"dkim_keys_loaded reason=changed", srv.log()[since:])


def test_concurrent_submissions_all_verify(srv):
    """Several messages in the signing hook at once (pool threads) share the key set."""
    import threading
    errors = []

    def one(i):
        try:
            smtp_send(srv, [BOB], "parallel %d" % i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for i in range(8):
        got = stored(srv, BOB, b"parallel %d\r\n" % i)
        assert len(got) == 1, i
        assert len(verify_all(srv, got[0])) == 2
