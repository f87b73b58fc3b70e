"""gateway_harness - tocsin-gateway and what its tests drive it with: a
Gateway on free ports, integration tokens made by the real tocsinctl, plain
HTTP requests, and the Debian tools the tests use as clients nobody here
wrote (prometheus-alertmanager, promtool, curl)."""

import http.client
import json
import os
import shutil
import subprocess
import urllib.parse

import tocsin_harness as h

GATEWAY = "tocsin-gateway"
NOTIFY = "tocsin-notify"
STATUSPAGE = "tocsin-statuspage"

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
CURL = shutil.which("curl") or "/usr/bin/curl"


def have_tool(path):
    return os.access(path, os.X_OK)


def keys_dir(tc):
    """A key directory made by `tocsinctl keys init` (with links.key)."""
    d = os.path.join(tc.tmp, "keys")
    if not os.path.exists(os.path.join(d, "links.key")):
        r = h.run([h.binary(h.CTL), "keys", "--dir", d, "init"], cwd=tc.tmp)
        tc.assertEqual(r.returncode, 0, r.stderr)
    return d


def make_integration(tc, kdir, name, *services):
    """`tocsinctl keys new integration NAME SERVICE...`; returns the token."""
    r = h.run([h.binary(h.CTL), "--json", "keys", "--dir", kdir, "new", "integration", name]
              + list(services), cwd=tc.tmp)
    tc.assertEqual(r.returncode, 0, r.stderr)
    return json.loads(r.stdout)["token"]


def request(url, method="GET", body=None, headers=None, timeout=10):
    """One HTTP request; returns (status, headers dict (lower-case), body bytes)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body,
                     headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class Gateway:
    """A tocsin-gateway on a free port, plaintext on loopback, sending to
    `coordinator`."""

    def __init__(self, tc, coordinator, integrations, name="gateway", gid="gw-01",
                 config=None, extra=()):
        self.tc = tc
        self.c = coordinator
        self.name = name
        self.id = gid
        self.port = h.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.spool = os.path.join(tc.tmp, name + "-spool")
        self.state = os.path.join(tc.tmp, name + "-state")
        self.integrations = integrations
        self.config = config
        self.extra = list(extra)
        self.proc = None
        self.starts = 0

    def argv(self):
        a = [h.binary(GATEWAY), "--insecure", "--listen", "127.0.0.1:%d" % self.port,
             "--agents", self.c.agents_ep, "--api", self.c.api_ep, "--spool", self.spool,
             "--state", self.state, "--integrations", self.integrations, "--id", self.id,
             "--log-level", "debug"]
        if self.config:
            a += ["--config", self.config]
        return a + self.extra

    def start(self, wait=True):
        self.starts += 1
        self.proc = self.tc.spawn("%s.%d" % (self.name, self.starts), self.argv())
        if wait:
            self.tc.wait_until(lambda: self.get("/healthz")[0] in (200, 503),
                               what="%s to answer /healthz" % self.name)
        return self

    def get(self, path, **kw):
        return request(self.url + path, "GET", **kw)

    def post(self, path, body=None, **kw):
        return request(self.url + path, "POST", body=body, **kw)

    def kill9(self):
        self.proc.kill9()

    def stop(self):
        return self.proc.stop()

    def logs(self):
        out = []
        for i in range(1, self.starts + 1):
            with open(os.path.join(self.tc.tmp, "%s.%d.log" % (self.name, i)),
                      errors="replace") as f:
                out.append(f.read())
        return "".join(out)


def gateway_events(records, sender="gw-01"):
    """The check results the gateway's events became, from the log."""
    return [r for r in h.check_results(records, sender)]


def promtool_check(tc, text):
    """Runs Debian's `promtool check metrics` on `text`; fails the test with
    its complaints. Lint problems (naming advice) are reported by promtool
    on stdout as well; any output at all fails."""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    tc.assertEqual(r.returncode, 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr))
    tc.assertEqual((r.stdout + r.stderr).strip(), "",
                   "promtool check metrics complained: %s%s" % (r.stdout, r.stderr))
