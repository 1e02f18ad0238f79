#!/usr/bin/env python3
"""Turns the JSON results of one scripts/bench run into the side-by-side table.

usage: report.py RESULTS_DIR [--out DIR] [--name NAME]

RESULTS_DIR holds <side>-<phase>-<run>.json (side = postamt or peer), cal-*.json and machine.txt.
Figures repeated over runs are shown as the median, with the spread (min-max) in brackets.
The ratio is postamt / peer; the last column says which side is better for that figure.
Writes DIR/NAME.md (the table) and DIR/NAME.json (every raw result) when --out is given (NAME: latest).
The scaling phase (scale<workload>_c<clients> results) gets its own table, and with --out a data file
DIR/NAME.dat and a plot DIR/NAME.png (gnuplot) of throughput and server CPU per operation against the
number of concurrent clients.
"""

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys


def load(d):
    res = {}
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        stem = os.path.basename(f)[:-5]
        with open(f) as fh:
            try:
                res[stem] = json.load(fh)
            except json.JSONDecodeError:
                res[stem] = {"na": "unreadable result"}
    return res


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or d.get(k) is None:
            return None
        d = d[k]
    return d


def series(res, side, phase, path):
    """Values of one figure over the runs, or (None, reason)."""
    vals, reason = [], None
    for stem, d in res.items():
        parts = stem.split("-")
        if parts[0] != side or "-".join(parts[1:-1]) != phase:
            continue
        if "na" in d:
            reason = d["na"]
            continue
        v = get(d, path)
        if v is not None:
            vals.append(float(v))
    return vals, reason


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def cell(vals, reason):
    if not vals:
        return f"n/a ({reason})" if reason else "n/a"
    m = statistics.median(vals)
    if len(vals) > 1:
        return f"{fmt(m)} [{fmt(min(vals))}–{fmt(max(vals))}]"
    return fmt(m)


# (section, label, phase, json path, higher is better)
ROWS = [
    ("SMTP, pipelined, reused connections", "accepted msgs/s", "smtp", "accepted_per_s", True),
    ("", "delivered msgs/s (seen by IMAP STATUS)", "smtp", "delivered_per_s", True),
    ("", "server CPU-ms/msg, accept window", "smtp", "accept_cpu_ms_per_msg", False),
    ("", "server CPU-ms/msg incl. delivery", "smtp", "e2e_cpu_ms_per_msg", False),
    ("", "latency per message p50 ms", "smtp", "latency.p50_ms", False),
    ("", "latency per message p99 ms", "smtp", "latency.p99_ms", False),
    ("SMTP, one message per connection", "accepted msgs/s", "smtp1", "accepted_per_s", True),
    ("", "delivered msgs/s", "smtp1", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "smtp1", "e2e_cpu_ms_per_msg", False),
    # a postamt with port-25 checks: the same loops with `mailauth.inbound = off`, against the same peer runs
    ("SMTP, pipelined, postamt's checks off (mailauth.inbound = off)", "accepted msgs/s", "smtpoff|smtp",
     "accepted_per_s", True),
    ("", "delivered msgs/s", "smtpoff|smtp", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "smtpoff|smtp", "e2e_cpu_ms_per_msg", False),
    ("", "latency per message p50 ms", "smtpoff|smtp", "latency.p50_ms", False),
    ("SMTP, one message per connection, postamt's checks off", "delivered msgs/s", "smtp1off|smtp1",
     "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "smtp1off|smtp1", "e2e_cpu_ms_per_msg", False),
    # postamt only (the peer set-up has no submission service): AUTH PLAIN on 465, DKIM-signed if it signs
    ("Submission, 465 (TLS, AUTH PLAIN), pipelined; postamt only", "accepted msgs/s", "sub|-", "accepted_per_s", True),
    ("", "delivered msgs/s", "sub|-", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "sub|-", "e2e_cpu_ms_per_msg", False),
    ("", "latency per message p50 ms", "sub|-", "latency.p50_ms", False),
    ("DKIM, one S-byte message (bench_dkim, CPU-ms)", "sign ed25519-sha256", "dkim|-", "ed25519_sign_ms", False),
    ("", "sign rsa-sha256 (2048 bits)", "dkim|-", "rsa_sign_ms", False),
    ("", "sign both (what a submission costs)", "dkim|-", "both_sign_ms", False),
    ("", "verify ed25519-sha256", "dkim|-", "ed25519_verify_ms", False),
    ("", "verify rsa-sha256", "dkim|-", "rsa_verify_ms", False),
    # the junk filter: bench_junk (50+50 lessons of the corpus, then 1000 messages judged), and the SMTP
    # loops to recipients whose filters were trained over IMAP, against the peer's run of the same loops
    ("Junk filter (bench_junk: one account, 50+50 lessons, corpus messages)", "CPU-ms per message judged",
     "junk|-", "classify_ms", False),
    ("", "bytes per message judged (average)", "junk|-", "classify_bytes", None),
    ("", "CPU-ms per message learned", "junk|-", "learn_ms", False),
    ("", "model tokens per account", "junk|-", "model_tokens", None),
    ("", "model bytes per account (junk_token pages)", "junk|-", "model_bytes", None),
    ("SMTP, pipelined, recipients' junk filters trained (50+50 over IMAP)", "accepted msgs/s", "smtpjunk",
     "accepted_per_s", True),
    ("", "delivered msgs/s", "smtpjunk", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "smtpjunk", "e2e_cpu_ms_per_msg", False),
    ("SMTP, one message per connection, junk filters trained", "delivered msgs/s", "smtp1junk", "delivered_per_s",
     True),
    ("", "server CPU-ms/msg incl. delivery", "smtp1junk", "e2e_cpu_ms_per_msg", False),
    # the same postamt on the PostgreSQL backend (bench/pg_phase.sh: its CPU counts PostgreSQL's processes too),
    # against the same peer runs; the SQLite figures are the rows above
    ("SMTP, pipelined, postamt on PostgreSQL (store.backend = postgresql)", "accepted msgs/s", "pgsmtp|smtp",
     "accepted_per_s", True),
    ("", "delivered msgs/s", "pgsmtp|smtp", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery (postamt + PostgreSQL)", "pgsmtp|smtp", "e2e_cpu_ms_per_msg", False),
    ("", "latency per message p50 ms", "pgsmtp|smtp", "latency.p50_ms", False),
    ("SMTP, one message per connection, postamt on PostgreSQL", "delivered msgs/s", "pgsmtp1|smtp1",
     "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "pgsmtp1|smtp1", "e2e_cpu_ms_per_msg", False),
    ("IMAP loop (LOGIN SELECT FETCH FETCH-50 STORE SEARCH LOGOUT)", "commands/s", "imap", "commands_per_s", True),
    ("", "server CPU-ms/command", "imap", "cpu_ms_per_command", False),
    ("", "LOGIN p50 ms", "imap", "latency.LOGIN.p50_ms", False),
    ("", "LOGIN p99 ms", "imap", "latency.LOGIN.p99_ms", False),
    ("", "SELECT p50 ms", "imap", "latency.SELECT.p50_ms", False),
    ("", "FETCH 1:* meta p50 ms", "imap", "latency.FETCH meta.p50_ms", False),
    ("", "FETCH 50 bodies p50 ms", "imap", "latency.FETCH bodies.p50_ms", False),
    ("", "STORE p50 ms", "imap", "latency.STORE.p50_ms", False),
    ("", "SEARCH SUBJECT p50 ms", "imap", "latency.SEARCH.p50_ms", False),
    ("", "peak server PSS MiB", "imap", "peak_pss_mib", False),
    # postamt with its login cache off (auth.cache_ttl = 0) against the same peer run: both hash every LOGIN
    ("IMAP loop, postamt's login cache off (auth.cache_ttl = 0)", "commands/s", "imapnc|imap", "commands_per_s", True),
    ("", "server CPU-ms/command", "imapnc|imap", "cpu_ms_per_command", False),
    ("", "LOGIN p50 ms", "imapnc|imap", "latency.LOGIN.p50_ms", False),
    ("IMAP loop, postamt on PostgreSQL", "commands/s", "pgimap|imap", "commands_per_s", True),
    ("", "server CPU-ms/command (postamt + PostgreSQL)", "pgimap|imap", "cpu_ms_per_command", False),
    ("", "SELECT p50 ms", "pgimap|imap", "latency.SELECT.p50_ms", False),
    ("", "FETCH 50 bodies p50 ms", "pgimap|imap", "latency.FETCH bodies.p50_ms", False),
    ("", "STORE p50 ms", "pgimap|imap", "latency.STORE.p50_ms", False),
    ("POP3 loop (USER PASS STAT UIDL RETR-all QUIT)", "RETR/s", "pop3", "retr_per_s", True),
    ("", "sessions/s", "pop3", "sessions_per_s", True),
    ("", "server CPU-ms/RETR", "pop3", "cpu_ms_per_retr", False),
    ("", "server CPU-ms/session (incl. its RETRs)", "pop3", "cpu_ms_per_session", False),
    ("", "PASS p50 ms", "pop3", "latency.PASS.p50_ms", False),
    ("", "RETR p50 ms", "pop3", "latency.RETR.p50_ms", False),
    ("", "RETR p99 ms", "pop3", "latency.RETR.p99_ms", False),
    ("", "client CPU % (of one core)", "pop3", "client_cpu_pct", None),
    ("", "peak server PSS MiB", "pop3", "peak_pss_mib", False),
    ("Maildrop fill over SMTP (DROP messages, pipelined)", "delivered msgs/s", "dropfill", "delivered_per_s", True),
    ("", "server CPU-ms/msg incl. delivery", "dropfill", "e2e_cpu_ms_per_msg", False),
    ("POP3, one client, whole maildrop", "messages retrieved", "pop3drop", "retr", None),
    ("", "seconds, login to QUIT", "pop3drop", "wall_s", False),
    ("", "RETR/s", "pop3drop", "retr_per_s", True),
    ("", "server CPU-ms/RETR", "pop3drop", "cpu_ms_per_retr", False),
    ("", "UIDL ms", "pop3drop", "latency.UIDL.p50_ms", False),
]


def idle_rows(res):
    ks = sorted({int(s.split("-")[1][4:]) for s in res if s.split("-")[1:2] and s.split("-")[1].startswith("idle")
                 and s.split("-")[1][4:].isdigit()})
    rows = []
    for k in ks:
        ph = f"idle{k}"
        rows += [(f"IMAP IDLE, {k:,} connections", "connections in IDLE", ph, "connected", None),
                 ("", "server PSS MiB (all processes)", ph, "pss_mib", False),
                 ("", "PSS KiB per connection", ph, "pss_kib_per_conn", False),
                 ("", "server processes", ph, "procs", False),
                 ("", "seconds to log in all", ph, "setup_s", False),
                 ("", "s from SMTP send until all saw EXISTS", ph, "all_notified_s", False),
                 ("", "connections notified", ph, "notified", None)]
    return rows


LARGE = [("Large mailbox (LARGE messages)", "messages", "large", "messages", None),
         ("", "SELECT + FETCH 1:* (UID FLAGS) s", "large", "select_fetch_s", False),
         ("", "  of which SELECT s", "large", "select_s", False),
         ("", "SEARCH SUBJECT s", "large", "search_subject_s", False),
         ("", "SEARCH UNSEEN s", "large", "search_unseen_s", False),
         ("", "SEARCH BODY s", "large", "search_body_s", False),
         ("", "SEARCH TEXT s", "large", "search_text_s", False),
         ("", "SEARCH BODY, words in every message s", "large", "search_body_common_s", False),
         ("", "  the same in the last 1,000 UIDs s", "large", "search_body_common_uid_s", False),
         ("", "JMAP Email/query {text} s", "large", "jmap_text_s", False),
         ("", "full-text index bytes per message", "largeindex", "index_bytes_per_msg", False),
         ("", "  per byte of indexed text", "largeindex", "index_bytes_per_text_byte", False),
         ("", "indexer catch-up after the fill s", "largeindex", "catchup_s", False)]


def scale_levels(res, workload):
    pre = f"scale{workload}_c"
    return sorted({int(p[len(pre):]) for s in res for p in ["-".join(s.split("-")[1:-1])]
                   if p.startswith(pre) and p[len(pre):].isdigit()})


def scaling_rows(res):
    rows = []
    for c in scale_levels(res, "smtp"):
        ph = f"scalesmtp_c{c}"
        rows += [(f"SMTP pipelined, {c} connection{'s' if c > 1 else ''}", "accepted msgs/s", ph, "accepted_per_s", True),
                 ("", "delivered msgs/s (seen by IMAP STATUS)", ph, "delivered_per_s", True),
                 ("", "server CPU-ms/msg incl. delivery", ph, "e2e_cpu_ms_per_msg", False),
                 ("", "latency per message p50 ms", ph, "latency.p50_ms", False),
                 ("", "latency per message p99 ms", ph, "latency.p99_ms", False),
                 ("", "client CPU % (of one core)", ph, "accept_client_cpu_pct", None)]
    for c in scale_levels(res, "imap"):
        ph = f"scaleimap_c{c}"
        rows += [(f"IMAP loop, {c} client{'s' if c > 1 else ''}", "commands/s", ph, "commands_per_s", True),
                 ("", "server CPU-ms/command", ph, "cpu_ms_per_command", False),
                 ("", "LOGIN p50 ms", ph, "latency.LOGIN.p50_ms", False),
                 ("", "SELECT p50 ms", ph, "latency.SELECT.p50_ms", False),
                 ("", "FETCH 50 bodies p50 ms", ph, "latency.FETCH bodies.p50_ms", False),
                 ("", "FETCH 50 bodies p99 ms", ph, "latency.FETCH bodies.p99_ms", False),
                 ("", "client CPU % (of one core)", ph, "client_cpu_pct", None),
                 ("", "peak server PSS MiB", ph, "peak_pss_mib", False)]
    return rows


# (panel title, workload, json path) of the scaling plot
PLOT = [("SMTP pipelined: delivered msgs/s", "smtp", "delivered_per_s"),
        ("SMTP: server CPU-ms per message incl. delivery", "smtp", "e2e_cpu_ms_per_msg"),
        ("IMAP loop: commands/s", "imap", "commands_per_s"),
        ("IMAP loop: server CPU-ms per command", "imap", "cpu_ms_per_command")]


def scaling_plot(res, machine, out, name):
    """Writes NAME.dat and NAME.gp and runs gnuplot for NAME.png; returns a line for the report."""
    levels = sorted(set(scale_levels(res, "smtp")) | set(scale_levels(res, "imap")))
    if not levels:
        return ""
    dat = os.path.join(out, name + ".dat")
    with open(dat, "w") as f:
        cols = ["clients"]
        for _, wl, path in PLOT:
            for side in ("postamt", "peer"):
                cols += [f"{side}:{wl}:{path}:{k}" for k in ("median", "min", "max")]
        f.write("# " + " ".join(cols) + "\n")
        for c in levels:
            row = [str(c)]
            for _, wl, path in PLOT:
                for side in ("postamt", "peer"):
                    v, _ = series(res, side, f"scale{wl}_c{c}", path)
                    row += [f"{statistics.median(v):.6g}", f"{min(v):.6g}", f"{max(v):.6g}"] if v else ["NaN"] * 3
            f.write(" ".join(row) + "\n")
    png = name + ".png"  # the gnuplot script runs in `out` and names files relative to it
    title = (f"postamt {machine.get('postamt', '?')} vs Dovecot {machine.get('dovecot', '?').split()[0]} + "
             f"Postfix {machine.get('postfix', '?')}, {machine.get('nproc', '?')} CPUs, "
             f"{machine.get('date', '')}; median of runs, bars: min-max")
    gp = [f"# written by bench/report.py; run in this folder: gnuplot {name}.gp",
          f"set terminal pngcairo noenhanced size 1400,1000 font 'sans,11'", f"set output '{png}'",
          "set datafile missing 'NaN'", "set logscale x 2", f"set xrange [{levels[0] / 1.5}:{levels[-1] * 1.5}]",
          "set xtics (" + ", ".join(f'"{c}" {c}' for c in levels) + ")", "set grid", "set key below horizontal",
          "set xlabel 'concurrent clients (connections)'", "set yrange [0:*]",
          f"set multiplot layout 2,2 title \"{title}\""]
    for i, (ptitle, _, _) in enumerate(PLOT):
        base = 2 + 6 * i
        gp += [f"set title '{ptitle}'",
               f"plot '{name}.dat' using 1:{base}:{base + 1}:{base + 2} with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' "
               f"title 'postamt', '' using 1:{base + 3}:{base + 4}:{base + 5} with yerrorlines lw 2 pt 5 "
               f"lc rgb '#d62728' title 'Dovecot + Postfix'"]
    gp.append("unset multiplot")
    gpf = os.path.join(out, name + ".gp")
    with open(gpf, "w") as f:
        f.write("\n".join(gp) + "\n")
    if not shutil.which("gnuplot"):
        return f"(gnuplot not found: data in {name}.dat, script in {name}.gp)"
    r = subprocess.run(["gnuplot", name + ".gp"], capture_output=True, text=True, cwd=out)
    if r.returncode != 0:
        return f"(gnuplot failed: {r.stderr.strip()[:300]})"
    return f"Plot: {png} (data {name}.dat, gnuplot script {name}.gp), in {out}"


def table(res, machine, rows=None):
    out = []
    out.append("| workload | figure | postamt | Dovecot + Postfix | postamt ÷ peer | better |")
    out.append("|---|---|---|---|---|---|")
    drop = machine.get("params", "")
    said = set()  # say why a phase is n/a once per section
    for sec, label, phase, path, hib in (rows if rows is not None else ROWS + idle_rows(res) + LARGE):
        # "A|B": postamt's phase A against the peer's phase B
        pa_phase, _, peer_phase = phase.partition("|")
        a, ar = series(res, "postamt", pa_phase, path)
        b, br = series(res, "peer", peer_phase or pa_phase, path)
        if peer_phase == "-":  # a figure of postamt alone
            b, br = [], None
        if ar and not a:
            ar, _ = (None if ("postamt", phase) in said else ar), said.add(("postamt", phase))
        if br and not b:
            br, _ = (None if ("peer", phase) in said else br), said.add(("peer", phase))
        if not a and not b and not ar and not br and path != "all_notified_s":
            continue
        ratio, better = "", ""
        if a and b and statistics.median(b) != 0:
            r = statistics.median(a) / statistics.median(b)
            ratio = f"{r:.2f}×"
            if hib is not None and abs(r - 1) > 0.05:
                better = "postamt" if (r > 1) == hib else "**peer**"
            elif hib is not None:
                better = "≈"
        sec = sec.replace("DROP", _param(drop, "DROP")).replace("LARGE", _param(drop, "LARGE"))
        sec = sec.replace("S-byte", _param(drop, "S") + "-byte")
        ca, cb = cell(a, ar), ("–" if peer_phase == "-" else cell(b, br))
        if path == "all_notified_s":  # not everyone saw the delivery within the generator's notify timeout
            ca, cb = (not_all(res, side, phase) if not v else c for side, v, c in (("postamt", a, ca), ("peer", b, cb)))
            if not a or not b:
                better = "postamt" if a else ("**peer**" if b else "")
        out.append(f"| {sec} | {label} | {ca} | {cb} | {ratio} | {better} |")
    return "\n".join(out)


def not_all(res, side, phase):
    d = res.get(f"{side}-{phase}-1") or {}
    if "notified" not in d:
        return cell([], d.get("na"))
    return (f"> {d.get('notify_timeout_s', 120):g} ({d['notified']:,} of {d.get('connected', 0):,} "
            f"notified by then)")


def _param(params, name):
    for p in params.split():
        if p.startswith(name + "="):
            return f"{int(p.split('=')[1]):,}"
    return name


def calibration(res):
    lines = []
    c = res.get("cal-loadgen")
    if c and "accepted_per_s" in c:
        lines.append(f"- load generator → Postfix smtp-sink: **{fmt(c['accepted_per_s'])} msgs/s** "
                     f"({c['n']:,} × {c['size']} B over {c['conns']} connections), client CPU "
                     f"{c['accept_client_cpu_pct']} % of one core: the generator's own SMTP ceiling.")
    s = res.get("cal-smtp-source")
    if s and s.get("wall_s"):
        lines.append(f"- Postfix smtp-source → smtp-sink (same message count, size and connections): "
                     f"{fmt(s['n'] / s['wall_s'])} msgs/s.")
    return "\n".join(lines)


def main():
    d = sys.argv[1]
    out = None
    if "--out" in sys.argv:
        out = sys.argv[sys.argv.index("--out") + 1]
    name = "latest"
    if "--name" in sys.argv:
        name = sys.argv[sys.argv.index("--name") + 1]
    res = load(d)
    machine = {}
    try:
        with open(os.path.join(d, "machine.txt")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                machine[k] = v
    except OSError:
        pass
    head = (f"postamt {machine.get('postamt', '?')} vs Dovecot {machine.get('dovecot', '?')} + "
            f"Postfix {machine.get('postfix', '?')}; {machine.get('date', '')}\n"
            f"machine: {machine.get('nproc', '?')} CPUs ({machine.get('cpu', '?')}), {machine.get('mem', '?')}, "
            f"{machine.get('kernel', '?')}\nparameters: {machine.get('params', '?')}\n")
    for k in ("load", "checks", "signed", "dkim"):
        if k in machine:
            head += f"{k}: {machine[k]}\n"
    dns = res.get("dns-stub")
    if dns and "queries" in dns:
        head += (f"stub DNS server: {dns['queries']:,} questions answered in the whole run "
                 f"({', '.join(f'{t} {n:,}' for t, n in sorted(dns.get('by_type', {}).items()))})\n")
    main_table = table(res, machine)
    text = head
    if main_table.count("\n") > 1:
        text += "\n" + main_table + "\n"
    srows = scaling_rows(res)
    plot = ""
    if srows:
        text += ("\nScaling: the SMTP (pipelined) and IMAP loop workloads at each number of concurrent clients\n\n"
                 + table(res, machine, srows) + "\n")
        if out:
            os.makedirs(out, exist_ok=True)
            plot = scaling_plot(res, machine, out, name)
            text += "\n" + plot + "\n"
    cal = calibration(res)
    if cal:
        text += "\nLoad generator ceiling:\n" + cal + "\n"
    print(text)
    errs = []
    for stem, r in sorted(res.items()):
        if isinstance(r, dict) and r.get("errors"):
            errs.append(f"- {stem}: {r['errors']} errors, e.g. {r.get('first_errors', [''])[:1]}")
    if errs:
        text += "\nErrors during the run:\n" + "\n".join(errs) + "\n"
        print("Errors during the run:\n" + "\n".join(errs))
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, name + ".md"), "w") as f:
            f.write(text)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"machine": machine, "results": res}, f, indent=1)
        print(f"(written to {out}/{name}.md and {name}.json)")


if __name__ == "__main__":
    main()
