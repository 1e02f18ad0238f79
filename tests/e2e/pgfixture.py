"""A PostgreSQL server for the store's postgresql backend (scripts/pg-fixture).

pg_database() returns the URI of a new, empty database: on the server named by
POSTAMT_TEST_PG when it is set (scripts/check starts one for the whole run), else on
a server this module starts once for the pytest process and stops at exit. Skips the
calling test, saying why, when Debian's PostgreSQL binaries are missing. pg_nodes()
runs several postamt nodes on one such database."""
import atexit
import contextlib
import os
import subprocess
import tempfile
import urllib.parse

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIXTURE = os.path.join(ROOT, "scripts", "pg-fixture")
_server = None
_count = 0


def _psql(uri, sql):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "psql %s: %s" % (sql, r.stderr)


def _server_uri():
    global _server
    if os.environ.get("POSTAMT_TEST_PG"):
        return os.environ["POSTAMT_TEST_PG"]
    if _server is None:
        d = tempfile.mkdtemp(prefix="postamt-pg.", dir="/tmp")
        r = subprocess.run([FIXTURE, "start", d], capture_output=True, text=True, timeout=120)
        if r.returncode == 77:
            pytest.skip("no PostgreSQL server binaries: %s" % r.stderr.strip())
        assert r.returncode == 0, "pg-fixture start: %s" % r.stderr
        _server = r.stdout.strip()
        atexit.register(lambda: subprocess.run([FIXTURE, "stop", d], capture_output=True))
    return _server


def pg_database():
    """The URI of a new empty database on the test server."""
    global _count
    base = _server_uri()
    _count += 1
    name = "postamt_e2e_%d_%d" % (os.getpid(), _count)
    _psql(base, "CREATE DATABASE %s" % name)
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def pg_query(uri, sql):
    """Rows of one query as lists of strings."""
    r = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", uri, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines() if line]


@contextlib.contextmanager
def pg_nodes(postamt_bin, users=(), count=2):
    """COUNT nodes on one new database (each with its own DIR and port offset, one
    quiet DNS server for all), USERS added through the first (password "secret"), all
    started; yields (uri, node, node, ...). Afterwards the nodes still running are
    stopped and their logs checked (finish_server); whatever is left is killed."""
    from conftest import Server, e2e_tmpdir, finish_server, free_offset, init_datadir, quiet_dns_server

    uri = pg_database()
    dns = quiet_dns_server()
    made = []
    for _ in range(count):
        parent = e2e_tmpdir("dir")
        offset = free_offset()
        srv = Server(postamt_bin, init_datadir(postamt_bin, parent, offset, ("--store", uri)), offset, parent)
        srv.add_config("dns.server = " + dns)
        made.append(srv)
    for user in users:
        made[0].add_user(user, "secret")
    try:
        for srv in made:
            srv.start()
        yield (uri, *made)
        for srv in made:
            if srv.proc is not None and srv.proc.poll() is None:
                finish_server(srv)
    finally:
        for srv in made:
            srv.kill()
