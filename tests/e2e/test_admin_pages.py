"""The admin pages (/admin) in Chromium (tests/e2e/webmail/admin.mjs, driven by
playwright-core like the webmail test): not logged in, a non-admin (404 page, 403
API, nothing shown), and an admin going through every area: the dashboard,
adding a domain and checking its DNS records, adding a user with a quota and
making it an admin, a catch-all alias, the queue (retry and bounce of a message
held for an unreachable host), the certificate, the deliveries search, the spam
statistics; then phone width in dark mode in German.

POSTAMT_ADMIN_SHOTS=DIR keeps the screenshots (docs/admin.md's come from here)."""

import os
import re
import smtplib
import socket
import subprocess
import threading
import time

from test_admin_api import ADMIN, USER
from test_webmail import CHROMIUM, NODE_DIR, _node_setup


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_admin_pages_in_chromium(make_server):
    node, module = _node_setup()
    srv = make_server(["route.far.test = 127.0.0.1:%d" % closed_port(), "queue.retry_initial = 3600",
                       "queue.retry_max = 3600", "limits.auth_failures_per_minute = 1000"], start=False)
    srv.add_user(ADMIN, "secret", "--admin")
    srv.add_user(USER)
    srv.start()
    msg = "From: <%s>\r\nTo: <far@far.test>\r\nSubject: held\r\nMessage-ID: <held%f@example.test>\r\n\r\nhi\r\n" % (
        USER, time.time())
    with smtplib.SMTP(srv.host, srv.port("submission"), timeout=10) as s:
        s.starttls(context=srv.ssl_context())
        s.login(USER, "secret")
        s.sendmail(USER, ["far@far.test"], msg.encode())
    assert srv.wait_log(r"event=queue_deferred|event=queue_attempt_failed|far\.test", timeout=20)
    env = dict(os.environ, PW_MODULE=module, BASE="https://%s:%d" % (srv.host, srv.port("https")), ADMIN=ADMIN,
               USER_ADDR=USER, PASS="secret", CHROMIUM=CHROMIUM, SHOTS=os.environ.get("POSTAMT_ADMIN_SHOTS", ""))
    proc = subprocess.Popen([node, os.path.join(NODE_DIR, "admin.mjs")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=NODE_DIR)
    timer = threading.Timer(180, proc.kill)
    timer.start()
    try:
        out = proc.stdout.read()
        rc = proc.wait(timeout=30)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
    assert rc == 0 and "step: done" in out, "browser test failed (exit %s):\n%s\n%s" % (rc, out, srv.log_tail(30))
    # what the browser did is in the audit log
    for action in ("domains/add", "users/add", "users/admin", "aliases/add", "aliases/remove", "queue/retry",
                   "queue/bounce"):
        assert re.search(r"event=admin_action admin=admin@example\.test .*action=%s .*result=ok" % re.escape(action),
                         srv.log()), action
