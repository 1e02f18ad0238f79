"""Starting and running `postamt serve` (security review findings 11 and 13, and the
README's first command run by root from a private directory).

- serve opens DIR before it drops privileges and reaches everything relative to it,
  so DIR may sit under a parent that only root can enter (a clone in /root);
- serve takes an exclusive lock on DIR (DIR/postamt.lock) and refuses a second
  instance, naming the holder's PID; command-line commands still work next to it;
- serve refuses to start when another process holds one of its ports, with or
  without SO_REUSEPORT, and names the port;
- no file under DIR is readable by group or others (umask 077);
- SIGHUP applies changed route.* lines to the outbound queue, and names the
  changed keys that only a restart applies."""

import imaplib
import os
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import time

import pytest

from conftest import HOST, REPO, Server, e2e_tmpdir, finish_server, free_offset, init_datadir
from helpers import CaptureSMTP, serve_fails

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root: only a root-started serve drops privileges, which is what "
                                       "makes DIR's parent matter")


def private_dir():
    """A new directory with mode 0700 owned by the user running the tests."""
    d = e2e_tmpdir("private")
    os.chmod(d, 0o700)
    return d


def imap_login(host, port, user, password):
    m = imaplib.IMAP4(host, port)
    try:
        typ, _ = m.login(user, password)
        return typ
    finally:
        m.logout()


def smtp_greets(host, port):
    with socket.create_connection((host, port), timeout=5) as s:
        return s.makefile("rb").readline().decode()


# ------------------------------------------------------------------ DIR under a private parent

@needs_root
def test_serve_with_data_dir_under_private_parent(postamt_bin):
    parent = private_dir()
    assert stat.S_IMODE(os.stat(parent).st_mode) == 0o700
    offset = free_offset()
    datadir = init_datadir(postamt_bin, parent, offset)
    srv = Server(postamt_bin, datadir, offset, parent)
    srv.add_user("deep@example.test", "pw")
    srv.start()
    try:
        assert srv.wait_log(r"event=privileges_dropped", timeout=5), srv.log_tail()
        assert smtp_greets(srv.host, srv.port("smtp")).startswith("220")
        assert imap_login(srv.host, srv.port("imap"), "deep@example.test", "pw") == "OK"
        # a delivery writes the database and a blob as the unprivileged user
        with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
            s.sendmail("someone@elsewhere.test", ["deep@example.test"],
                       b"From: someone@elsewhere.test\r\nSubject: deep\r\n\r\nhello\r\n")
    finally:
        finish_server(srv)
        srv.kill()


@needs_root
def test_serve_names_the_path_it_cannot_use(new_datadir):
    """DIR/db left to root (say, by a root `cp -a`): the error says permission denied on db."""
    srv = new_datadir()
    db = os.path.join(srv.dir, "db")
    os.chown(db, 0, 0)
    os.chmod(db, 0o700)
    rc, err = serve_fails(srv.bin, srv.dir)
    assert rc == 1, err
    assert "Permission denied" in err and srv.dir + "/db" in err, err
    assert "not a directory" not in err, err


@needs_root
def test_make_run_script_from_a_private_clone(postamt_bin):
    """scripts/run (what `make run` ends with) in a clone inside a 0700 directory, as root:
    it creates ./postamt-data, serves, SMTP greets and the printed demo login works."""
    clone = os.path.join(private_dir(), "postamt")
    os.makedirs(os.path.join(clone, "scripts"))
    os.makedirs(os.path.join(clone, "build"))
    os.chmod(clone, 0o700)
    shutil.copy2(os.path.join(REPO, "scripts", "run"), os.path.join(clone, "scripts", "run"))
    os.symlink(postamt_bin, os.path.join(clone, "build", "postamt"))
    offset = free_offset()
    env = dict(os.environ, POSTAMT_PORT_OFFSET=str(offset))
    env.pop("POSTAMT_DATA", None)
    log = open(os.path.join(os.path.dirname(clone), "run.log"), "w+")
    p = subprocess.Popen(["bash", os.path.join(clone, "scripts", "run")], cwd="/", env=env,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        password = None
        while True:
            assert p.poll() is None, "scripts/run exited with %r:\n%s" % (p.returncode, open(log.name).read())
            text = open(log.name).read()
            m = re.search(r"Password: (\S+)", text)
            if m and "event=ready" in text:
                password = m.group(1)
                break
            assert time.monotonic() < deadline, "scripts/run did not get to serving:\n" + text
            time.sleep(0.1)
        assert os.path.isdir(os.path.join(clone, "postamt-data", "db"))
        assert smtp_greets(HOST, 25 + offset).startswith("220")
        assert imap_login(HOST, 143 + offset, "demo@example.test", password) == "OK"
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        log.close()
    assert rc == 0, open(log.name).read()


# ------------------------------------------------------------------ one server per DIR and per port

def test_second_serve_on_same_dir_is_refused(make_server):
    srv = make_server(users=["first@example.test"])
    rc, err = serve_fails(srv.bin, srv.dir)
    assert rc == 1, err
    assert "in use" in err and "pid %d" % srv.pid in err, err
    assert len(err.strip().splitlines()) <= 2, err  # one line (plus the start_failed log line at most)
    # the first keeps serving, and command-line commands work next to it
    srv.serving()
    srv.add_user("second@example.test", "pw2")
    assert imap_login(srv.host, srv.port("imap"), "second@example.test", "pw2") == "OK"
    assert imap_login(srv.host, srv.port("imap"), "first@example.test", "secret") == "OK"
    with open(os.path.join(srv.dir, "postamt.lock")) as f:
        assert f.read().strip() == str(srv.pid)


def test_lock_goes_with_the_server(make_server):
    """After a stop (or a kill) the next serve on the same DIR starts."""
    srv = make_server()
    srv.kill()
    srv.start()
    srv.serving()


def test_second_serve_on_same_ports_is_refused(make_server, postamt_bin):
    srv = make_server(users=["first@example.test"])
    other = init_datadir(postamt_bin, e2e_tmpdir(), srv.offset)
    rc, err = serve_fails(postamt_bin, other)
    assert rc == 1, err
    assert "port %d" % srv.port("smtp") in err and "in use" in err, err
    # no connection goes to a second server: every login lands on the first
    for _ in range(10):
        assert imap_login(srv.host, srv.port("imap"), "first@example.test", "secret") == "OK"
    srv.serving()


@pytest.mark.parametrize("reuseport", [False, True], ids=["plain", "reuseport"])
def test_port_held_by_another_listener(make_server, reuseport):
    srv = make_server(start=False)
    held = srv.port("imap")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((HOST, held))
        sock.listen(5)
        rc, err = serve_fails(srv.bin, srv.dir)
        assert rc == 1, err
        assert "port %d" % held in err and "(imap)" in err and "in use" in err, err
    finally:
        sock.close()
    srv.start()
    srv.serving()


# ------------------------------------------------------------------ file modes

def test_no_file_in_data_dir_is_readable_by_others(make_server):
    srv = make_server(["route.remote.test = 127.0.0.1:9", "queue.retry_initial = 3600"],
                      users=["modes@example.test"])
    # a local delivery (database, blob) and a remote message that stays queued
    with smtplib.SMTP(srv.host, srv.port("smtp"), timeout=10) as s:
        s.sendmail("someone@elsewhere.test", ["modes@example.test"],
                   b"From: someone@elsewhere.test\r\nSubject: modes\r\n\r\nhello\r\n")
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=10) as s:
        s.starttls(context=srv.ssl_context())
        s.login("modes@example.test", "secret")
        s.sendmail("modes@example.test", ["far@remote.test"],
                   b"From: modes@example.test\r\nSubject: away\r\n\r\nhello\r\n")
    r = srv.run("user", "add", "later@example.test", input="pw\n")
    assert r.returncode == 0, r.stderr
    seen = {"blob": False, "queue": False, "sqlite": False}
    bad = []
    for root, dirs, files in os.walk(srv.dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                bad.append("%s %o" % (os.path.relpath(path, srv.dir), mode))
            rel = os.path.relpath(path, srv.dir)
            if name in files:
                seen["blob"] |= rel.startswith("blobs/")
                seen["queue"] |= rel.startswith("queue/")
                seen["sqlite"] |= rel.startswith("db/store.sqlite")
    assert all(seen.values()), seen
    assert not bad, "readable by group or others:\n" + "\n".join(bad)


# ------------------------------------------------------------------ SIGHUP

def rewrite_conf(srv, old, new):
    with open(srv.conf) as f:
        text = f.read()
    assert old in text, text
    with open(srv.conf, "w") as f:
        f.write(text.replace(old, new))


def test_sighup_applies_new_routes(make_server):
    a, b = CaptureSMTP(), CaptureSMTP()
    try:
        srv = make_server(["route.remote.test = 127.0.0.1:%d" % a.port], users=["router@example.test"])
        rewrite_conf(srv, "route.remote.test = 127.0.0.1:%d" % a.port, "route.remote.test = 127.0.0.1:%d" % b.port)
        size = srv.log_size()
        srv.send_signal(signal.SIGHUP)
        assert srv.wait_log(r"event=reloaded", timeout=5, since=size), srv.log_tail()
        with smtplib.SMTP(srv.host, srv.port("submission"), timeout=10) as s:
            s.starttls(context=srv.ssl_context())
            s.login("router@example.test", "secret")
            s.sendmail("router@example.test", ["someone@remote.test"],
                       b"From: router@example.test\r\nSubject: rerouted\r\n\r\nhello\r\n")
        deadline = time.monotonic() + 15
        while not b.messages and not a.messages:
            assert time.monotonic() < deadline, "nothing delivered in 15 s\n" + srv.log_tail()
            time.sleep(0.1)
        assert not a.messages, "delivered to the old route after SIGHUP"
        assert b"Subject: rerouted" in b.messages[0][2]
    finally:
        a.close()
        b.close()


def test_sighup_names_keys_that_need_a_restart(make_server):
    srv = make_server(["queue.concurrency = 20", "limits.connections_per_ip = 50"])
    rewrite_conf(srv, "port_offset = %d" % srv.offset, "port_offset = %d" % (srv.offset + 1))
    rewrite_conf(srv, "queue.concurrency = 20", "queue.concurrency = 7")
    rewrite_conf(srv, "limits.connections_per_ip = 50", "limits.connections_per_ip = 40")
    size = srv.log_size()
    srv.send_signal(signal.SIGHUP)
    m = srv.wait_log(r"event=reload_needs_restart keys=(\S+)", timeout=5, since=size)
    assert m, "changed keys that need a restart not logged\n" + srv.log_tail()
    keys = m.group(1).split(",")
    assert "port_offset" in keys and "queue.concurrency" in keys, keys
    assert "limits.connections_per_ip" not in keys, keys  # applied by the reload
    assert srv.wait_log(r"event=reloaded", timeout=5, since=size), srv.log_tail()
    # still serving on the ports it started with
    srv.serving()
