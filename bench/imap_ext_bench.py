#!/usr/bin/env python3
"""IMAP extension benchmark: QRESYNC resync, SORT and THREAD (issue 6's Performance section).

    sudo bench/imap_ext_bench.py            full sizes (10,000 / 100,000 messages; a few minutes)
    sudo BENCH_QUICK=1 bench/imap_ext_bench.py   1,000 / 10,000 messages (under a minute)

Python standard library only; run as root (Dovecot starts as root and drops privileges).

Starts, in a scratch folder under /tmp, postamt (a copy of $BENCH_POSTAMT, else build/postamt:
`init --port-offset N --bind 127.0.0.1 --hostname localhost`, two users, `serve`) and Dovecot
(`dovecot -F` with a minimal configuration written here: Maildir, passwd-file with {PLAIN}
passwords, IMAP on 127.0.0.1 only, no TLS). Both get the same messages (seeded, so every run gets
the same ones): dates spread over two years in several time zones, 70% replies (References and
In-Reply-To) to a recent earlier message. postamt is filled over SMTP (pipelined, BENCH_C
connections) and waited for until STATUS shows every message; Dovecot's Maildir is written
directly as files, then one unmeasured SELECT builds its index.

(a) Resync of a BENCH_RESYNC_N-message INBOX (default 10,000) with BENCH_CHANGED_PCT percent
    (default 1) of its messages changed: a client that ENABLEd QRESYNC remembers UIDVALIDITY and
    HIGHESTMODSEQ; another session sets \\Seen \\Flagged on the changed messages (one UID STORE);
    then, in new sessions, the time and the bytes the server sends for
      QRESYNC:  SELECT INBOX (QRESYNC (uidvalidity modseq))
      full:     SELECT INBOX, then FETCH 1:* (FLAGS)
    (the median of BENCH_RUNS runs, LOGIN and ENABLE not counted), on both servers.
(b) UID SORT (DATE), UID SORT (SUBJECT) and UID THREAD REFERENCES (UTF-8 ALL) on a BENCH_SORT_N-message
    INBOX (default 100,000): the first run after the fill (Dovecot builds its cache then) and the
    median of the BENCH_RUNS runs after it, time from sending the command to its tagged OK.
    As a check, the number of UIDs sorted and of top-level threads is compared between servers.
    BENCH_POSTAMT_BEFORE=path adds a second postamt (another build, e.g. of the commit before a
    change) filled and measured the same way in the same run, for a before/after comparison; the
    "Fill" line then gives each postamt's delivered messages per second over SMTP.

postamt runs with an address-space limit (RLIMIT_AS: BENCH_PA_MEM_MB, else half the machine's
memory), so that a command that allocates without bound ends in postamt's "out of memory" rather
than in the kernel's OOM killer; such a failure, or a command taking over BENCH_CMD_TIMEOUT
(900 s), is reported in the table. A first run over BENCH_SLOW_S (60 s) is not repeated.

Times are wall-clock at the client (imaplib, which also parses the answers; client and servers
share this machine's cores). Prints a table and writes bench/results/imap_ext.md (BENCH_OUT=path
for another file). Everything it started is stopped by PID at the end, also on an error or
Ctrl-C; the scratch folder is removed (BENCH_KEEP=1 keeps it, and it is kept after an error).
"""

import datetime
import imaplib
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HOST = "127.0.0.1"
DOMAIN = "example.test"
PASSWORD = "bench-secret"
RESYNC_USER = "resync@" + DOMAIN
SORT_USER = "sort@" + DOMAIN
PA_PORTS = (25, 465, 587, 110, 995, 143, 993, 80, 443)
MAIL_UID = 8  # Debian's "mail" user owns Dovecot's mail

imaplib._MAXLINE = 100_000_000  # a THREAD or SORT answer of 100,000 UIDs is one line of about 1 MB


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


QUICK = os.environ.get("BENCH_QUICK", "0") == "1"
RESYNC_N = env_int("BENCH_RESYNC_N", 1000 if QUICK else 10000)
SORT_N = env_int("BENCH_SORT_N", 10000 if QUICK else 100000)
CHANGED_PCT = float(os.environ.get("BENCH_CHANGED_PCT", "1"))
RUNS = env_int("BENCH_RUNS", 3)
CONNS = env_int("BENCH_C", 8)
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
SLOW_S = float(os.environ.get("BENCH_SLOW_S", "60"))
CMD_TIMEOUT = float(os.environ.get("BENCH_CMD_TIMEOUT", "900"))
BINARY = os.environ.get("BENCH_POSTAMT") or os.path.join(REPO, "build", "postamt")
BEFORE = os.environ.get("BENCH_POSTAMT_BEFORE")
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "results", "imap_ext.md"))


def log(msg):
    sys.stderr.write("imap_ext_bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- messages


FROMS = ["Ada Lovelace <ada@example.org>", "Alan Turing <alan@example.org>", "Grace Hopper <grace@example.net>",
         "Edsger Dijkstra <ewd@example.nl>", "Barbara Liskov <liskov@example.edu>", "Ken Thompson <ken@example.com>",
         "Radia Perlman <radia@example.com>", "Donald Knuth <knuth@example.edu>"]
ZONES = [0, 60, -300, 330, -480, 540, 120, -180]  # minutes east of UTC


def messages(n, rcpt, seed):
    """n messages as bytes, the same for a given seed: 30% start a thread, 70% reply to one of
    the 500 messages before them (References: up to 10 ancestors; a tenth of the replies carry
    only In-Reply-To)."""
    rng = random.Random(seed)
    base = 1672531200  # 2023-01-01
    out, ids, refs, subjects = [], [], [], []
    for i in range(n):
        mid = "<m%d.%d@bench.example.org>" % (i, seed)
        hdr = []
        if i > 0 and rng.random() < 0.7:
            p = rng.randrange(max(0, i - 500), i)
            chain = (refs[p] + [ids[p]])[-10:]
            subject = "Re: " + subjects[p].removeprefix("Re: ")
            if rng.random() < 0.1:
                hdr.append("In-Reply-To: %s" % ids[p])
            else:
                hdr.append("In-Reply-To: %s" % ids[p])
                hdr.append("References: %s" % " ".join(chain))
        else:
            chain = []
            subject = "Topic %d: %s" % (i, rng.choice(["build", "release", "meeting", "review", "bug", "plan"]))
        ids.append(mid)
        refs.append(chain)
        subjects.append(subject)
        t = base + rng.randrange(2 * 365 * 86400)
        z = rng.choice(ZONES)
        date = (time.strftime("%a, %d %b %Y %H:%M:%S", time.gmtime(t + 60 * z))
                + " %s%02d%02d" % ("+" if z >= 0 else "-", abs(z) // 60, abs(z) % 60))
        head = ["From: %s" % rng.choice(FROMS), "To: <%s>" % rcpt, "Subject: %s" % subject, "Date: %s" % date,
                "Message-ID: %s" % mid] + hdr + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii"]
        body = ["Message %d of the benchmark mailbox." % i, ""] + [
            "line %d: the quick brown fox jumps over the lazy dog" % k for k in range(8)]
        out.append(("\r\n".join(head) + "\r\n\r\n" + "\r\n".join(body) + "\r\n").encode())
    return out


# ---------------------------------------------------------------- processes

STARTED = []  # (name, Popen)


def stop_all():
    for name, proc in reversed(STARTED):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log("%s (pid %d) did not stop on SIGTERM: SIGKILL" % (name, proc.pid))
                proc.kill()
                proc.wait()
    STARTED.clear()


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_offset(ports, lo, hi):
    rng = random.SystemRandom()
    for _ in range(500):
        off = rng.randrange(lo, hi)
        if all(port_free(p + off) for p in ports):
            return off
    raise RuntimeError("no free port offset in %d..%d" % (lo, hi))


def wait_port(port, proc, name, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %d" % (name, proc.returncode))
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("%s: nothing listens on %s:%d" % (name, HOST, port))
            time.sleep(0.05)


def mem_limit_bytes():
    """postamt's address-space limit: BENCH_PA_MEM_MB, else half the machine's memory (at least
    4 GiB), so that a runaway allocation ends in postamt's own "out of memory" and not in the
    kernel's OOM killer picking some other process of the machine."""
    mb = env_int("BENCH_PA_MEM_MB", 0)
    if mb:
        return mb << 20
    with open("/proc/meminfo") as f:
        total = int(f.readline().split()[1]) << 10
    return max(total // 2, 4 << 30)


def limit_memory():
    lim = mem_limit_bytes()
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of a 10 GiB process


def start_postamt(scratch, binary, name="postamt"):
    d = os.path.join(scratch, name)
    os.makedirs(d)
    os.chmod(d, 0o755)
    exe = os.path.join(d, "postamt")
    shutil.copy2(binary, exe)  # a rebuild during the run changes nothing
    data = os.path.join(d, "data")
    off = free_offset(PA_PORTS, 30000, 40000)
    env = {k: v for k, v in os.environ.items() if k != "POSTAMT_DATA"}

    def run(*args, input=None):
        r = subprocess.run([exe, "-d", data, *args], input=input, capture_output=True, text=True, timeout=120,
                           env=env)
        if r.returncode != 0:
            raise RuntimeError("postamt %s: %s%s" % (" ".join(args), r.stdout, r.stderr))

    run("init", "--domain", DOMAIN, "--port-offset", str(off), "--bind", HOST, "--hostname", "localhost")
    with open(binary, "rb") as f:
        has_mailauth = b"mailauth.inbound" in f.read()
    if has_mailauth:  # no DNS here: SPF/DMARC lookups would wait out their timeouts for every message
        with open(os.path.join(data, "postamt.conf"), "a") as f:
            f.write("\nmailauth.inbound = off\n")
    for u in (RESYNC_USER, SORT_USER):
        run("user", "add", u, input=PASSWORD + "\n")
    logf = open(os.path.join(d, "serve.log"), "ab")
    proc = subprocess.Popen([exe, "-d", data, "serve"], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            env=env, preexec_fn=limit_memory, cwd=d)
    logf.close()
    STARTED.append((name, proc))
    wait_port(off + 25, proc, name)
    wait_port(off + 143, proc, name)
    return {"name": name, "smtp": off + 25, "imap": off + 143, "pid": proc.pid, "proc": proc,
            "log": os.path.join(d, "serve.log")}


def start_dovecot(scratch):
    d = os.path.join(scratch, "dovecot")
    for sub in ("run", "state", "mail"):
        os.makedirs(os.path.join(d, sub))
    os.chmod(d, 0o755)
    os.chown(os.path.join(d, "mail"), MAIL_UID, MAIL_UID)
    port = next(p for p in range(40143, 41000) if port_free(p))
    users = os.path.join(d, "users")
    with open(users, "w") as f:
        for u in (RESYNC_USER, SORT_USER):
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (u, PASSWORD, MAIL_UID, MAIL_UID,
                                                    os.path.join(d, "mail", u.split("@")[0])))
    conf = os.path.join(d, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("""# written by bench/imap_ext_bench.py: loopback only, no TLS
instance_name = imap-ext-bench
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
first_valid_gid = {uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""".format(d=d, uid=MAIL_UID, users=users, port=port))
    logf = open(os.path.join(d, "dovecot.out"), "ab")
    proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    logf.close()
    STARTED.append(("dovecot", proc))
    wait_port(port, proc, "dovecot")
    return {"name": "Dovecot", "imap": port, "pid": proc.pid, "proc": proc, "mail": os.path.join(d, "mail"),
            "log": os.path.join(d, "dovecot.log")}


# ---------------------------------------------------------------- filling


def smtp_fill(port, rcpt, msgs, conns):
    """Sends msgs over `conns` connections, pipelined (RFC 2920): the next envelope goes out
    with the previous message's data."""
    lock = threading.Lock()
    nxt = [0]
    errors = []

    def take():
        with lock:
            if nxt[0] >= len(msgs):
                return None
            nxt[0] += 1
            return nxt[0] - 1

    def reply(f):
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("SMTP connection closed")
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3])

    def expect(f, code, what):
        c = reply(f)
        if c // 100 != code:
            raise RuntimeError("SMTP %s: %d" % (what, c))

    env = ("MAIL FROM:<bench@bench.example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt).encode()

    def worker():
        try:
            s = socket.create_connection((HOST, port), timeout=60)
            f = s.makefile("rb")
            expect(f, 2, "greeting")
            s.sendall(b"EHLO bench.example.org\r\n")
            expect(f, 2, "EHLO")
            i = take()
            if i is not None:
                s.sendall(env)
            while i is not None:
                expect(f, 2, "MAIL")
                expect(f, 2, "RCPT")
                expect(f, 3, "DATA")
                j = take()
                s.sendall(msgs[i] + b".\r\n" + (env if j is not None else b"QUIT\r\n"))
                expect(f, 2, "end of data")
                i = j
            s.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("SMTP fill: %s" % errors[0])


def wait_messages(port, user, n, timeout=3600):
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        c = imaplib.IMAP4(HOST, port)
        c.login(user, PASSWORD)
        typ, data = c.status("INBOX", "(MESSAGES)")
        c.logout()
        have = int(data[0].decode().split("MESSAGES")[1].strip(" )"))
        if have >= n:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("%s: %d of %d messages delivered" % (user, have, n))
        if have != last:
            last = have
        time.sleep(0.5)


def maildir_fill(home, msgs):
    md = os.path.join(home, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    t0 = int(time.time()) - len(msgs)
    pid = os.getpid()
    for i, m in enumerate(msgs):
        name = "%d.M%dP%d.bench,S=%d:2," % (t0 + i, i, pid, len(m))
        with open(os.path.join(md, "cur", name), "wb") as f:
            f.write(m)
    for root, dirs, files in os.walk(home):
        os.chown(root, MAIL_UID, MAIL_UID)
        for x in files:
            os.chown(os.path.join(root, x), MAIL_UID, MAIL_UID)


# ---------------------------------------------------------------- measuring


class Client(imaplib.IMAP4):
    """imaplib that counts the bytes each way."""

    def __init__(self, port):
        self.rx = 0
        self.tx = 0
        super().__init__(HOST, port)

    def readline(self):
        line = super().readline()
        self.rx += len(line)
        return line

    def read(self, size):
        data = super().read(size)
        self.rx += len(data)
        return data

    def send(self, data):
        self.tx += len(data)
        super().send(data)

    def timed(self, fn):
        """(seconds, bytes received, bytes sent, result) of fn()."""
        self.untagged_responses = {}
        rx, tx = self.rx, self.tx
        t0 = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t0
        if res[0] != "OK":
            raise RuntimeError("IMAP: %r" % (res,))
        return dt, self.rx - rx, self.tx - tx, res


def login(port, user):
    c = Client(port)
    c.login(user, PASSWORD)
    return c


def first_int(c, key):
    return int(c.untagged_responses[key][0].split()[0])


def resync(server, n, changed_pct, runs, seed):
    port = server["imap"]
    # the client's last sync
    c = login(port, RESYNC_USER)
    c.enable("QRESYNC")
    c.select("INBOX")
    uidvalidity = first_int(c, "UIDVALIDITY")
    modseq = first_int(c, "HIGHESTMODSEQ")
    typ, data = c.uid("SEARCH", "ALL")
    uids = [int(x) for x in data[0].split()]
    c.logout()
    if len(uids) != n:
        raise RuntimeError("%s: %d messages, not %d" % (server["name"], len(uids), n))
    # another session changes some
    k = max(1, round(n * changed_pct / 100))
    chosen = sorted(random.Random(seed).sample(uids, k))
    c = login(port, RESYNC_USER)
    c.select("INBOX")
    typ, _ = c.uid("STORE", ",".join(map(str, chosen)), "+FLAGS.SILENT", "(\\Seen \\Flagged)")
    if typ != "OK":
        raise RuntimeError("STORE failed")
    c.logout()

    q, full = [], []
    for _ in range(runs):
        c = login(port, RESYNC_USER)
        c.enable("QRESYNC")
        dt, rx, tx, _ = c.timed(lambda: c._simple_command("SELECT", "INBOX",
                                                          "(QRESYNC (%d %d))" % (uidvalidity, modseq)))
        fetched = len(c.untagged_responses.get("FETCH", []))
        c.state = "SELECTED"
        c.logout()
        q.append((dt, rx, tx, fetched))

        c = login(port, RESYNC_USER)
        t1, rx1, tx1, _ = c.timed(lambda: c.select("INBOX"))
        t2, rx2, tx2, res = c.timed(lambda: c.fetch("1:*", "(FLAGS)"))
        fetched_full = len([x for x in res[1] if x])  # imaplib hands the FETCH responses back
        c.logout()
        full.append((t1 + t2, rx1 + rx2, tx1 + tx2, fetched_full))

    def med(rows):
        return tuple(statistics.median(r[i] for r in rows) for i in range(4))

    return {"changed": k, "qresync": med(q), "full": med(full)}


def top_level_threads(line):
    depth = 0
    count = 0
    for ch in line:
        if ch == 40:  # (
            if depth == 0:
                count += 1
            depth += 1
        elif ch == 41:
            depth -= 1
    return count


SORT_COMMANDS = (("sort", ("SORT", "(DATE)", "UTF-8", "ALL")),
                 ("sort_subject", ("SORT", "(SUBJECT)", "UTF-8", "ALL")),
                 ("thread", ("THREAD", "REFERENCES", "UTF-8", "ALL")))
SORT_LABELS = {"sort": "`UID SORT (DATE) UTF-8 ALL`", "sort_subject": "`UID SORT (SUBJECT) UTF-8 ALL`",
               "thread": "`UID THREAD REFERENCES UTF-8 ALL`"}


def sort_thread(server, n, runs):
    """Each command: a first run, then `runs` more (skipped when the first took over BENCH_SLOW_S);
    a command that fails or takes over BENCH_CMD_TIMEOUT is recorded with its error."""
    out = {}
    c = None
    for name, args in SORT_COMMANDS:
        times = []
        r = {"check": None, "bytes": None, "first": None, "median": None, "error": None}
        try:
            if c is None:
                c = login(server["imap"], SORT_USER)
                c.select("INBOX")
                c.sock.settimeout(CMD_TIMEOUT)
            for k in range(runs + 1):
                dt, rx, tx, res = c.timed(lambda: c.uid(*args))
                data = res[1][0] or b""
                if name.startswith("sort"):
                    got = len(data.split())
                    if got != n:
                        raise RuntimeError("SORT returned %d UIDs, not %d" % (got, n))
                    r["check"] = got
                else:
                    r["check"] = top_level_threads(data)
                r["bytes"] = rx
                times.append(dt)
                if k == 0 and dt > SLOW_S:
                    log("%s %s: first run %.1f s > BENCH_SLOW_S: no more runs" % (server["name"], name, dt))
                    break
        except Exception as e:  # noqa: BLE001 - recorded in the table
            if isinstance(e, (socket.timeout, TimeoutError)):
                err = "no answer within %d s" % CMD_TIMEOUT
            else:
                err = "%s: %s" % (type(e).__name__, e)
            time.sleep(1)
            rc = server["proc"].poll()
            if rc is not None:
                err += "; %s exited (%s)" % (server["name"], "signal %d" % -rc if rc < 0 else "status %d" % rc)
                try:
                    with open(server["log"], errors="replace") as f:
                        tail = [x.strip() for x in f.readlines()[-20:] if "memory" in x]
                    if tail:
                        err += ", log: \"%s\"" % tail[-1][:120]
                except OSError:
                    pass
            log("%s %s failed: %s" % (server["name"], name, err))
            r["error"] = err
            try:
                c.shutdown()
            except Exception:  # noqa: BLE001
                pass
            c = None
        if times:
            r["first"] = times[0]
            r["runs"] = times[1:]
            if times[1:]:
                r["median"] = statistics.median(times[1:])
        out[name] = r
        if server["proc"].poll() is not None:
            break
    if c is not None:
        c.logout()
    return out


# ---------------------------------------------------------------- report


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1048576
    rev = "?"
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True).stdout.strip() or "?"
    except OSError:
        pass
    dv = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu, "nproc": os.cpu_count(), "mem": "%.1f GiB" % mem, "kernel": platform.release(),
            "postamt": "%s (HEAD %s)" % (os.path.relpath(BINARY, REPO) if BINARY.startswith(REPO) else BINARY, rev),
            "dovecot": dv}


def fmt_ms(s):
    return "%.1f ms" % (s * 1000) if s < 1 else "%.2f s" % s


def fmt_b(b):
    b = int(b)
    return "{:,} B".format(b) if b < 10240 else "{:,.0f} KiB".format(b / 1024)


def report(res, m):
    L = []
    L.append("# IMAP extensions benchmark (bench/imap_ext_bench.py)")
    L.append("")
    L.append("%s; %s, %d cores, %s; Linux %s; postamt %s; Dovecot %s%s." % (
        m["date"], m["cpu"], m["nproc"], m["mem"], m["kernel"], m["postamt"], m["dovecot"],
        "; BENCH_QUICK=1" if QUICK else ""))
    L.append("")
    L.append("Both servers on 127.0.0.1, no TLS; times at the client (Python imaplib, which parses the answers), "
             "client and servers on the same cores. postamt's address-space limit: %.1f GiB." % (
                 mem_limit_bytes() / (1 << 30)))
    L.append("")
    a = res["resync"]
    k = next(iter(a.values()))["changed"]
    L.append("## Resync of a %s-message INBOX, %s changed (%s%%), median of %d" % (
        "{:,}".format(RESYNC_N), "{:,}".format(k), "%g" % CHANGED_PCT, RUNS))
    L.append("")
    L.append("| server | method | time | bytes from server | bytes to server | FETCH responses |")
    L.append("|---|---|---:|---:|---:|---:|")
    for name, r in a.items():
        for label, key in (("`SELECT INBOX (QRESYNC (v m))`", "qresync"), ("`SELECT INBOX` + `FETCH 1:* (FLAGS)`",
                                                                           "full")):
            t, rx, tx, fetched = r[key]
            L.append("| %s | %s | %s | %s | %s | %s |" % (name, label, fmt_ms(t), fmt_b(rx), fmt_b(tx),
                                                        "{:,}".format(int(fetched))))
        L.append("| %s | QRESYNC / full | %.3f× | %.4f× | | |" % (name, r["qresync"][0] / r["full"][0],
                                                                    r["qresync"][1] / r["full"][1]))
    L.append("")
    b = res["sort"]
    L.append("## SORT and THREAD on a %s-message INBOX (first run; median of the %d after it)" % (
        "{:,}".format(SORT_N), RUNS))
    L.append("")
    names = list(b)

    def cell(r, key):
        if r is None:
            return "not run"
        if r[key] is not None:
            return fmt_ms(r[key])
        if key == "median" and r["first"] is not None and not r["error"]:
            return "(first run > %g s)" % SLOW_S
        return "failed¹" if r["error"] and key == "first" and not r["first"] else "–"

    ratio = "postamt" in names and "Dovecot" in names
    L.append("| command | " + " | ".join("%s first | %s median" % (n, n) for n in names)
             + (" | postamt / Dovecot (median) |" if ratio else " |"))
    L.append("|---|" + "---:|---:|" * len(names) + ("---:|" if ratio else ""))
    notes = []
    for cmd, _ in SORT_COMMANDS:
        label = SORT_LABELS[cmd]
        rs = [b[n].get(cmd) for n in names]
        row = "| %s | " % label + " | ".join("%s | %s" % (cell(r, "first"), cell(r, "median")) for r in rs)
        if ratio:
            x = [r and (r["median"] or r["first"]) for r in (b["postamt"].get(cmd), b["Dovecot"].get(cmd))]
            row += " | %.2f×" % (x[0] / x[1]) if all(x) else " | –"
        L.append(row + " |")
        for n, r in zip(names, rs):
            if r and r["error"]:
                notes.append("¹ %s, %s: %s" % (n, label, r["error"]))
    L.append("")
    for x in notes:
        L.append(x)
        L.append("")

    def chk(cmd, key, f):
        return ", ".join("%s %s" % (n, f(b[n][cmd][key]) if b[n].get(cmd) and b[n][cmd][key] is not None else "–")
                         for n in names)

    L.append("Check: top-level threads " + chk("thread", "check", "{:,}".format) + "; answer sizes: SORT "
             + chk("sort", "bytes", fmt_b) + ", THREAD " + chk("thread", "bytes", fmt_b) + ".")
    L.append("")
    L.append("Fill: " + ", ".join("%s %s" % (n, v) for n, v in res["fill"].items()) + ".")
    L.append("")
    return "\n".join(L)


def main():
    if os.geteuid() != 0:
        sys.exit("imap_ext_bench: run as root (Dovecot starts as root and drops privileges)")
    binary = BINARY
    if not os.access(binary, os.X_OK):
        sys.exit("imap_ext_bench: %s is missing (build it, or BENCH_POSTAMT=path)" % binary)
    if not shutil.which("dovecot"):
        sys.exit("imap_ext_bench: dovecot is not installed (apt-get install dovecot-imapd)")
    m = machine()
    scratch = tempfile.mkdtemp(prefix="postamt-imap-ext.", dir="/tmp")
    os.chmod(scratch, 0o755)
    ok = False
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        log("scratch %s; resync %d messages, sort/thread %d messages" % (scratch, RESYNC_N, SORT_N))
        pa = start_postamt(scratch, binary)
        pb = start_postamt(scratch, BEFORE, "postamt-before") if BEFORE else None
        dc = start_dovecot(scratch)
        log("postamt pid %d imap %d; dovecot pid %d imap %d" % (pa["pid"], pa["imap"], dc["pid"], dc["imap"]))
        resync_msgs = messages(RESYNC_N, RESYNC_USER, 1)
        sort_msgs = messages(SORT_N, SORT_USER, 2)
        fill = {}
        for p in (pa, pb) if pb else (pa,):
            t0 = time.monotonic()
            log("%s: %d + %d messages over SMTP (%d connections)" % (p["name"], RESYNC_N, SORT_N, CONNS))
            smtp_fill(p["smtp"], RESYNC_USER, resync_msgs, CONNS)
            smtp_fill(p["smtp"], SORT_USER, sort_msgs, CONNS)
            wait_messages(p["imap"], RESYNC_USER, RESYNC_N)
            wait_messages(p["imap"], SORT_USER, SORT_N)
            dt = time.monotonic() - t0
            fill[p["name"]] = "%.1f s over SMTP (%.0f delivered msgs/s)" % (dt, (RESYNC_N + SORT_N) / dt)
        t0 = time.monotonic()
        log("Dovecot: writing the Maildirs")
        for user, msgs in ((RESYNC_USER, resync_msgs), (SORT_USER, sort_msgs)):
            maildir_fill(os.path.join(dc["mail"], user.split("@")[0]), msgs)
        t1 = time.monotonic()
        for user in (RESYNC_USER, SORT_USER):  # one unmeasured SELECT builds the index
            c = login(dc["imap"], user)
            c.select("INBOX")
            c.logout()
        fill["Dovecot"] = "%.1f s writing the Maildir files, %.1f s for the first SELECT (index)" % (
            t1 - t0, time.monotonic() - t1)
        del resync_msgs, sort_msgs

        res = {"fill": fill, "resync": {}, "sort": {}}
        for s in (pa, dc):
            log("%s: resync" % s["name"])
            res["resync"][s["name"]] = resync(s, RESYNC_N, CHANGED_PCT, RUNS, 3)
        for s in (pa, pb, dc) if pb else (pa, dc):
            log("%s: SORT and THREAD" % s["name"])
            res["sort"][s["name"]] = sort_thread(s, SORT_N, RUNS)
        text = report(res, m)
        print(text)
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(text)
        log("wrote %s" % OUT)
        ok = True
    finally:
        stop_all()
        if KEEP or not ok:
            log("scratch folder kept: %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
