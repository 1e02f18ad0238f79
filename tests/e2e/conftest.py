"""End-to-end harness for postamt.

Every test here talks to a real `postamt serve` process over real sockets, using
only clients nobody in this project wrote: Python's ssl/smtplib/imaplib/poplib,
openssl s_client, curl and swaks.

Fixtures (see tests/e2e/README.md for the full description):

  postamt_bin   path of the binary under test ($POSTAMT_BIN, else <repo>/build/postamt)
  server        one shared server for the whole session, default configuration
  new_server(postamt_bin, tmp_path_factory, config_lines) / finish_server(srv)
                the same for module-scoped fixtures of a test file
  make_server   factory for fresh servers with extra configuration lines:
                    srv = make_server(["limits.connections_per_ip = 3"])
                stopped (and checked to exit 0) at the end of the test
  new_datadir   factory for an initialised data dir without a running server
  dns_stub      a started authoritative DNS server on loopback (dnsstub.py);
                    make_server(["dns.server = " + dns_stub.server])
                Servers whose config names no dns.server ask a quiet stub of the
                session (no records: every name NXDOMAIN at once), so port 25's
                mail-authentication checks never wait for DNS recursion that the
                test machine cannot do; "dns.server =" (empty) opts out.

A Server object has: .dir, .ports (by service name), .port(name), .host,
.cafile, .conf, .run(*args), .add_user(addr, password), .send_signal(sig),
.log(), .log_tail(), .wait_log(regex), .ssl_context(), .connect(name),
.tls_connect(name), .stop().
"""

import atexit
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Standard ports of the contract (DESIGN.md section 1); listener = standard + port_offset.
PORTS = {
    "smtp": 25,
    "submissions": 465,
    "submission": 587,
    "pop3": 110,
    "pop3s": 995,
    "imap": 143,
    "imaps": 993,
    "http": 80,
    "https": 443,
    "sieve": 4190,
}
IMPLICIT_TLS = ("submissions", "pop3s", "imaps", "https")
HOST = "127.0.0.1"
TLS_NAME = "localhost"
DOMAIN = "example.test"

# How long a server may take to come up (the sanitizer build is slow to start).
START_TIMEOUT = float(os.environ.get("POSTAMT_E2E_START_TIMEOUT", "20"))
# The contract: SIGTERM/SIGINT stop the server within 10 s.
STOP_TIMEOUT = 10.0

# Reports of the ASan, LSan, UBSan and TSan builds; finish_server fails the test on any.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


_base = []


def e2e_tmpdir(prefix="postamt"):
    """A new directory for one server or data dir, private (mode 0700) like any
    mkdtemp: a server started as root opens DIR before it drops to its `user`
    account, which then needs no access to DIR's parents. Removed at exit unless
    POSTAMT_E2E_KEEP is set."""
    if not _base:
        base = tempfile.mkdtemp(prefix="postamt-e2e-")
        _base.append(base)
        if not os.environ.get("POSTAMT_E2E_KEEP"):
            atexit.register(shutil.rmtree, base, True)
    return tempfile.mkdtemp(prefix=prefix + "-", dir=_base[0])


def binary_path():
    path = os.environ.get("POSTAMT_BIN") or os.path.join(REPO, "build", "postamt")
    return os.path.abspath(path)


# ---------------------------------------------------------------------------
# ports

_used_offsets = set()
_offset_lock = threading.Lock()


def _ports_free(offset):
    for std in PORTS.values():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, std + offset))
        except OSError:
            return False
        finally:
            s.close()
    return True


# Servers' ports (offset + 25 .. offset + 4190) stay below the kernel's ephemeral range
# (32768 and up, where every outgoing connection and every bind to port 0 takes its
# port), and each pytest-xdist worker has a band of offsets of its own whose ports
# cannot meet another worker's: between a check that a port is free and the server's
# bind, nothing else in the run can take it.
OFFSET_LO, OFFSET_HI = 1100, 28000
OFFSET_SPAN = max(PORTS.values()) + 10  # the ports one offset covers


def _offset_band():
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    k = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    width = (OFFSET_HI - OFFSET_LO) // max(workers, 1)
    lo = OFFSET_LO + (k % max(workers, 1)) * width
    return lo, lo + width - OFFSET_SPAN


def free_offset():
    """A port offset of this worker's band for which all the ports are free now."""
    rng = random.SystemRandom()
    lo, hi = _offset_band()
    with _offset_lock:
        for _ in range(500):
            offset = rng.randrange(lo, hi)
            if offset in _used_offsets:
                continue
            if _ports_free(offset):
                _used_offsets.add(offset)
                return offset
    raise RuntimeError("no free port offset found in %d..%d" % (lo, hi))


# ---------------------------------------------------------------------------
# a line-oriented raw client


class LineClient:
    """A socket with a read buffer: readline()/expect()/read_reply() with timeouts.

    Used where a protocol library would hide what we want to see (exact replies,
    pipelining, the connection being closed)."""

    def __init__(self, sock, timeout=5.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        sock.settimeout(timeout)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def sendline(self, line):
        self.send(line + "\r\n" if isinstance(line, str) else line + b"\r\n")

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by server")
        self.buf += chunk

    def readline(self, timeout=None):
        """One line without its CRLF, as str. EOFError when closed, socket.timeout on timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete line within timeout; got %r" % self.buf[:200])
            self._fill(left)
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_smtp_reply(self, timeout=None):
        """All lines of one SMTP reply (continuation lines '250-...' up to '250 ...')."""
        lines = []
        while True:
            line = self.readline(timeout)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def read_pop_multiline(self, timeout=None):
        """A POP3 multi-line body up to the terminating '.' (not included)."""
        lines = []
        while True:
            line = self.readline(timeout)
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)

    def read_imap_tagged(self, tag, timeout=None):
        """Lines up to and including the tagged reply for tag; returns (untagged, tagged)."""
        untagged = []
        while True:
            line = self.readline(timeout)
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def read_all(self, timeout=None):
        """Everything up to EOF (or timeout); returns (text, closed)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        closed = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._fill(left)
            except EOFError:
                closed = True
                break
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            except (socket.timeout, ssl.SSLError) as e:
                if isinstance(e, ssl.SSLError) and not isinstance(e, ssl.SSLWantReadError):
                    closed = True
                break
        data, self.buf = self.buf, b""
        return data.decode("utf-8", "replace"), closed

    def wait_closed(self, timeout):
        """True if the server closes the connection within timeout (data before EOF is kept)."""
        _, closed = self.read_all(timeout)
        return closed

    def nothing_within(self, seconds):
        """True if no byte arrives (and no close) within seconds."""
        if self.buf:
            return False
        try:
            self._fill(seconds)
        except socket.timeout:
            return True
        except ssl.SSLWantReadError:
            return True
        except (EOFError, OSError):
            return False
        return False

    def starttls(self, context, server_hostname=TLS_NAME):
        """Upgrade in place. The read buffer must be empty (anything in it was sent in clear)."""
        assert self.buf == b"", "plaintext bytes after the STARTTLS reply: %r" % self.buf
        self.sock.settimeout(self.timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        return self.sock

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------
# the server


class ServerError(Exception):
    pass


class Server:
    def __init__(self, binary, datadir, offset, logdir):
        self.bin = binary
        self.dir = datadir
        self.offset = offset
        self.host = HOST
        self.tls_name = TLS_NAME
        self.domain = DOMAIN
        self.ports = {name: std + offset for name, std in PORTS.items()}
        self.conf = os.path.join(datadir, "postamt.conf")
        self.cafile = os.path.join(datadir, "tls", "cert.pem")
        self.keyfile = os.path.join(datadir, "tls", "key.pem")
        self.logfile = os.path.join(logdir, "serve-%d.log" % offset)  # stderr: the log
        self.outfile = os.path.join(logdir, "serve-%d.out" % offset)  # stdout: client settings table
        self.proc = None
        self._logfh = None

    # -- command line -------------------------------------------------------
    def run(self, *args, input=None, timeout=60, env=None):
        """Runs `postamt -d DIR args...`; returns subprocess.CompletedProcess (text)."""
        return run_postamt(self.bin, "-d", self.dir, *args, input=input, timeout=timeout, env=env)

    def add_user(self, address, password="secret", *extra):
        r = self.run("user", "add", address, *extra, input=password + "\n")
        if r.returncode != 0:
            raise ServerError("user add %s failed (exit %d): %s%s" % (address, r.returncode, r.stdout, r.stderr))
        return r

    def add_config(self, *lines):
        """Appends `key = value` lines to postamt.conf (strings or a list of strings)."""
        flat = []
        for line in lines:
            flat.extend([line] if isinstance(line, str) else list(line))
        with open(self.conf, "a") as f:
            f.write("\n" + "".join(l + "\n" for l in flat))

    def port(self, name):
        return self.ports[name]

    # -- life cycle ---------------------------------------------------------
    def start(self, timeout=START_TIMEOUT):
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self._logfh = open(self.logfile, "ab")
        self._outfh = open(self.outfile, "ab")
        self._stop_sent = None
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        # a ThreadSanitizer build reports every race to the log (SANITIZER_MARKERS fails
        # the test) and exits non-zero if it reported any
        env.setdefault("TSAN_OPTIONS", "halt_on_error=0:exitcode=66:second_deadlock_stack=1:suppressions="
                       + os.path.join(REPO, "tests", "tsan.supp"))
        self.proc = subprocess.Popen([self.bin, "-d", self.dir, "serve"], stdin=subprocess.DEVNULL,
                                     stdout=self._outfh, stderr=self._logfh, env=env)
        deadline = time.monotonic() + timeout
        pending = dict(self.ports)
        while pending:
            if self.proc.poll() is not None:
                raise ServerError("postamt serve exited with %d during start-up\n%s"
                                  % (self.proc.returncode, self.log_tail()))
            for name, port in list(pending.items()):
                try:
                    socket.create_connection((self.host, port), timeout=1).close()
                    del pending[name]
                except OSError:
                    pass
            if pending:
                if time.monotonic() > deadline:
                    self.kill()
                    raise ServerError("ports not accepting after %.0f s: %s\n%s"
                                      % (timeout, pending, self.log_tail()))
                time.sleep(0.05)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if sig in (signal.SIGTERM, signal.SIGINT):
            self._stop_sent = time.monotonic()
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Waits for exit; returns the exit status or None on timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig, returns (exit status, seconds). Kills and raises if it takes longer than timeout."""
        if self.proc is None:
            return None, 0.0
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        if getattr(self, "_stop_sent", None) is not None:
            # A test already asked it to stop: a second signal would mean "stop now".
            t0 = self._stop_sent
            rc = self.wait(max(0.1, timeout - (time.monotonic() - t0)))
        else:
            self.proc.send_signal(sig)
            rc = self.wait(timeout)
        took = time.monotonic() - t0
        if rc is None:
            stacks = self.thread_stacks()
            self.kill()
            raise ServerError("postamt did not exit within %.0f s of %s\n%s%s"
                              % (timeout, signal.Signals(sig).name, self.log_tail(), stacks))
        self._close_log()
        return rc, took

    def thread_stacks(self):
        """Every thread's stack of the running server (gdb), for the report of a hang; "" without gdb."""
        if not shutil.which("gdb") or not self.running():
            return ""
        try:
            r = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 20"],
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return "\n(gdb timed out)"
        return "\n---- threads (gdb) ----\n" + r.stdout[-20000:]

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()

    def _close_log(self):
        if self._logfh is not None:
            self._logfh.close()
            self._outfh.close()
            self._logfh = self._outfh = None

    # -- log ----------------------------------------------------------------
    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stdout(self):
        try:
            with open(self.outfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        lines = self.log().splitlines()
        return "---- last %d lines of %s ----\n%s" % (min(n, len(lines)), self.logfile, "\n".join(lines[-n:]))

    def wait_log(self, pattern, timeout=5.0, since=0):
        """Waits until the log (from byte offset since) matches regex pattern; returns the match or None."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log()[since:])
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.05)

    def log_size(self):
        return len(self.log())

    def sanitizer_reports(self):
        text = self.log()
        return [m for m in SANITIZER_MARKERS if m in text]

    # -- clients ------------------------------------------------------------
    def ssl_context(self, cafile=None, **kw):
        ctx = ssl.create_default_context(cafile=cafile or self.cafile)
        for k, v in kw.items():
            setattr(ctx, k, v)
        return ctx

    def connect(self, name, timeout=5.0):
        """A plain LineClient on the service's port."""
        return LineClient(socket.create_connection((self.host, self.ports[name]), timeout=timeout), timeout)

    def tls_connect(self, name, context=None, timeout=5.0):
        """A LineClient over implicit TLS, verified against the generated certificate."""
        ctx = context or self.ssl_context()
        raw = socket.create_connection((self.host, self.ports[name]), timeout=timeout)
        try:
            s = ctx.wrap_socket(raw, server_hostname=self.tls_name)
        except Exception:
            raw.close()
            raise
        return LineClient(s, timeout)

    def serving(self, names=None, timeout=3.0):
        """Raises unless every listed service answers with its greeting (plain or TLS)
        within timeout (the server may need a moment to count closed connections)."""
        want = {"smtp": "220 ", "submission": "220 ", "submissions": "220 ", "pop3": "+OK",
                "pop3s": "+OK", "imap": "* OK", "imaps": "* OK"}
        deadline = time.monotonic() + timeout
        for name in names or ("smtp", "pop3", "imap", "imaps"):
            while True:
                try:
                    c = self.tls_connect(name) if name in IMPLICIT_TLS else self.connect(name)
                    with c:
                        line = c.readline()
                except (OSError, EOFError) as e:
                    line = repr(e)
                if line.startswith(want[name]):
                    break
                assert time.monotonic() < deadline, "%s greeting: %r" % (name, line)
                time.sleep(0.1)
        return True


def run_postamt(binary, *args, input=None, timeout=60, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("POSTAMT_DATA", None)
    if env:
        e.update(env)
    return subprocess.run([binary, *args], input=input, capture_output=True, text=True,
                          timeout=timeout, env=e, cwd=cwd)


def init_datadir(binary, parent, offset, extra_args=(), domain=DOMAIN):
    datadir = os.path.join(parent, "data")
    r = run_postamt(binary, "-d", datadir, "init", "--domain", domain, "--hostname", TLS_NAME,
                    "--port-offset", str(offset), "--bind", HOST, *extra_args)
    if r.returncode != 0:
        raise ServerError("postamt init failed (exit %d)\nstdout: %s\nstderr: %s"
                          % (r.returncode, r.stdout, r.stderr))
    return datadir


_quiet_dns = None


def quiet_dns_server():
    """The session's stub DNS server with no records (dns.server value), started once."""
    global _quiet_dns
    if _quiet_dns is None:
        from dnsstub import DnsStub

        _quiet_dns = DnsStub().start()
        atexit.register(_quiet_dns.stop)
    return _quiet_dns.server


def new_server(binary, tmp_path_factory=None, config=(), users=(), start=True, domain=DOMAIN):
    """A data dir with config lines appended and users added, served unless start=False.
    domain: the one `init --domain` creates (a second instance that must not share
    example.test, e.g. the next hop in test_queue.py).
    (tmp_path_factory is accepted for symmetry with pytest fixtures and not used.)"""
    last = None
    for attempt in range(3):
        parent = e2e_tmpdir()
        offset = free_offset()
        datadir = init_datadir(binary, parent, offset, domain=domain)
        srv = Server(binary, datadir, offset, parent)
        config = list(config)
        if not any(re.match(r"\s*(dns\.server|queue\.dns_server)\s*=", line) for line in config):
            config.insert(0, "dns.server = " + quiet_dns_server())
        if config:
            srv.add_config(config)
        for u in users:
            addr, pw = (u, "secret") if isinstance(u, str) else u
            srv.add_user(addr, pw)
        if not start:
            return srv
        try:
            return srv.start()
        except ServerError as e:
            last = e
            # Another process may have taken a port between our check and serve's bind.
            if "in use" in str(e).lower():
                continue
            raise
    raise last


def finish_server(srv):
    """Stops srv, asserting a clean exit; reports sanitizer findings in its log."""
    if srv.running():
        rc, took = srv.stop()
        assert rc == 0, "postamt serve exited with %r on SIGTERM\n%s" % (rc, srv.log_tail())
    found = srv.sanitizer_reports()
    assert not found, "sanitizer report in server log: %s\n%s" % (found, srv.log_tail(80))


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def postamt_bin():
    path = binary_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.exit("postamt binary not found at %s (build it with `make`, or set POSTAMT_BIN)" % path,
                    returncode=1)
    return path


@pytest.fixture(scope="session")
def server(postamt_bin, tmp_path_factory, request):
    """One server for the whole session with the default configuration. Tests that
    need other settings (short timeouts, low limits) use make_server instead."""
    srv = new_server(postamt_bin, tmp_path_factory)
    yield srv
    finish_server(srv)


@pytest.fixture
def make_server(postamt_bin, tmp_path_factory, request):
    """Factory: make_server(config_lines, users=(), start=True, domain=DOMAIN) -> Server; stopped after the test."""
    made = []

    def factory(config=(), users=(), start=True, domain=DOMAIN):
        if isinstance(config, str):
            config = [config]
        srv = new_server(postamt_bin, tmp_path_factory, config, users, start, domain=domain)
        made.append(srv)
        request.node._postamt_servers = made
        return srv

    yield factory
    errors = []
    for srv in made:
        try:
            finish_server(srv)
        except (AssertionError, ServerError) as e:
            errors.append(str(e))
        finally:
            srv.kill()
    assert not errors, "\n".join(errors)


@pytest.fixture
def dns_stub():
    """A started DnsStub (tests/e2e/dnsstub.py) with no records; `dns_stub.server` is the
    value for `dns.server`, records come from dns_stub.set()/add()/add_zone(). Stopped after
    the test."""
    from dnsstub import DnsStub

    stub = DnsStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def new_datadir(postamt_bin):
    """Factory: an initialised data dir (not served); returns a Server object that is not started."""

    def factory(*extra_args):
        parent = e2e_tmpdir("dir")
        offset = free_offset()
        datadir = init_datadir(postamt_bin, parent, offset, extra_args)
        return Server(postamt_bin, datadir, offset, parent)

    return factory


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing test, append the tail of every server log it used."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        servers = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, Server)]
        servers += [s for s in getattr(item, "_postamt_servers", []) if s not in servers]
        for srv in servers:
            rep.sections.append(("postamt log (offset %d)" % srv.offset, srv.log_tail(60)))


def have_tool(name):
    return shutil.which(name) is not None


# Files that take minutes run first: with pytest-xdist's --dist loadfile (make check)
# each file goes whole to the next free worker in collection order, so a long file
# collected last (test_tls_scan.py sorts late) kept one worker busy for its whole run
# after the other had finished. Measured per file in make check on two cores.
SLOW_FIRST = ("test_tls_scan.py", "test_imap_sort_keys.py", "test_webmail_compose.py", "test_webmail_list.py",
              "test_webmail_matrix.py",
              "test_webmail.py", "test_search_scale.py", "test_webmail_reader.py", "test_lifecycle.py",
              "test_mailauth.py", "test_imap_concurrency.py", "test_acme.py", "test_limits.py", "test_crash.py")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        name = os.path.basename(str(item.fspath))
        return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)
    items.sort(key=rank)  # stable: a file's tests keep their order
