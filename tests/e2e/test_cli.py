"""The command line of DESIGN.md section 1: init, check, version, usage errors, and the
account commands (user, domain, alias) that work on a data dir without a server."""

import os
import re
import stat
import subprocess

import pytest

from conftest import DOMAIN, HOST, TLS_NAME, free_offset, run_postamt


def conf_values(path):
    """key -> value of the non-comment lines of a postamt.conf."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                k, v = line.split("=", 1)
                values[k.strip()] = v.strip()
    return values


def cert_text(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


def assert_usage_error(r):
    assert r.returncode == 1, "exit %d, stderr: %r" % (r.returncode, r.stderr)
    assert r.stderr.strip(), "no message on stderr"
    assert "usage" in r.stderr.lower(), "no usage on stderr: %r" % r.stderr


# -- version and usage ---------------------------------------------------------

def test_version(postamt_bin):
    r = run_postamt(postamt_bin, "version")
    assert r.returncode == 0, r.stderr
    assert re.search(r"postamt\s+\S*\d", r.stdout), "version output: %r" % r.stdout


def test_no_arguments_is_usage_error(postamt_bin):
    assert_usage_error(run_postamt(postamt_bin))


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["--no-such-option", "version"],
    ["-d"],
    ["init", "--port-offset"],
    ["init", "--port-offset", "notanumber"],
    ["user"],
    ["user", "explode"],
    ["domain"],
], ids=lambda a: " ".join(a) or "empty")
def test_bad_arguments_are_usage_errors(postamt_bin, tmp_path, new_datadir, args):
    if args and args[0] == "init":
        args = ["-d", str(tmp_path / "data")] + args
    elif args and args[0] in ("user", "domain"):
        args = ["-d", new_datadir().dir] + args
    r = run_postamt(postamt_bin, *args)
    assert_usage_error(r)
    assert "Traceback" not in r.stderr and "Segmentation" not in r.stderr


# -- init -----------------------------------------------------------------------

def test_init_creates_config_cert_and_key(new_datadir):
    srv = new_datadir()
    assert os.path.isfile(srv.conf)
    assert os.path.isfile(srv.cafile)
    assert os.path.isfile(srv.keyfile)
    values = conf_values(srv.conf)
    assert values.get("port_offset") == str(srv.offset), values
    assert values.get("hostname") == TLS_NAME, values
    assert values.get("bind") == HOST, values


def test_init_key_is_not_readable_by_others(new_datadir):
    srv = new_datadir()
    mode = stat.S_IMODE(os.stat(srv.keyfile).st_mode)
    assert mode & 0o077 == 0, "tls/key.pem has mode %o" % mode


def test_init_certificate_names(new_datadir):
    srv = new_datadir()
    text = cert_text(srv.cafile)
    san = re.search(r"Subject Alternative Name:.*?\n\s*(.*)\n", text)
    assert san, "certificate has no subjectAltName:\n" + text
    names = san.group(1)
    assert "DNS:localhost" in names, names
    assert "IP Address:127.0.0.1" in names, names
    # The key in key.pem belongs to the certificate.
    pub_cert = subprocess.run(["openssl", "x509", "-in", srv.cafile, "-noout", "-pubkey"],
                              capture_output=True, text=True, check=True).stdout
    pub_key = subprocess.run(["openssl", "pkey", "-in", srv.keyfile, "-pubout"],
                             capture_output=True, text=True, check=True).stdout
    assert pub_cert == pub_key, "tls/key.pem does not match tls/cert.pem"


def test_init_certificate_hostname_in_san(postamt_bin, tmp_path):
    d = str(tmp_path / "data")
    r = run_postamt(postamt_bin, "-d", d, "init", "--domain", DOMAIN, "--hostname", "mail.example.test",
                    "--port-offset", str(free_offset()), "--bind", HOST)
    assert r.returncode == 0, r.stderr
    names = re.search(r"Subject Alternative Name:.*?\n\s*(.*)\n", cert_text(os.path.join(d, "tls", "cert.pem")))
    assert names and "DNS:mail.example.test" in names.group(1), names and names.group(1)
    assert "DNS:localhost" in names.group(1) and "IP Address:127.0.0.1" in names.group(1)


def test_init_twice_is_refused(new_datadir):
    srv = new_datadir()
    with open(srv.conf) as f:
        before = f.read()
    cert_before = open(srv.cafile).read()
    r = srv.run("init", "--domain", DOMAIN, "--hostname", TLS_NAME, "--port-offset", "12345")
    assert r.returncode == 1, "second init exit %d" % r.returncode
    assert r.stderr.strip(), "no message on stderr"
    assert open(srv.conf).read() == before, "second init changed postamt.conf"
    assert open(srv.cafile).read() == cert_before, "second init changed the certificate"


def test_init_refuses_offset_beyond_port_range(postamt_bin, tmp_path):
    # 995 + 65000 > 65535: such a configuration could never serve.
    d = str(tmp_path / "data")
    r = run_postamt(postamt_bin, "-d", d, "init", "--domain", DOMAIN, "--hostname", TLS_NAME,
                    "--port-offset", "65000", "--bind", HOST)
    assert r.returncode == 1, "init accepted --port-offset 65000 (exit %d)" % r.returncode
    assert not os.path.exists(os.path.join(d, "postamt.conf"))


def test_init_prints_no_private_key(postamt_bin, tmp_path):
    r = run_postamt(postamt_bin, "-d", str(tmp_path / "data"), "init", "--domain", DOMAIN, "--hostname",
                    TLS_NAME, "--port-offset", str(free_offset()), "--bind", HOST)
    assert r.returncode == 0, r.stderr
    assert "PRIVATE KEY" not in r.stdout + r.stderr


def test_data_dir_from_environment(postamt_bin, tmp_path):
    d = str(tmp_path / "envdata")
    r = run_postamt(postamt_bin, "init", "--domain", DOMAIN, "--hostname", TLS_NAME,
                    "--port-offset", str(free_offset()), "--bind", HOST, env={"POSTAMT_DATA": d})
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(os.path.join(d, "postamt.conf"))
    r = run_postamt(postamt_bin, "check", env={"POSTAMT_DATA": d})
    assert r.returncode == 0, r.stdout + r.stderr


def test_data_dir_default_is_postamt_data_in_cwd(postamt_bin, tmp_path):
    r = run_postamt(postamt_bin, "init", "--domain", DOMAIN, "--hostname", TLS_NAME,
                    "--port-offset", str(free_offset()), "--bind", HOST, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(tmp_path / "postamt-data" / "postamt.conf")


def test_long_data_option(postamt_bin, tmp_path):
    d = str(tmp_path / "data")
    r = run_postamt(postamt_bin, "--data", d, "init", "--domain", DOMAIN, "--hostname", TLS_NAME,
                    "--port-offset", str(free_offset()), "--bind", HOST)
    assert r.returncode == 0, r.stderr
    assert run_postamt(postamt_bin, "--data", d, "check").returncode == 0


# -- check --------------------------------------------------------------------------

def test_check_accepts_fresh_config(new_datadir):
    r = new_datadir().run("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_accepts_every_documented_key(new_datadir):
    srv = new_datadir()
    srv.add_config([
        "user = postamt", "workers = 2", "pool_threads = 2", "log.level = debug",
        "limits.connections_per_ip = 50", "limits.line_length = 8192", "limits.imap_command = 65536",
        "limits.message_size = 50M", "limits.message_memory = 1G", "limits.recipients = 500", "limits.connections = 10000",
        "limits.imap_connections_per_user_ip = 20", "limits.auth_failures_per_minute = 10", "auth.cache_ttl = 3600",
        "limits.auth_failures_per_account = 20", "limits.auth_in_flight_per_ip = 4",
        "limits.errors_per_session = 20", "limits.commands_per_session = 1000000",
        "quota.default = 0", "timeout.smtp = 300", "timeout.pop3 = 600", "timeout.imap = 1800",
        "timeout.imap_login = 60", "timeout.http = 60", "timeout.tls_handshake = 30", "timeout.shutdown = 10",
        "route.example.org = 127.0.0.1:2525", "route.* = 127.0.0.1:2526",
    ])
    r = srv.run("check")
    assert r.returncode == 0, r.stdout + r.stderr


def _lines(path):
    with open(path) as f:
        return len(f.read().splitlines())


@pytest.mark.parametrize("bad", [
    "no.such.key = 1",
    "this line has no equals sign",
    "limits.line_length = lots",
    "timeout.smtp = -5",
    "log.level = chatty",
    "route.example.org = nowhere",
], ids=["unknown-key", "no-equals", "not-a-number", "negative", "bad-enum", "bad-route"])
def test_check_names_the_bad_line(new_datadir, bad):
    srv = new_datadir()
    srv.add_config(bad)
    lineno = _lines(srv.conf)  # add_config wrote it as the last line
    r = srv.run("check")
    out = r.stdout + r.stderr
    assert r.returncode == 1, "check exit %d on %r: %s" % (r.returncode, bad, out)
    assert re.search(r"postamt\.conf:%d\b" % lineno, out), \
        "check output does not name postamt.conf:%d for %r: %r" % (lineno, bad, out)


def test_check_comments_and_blank_lines_are_fine(new_datadir):
    srv = new_datadir()
    srv.add_config(["", "# a comment", "   ", "log.level = info   # trailing comment"])
    r = srv.run("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_serve_refuses_bad_config(new_datadir):
    srv = new_datadir()
    srv.add_config("no.such.key = 1")
    lineno = _lines(srv.conf)
    r = srv.run("serve", timeout=15)
    assert r.returncode == 1, r.stderr
    assert "postamt.conf:%d" % lineno in r.stderr, r.stderr


def test_check_flags_key_readable_by_others(new_datadir):
    srv = new_datadir()
    os.chmod(srv.keyfile, 0o644)
    r = srv.run("check")
    assert r.returncode == 1, "check accepted a world-readable key"
    assert "tls.key" in r.stdout + r.stderr or "key.pem" in r.stdout + r.stderr, r.stdout + r.stderr


def test_serve_refuses_missing_certificate(new_datadir):
    srv = new_datadir()
    os.unlink(srv.cafile)
    r = srv.run("serve", timeout=15)
    assert r.returncode == 1, r.stderr
    assert "cert.pem" in r.stderr, r.stderr


def test_check_without_data_dir_fails(postamt_bin, tmp_path):
    r = run_postamt(postamt_bin, "-d", str(tmp_path / "missing"), "check")
    assert r.returncode == 1
    assert r.stderr.strip()


# -- users, domains, aliases ----------------------------------------------------------

def test_user_add_and_list(new_datadir):
    srv = new_datadir()
    r = srv.run("user", "add", "alice@example.test", input="s3cret-pass\n")
    assert r.returncode == 0, r.stderr
    assert "s3cret-pass" not in r.stdout + r.stderr, "password echoed"
    r = srv.run("user", "list")
    assert r.returncode == 0, r.stderr
    assert "alice@example.test" in r.stdout


def test_user_add_twice_is_refused(new_datadir):
    srv = new_datadir()
    assert srv.run("user", "add", "bob@example.test", input="pw1\n").returncode == 0
    r = srv.run("user", "add", "bob@example.test", input="pw2\n")
    assert r.returncode == 1, r.stdout
    assert r.stderr.strip()


def test_user_add_needs_password(new_datadir):
    r = new_datadir().run("user", "add", "carol@example.test", input="")
    assert r.returncode == 1, "user add with no password on stdin: exit %d" % r.returncode


@pytest.mark.parametrize("addr", ["not-an-address", "@example.test", "dave@"])
def test_user_add_rejects_bad_address(new_datadir, addr):
    r = new_datadir().run("user", "add", addr, input="pw\n")
    assert r.returncode == 1
    assert r.stderr.strip()


def test_user_del(new_datadir):
    srv = new_datadir()
    assert srv.run("user", "add", "erin@example.test", input="pw\n").returncode == 0
    assert srv.run("user", "add", "frank@example.test", input="pw\n").returncode == 0
    r = srv.run("user", "del", "erin@example.test")
    assert r.returncode == 0, r.stderr
    listing = srv.run("user", "list").stdout
    assert "erin@example.test" not in listing
    assert "frank@example.test" in listing
    r = srv.run("user", "del", "erin@example.test")
    assert r.returncode == 1, "deleting a missing user: exit %d" % r.returncode


def test_user_passwd(new_datadir):
    srv = new_datadir()
    assert srv.run("user", "add", "gina@example.test", input="old\n").returncode == 0
    r = srv.run("user", "passwd", "gina@example.test", input="new-password\n")
    assert r.returncode == 0, r.stderr
    assert "new-password" not in r.stdout + r.stderr
    r = srv.run("user", "passwd", "nobody@example.test", input="x\n")
    assert r.returncode == 1


def test_user_quota(new_datadir):
    srv = new_datadir()
    assert srv.run("user", "add", "hank@example.test", "--quota", "100M", input="pw\n").returncode == 0
    for size in ("0", "512K", "10M", "2G", "12345"):
        r = srv.run("user", "quota", "hank@example.test", size)
        assert r.returncode == 0, "quota %s: %s" % (size, r.stderr)
    for size in ("ten", "10X", "-1"):
        r = srv.run("user", "quota", "hank@example.test", size)
        assert r.returncode == 1, "quota %s accepted" % size


def test_domain_add_and_list(new_datadir):
    srv = new_datadir()
    r = srv.run("domain", "list")
    assert r.returncode == 0, r.stderr
    assert DOMAIN in r.stdout.split(), "init domain missing from list: %r" % r.stdout
    r = srv.run("domain", "add", "other.test")
    assert r.returncode == 0, r.stderr
    listing = srv.run("domain", "list").stdout.split()
    assert "other.test" in listing and DOMAIN in listing
    assert srv.run("domain", "add", "other.test").returncode == 1, "duplicate domain accepted"
    assert srv.run("user", "add", "ivy@other.test", input="pw\n").returncode == 0


def test_alias_add(new_datadir):
    srv = new_datadir()
    assert srv.run("user", "add", "jack@example.test", input="pw\n").returncode == 0
    assert srv.run("user", "add", "kate@example.test", input="pw\n").returncode == 0
    r = srv.run("alias", "add", "team@example.test", "jack@example.test", "kate@example.test")
    assert r.returncode == 0, r.stderr
    r = srv.run("alias", "add", "lonely@example.test")
    assert r.returncode == 1, "alias without target accepted"
