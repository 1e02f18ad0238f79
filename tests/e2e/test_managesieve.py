"""ManageSieve (RFC 5804) on 4190 + port_offset (issue 20, docs/sieve.md "ManageSieve").

Real clients: python3-sievelib (STARTTLS, AUTHENTICATE PLAIN, every script command)
and sieve-connect (the command-line client users have); a raw socket only where a
client would hide the reply (response codes, the pre-login limits). One server for
the file.
"""

import os
import socket
import ssl
import subprocess
import time

import pytest

from conftest import LineClient, finish_server, new_server
from sievelib.managesieve import Client

USER = "sam@example.test"
GOOD = 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n'


@pytest.fixture(scope="module")
def srv(postamt_bin, tmp_path_factory):
    s = new_server(postamt_bin, tmp_path_factory, ["sieve.max_scripts = 3", "sieve.max_script_size = 2048"],
                   users=[USER, "tess@example.test"])
    yield s
    finish_server(s)


def login(srv, user=USER):
    c = Client(srv.host, srv.port("sieve"))
    assert c.connect(user, "secret", starttls=True, authmech="PLAIN")
    return c


def raw(srv):
    c = srv.connect("sieve")
    greeting = []
    while True:
        line = c.readline()
        greeting.append(line)
        if line.startswith("OK"):
            return c, greeting


def raw_login(srv, user=USER):
    c, _ = raw(srv)
    c.sendline("STARTTLS")
    assert c.readline().startswith("OK")
    ctx = srv.ssl_context()
    c.starttls(ctx)
    while not c.readline().startswith("OK"):
        pass
    import base64
    c.sendline('AUTHENTICATE "PLAIN" "%s"' % base64.b64encode(("\0%s\0secret" % user).encode()).decode())
    assert c.readline().startswith("OK")
    return c


def test_capabilities_starttls_and_sasl(srv):
    c, greeting = raw(srv)
    caps = "\n".join(greeting)
    assert '"IMPLEMENTATION" "postamt"' in caps and '"VERSION" "1.0"' in caps
    assert '"STARTTLS"' in caps and '"fileinto' in caps
    c.sendline("STARTTLS")
    assert c.readline().startswith("OK")
    c.starttls(srv.ssl_context())
    after = []
    while True:
        line = c.readline()
        after.append(line)
        if line.startswith("OK"):
            break
    # RFC 5804 §2.2: the capabilities again, without STARTTLS, with the mechanisms
    assert not any(line.startswith('"STARTTLS"') for line in after)
    assert any(line.startswith('"SASL"') and "PLAIN" in line for line in after)
    c.sendline('AUTHENTICATE "PLAIN" "AHNhbUBleGFtcGxlLnRlc3QAd3Jvbmc="')  # wrong password
    assert c.readline().startswith("NO")
    c.close()


def test_put_check_list_get_rename_delete(srv):
    c = login(srv)
    assert c.checkscript(GOOD)
    assert not c.checkscript('frobnicate "x";\r\n')
    assert b"line 1" in c.errmsg
    assert not c.putscript("bad", 'if true {\r\n')
    assert c.putscript("one", GOOD)
    assert c.putscript("two", "keep;\r\n")
    assert c.setactive("one")
    active, others = c.listscripts()
    assert active == "one" and others == ["two"]
    assert c.getscript("one") == GOOD.replace("\r\n", "\n").rstrip("\n") or "fileinto" in c.getscript("one")
    assert not c.deletescript("one")  # the active one is refused
    assert b"active" in c.errmsg.lower()
    assert c.renamescript("two", "three")
    assert not c.renamescript("three", "one")  # taken
    assert c.deletescript("three")
    assert not c.getscript("three")
    assert c.setactive("")
    assert c.deletescript("one")
    c.logout()


def test_response_codes_quota_and_havespace(srv):
    c = raw_login(srv)
    c.sendline('DELETESCRIPT "nope"')
    assert c.readline() == 'NO (NONEXISTENT) "There is no script by that name"'
    c.sendline('HAVESPACE "big" 999999')
    assert c.readline().startswith("NO (QUOTA/MAXSIZE)")
    c.sendline('HAVESPACE "small" 100')
    assert c.readline() == "OK"
    for i in range(3):
        c.send('PUTSCRIPT "s%d" {6+}\r\nkeep;\r\n' % i)
        assert c.readline() == "OK"
    c.sendline('HAVESPACE "s9" 10')
    assert c.readline().startswith("NO (QUOTA/MAXSCRIPTS)")
    c.send('PUTSCRIPT "s9" {6+}\r\nkeep;\r\n')
    assert c.readline().startswith("NO (QUOTA/MAXSCRIPTS)")
    c.sendline('NOOP "tag1"')
    assert c.readline() == 'OK (TAG "tag1") "Done"'
    for i in range(3):
        c.sendline('DELETESCRIPT "s%d"' % i)
        assert c.readline() == "OK"
    # over sieve.max_script_size but within what the literal may carry: NO, the session goes on
    c.send('PUTSCRIPT "mid" {3000+}\r\n' + "#" * 2999 + "\n\r\n")
    assert c.readline().startswith("NO (QUOTA/MAXSIZE)")
    # far over it: refused when announced, and the connection ends
    c.send('PUTSCRIPT "huge" {1000000+}\r\n')
    assert c.readline().startswith("NO (QUOTA/MAXSIZE)")
    assert c.readline().startswith("BYE")
    c.close()


def test_prelogin_limits(srv):
    c, _ = raw(srv)
    c.sendline("LISTSCRIPTS")
    assert c.readline().startswith("NO")
    # before login a literal is bounded by the line length: no script buffered
    c.send('CHECKSCRIPT {100000+}\r\n')
    line = c.readline()
    assert line.startswith("NO") or line.startswith("BYE")
    assert c.wait_closed(5)


def test_sieve_connect(srv, tmp_path):
    script = tmp_path / "vac.sieve"
    script.write_text('require "vacation";\nvacation "Away.";\n')
    env = dict(os.environ)
    common = ["sieve-connect", "--server", srv.host, "--port", str(srv.port("sieve")), "--user", "tess@example.test",
              "--passwordfd", "0", "--tlscafile", srv.cafile, "--tlshostname", srv.tls_name, "--authmech", "PLAIN"]
    r = subprocess.run(common + ["--localsieve", str(script), "--remotesieve", "vac", "--upload"], input="secret\n",
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(common + ["--remotesieve", "vac", "--activate"], input="secret\n", capture_output=True,
                       text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(common + ["--list"], input="secret\n", capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    assert "vac" in r.stdout and "ACTIVE" in r.stdout.upper()


def test_login_mechanism_and_unauthenticate(srv):
    c = Client(srv.host, srv.port("sieve"))
    assert c.connect(USER, "secret", starttls=True, authmech="LOGIN")
    assert c.listscripts() is not None
    c.logout()
    r = raw_login(srv)
    r.sendline("UNAUTHENTICATE")
    assert r.readline() == "OK"
    r.sendline("LISTSCRIPTS")
    assert r.readline().startswith("NO")
    r.close()


def test_scram(srv):
    """SCRAM-SHA-256 (the ScramClient of test_sasl.py, checked against RFC 7677): the
    server-final message comes as a last challenge that the client answers with an
    empty string (RFC 5804 §2.1, RFC 4422 §5)."""
    import base64
    from test_sasl import Scram
    c, _ = raw(srv)
    c.sendline("STARTTLS")
    assert c.readline().startswith("OK")
    c.starttls(srv.ssl_context())
    while not c.readline().startswith("OK"):
        pass
    sc = Scram(USER, "secret")
    c.sendline('AUTHENTICATE "SCRAM-SHA-256" "%s"' % base64.b64encode(sc.first()).decode())
    first = c.readline()
    assert first.startswith('"'), first
    c.sendline('"%s"' % base64.b64encode(sc.final(base64.b64decode(first.strip('"')))).decode())
    final = c.readline()
    sc.check_final(base64.b64decode(final.strip('"')))
    c.sendline('""')
    assert c.readline() == 'OK "Logged in"'
    c.sendline("LISTSCRIPTS")
    while True:
        line = c.readline()
        if line.startswith("OK"):
            break
    c.close()


def test_connections_per_ip(make_server):
    srv = make_server(["limits.connections_per_ip = 3"])
    # start-up probes and closed connections free their slot a moment later: retry until 3 are greeted
    held = []
    deadline = time.monotonic() + 15
    while len(held) < 3 and time.monotonic() < deadline:
        c = srv.connect("sieve")
        if c.readline().startswith('"IMPLEMENTATION"'):
            while not c.readline().startswith("OK"):
                pass
            held.append(c)
        else:
            c.close()
    assert len(held) == 3
    extra = srv.connect("sieve")
    assert extra.readline().startswith("BYE (TRYLATER)")
    assert extra.wait_closed(5)
    for c in held:
        c.sendline("LOGOUT")
        assert c.readline().startswith("OK")
        assert c.wait_closed(5)


def test_interpreter_limits_are_keys(make_server):
    """sieve.max_nesting and sieve.max_regex_size reach the compiler that
    ManageSieve uses (delivery and the webmail take the same limits from the same
    settings; test_sieve_delivery.py checks a run-time one)."""
    srv = make_server(["sieve.max_nesting = 3", "sieve.max_regex_size = 16"],
                      users=[USER])
    c = login(srv)

    def nested(depth):
        return "".join("if true {\r\n" for _ in range(depth)) + "keep;\r\n" + "}\r\n" * depth

    assert c.checkscript(nested(2))
    assert not c.checkscript(nested(5))
    assert b"nesting" in c.errmsg
    short = 'require "regex";\r\nif header :regex "subject" "^a+b$" { keep; }\r\n'
    assert c.checkscript(short)
    assert not c.checkscript(short.replace("^a+b$", "^(aaaa|bbbb|cccc|dddd)+$"))
    c.logout()
