#!/usr/bin/env python3
"""postamt load generator: SMTP, IMAP and POP3 workloads against any mail server.

One asyncio process, Python standard library only. Each subcommand runs one workload
against one server and prints one JSON object (also written to --json FILE):

  smtp       N messages of S bytes over C connections (pipelined when the server offers
             PIPELINING, RFC 2920), reusing connections or reconnecting every --per-conn
             messages; accepted/s, and with --wait-delivery the end-to-end rate until IMAP
             STATUS (or POP3 STAT) shows every message in the users' INBOXes
  pop3       C clients loop USER PASS STAT UIDL RETR(all) QUIT for T seconds
  pop3-drop  one client retrieves a whole maildrop (USER PASS STAT UIDL RETR 1..n QUIT)
  imap       C clients loop LOGIN SELECT FETCH(meta) FETCH(50 bodies) STORE SEARCH LOGOUT
  imap-probe checks that the server's IMAP does LOGIN/SELECT/FETCH/STORE/SEARCH
  idle       K authenticated connections in IMAP IDLE; server memory (PSS), then one
             delivery over SMTP and the time until every connection has seen it
  large      SELECT + FETCH 1:* (UID FLAGS), SEARCH on a big mailbox
  purge      deletes every message of the users over POP3 (DELE all, QUIT); with --count-proto
             imap over IMAP on --port (STORE \\Deleted, EXPUNGE)
  count      POP3 STAT message counts of the users
  maildir-fill  writes messages straight into a Maildir (only used to fill a peer's big mailbox)
  freeport   prints a port offset at which all the given base ports are free on 127.0.0.1

Server cost: the server is given as root PIDs (--pid, --pidfile); its process tree is the
roots plus every descendant (found through the ppid field of /proc/*/stat). CPU is the sum
of utime+stime+cutime+cstime over the tree, read before and after the measured window, so
per-connection child processes that ran and were reaped in between are counted through
their parent's cutime/cstime. Memory is the sum of Pss from /proc/PID/smaps_rollup.
The client's own CPU is reported too: on a small machine client and server share cores.
"""

import argparse
import asyncio
import base64
import http.client
import json
import os
import random
import resource
import socket
import ssl
import statistics
import sys
import threading
import time

CLK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------- /proc accounting


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    rest = data[data.rfind(")") + 2:].split()
    # rest[0] = state (field 3); field n is rest[n - 3]
    return {
        "ppid": int(rest[1]),
        "cpu": sum(int(rest[i]) for i in (11, 12, 13, 14)),  # utime stime cutime cstime
        "rss_pages": int(rest[21]),
    }


def process_tree(roots):
    """Roots plus all their descendants that are alive now."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(name)
        if st is None:
            continue
        children.setdefault(st["ppid"], []).append(int(name))
    tree, todo = [], [r for r in roots if os.path.exists(f"/proc/{r}")]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def tree_cpu_seconds(roots):
    total = 0
    for pid in process_tree(roots):
        st = _stat(pid)
        if st:
            total += st["cpu"]
    return total / CLK


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(roots):
    tree = process_tree(roots)
    pss = sum(pss_kib(p) for p in tree)
    rss = 0
    for p in tree:
        st = _stat(p)
        if st:
            rss += st["rss_pages"] * os.sysconf("SC_PAGE_SIZE") // 1024
    return {"pss_mib": pss / 1024, "rss_mib": rss / 1024, "procs": len(tree)}


class MemSampler:
    """Samples the tree's memory every `interval` seconds in a thread; keeps the peaks."""

    def __init__(self, roots, interval=0.5, pss=True):
        self.roots, self.interval, self.pss = roots, interval, pss
        self.peak = {"pss_mib": 0.0, "rss_mib": 0.0, "procs": 0}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            m = tree_memory(self.roots)
            for k in self.peak:
                self.peak[k] = max(self.peak[k], m[k])
            self._stop.wait(self.interval)

    def __enter__(self):
        if self.roots:
            self._t.start()
        return self

    def __exit__(self, *a):
        self._stop.set()
        if self._t.is_alive():
            self._t.join()


def client_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Window:
    """Wall clock, server-tree CPU and client CPU over a measured window."""

    def __init__(self, roots):
        self.roots = roots

    def start(self):
        # the clock starts after the /proc reads: on a server with many threads they take
        # longer than a command answered from an index (they were inside the window)
        self.s0 = tree_cpu_seconds(self.roots)
        self.c0 = client_cpu_seconds()
        self.t0 = time.monotonic()
        return self

    def stop(self):
        self.wall = time.monotonic() - self.t0
        self.server_cpu = tree_cpu_seconds(self.roots) - self.s0
        self.client_cpu = client_cpu_seconds() - self.c0
        return self

    def report(self, prefix=""):
        w = max(self.wall, 1e-9)
        return {
            prefix + "wall_s": round(self.wall, 4),
            prefix + "server_cpu_s": round(self.server_cpu, 3),
            prefix + "server_cpu_pct": round(100 * self.server_cpu / w, 1),
            prefix + "client_cpu_pct": round(100 * self.client_cpu / w, 1),
        }


def percentiles(samples):
    if not samples:
        return None
    s = sorted(samples)

    def p(q):
        return round(1000 * s[min(len(s) - 1, int(q * len(s)))], 3)

    return {"n": len(s), "p50_ms": p(0.50), "p99_ms": p(0.99), "max_ms": round(1000 * s[-1], 3)}


# ---------------------------------------------------------------- line protocols


class ProtoError(Exception):
    pass


async def open_conn(host, port, use_tls=False, timeout=60):
    ctx = None
    if use_tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx, limit=1 << 20), timeout)
    sock = w.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return r, w


async def readline(r, timeout):
    line = await asyncio.wait_for(r.readline(), timeout)
    if not line:
        raise ProtoError("connection closed by server")
    return line


class SMTP:
    def __init__(self, r, w, timeout):
        self.r, self.w, self.timeout = r, w, timeout

    async def reply(self):
        lines = []
        while True:
            line = await readline(self.r, self.timeout)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                code = int(line[:3]) if line[:3].isdigit() else 0
                return code, lines

    async def expect(self, ok, what):
        code, lines = await self.reply()
        if code // 100 != ok:
            raise ProtoError(f"{what}: {b''.join(lines).decode('latin-1').strip()}")
        return lines


def make_message(i, size, rcpt, tag="msg", sender="sender@bench.example.org"):
    head = (f"From: Bench Sender <{sender}>\r\n"
            f"To: <{rcpt}>\r\n"
            f"Subject: {tag} {i}\r\n"
            f"Message-ID: <{tag}.{i}.{os.getpid()}.{random.getrandbits(32)}@bench.example.org>\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
    body = []
    n = len(head)
    k = 0
    while n < size:
        line = f"line {k:05d} of message {i}: the quick brown fox jumps over the lazy dog"[:74] + "\r\n"
        body.append(line)
        n += len(line)
        k += 1
    return (head + "".join(body)).encode()


async def smtp_session(host, port, a, rcpts, counter, lat, errors, done_cb):
    """Sends messages taken from the shared counter until it runs out or --per-conn is reached."""
    r, w = await open_conn(host, port, a.tls, a.timeout)
    s = SMTP(r, w, a.timeout)
    try:
        await s.expect(2, "greeting")
        w.write(b"EHLO bench.example.org\r\n")
        lines = await s.expect(2, "EHLO")
        pipelining = any(l[4:].strip().upper() == b"PIPELINING" for l in lines) and not a.no_pipelining
        if a.auth:
            import base64
            tok = base64.b64encode(b"\0" + a.auth_user.encode() + b"\0" + a.password.encode())
            w.write(b"AUTH PLAIN " + tok + b"\r\n")
            await s.expect(2, "AUTH")
        sent = 0

        def take():
            if counter[0] >= a.n:
                return None
            counter[0] += 1
            return counter[0] - 1

        def envelope(i):
            rcpt = rcpts[i % len(rcpts)]
            msg = a.signed[i] if getattr(a, "signed", None) else make_message(i, a.size, rcpt, a.tag, a.sender)
            return (b"MAIL FROM:<" + a.sender.encode() + b">\r\nRCPT TO:<" + rcpt.encode() + b">\r\nDATA\r\n", msg)

        i = take()
        if i is None:
            return
        env, msg = envelope(i)
        t0 = time.monotonic()
        if pipelining:
            w.write(env)
        while True:
            if pipelining:
                await s.expect(2, "MAIL")
                await s.expect(2, "RCPT")
                await s.expect(3, "DATA")
            else:
                for cmd, ok in zip(env.split(b"\r\n")[:3], (2, 2, 3)):
                    w.write(cmd + b"\r\n")
                    await s.expect(ok, cmd.split(b":")[0].decode())
            # dot-stuffing is not needed: no body line starts with '.'
            out = msg + b".\r\n"
            sent += 1
            nxt = None
            if a.per_conn == 0 or sent < a.per_conn:
                nxt = take()
            if nxt is not None:
                nenv, nmsg = envelope(nxt)
                if pipelining:
                    out += nenv
            else:
                out += b"QUIT\r\n" if pipelining else b""
            w.write(out)
            await s.expect(2, "end of DATA")
            now = time.monotonic()
            lat.append(now - t0)
            done_cb()
            t0 = now
            if nxt is None:
                if not pipelining:
                    w.write(b"QUIT\r\n")
                try:
                    await s.reply()
                except Exception:
                    pass
                return
            env, msg = nenv, nmsg
    finally:
        w.close()


def dkim_signed_messages(a, rcpts):
    """With --dkim-key: every message of the run, made and signed (ed25519-sha256, selector --dkim-selector,
    the sender's domain) before anything is measured, so that the signing costs the generator no time in
    the measured window. Python's RSA would take ~20 ms a message; Ed25519 takes ~1 ms."""
    if not a.dkim_key:
        return None
    import base64
    import dkim
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(open(a.dkim_key, "rb").read(), None)
    seed = base64.b64encode(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption()))
    domain = a.sender.rpartition("@")[2].encode()
    out = []
    for i in range(a.n):
        m = make_message(i, a.size, rcpts[i % len(rcpts)], a.tag, a.sender)
        out.append(dkim.sign(m, a.dkim_selector.encode(), domain, seed, signature_algorithm=b"ed25519-sha256",
                             include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + m)
    return out


async def run_smtp(a):
    rcpts = a.rcpts.split(",")
    a.signed = dkim_signed_messages(a, rcpts)
    counter = [0]
    lat, errors = [], []
    accepted = [0]

    def done():
        accepted[0] += 1

    async def worker():
        fails = 0
        while counter[0] < a.n:
            try:
                await smtp_session(a.host, a.port, a, rcpts, counter, lat, errors, done)
                fails = 0
            except Exception as e:  # noqa: BLE001 (count and go on)
                errors.append(f"{type(e).__name__}: {e}")
                fails += 1
                if fails > 20:
                    return

    users = a.count_users.split(",")
    counter_ = None
    if a.wait_delivery:
        # what one round of checks costs the server, measured now and subtracted later
        counter_ = await DeliveryCounter.open(a, users)
        rounds = 20 if a.count_proto == "imap" else 1
        cpu0 = tree_cpu_seconds(pids_of(a))
        for _ in range(rounds):
            before = await counter_.counts(users)
        check_cpu = (tree_cpu_seconds(pids_of(a)) - cpu0) / (rounds * len(users))
    roots = pids_of(a)
    win = Window(roots).start()
    with MemSampler(roots, pss=False) as mem:
        await asyncio.gather(*(worker() for _ in range(a.conns)))
        win.stop()
        res = {"phase": "smtp", "n": a.n, "size": a.size, "conns": a.conns, "per_conn": a.per_conn,
               "accepted": accepted[0], "errors": len(errors), "first_errors": errors[:5]}
        res.update(win.report("accept_"))
        res["accepted_per_s"] = round(accepted[0] / max(win.wall, 1e-9), 1)
        res["accept_cpu_ms_per_msg"] = round(1000 * win.server_cpu / max(accepted[0], 1), 3)
        res["latency"] = percentiles(lat)
        if a.wait_delivery:
            per_user = {u: 0 for u in users}
            for k in range(a.n):
                if rcpts[k % len(rcpts)] in per_user:
                    per_user[rcpts[k % len(rcpts)]] += 1
            target = {u: before[u] + per_user[u] for u in users}
            # refused messages never arrive: then wait only briefly for what was accepted
            deadline = time.monotonic() + (a.delivery_timeout if accepted[0] >= a.n else min(a.delivery_timeout, 30))
            pending = list(users)
            seen = dict(before)
            done_at = win.t0
            checks = 0
            while pending and time.monotonic() < deadline:
                got = await counter_.counts(pending)
                checks += len(pending)
                for u in list(pending):
                    seen[u] = got[u]
                    if got[u] >= target[u]:
                        pending.remove(u)
                        # the count was taken no later than this (POP3: at login; IMAP: the STATUS reply)
                        done_at = max(done_at, counter_.stamp[u])
                if pending:
                    await asyncio.sleep(0.02)
            win.stop()
            await counter_.close()
            delivered = sum(min(seen[u], target[u]) - before[u] for u in users)
            win.wall = (done_at if not pending else time.monotonic()) - win.t0
            poll_cpu = checks * check_cpu
            win.server_cpu -= poll_cpu
            res["delivered"] = delivered
            res["delivery_complete"] = not pending
            res["delivery_check"] = f"{a.count_proto}: {checks} checks, ~{1000 * check_cpu:.2f} server CPU-ms each (subtracted)"
            res.update(win.report("e2e_"))
            res["delivered_per_s"] = round(delivered / max(win.wall, 1e-9), 1)
            res["e2e_cpu_ms_per_msg"] = round(1000 * win.server_cpu / max(delivered, 1), 3)
    res["peak_rss_mib"] = round(mem.peak["rss_mib"], 1)
    res["peak_procs"] = mem.peak["procs"]
    return res


class DeliveryCounter:
    """Message counts of users' INBOXes while SMTP delivery goes on: IMAP STATUS over connections
    logged in beforehand, or (without IMAP) a POP3 login per check (POP3 sees the maildrop as of
    login; the check is stamped with the time of the PASS reply)."""

    @classmethod
    async def open(cls, a, users):
        self = cls()
        self.a, self.stamp, self.imap = a, {}, {}
        if a.count_proto == "imap":
            for u in users:
                r, w = await open_conn(a.host, a.imap_port, False, a.timeout)
                c = IMAP(r, w, a.timeout)
                await c.greeting()
                await c.cmd(f"LOGIN {quote(u)} {quote(a.password)}")
                self.imap[u] = c
        return self

    async def counts(self, users):
        a = self.a
        if a.count_proto == "imap":
            async def one(u):
                _, unt, _ = await self.imap[u].cmd("STATUS INBOX (MESSAGES)")
                self.stamp[u] = time.monotonic()
                for l in unt:
                    p = l.replace(b"(", b" ").replace(b")", b" ").split()
                    if b"MESSAGES" in p:
                        return int(p[p.index(b"MESSAGES") + 1])
                raise ProtoError("STATUS without MESSAGES")
        else:
            async def one(u):
                r, w = await open_conn(a.host, a.pop3_port, False, a.timeout)
                p = POP3(r, w, a.timeout)
                try:
                    await p.login(u, a.password)
                    self.stamp[u] = time.monotonic()
                    n = int((await p.cmd("STAT")).split()[1])
                    await p.quit()
                    return n
                finally:
                    w.close()
        vals = await asyncio.gather(*(one(u) for u in users))
        return dict(zip(users, vals))

    async def close(self):
        for c in self.imap.values():
            try:
                await c.cmd("LOGOUT")
            except Exception:  # noqa: BLE001
                pass
            c.w.close()


# ---------------------------------------------------------------- POP3


class POP3:
    def __init__(self, r, w, timeout):
        self.r, self.w, self.timeout = r, w, timeout

    async def status(self, what):
        line = await readline(self.r, self.timeout)
        if not line.startswith(b"+OK"):
            raise ProtoError(f"{what}: {line.decode('latin-1').strip()}")
        return line

    async def cmd(self, c):
        self.w.write(c.encode() + b"\r\n")
        return await self.status(c.split()[0])

    async def multiline(self):
        n = 0
        while True:
            line = await readline(self.r, self.timeout)
            if line == b".\r\n":
                return n
            n += len(line)

    async def login(self, user, password):
        await self.status("greeting")
        await self.cmd("USER " + user)
        await self.cmd("PASS " + password)

    async def quit(self):
        self.w.write(b"QUIT\r\n")
        try:
            await self.status("QUIT")
        finally:
            self.w.close()


async def pop3_counts(host, port, users, password, timeout=60):
    out = {}
    for u in users:
        r, w = await open_conn(host, port, False, timeout)
        p = POP3(r, w, timeout)
        try:
            await p.login(u, password)
            line = await p.cmd("STAT")
            out[u] = int(line.split()[1])
            await p.quit()
        finally:
            w.close()
    return out


async def run_count(a):
    return {"phase": "count", "counts": await pop3_counts(a.host, a.port, a.users.split(","), a.password, a.timeout)}


async def imap_purge(a, user):
    r, w = await open_conn(a.host, a.port, False, a.timeout)
    c = IMAP(r, w, a.timeout)
    await c.greeting()
    await c.cmd(f"LOGIN {quote(user)} {quote(a.password)}")
    _, u, _ = await c.cmd("SELECT INBOX")
    n = _exists(u)
    if n:
        await c.cmd("STORE 1:* +FLAGS.SILENT (\\Deleted)")
        await c.cmd("EXPUNGE")
    await c.cmd("LOGOUT")
    w.close()
    return n


async def run_purge(a):
    out = {}
    for u in a.users.split(","):
        if a.count_proto == "imap":
            out[u] = await imap_purge(a, u)
            continue
        r, w = await open_conn(a.host, a.port, False, a.timeout)
        p = POP3(r, w, a.timeout)
        await p.login(u, a.password)
        n = int((await p.cmd("STAT")).split()[1])
        # pipelined DELE in batches
        i = 1
        while i <= n:
            j = min(n, i + 499)
            w.write(b"".join(b"DELE %d\r\n" % k for k in range(i, j + 1)))
            for _ in range(i, j + 1):
                await p.status("DELE")
            i = j + 1
        await p.quit()
        out[u] = n
    return {"phase": "purge", "deleted": out}


async def pop3_session(a, user, lat, counts):
    t = time.monotonic()
    r, w = await open_conn(a.host, a.port, a.tls, a.timeout)
    p = POP3(r, w, a.timeout)
    try:
        await p.status("greeting")
        lat["connect"].append(time.monotonic() - t)
        for c in ("USER " + user, "PASS " + a.password):
            t = time.monotonic()
            await p.cmd(c)
            lat[c.split()[0]].append(time.monotonic() - t)
        t = time.monotonic()
        n = int((await p.cmd("STAT")).split()[1])
        lat["STAT"].append(time.monotonic() - t)
        t = time.monotonic()
        await p.cmd("UIDL")
        await p.multiline()
        lat["UIDL"].append(time.monotonic() - t)
        if a.retr_max:
            n = min(n, a.retr_max)
        for k in range(1, n + 1):
            t = time.monotonic()
            await p.cmd(f"RETR {k}")
            counts["bytes"] += await p.multiline()
            lat["RETR"].append(time.monotonic() - t)
            counts["retr"] += 1
        t = time.monotonic()
        await p.quit()
        lat["QUIT"].append(time.monotonic() - t)
        counts["sessions"] += 1
    finally:
        w.close()


async def run_pop3(a):
    users = a.users.split(",")
    lat = {k: [] for k in ("connect", "USER", "PASS", "STAT", "UIDL", "RETR", "QUIT")}
    counts = {"sessions": 0, "retr": 0, "bytes": 0}
    errors = []
    roots = pids_of(a)
    stop_at = time.monotonic() + a.seconds

    async def client(i):
        while time.monotonic() < stop_at:
            try:
                await pop3_session(a, users[i % len(users)], lat, counts)
            except Exception as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")
                await asyncio.sleep(0.01)

    win = Window(roots).start()
    with MemSampler(roots) as mem:
        await asyncio.gather(*(client(i) for i in range(a.conns)))
    win.stop()
    res = {"phase": "pop3", "conns": a.conns, "seconds": a.seconds, **counts,
           "errors": len(errors), "first_errors": errors[:5]}
    res.update(win.report())
    w = max(win.wall, 1e-9)
    res["sessions_per_s"] = round(counts["sessions"] / w, 2)
    res["retr_per_s"] = round(counts["retr"] / w, 1)
    res["cpu_ms_per_retr"] = round(1000 * win.server_cpu / max(counts["retr"], 1), 4)
    res["cpu_ms_per_session"] = round(1000 * win.server_cpu / max(counts["sessions"], 1), 2)
    res["latency"] = {k: percentiles(v) for k, v in lat.items()}
    res["peak_pss_mib"] = round(mem.peak["pss_mib"], 1)
    return res


async def run_pop3_drop(a):
    roots = pids_of(a)
    lat = {k: [] for k in ("connect", "USER", "PASS", "STAT", "UIDL", "RETR", "QUIT")}
    counts = {"sessions": 0, "retr": 0, "bytes": 0}
    win = Window(roots).start()
    err = None
    try:
        await pop3_session(a, a.users.split(",")[0], lat, counts)
    except Exception as e:  # noqa: BLE001
        err = f"{type(e).__name__}: {e}"
    win.stop()
    res = {"phase": "pop3-drop", **counts, "error": err}
    res.update(win.report())
    res["retr_per_s"] = round(counts["retr"] / max(win.wall, 1e-9), 1)
    res["cpu_ms_per_retr"] = round(1000 * win.server_cpu / max(counts["retr"], 1), 4)
    res["latency"] = {k: percentiles(v) for k, v in lat.items()}
    return res


# ---------------------------------------------------------------- IMAP


class IMAP:
    def __init__(self, r, w, timeout):
        self.r, self.w, self.timeout = r, w, timeout
        self.n = 0

    async def line(self):
        """One logical response line; literals {n} are read and kept inline."""
        parts = []
        while True:
            l = await readline(self.r, self.timeout)
            parts.append(l)
            if l.endswith(b"}\r\n"):
                o = l.rfind(b"{")
                size = l[o + 1:-3]
                if o >= 0 and size.isdigit():
                    parts.append(await asyncio.wait_for(self.r.readexactly(int(size)), self.timeout))
                    continue
            return b"".join(parts)

    async def cmd(self, text, ok=True):
        self.n += 1
        tag = b"a%d" % self.n
        self.w.write(tag + b" " + text.encode() + b"\r\n")
        untagged = []
        while True:
            l = await self.line()
            if l.startswith(tag + b" "):
                st = l[len(tag) + 1:].split(b" ", 1)[0]
                if ok and st != b"OK":
                    raise ProtoError(f"{text.split()[0]}: {l.decode('latin-1').strip()[:200]}")
                return st, untagged, l
            if l.startswith(b"+"):
                raise ProtoError(f"{text.split()[0]}: unexpected continuation")
            untagged.append(l)

    async def greeting(self):
        l = await self.line()
        if not l.startswith(b"* OK"):
            raise ProtoError(f"greeting: {l.decode('latin-1').strip()[:200]}")


def _exists(untagged):
    for l in untagged:
        p = l.split()
        if len(p) >= 3 and p[0] == b"*" and p[2].upper() == b"EXISTS":
            return int(p[1])
    return 0


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def imap_session(a, user, lat, counts, flip):
    t = time.monotonic()
    r, w = await open_conn(a.host, a.port, a.tls, a.timeout)
    c = IMAP(r, w, a.timeout)
    try:
        await c.greeting()
        lat["connect"].append(time.monotonic() - t)

        async def timed(name, text):
            t = time.monotonic()
            res = await c.cmd(text)
            lat[name].append(time.monotonic() - t)
            counts["commands"] += 1
            return res

        await timed("LOGIN", f"LOGIN {quote(user)} {quote(a.password)}")
        _, u, _ = await timed("SELECT", "SELECT INBOX")
        n = _exists(u)
        if n:
            await timed("FETCH meta", "FETCH 1:* (FLAGS UID RFC822.SIZE)")
            k = min(n, a.bodies) if a.bodies else n
            lo = random.randint(1, n - k + 1)
            _, u, _ = await timed("FETCH bodies", f"FETCH {lo}:{lo + k - 1} BODY.PEEK[]")
            counts["bodies"] += k
            flip[0] ^= 1
            await timed("STORE", f"STORE {lo}:{lo + k - 1} {'+' if flip[0] else '-'}FLAGS (\\Seen)")
            await timed("SEARCH", f'SEARCH SUBJECT "{a.tag} {random.randint(0, max(a.search_max, 1))}"')
        t = time.monotonic()
        await c.cmd("LOGOUT")
        counts["commands"] += 1
        lat["LOGOUT"].append(time.monotonic() - t)
        counts["sessions"] += 1
    finally:
        w.close()


async def run_imap(a):
    users = a.users.split(",")
    names = ("connect", "LOGIN", "SELECT", "FETCH meta", "FETCH bodies", "STORE", "SEARCH", "LOGOUT")
    lat = {k: [] for k in names}
    counts = {"sessions": 0, "commands": 0, "bodies": 0}
    errors = []
    roots = pids_of(a)
    stop_at = time.monotonic() + a.seconds
    flip = [0]

    async def client(i):
        while time.monotonic() < stop_at:
            try:
                await imap_session(a, users[i % len(users)], lat, counts, flip)
            except Exception as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}")
                await asyncio.sleep(0.01)

    win = Window(roots).start()
    with MemSampler(roots) as mem:
        await asyncio.gather(*(client(i) for i in range(a.conns)))
    win.stop()
    res = {"phase": "imap", "conns": a.conns, "seconds": a.seconds, **counts,
           "errors": len(errors), "first_errors": errors[:5]}
    res.update(win.report())
    w = max(win.wall, 1e-9)
    res["commands_per_s"] = round(counts["commands"] / w, 1)
    res["sessions_per_s"] = round(counts["sessions"] / w, 2)
    res["cpu_ms_per_command"] = round(1000 * win.server_cpu / max(counts["commands"], 1), 3)
    res["latency"] = {k: percentiles(v) for k, v in lat.items()}
    res["peak_pss_mib"] = round(mem.peak["pss_mib"], 1)
    return res


async def run_imap_probe(a):
    """Exit status 0 and {"ok": true} when IMAP works well enough to benchmark."""
    try:
        r, w = await open_conn(a.host, a.port, False, 10)
    except Exception as e:  # noqa: BLE001
        return {"phase": "imap-probe", "ok": False, "reason": f"cannot connect to port {a.port}: {e}"}
    c = IMAP(r, w, 10)
    try:
        await c.greeting()
        await c.cmd(f"LOGIN {quote(a.users.split(',')[0])} {quote(a.password)}")
        _, u, _ = await c.cmd("SELECT INBOX")
        await c.cmd("FETCH 1:* (FLAGS UID RFC822.SIZE)" if _exists(u) else "NOOP")
        if _exists(u):
            await c.cmd("FETCH 1 BODY.PEEK[]")
            await c.cmd("STORE 1 +FLAGS (\\Seen)")
            await c.cmd("STORE 1 -FLAGS (\\Seen)")
        await c.cmd('SEARCH SUBJECT "probe"')
        await c.cmd("LOGOUT")
        return {"phase": "imap-probe", "ok": True}
    except Exception as e:  # noqa: BLE001
        return {"phase": "imap-probe", "ok": False, "reason": str(e)[:200]}
    finally:
        w.close()


LARGE_TEXT_KEYS = ("search_text_s", "search_body_common_s", "search_body_common_uid_s")


async def large_text_searches(c, a, exists):
    """The full-text searches of the large phase: TEXT for a rare string (one message),
    BODY for words in every message (the index's worst case: every message matches),
    and the same words within the last 1,000 UIDs (other criteria narrow it first)."""
    out = {}
    for key, cmd in (("search_text_s", f'SEARCH TEXT "message {a.needle}:"'),
                     ("search_body_common_s", 'SEARCH BODY "quick brown"'),
                     ("search_body_common_uid_s", f'UID SEARCH UID {max(exists - 1000, 1)}:* BODY "quick brown"')):
        t0 = time.monotonic()
        await c.cmd(cmd)
        out[key] = round(time.monotonic() - t0, 4)
    return out


def large_jmap_text(a):
    """JMAP Email/query {text} on the large mailbox (HTTPS, Basic auth): the median of
    five, after one unmeasured."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(a.host, a.jmap_port, context=ctx, timeout=a.timeout)
    user = a.users.split(",")[0]
    hdr = {"Content-Type": "application/json",
           "Authorization": "Basic " + base64.b64encode(f"{user}:{a.password}".encode()).decode()}
    conn.request("GET", "/.well-known/jmap", headers=hdr)
    acct = json.loads(conn.getresponse().read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                       "methodCalls": [["Email/query", {"accountId": acct, "filter": {"text": f"message {a.needle}:"},
                                                        "limit": 50}, "q"]]})
    times, hits = [], 0
    for i in range(6):
        t0 = time.monotonic()
        conn.request("POST", "/jmap/api", body, hdr)
        r = json.loads(conn.getresponse().read())
        if i > 0:
            times.append(time.monotonic() - t0)
        hits = len(r["methodResponses"][0][1].get("ids", []))
    conn.close()
    return {"jmap_text_s": round(statistics.median(times), 4), "jmap_text_hits": hits}


async def run_large(a):
    roots = pids_of(a)
    r, w = await open_conn(a.host, a.port, a.tls, a.timeout)
    c = IMAP(r, w, a.timeout)
    res = {"phase": "large"}
    await c.greeting()
    await c.cmd(f"LOGIN {quote(a.users.split(',')[0])} {quote(a.password)}")
    for rep in range(a.repeat):
        win = Window(roots).start()
        _, u, _ = await c.cmd("SELECT INBOX")
        sel = Window(roots)
        sel.wall = time.monotonic() - win.t0
        _, u2, _ = await c.cmd("FETCH 1:* (UID FLAGS)")
        win.stop()
        s1 = Window(roots).start()
        _, us, _ = await c.cmd(f'SEARCH SUBJECT "{a.tag} {a.needle}"')
        s1.stop()
        s2 = Window(roots).start()
        await c.cmd("SEARCH UNSEEN")
        s2.stop()
        s3 = Window(roots).start()
        await c.cmd(f'SEARCH BODY "message {a.needle}:"')
        s3.stop()
        res.setdefault("runs", []).append({
            "messages": _exists(u), "fetched": len(u2),
            "select_s": round(sel.wall, 4), "select_fetch_s": round(win.wall, 4),
            "select_fetch_cpu_s": round(win.server_cpu, 3),
            "search_subject_s": round(s1.wall, 4), "search_unseen_s": round(s2.wall, 4),
            "search_body_s": round(s3.wall, 4), "search_hits": len(us)})
        res["runs"][-1].update(await large_text_searches(c, a, _exists(u)))
        await c.cmd("CLOSE")
    await c.cmd("LOGOUT")
    w.close()
    if a.jmap_port:
        res.update(large_jmap_text(a))
    # median of the repetitions
    for k in ("select_s", "select_fetch_s", "select_fetch_cpu_s", "search_subject_s", "search_unseen_s",
              "search_body_s") + LARGE_TEXT_KEYS:
        v = sorted(x[k] for x in res["runs"])
        res[k] = v[len(v) // 2]
    res["messages"] = res["runs"][0]["messages"]
    return res


async def run_idle(a):
    roots = pids_of(a)
    user = a.users.split(",")[0]
    conns = []
    errors = []
    sem = asyncio.Semaphore(a.ramp)
    mem0 = tree_memory(roots)

    async def one(i):
        async with sem:
            r, w = await open_conn(a.host, a.port, a.tls, a.timeout)
            c = IMAP(r, w, a.timeout)
            await c.greeting()
            await c.cmd(f"LOGIN {quote(user)} {quote(a.password)}")
            _, u, _ = await c.cmd("SELECT INBOX")
            c.tag = b"i1"
            w.write(b"i1 IDLE\r\n")
            l = await c.line()
            if not l.startswith(b"+"):
                raise ProtoError(f"IDLE: {l.decode('latin-1').strip()[:200]}")
            c.exists = _exists(u)
            conns.append(c)

    t0 = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(a.conns)), return_exceptions=True)
    for x in results:
        if isinstance(x, Exception):
            errors.append(f"{type(x).__name__}: {x}")
    setup = time.monotonic() - t0
    await asyncio.sleep(a.settle)
    mem = tree_memory(roots)
    res = {"phase": "idle", "target": a.conns, "connected": len(conns), "setup_s": round(setup, 2),
           "errors": len(errors), "first_errors": errors[:5],
           "pss_mib": round(mem["pss_mib"], 1), "rss_mib": round(mem["rss_mib"], 1), "procs": mem["procs"],
           "pss_before_mib": round(mem0["pss_mib"], 1),
           "pss_kib_per_conn": round(1024 * (mem["pss_mib"] - mem0["pss_mib"]) / max(len(conns), 1), 1)}

    seen = []

    async def wait_exists(c):
        while True:
            l = await c.line()
            p = l.split()
            if len(p) >= 3 and p[2].upper() == b"EXISTS" and int(p[1]) > c.exists:
                seen.append(time.monotonic())
                return

    waiters = [asyncio.ensure_future(wait_exists(c)) for c in conns]
    t_send = time.monotonic()
    sa = argparse.Namespace(**vars(a))
    sa.port, sa.n, sa.conns, sa.per_conn, sa.tls, sa.auth = a.smtp_port, 1, 1, 0, False, False
    sa.no_pipelining, sa.tag = False, "idle"
    await smtp_session(a.host, a.smtp_port, sa, [user], [0], [], errors, lambda: None)
    t_accepted = time.monotonic()
    done, pending = await asyncio.wait(waiters, timeout=a.notify_timeout)
    for p in pending:
        p.cancel()
    res["notified"] = len(seen)
    res["notify_timeout_s"] = a.notify_timeout
    res["smtp_accept_s"] = round(t_accepted - t_send, 4)
    if seen:
        res["first_notify_s"] = round(min(seen) - t_send, 4)
        res["all_notified_s"] = round(max(seen) - t_send, 4) if len(seen) == len(conns) else None
    for c in conns:
        c.w.close()
    return res


# ---------------------------------------------------------------- helpers


def run_maildir_fill(a):
    """Writes n messages into DIR/cur (Maildir) for a peer's large-mailbox phase."""
    os.makedirs(os.path.join(a.dir, "cur"), exist_ok=True)
    for d in ("new", "tmp"):
        os.makedirs(os.path.join(a.dir, d), exist_ok=True)
    host = socket.gethostname()
    base = int(time.time()) - a.n
    for i in range(a.n):
        msg = make_message(i, a.size, a.rcpt, a.tag)
        name = f"{base + i}.M{i}P{os.getpid()}.{host},S={len(msg)}:2,"
        with open(os.path.join(a.dir, "cur", name), "wb") as f:
            f.write(msg)
    if a.uid is not None:
        for root, dirs, files in os.walk(a.dir):
            os.chown(root, a.uid, a.uid)
            for f in files:
                os.chown(os.path.join(root, f), a.uid, a.uid)
    return {"phase": "maildir-fill", "written": a.n}


def run_freeport(a):
    bases = [int(x) for x in a.bases.split(",")]
    for off in range(a.start, 60000, a.step):
        if max(bases) + off > 65000:
            break
        ok = True
        for b in bases:
            s = socket.socket()
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", b + off))
            except OSError:
                ok = False
            finally:
                s.close()
            if not ok:
                break
        if ok:
            return {"offset": off}
    return {"offset": None}


def pids_of(a):
    pids = list(a.pid or [])
    for f in a.pidfile or []:
        try:
            with open(f) as fh:
                pids.append(int(fh.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return pids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("phase", choices=["smtp", "pop3", "pop3-drop", "imap", "imap-probe", "idle", "large", "purge",
                                      "count", "maildir-fill", "freeport"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--pop3-port", type=int, default=110, help="for --wait-delivery")
    ap.add_argument("--smtp-port", type=int, default=25, help="for the idle phase's delivery")
    ap.add_argument("--imap-port", type=int, default=143, help="for --wait-delivery with --count-proto imap")
    ap.add_argument("--count-proto", choices=["pop3", "imap"], default="pop3",
                    help="how --wait-delivery counts the messages in the users' INBOXes")
    ap.add_argument("--tls", action="store_true", help="implicit TLS")
    ap.add_argument("--users", default="alice@example.test")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--rcpts", default="alice@example.test", help="SMTP recipients, round robin")
    ap.add_argument("--count-users", default="", help="users whose POP3 STAT shows delivery (default --rcpts)")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("-s", "--size", type=int, default=4096)
    ap.add_argument("-c", "--conns", type=int, default=8)
    ap.add_argument("-t", "--seconds", type=float, default=10)
    ap.add_argument("--per-conn", type=int, default=0, help="messages per SMTP connection (0: unlimited)")
    ap.add_argument("--no-pipelining", action="store_true")
    ap.add_argument("--auth", action="store_true")
    ap.add_argument("--auth-user", default="")
    ap.add_argument("--dkim-key", default="", help="smtp: sign each message with this Ed25519 key (PEM)")
    ap.add_argument("--dkim-selector", default="bench")
    ap.add_argument("--from", dest="sender", default="sender@bench.example.org",
                    help="SMTP envelope sender and From: address (a submission must send as its login)")
    ap.add_argument("--wait-delivery", action="store_true")
    ap.add_argument("--delivery-timeout", type=float, default=600)
    ap.add_argument("--tag", default="msg", help="Subject prefix of generated messages")
    ap.add_argument("--bodies", type=int, default=50)
    ap.add_argument("--search-max", type=int, default=2000)
    ap.add_argument("--retr-max", type=int, default=0)
    ap.add_argument("--needle", type=int, default=4242)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jmap-port", type=int, default=0, help="large: also time JMAP Email/query {text} (HTTPS)")
    ap.add_argument("--ramp", type=int, default=64, help="idle: logins in flight")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--notify-timeout", type=float, default=120)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--pid", type=int, action="append")
    ap.add_argument("--pidfile", action="append")
    ap.add_argument("--dir", default="")
    ap.add_argument("--rcpt", default="large@example.test")
    ap.add_argument("--uid", type=int)
    ap.add_argument("--bases", default="25")
    ap.add_argument("--start", type=int, default=20000)
    ap.add_argument("--step", type=int, default=1000)
    ap.add_argument("--json")
    a = ap.parse_args()
    if not a.count_users:
        a.count_users = a.rcpts
    sync = {"maildir-fill": run_maildir_fill, "freeport": run_freeport}
    if a.phase in sync:
        res = sync[a.phase](a)
    else:
        fn = {"smtp": run_smtp, "pop3": run_pop3, "pop3-drop": run_pop3_drop, "imap": run_imap,
              "imap-probe": run_imap_probe, "idle": run_idle, "large": run_large, "purge": run_purge,
              "count": run_count}[a.phase]
        res = asyncio.run(fn(a))
    out = json.dumps(res, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(out + "\n")
    print(out)
    if a.phase == "imap-probe" and not res["ok"]:
        sys.exit(3)


if __name__ == "__main__":
    main()
