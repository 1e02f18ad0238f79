#!/usr/bin/env python3
"""JMAP benchmark of postamt (issue 8's Performance section). Python standard library only.

    bench/jmap_bench.py [--json FILE]

Starts its own `postamt serve` (a copy of the binary in $BENCH_POSTAMT, else build/postamt)
on a fresh data directory under /tmp at a free port offset, and stops it and removes the
directory at the end (also on an error or Ctrl-C; JMAP_BENCH_KEEP=1 keeps the directory).
Then:

1. Fill: N messages (JMAP_BENCH_N, default 100,000; about 1 KiB each) into one INBOX over
   SMTP, pipelined (RFC 2920) over JMAP_BENCH_C connections (default 16). The store has no
   bulk import, so SMTP it is; it waits until JMAP's Email/query total says N.
2. Email/query + Email/get of the first 50 messages: the request the webmail sends to
   open a folder (inMailbox, sort by receivedAt descending, position 0, limit 50,
   calculateTotal; Email/get with a back-reference to the query's ids and the list's
   properties), on one keep-alive HTTPS connection with HTTP Basic. After 5 unmeasured
   requests, JMAP_BENCH_REQS (default 50) requests one after another: median and p99 of
   the time from sending the request to the last byte of the reply. The same for the
   query alone and for the get alone (of the 50 ids), and the first query after the start
   (cold) is reported as well.
   Then the general path (JMAP_BENCH_GENERAL requests, default 10): Email/query of the same
   folder sorted by from, which reads every message's sort keys and sorts them in C. Server
   memory (Pss, see 3.) after the restart, after the webmail requests and after the general
   ones.
3. EventSource: JMAP_BENCH_ES (default 1,000) idle connections to the event source
   (types=*, closeafter=no, ping=0), each its own TLS connection. Server memory (Pss, the
   sum over the server's processes from /proc/PID/smaps_rollup) before they open and 3 s
   after the last one is established; then one message over SMTP and the time until
   every connection has received the `state` event.

JMAP_BENCH_DATA=DIR reuses the data directory of an earlier run (kept with JMAP_BENCH_KEEP=1:
DIR is its data/ folder) instead of filling a new one: the fill is skipped (N is the INBOX's
total), the directory is left in place, and the server uses the port offset in its
postamt.conf.

Prints a Markdown table and writes JSON (--json FILE). A benchmark, not a test: nothing
fails on a slow figure; it exits non-zero only when something does not work.
"""

import argparse
import asyncio
import base64
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
HOST = "127.0.0.1"
DOMAIN = "example.test"
USER = "bench@" + DOMAIN
PASSWORD = "bench-secret"
PORTS = {"smtp": 25, "submissions": 465, "submission": 587, "pop3": 110, "pop3s": 995, "imap": 143,
         "imaps": 993, "http": 80, "https": 443}
LIST_PROPERTIES = ["id", "threadId", "mailboxIds", "keywords", "from", "to", "subject", "receivedAt", "sentAt",
                   "preview", "hasAttachment", "size"]
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


def log(msg):
    sys.stderr.write("jmap_bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- the server


def ports_free(offset):
    for std in PORTS.values():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, std + offset))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_offset():
    import random
    rng = random.SystemRandom()
    for _ in range(500):
        off = rng.randrange(41000, 60000)
        if ports_free(off):
            return off
    raise RuntimeError("no free port offset in 41000..60000")


def conf_offset(datadir):
    """The port offset in a data directory's postamt.conf."""
    with open(os.path.join(datadir, "postamt.conf")) as f:
        for line in f:
            key, _, value = line.partition("=")
            if key.strip() == "port_offset":
                return int(value)
    return 0


class Server:
    def __init__(self, binary, offset, datadir=None):
        self.bin = binary
        self.offset = offset
        self.base = tempfile.mkdtemp(prefix="postamt-jmap-bench.", dir="/tmp")
        # a server started as root drops to the user 'postamt', which must reach the directory
        os.chmod(self.base, 0o755)
        self.dir = datadir or os.path.join(self.base, "data")
        # a copy, so that a rebuild during the run changes nothing
        self.bin = os.path.join(self.base, "postamt")
        shutil.copy2(binary, self.bin)
        self.proc = None
        self.logf = None

    def port(self, name):
        return PORTS[name] + self.offset

    def run(self, *args, input=None):
        r = subprocess.run([self.bin, "-d", self.dir, *args], input=input, capture_output=True, text=True,
                           timeout=120, env={k: v for k, v in os.environ.items() if k != "POSTAMT_DATA"})
        if r.returncode != 0:
            raise RuntimeError("postamt %s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def setup(self, connections):
        self.run("init", "--domain", DOMAIN, "--hostname", "localhost", "--port-offset", str(self.offset),
                 "--bind", HOST)
        with open(os.path.join(self.dir, "postamt.conf"), "a") as f:
            f.write("\n# jmap_bench: room for the EventSource connections\n"
                    "limits.connections = %d\nlimits.connections_per_ip = %d\n" % (connections + 1000,
                                                                                 connections + 500))
        self.run("user", "add", USER, input=PASSWORD + "\n")

    def start(self):
        self.logf = open(os.path.join(self.base, "serve.log"), "ab")
        self.proc = subprocess.Popen([self.bin, "-d", self.dir, "serve"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.logf)
        deadline = time.monotonic() + 30
        pending = set(PORTS)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("postamt serve exited with %d; log: %s" % (self.proc.returncode,
                                                                              os.path.join(self.base, "serve.log")))
            for name in list(pending):
                try:
                    socket.create_connection((HOST, self.port(name)), timeout=1).close()
                    pending.discard(name)
                except OSError:
                    pass
            if pending:
                if time.monotonic() > deadline:
                    raise RuntimeError("ports not accepting: %s" % sorted(pending))
                time.sleep(0.05)

    def pss_kib(self):
        """Pss of the server's process tree in KiB."""
        pids = [self.proc.pid]
        children = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open("/proc/%s/stat" % name, "rb") as f:
                        rest = f.read().decode("latin-1")
                except OSError:
                    continue
                ppid = int(rest[rest.rfind(")") + 2:].split()[1])
                children.setdefault(ppid, []).append(int(name))
        todo = list(pids)
        while todo:
            for c in children.get(todo.pop(), []):
                pids.append(c)
                todo.append(c)
        total = 0
        for pid in pids:
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None

    def cleanup(self, keep):
        self.stop()
        if keep:
            log("kept %s" % self.base)
        else:
            shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------- SMTP fill


def message(i):
    body = ("Message %d of the JMAP benchmark.\r\n" % i) + ("lorem ipsum dolor sit amet " * 30 + "\r\n") * 3
    return ("From: Sender %d <sender%d@example.net>\r\nTo: %s\r\nSubject: bench message %d\r\n"
            "Message-ID: <bench-%d@example.net>\r\nDate: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
            % (i % 97, i % 97, USER, i, i, body)).encode()


async def smtp_reply(reader):
    """One (multi-line) reply: its code."""
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("SMTP connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


async def smtp_sender(port, numbers):
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    try:
        if await smtp_reply(reader) != 220:
            raise RuntimeError("no SMTP greeting")
        writer.write(b"EHLO bench.example.net\r\n")
        if await smtp_reply(reader) != 250:
            raise RuntimeError("EHLO refused")
        env = ("MAIL FROM:<bench@example.net>\r\nRCPT TO:<%s>\r\nDATA\r\n" % USER).encode()
        writer.write(env)
        for k, i in enumerate(numbers):
            for want in (250, 250, 354):
                code = await smtp_reply(reader)
                if code != want:
                    raise RuntimeError("SMTP: %d where %d was expected" % (code, want))
            data = message(i).replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n"
            # pipelining: the next envelope goes in the same write as this message's end
            writer.write(data + (env if k + 1 < len(numbers) else b""))
            code = await smtp_reply(reader)
            if code != 250:
                raise RuntimeError("SMTP DATA: %d" % code)
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def fill(port, n, conns, first=0):
    nums = list(range(first, first + n))
    await asyncio.gather(*(smtp_sender(port, nums[c::conns]) for c in range(min(conns, n))))


# ---------------------------------------------------------------- JMAP


class Jmap:
    def __init__(self, port):
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.port = port
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        self.conn = http.client.HTTPSConnection(HOST, port, context=self.ctx, timeout=120)
        self.session = self.get("/.well-known/jmap")
        self.account = self.session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        self.api_path = "/jmap/api"
        api = self.session.get("apiUrl", "/jmap/api")
        if "://" in api:
            api = "/" + api.split("://", 1)[1].split("/", 1)[1]
        self.api_path = api
        self.inbox = next(m["id"] for m in self.call([["Mailbox/get", {"accountId": self.account, "ids": None,
                                                                         "properties": ["role"]}, "m"]])[0][1]["list"]
                          if m.get("role") == "inbox")

    def get(self, path):
        self.conn.request("GET", path, headers={"Authorization": self.auth})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError("GET %s: %d %s" % (path, r.status, body[:200]))
        return json.loads(body)

    def call_raw(self, body):
        """Sends one API request; returns (seconds to the last byte, parsed reply)."""
        for attempt in (1, 2):
            t0 = time.perf_counter()
            try:
                self.conn.request("POST", self.api_path, body=body,
                                  headers={"Authorization": self.auth, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                # the server closed the idle keep-alive connection (timeout.http): once more, anew
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            dt = time.perf_counter() - t0
            break
        if r.status != 200:
            raise RuntimeError("JMAP API: %d %s" % (r.status, data[:300]))
        reply = json.loads(data)
        for resp in reply["methodResponses"]:
            if resp[0] == "error":
                raise RuntimeError("JMAP error: %s" % resp[1])
        return dt, reply

    def call(self, calls):
        return self.call_raw(json.dumps({"using": USING, "methodCalls": calls}).encode())[1]["methodResponses"]

    def query_calls(self):
        return [["Email/query", {"accountId": self.account, "filter": {"inMailbox": self.inbox},
                                 "sort": [{"property": "receivedAt", "isAscending": False}], "position": 0,
                                 "limit": 50, "calculateTotal": True}, "q"],
                ["Email/get", {"accountId": self.account, "#ids": {"resultOf": "q", "name": "Email/query",
                                                                     "path": "/ids"},
                               "properties": LIST_PROPERTIES}, "g"]]

    def total(self):
        r = self.call([["Email/query", {"accountId": self.account, "filter": {"inMailbox": self.inbox},
                                        "limit": 0, "calculateTotal": True}, "t"]])
        return r[0][1]["total"]


def timings(fn, warm, reps):
    for _ in range(warm):
        fn()
    out = []
    for _ in range(reps):
        out.append(fn() * 1000.0)
    return out


def summary(ms):
    s = sorted(ms)
    p99 = s[min(len(s) - 1, max(0, int(round(0.99 * len(s) + 0.5)) - 1))]
    return {"median_ms": round(statistics.median(s), 3), "p99_ms": round(p99, 3), "min_ms": round(s[0], 3),
            "max_ms": round(s[-1], 3), "n": len(s)}


# ---------------------------------------------------------------- EventSource


async def es_open(port, ctx, auth):
    reader, writer = await asyncio.open_connection(HOST, port, ssl=ctx, server_hostname="localhost")
    writer.write(("GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: localhost\r\n"
                  "Authorization: %s\r\nAccept: text/event-stream\r\n\r\n" % auth).encode())
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError("EventSource: %r" % status)
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    return reader, writer


async def es_wait_state(reader, t0, out, account, old_state):
    """Waits for a StateChange whose Email state is not old_state (a stream may begin
    with the current state)."""
    event = None
    while True:
        line = await reader.readline()
        if not line:
            raise RuntimeError("EventSource closed")
        line = line.rstrip(b"\r\n")
        if line.startswith(b"event:"):
            event = line[6:].strip()
        elif line.startswith(b"data:") and event == b"state":
            change = json.loads(line[5:])
            email = change.get("changed", {}).get(account, {}).get("Email")
            if email is not None and email != old_state:
                out.append(time.perf_counter() - t0)
                return


async def eventsource_phase(srv, k, auth, account, old_state):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    port = srv.port("https")
    before = srv.pss_kib()
    conns = []
    sem = asyncio.Semaphore(64)

    async def one():
        async with sem:
            conns.append(await es_open(port, ctx, auth))

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(k)))
    opened = time.perf_counter() - t0
    await asyncio.sleep(3)
    after = srv.pss_kib()
    # one delivery: how long until every stream has its state event
    got = []
    t1 = time.perf_counter()
    waiters = [asyncio.ensure_future(es_wait_state(r, t1, got, account, old_state)) for r, _ in conns]
    await fill(srv.port("smtp"), 1, 1, first=10_000_000)
    try:
        await asyncio.wait_for(asyncio.gather(*waiters), timeout=60)
    except asyncio.TimeoutError:
        pass
    for w in waiters:
        w.cancel()
    for _, w in conns:
        w.close()
    got.sort()
    return {
        "connections": k,
        "open_seconds": round(opened, 2),
        "pss_before_mib": round(before / 1024, 1),
        "pss_with_mib": round(after / 1024, 1),
        "kib_per_connection": round((after - before) / k, 1) if k else None,
        "push_received": len(got),
        "push_all_ms": round(got[-1] * 1000, 1) if len(got) == k else None,
        "push_median_ms": round(statistics.median(got) * 1000, 1) if got else None,
    }


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    n = env_int("JMAP_BENCH_N", 100_000)
    conns = env_int("JMAP_BENCH_C", 16)
    reps = env_int("JMAP_BENCH_REQS", 50)
    k = env_int("JMAP_BENCH_ES", 1000)
    keep = os.environ.get("JMAP_BENCH_KEEP") == "1"
    binary = os.path.abspath(os.environ.get("BENCH_POSTAMT") or os.path.join(REPO, "build", "postamt"))
    if not os.access(binary, os.X_OK):
        log("no postamt binary at %s (build it, or set BENCH_POSTAMT)" % binary)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = k + conns + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))  # the server inherits it
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < need:
        log("ulimit -n is %d: too small for %d EventSource connections; using %d" % (soft, k, soft - conns - 200))
        k = max(0, soft - conns - 200)

    reuse = os.environ.get("JMAP_BENCH_DATA")
    if reuse:
        reuse = os.path.abspath(reuse)
        srv = Server(binary, conf_offset(reuse), reuse)
    else:
        srv = Server(binary, free_offset())
    stop = {"sig": None}

    def on_signal(sig, _frame):
        stop["sig"] = sig
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    res = {"binary": binary, "n": n, "smtp_connections": conns, "requests": reps,
           "machine": "%d CPUs, %s, Linux %s" % (os.cpu_count(), platform.machine(), platform.release()),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    try:
        if reuse:
            srv.start()
            log("server on port offset %d, data in %s (reused)" % (srv.offset, srv.dir))
            jm = Jmap(srv.port("https"))
            n = res["n"] = jm.total()
            cold = None
        else:
            srv.setup(k)
            srv.start()
            log("server on port offset %d, data in %s" % (srv.offset, srv.dir))
            jm = Jmap(srv.port("https"))
            cold, _ = jm.call_raw(json.dumps({"using": USING, "methodCalls": jm.query_calls()}).encode())

            log("filling the INBOX with %d messages over SMTP (%d connections, pipelined)" % (n, conns))
            t0 = time.perf_counter()
            asyncio.run(fill(srv.port("smtp"), n, conns))
            accepted = time.perf_counter() - t0
            while jm.total() < n:
                if time.perf_counter() - t0 > 3600:
                    raise RuntimeError("only %d of %d messages arrived" % (jm.total(), n))
                time.sleep(0.5)
            res["fill"] = {"seconds": round(time.perf_counter() - t0, 1), "accepted_seconds": round(accepted, 1),
                           "msgs_per_s": round(n / (time.perf_counter() - t0), 1),
                           "pss_mib": round(srv.pss_kib() / 1024, 1)}
            log("filled in %.1f s" % res["fill"]["seconds"])
        # a fresh server: the first query (cold caches) and then the steady state
        jm.conn.close()
        srv.stop()
        srv.start()
        jm = Jmap(srv.port("https"))
        res["pss_after_restart_mib"] = round(srv.pss_kib() / 1024, 1)
        body = json.dumps({"using": USING, "methodCalls": jm.query_calls()}).encode()
        first, reply = jm.call_raw(body)
        resp = {r[2]: r[1] for r in reply["methodResponses"]}
        if resp["q"]["total"] != n or len(resp["g"]["list"]) != min(50, n):
            raise RuntimeError("query total %s, %d emails" % (resp["q"]["total"], len(resp["g"]["list"])))
        ids = resp["q"]["ids"]
        q_only = json.dumps({"using": USING, "methodCalls": jm.query_calls()[:1]}).encode()
        g_only = json.dumps({"using": USING, "methodCalls": [["Email/get", {
            "accountId": jm.account, "ids": ids, "properties": LIST_PROPERTIES}, "g"]]}).encode()
        res["empty_mailbox_query_get_ms"] = round(cold * 1000, 2) if cold is not None else None
        res["first_query_get_after_restart_ms"] = round(first * 1000, 2)
        res["query_get"] = summary(timings(lambda: jm.call_raw(body)[0], 5, reps))
        res["query_only"] = summary(timings(lambda: jm.call_raw(q_only)[0], 5, reps))
        res["get_only"] = summary(timings(lambda: jm.call_raw(g_only)[0], 5, reps))
        res["reply_bytes"] = len(json.dumps(reply))
        res["pss_after_webmail_mib"] = round(srv.pss_kib() / 1024, 1)
        general = env_int("JMAP_BENCH_GENERAL", 10)
        if general > 0:
            q = dict(jm.query_calls()[0][1], sort=[{"property": "from", "isAscending": True}])
            g_body = json.dumps({"using": USING, "methodCalls": [["Email/query", q, "q"]]}).encode()
            res["general_sort_from"] = summary(timings(lambda: jm.call_raw(g_body)[0], 1, general))
            res["pss_after_general_mib"] = round(srv.pss_kib() / 1024, 1)
        email_state = jm.call([["Email/get", {"accountId": jm.account, "ids": []}, "s"]])[0][1]["state"]
        jm.conn.close()
        log("query+get median %.2f ms; EventSource: %d connections" % (res["query_get"]["median_ms"], k))
        res["eventsource"] = asyncio.run(eventsource_phase(srv, k, jm.auth, jm.account, email_state))
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        srv.cleanup(keep)
    table = render(res)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


def render(r):
    es = r["eventsource"]
    q, qo, go = r["query_get"], r["query_only"], r["get_only"]
    rows = []
    if "fill" in r:
        rows.append(("Fill over SMTP (%s messages, %d connections, pipelined)" % (format(r["n"], ","),
                                                                               r["smtp_connections"]),
                     "%.1f s, %s msgs/s" % (r["fill"]["seconds"], format(r["fill"]["msgs_per_s"], ",.0f"))))
    rows += [
        ("Email/query + Email/get, first 50, median / p99 (%d requests)" % q["n"],
         "%.2f / %.2f ms" % (q["median_ms"], q["p99_ms"])),
        ("  Email/query alone (limit 50, calculateTotal), median / p99", "%.2f / %.2f ms" % (qo["median_ms"],
                                                                                             qo["p99_ms"])),
        ("  Email/get alone (50 ids, list properties), median / p99", "%.2f / %.2f ms" % (go["median_ms"],
                                                                                           go["p99_ms"])),
        ("  first request after a restart (cold)", "%.2f ms" % r["first_query_get_after_restart_ms"]),
    ]
    if r.get("empty_mailbox_query_get_ms") is not None:
        rows.append(("  the same request on the empty INBOX", "%.2f ms" % r["empty_mailbox_query_get_ms"]))
    if "general_sort_from" in r:
        g = r["general_sort_from"]
        rows.append(("Email/query sorted by from (general path), median / p99 (%d requests)" % g["n"],
                     "%.2f / %.2f ms" % (g["median_ms"], g["p99_ms"])))
    if "fill" in r:
        rows.append(("Server Pss after the fill", "%.1f MiB" % r["fill"]["pss_mib"]))
    rows.append(("Server Pss after the restart / after the webmail requests" +
                 (" / after the general ones" if "pss_after_general_mib" in r else ""),
                 " / ".join("%.1f MiB" % r[k] for k in ("pss_after_restart_mib", "pss_after_webmail_mib",
                                                        "pss_after_general_mib") if k in r)))
    rows += [
        ("Server Pss, idle, %s messages" % format(r["n"], ","), "%.1f MiB" % es["pss_before_mib"]),
        ("Server Pss with %s idle EventSource connections (TLS)" % format(es["connections"], ","),
         "%.1f MiB (+%.1f KiB each)" % (es["pss_with_mib"], es["kib_per_connection"] or 0)),
        ("One SMTP delivery: state event on every EventSource, median / all",
         "%s / %s ms" % (es["push_median_ms"], es["push_all_ms"]) if es["push_all_ms"] is not None
         else "%d of %d received" % (es["push_received"], es["connections"])),
    ]
    out = ["postamt JMAP benchmark, %s; %s; %s" % (r["date"], r["machine"], r["binary"]), "",
           "| workload | figure |", "|---|---|"]
    out += ["| %s | %s |" % row for row in rows]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
