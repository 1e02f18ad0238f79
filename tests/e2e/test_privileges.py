"""Privileges (hardening issue, item 5): started as root, postamt binds its ports and
reads its key, then every thread serves as the configured user with no way back:
real, effective, saved and filesystem uid and gid are the user's, no capabilities,
NoNewPrivs set. It refuses to serve when `user` names root or a user that does not
exist, and when the key file can be read by group or others."""

import grp
import os
import pwd
import re
import signal
import socket
import time

import pytest

from helpers import serve_fails

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: postamt drops privileges only when started as root")


def proc_status(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def serve_refuses(srv, timeout=20):
    """Runs `serve`, expecting it to exit non-zero before serving; returns its stderr."""
    rc, err = serve_fails(srv.bin, srv.dir, timeout)
    assert rc != 0, "serve exited with 0\n%s" % err
    # and nothing is listening on its ports
    for name in ("smtp", "imap"):
        with pytest.raises(OSError):
            socket.create_connection((srv.host, srv.port(name)), timeout=1).close()
    return err


def test_serving_threads_run_as_configured_user(make_server):
    try:
        pw = pwd.getpwnam("postamt")
    except KeyError:
        pytest.skip("the default user 'postamt' does not exist (scripts/install-deps creates it)")
    srv = make_server()
    srv.serving()
    # a login makes the worker pool threads exist and work
    srv.add_user("priv@example.test", "pw")
    c = srv.connect("pop3")
    c.readline()
    c.sendline("USER priv@example.test")
    c.readline()
    c.sendline("PASS pw")
    assert c.readline().startswith("+OK")
    c.sendline("QUIT")
    c.close()
    pid = srv.pid
    tasks = os.listdir("/proc/%d/task" % pid)
    assert len(tasks) > 1, "expected worker threads"
    uid, gid = str(pw.pw_uid), str(pw.pw_gid)
    groups = set(str(g.gr_gid) for g in grp.getgrall() if pw.pw_name in g.gr_mem) | {gid}
    for t in tasks:
        st = proc_status("/proc/%d/task/%s/status" % (pid, t))
        name = st.get("Name", "?")
        assert st["Uid"].split() == [uid] * 4, "thread %s (%s): Uid %s, want %s" % (t, name, st["Uid"], uid)
        assert st["Gid"].split() == [gid] * 4, "thread %s (%s): Gid %s, want %s" % (t, name, st["Gid"], gid)
        extra = set(st.get("Groups", "").split()) - groups
        assert not extra, "thread %s keeps supplementary groups %s (root's?)" % (t, extra)
        assert st["NoNewPrivs"].strip() == "1", "thread %s: NoNewPrivs %s" % (t, st["NoNewPrivs"])
        for cap in ("CapEff", "CapPrm"):
            assert int(st[cap], 16) == 0, "thread %s: %s %s" % (t, cap, st[cap])
    st = proc_status("/proc/%d/status" % pid)
    assert st["NoNewPrivs"].strip() == "1"
    assert srv.wait_log(r"event=privileges_dropped user=postamt", timeout=1), "no log line for the drop"


@pytest.mark.parametrize("user", ["root", "no-such-user-postamt-test"])
def test_refuses_root_or_missing_user(new_datadir, user):
    srv = new_datadir()
    srv.add_config("user = %s" % user)
    err = serve_refuses(srv)
    assert user in err, "the refusal does not name the user: %r" % err


def test_refuses_uid_zero_alias(new_datadir):
    """A user that is not called root but has uid 0 is root all the same."""
    alias = None
    for p in pwd.getpwall():
        if p.pw_uid == 0 and p.pw_name != "root":
            alias = p.pw_name
    if alias is None:
        pytest.skip("no second account with uid 0 on this machine")
    srv = new_datadir()
    srv.add_config("user = %s" % alias)
    serve_refuses(srv)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_refuses_readable_key(new_datadir, mode):
    srv = new_datadir()
    os.chmod(srv.keyfile, mode)
    err = serve_refuses(srv)
    assert "key" in err.lower(), err


def test_key_mode_600_serves(make_server):
    srv = make_server()
    assert os.stat(srv.keyfile).st_mode & 0o077 == 0, "init created a key readable by others"
    srv.serving()
