"""The verified-password cache (auth.cache_ttl, src/auth/cache.h) seen from clients:
a repeated login with the same password is accepted without hashing again, in every
protocol; a wrong password is never accepted from it; a password changed with
`postamt user passwd` while the server runs takes effect at once (the old one fails,
the new one is hashed); auth.cache_ttl = 0 turns it off. Whether a login was
answered from the cache is read from the server's log (auth_ok ... cached=yes|no),
never from timing."""
import imaplib
import poplib
import re

from conftest import DOMAIN, HOST


def _imap_login(s, user, password):
    m = imaplib.IMAP4(HOST, s.port("imap"), timeout=10)
    try:
        m.login(user, password)
        return True
    except imaplib.IMAP4.error:
        return False
    finally:
        try:
            m.logout()
        except Exception:  # noqa: BLE001
            pass


def _pop_login(s, user, password):
    p = poplib.POP3(HOST, s.port("pop3"), timeout=10)
    try:
        p.user(user)
        p.pass_(password)
        return True
    except poplib.error_proto:
        return False
    finally:
        try:
            p.quit()
        except Exception:  # noqa: BLE001
            pass


def _last_auth(s, since, user):
    """The cached= value of the last auth_ok of user logged after byte offset since."""
    found = re.findall(r"event=auth_ok proto=(\w+) ip=\S+ user=%s cached=(yes|no)" % re.escape(user),
                       s.log()[since:])
    assert found, "no auth_ok for %s in the log:\n%s" % (user, s.log_tail())
    return found[-1]


def _after(s, fn):
    """Runs fn() and returns (its result, the log offset before it)."""
    since = s.log_size()
    return fn(), since


def _cached(s, login, user, password):
    """Logs in with login (_imap_login or _pop_login), which must succeed; returns
    (protocol, "yes" or "no") from the server's auth_ok line for it."""
    ok, since = _after(s, lambda: login(s, user, password))
    assert ok, "login of %s failed" % user
    assert s.wait_log(r"event=auth_ok proto=\w+ ip=\S+ user=%s" % re.escape(user), since=since)
    return _last_auth(s, since, user)


def test_repeated_login_cached_across_protocols(make_server):
    u = "cache1@" + DOMAIN
    s = make_server(users=[u])
    assert _cached(s, _imap_login, u, "secret") == ("imap", "no")
    assert _cached(s, _imap_login, u, "secret") == ("imap", "yes")
    # the same entry serves POP3: the cache belongs to the account, not the protocol
    assert _cached(s, _pop_login, u, "secret") == ("pop3", "yes")
    # a wrong password right after a cached success still fails (and is hashed)
    ok, since = _after(s, lambda: _imap_login(s, u, "secret2"))
    assert not ok
    assert s.wait_log(r"event=auth_failed proto=imap ip=\S+ user=%s" % re.escape(u), since=since)


def test_password_change_takes_effect_at_once(make_server):
    u = "cache2@" + DOMAIN
    s = make_server(users=[u])
    assert _imap_login(s, u, "secret")
    assert _imap_login(s, u, "secret")  # now in the cache
    r = s.run("user", "passwd", u, input="brand-new-pw\n")
    assert r.returncode == 0, r.stderr
    ok, since = _after(s, lambda: _imap_login(s, u, "secret"))
    assert not ok, "the old password was still accepted after `user passwd`"
    assert s.wait_log(r"event=auth_failed proto=imap ip=\S+ user=%s" % re.escape(u), since=since)
    assert _cached(s, _imap_login, u, "brand-new-pw") == ("imap", "no")
    assert _cached(s, _pop_login, u, "brand-new-pw") == ("pop3", "yes")


def test_deleted_user_not_served_from_cache(make_server):
    u = "cache3@" + DOMAIN
    s = make_server(users=[u])
    assert _imap_login(s, u, "secret")
    assert _imap_login(s, u, "secret")
    assert s.run("user", "del", u).returncode == 0
    assert not _imap_login(s, u, "secret")


def test_cache_off(make_server):
    u = "cache4@" + DOMAIN
    s = make_server(["auth.cache_ttl = 0"], users=[u])
    for _ in range(3):
        assert _cached(s, _imap_login, u, "secret") == ("imap", "no")


def test_reload_to_zero_forgets(make_server):
    """SIGHUP with auth.cache_ttl = 0 empties the cache: the next login hashes again."""
    import signal
    u = "cache5@" + DOMAIN
    s = make_server(users=[u])
    assert _imap_login(s, u, "secret")
    assert _cached(s, _imap_login, u, "secret") == ("imap", "yes")
    since = s.log_size()
    s.add_config("auth.cache_ttl = 0")
    s.send_signal(signal.SIGHUP)
    assert s.wait_log(r"event=reloaded", since=since), s.log_tail()
    assert _cached(s, _imap_login, u, "secret") == ("imap", "no")
