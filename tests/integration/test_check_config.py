"""--check-config on every daemon: a good configuration prints "ok" and
exits 0; each kind of mistake (a YAML typo, an unknown key, a cross-reference
to something undefined, a template that does not parse, a key file or a
plugin that does not exist) exits 2 naming file and line, and the same
mistakes stop a normal start before anything is opened. Nothing is
started or created by a check: no data, spool or state directory, and a
busy port does not matter."""

import os
import socket
import unittest

import tocsin_harness as h

STATUSPAGE = "tocsin-statuspage"
NOTIFY = "tocsin-notify"


class CheckConfigTest(h.TocsinTestCase):
    needs = ()

    def setUp(self):
        super().setUp()
        self.keys = os.path.join(self.tmp, "keys")
        r = self.run_bin(h.CTL, "keys", "--dir", self.keys, "init")
        self.assertEqual(r.returncode, 0, r.stderr)
        for cls, name in (("agent", "web-01"), ("subscriber", "sp")):
            r = self.run_bin(h.CTL, "keys", "--dir", self.keys, "new", cls, name)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.server = os.path.join(self.keys, "coordinator.cert")
        self.agent_key = os.path.join(self.keys, "private", "agent.web-01.cert")
        self.sub_key = os.path.join(self.keys, "private", "subscriber.sp.cert")

    def run_bin(self, name, *args):
        h.require(self, name)
        return h.run([h.binary(name)] + list(args), cwd=self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, name, path, *extra):
        return self.run_bin(name, "--check-config", "--config", path, *extra)

    def assert_ok(self, r):
        self.assertEqual(r.returncode, 0, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertTrue(r.stdout.startswith("ok: "), r.stdout)

    def assert_bad(self, r, path, line, *words):
        """Exit 2, and a line "PATH:LINE: ..." holding every word."""
        self.assertEqual(r.returncode, 2, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertEqual(r.stdout, "")
        prefix = "%s:%d: " % (path, line)
        hits = [l for l in r.stderr.splitlines() if l.startswith(prefix)]
        self.assertTrue(hits, "no line starting %r in %r" % (prefix, r.stderr))
        for w in words:
            self.assertTrue(any(w in l for l in hits), "%r not in %r" % (w, hits))
        return hits

    # ---- the coordinator --------------------------------------------------

    COORD = """\
coordinator:
  data: DATA
  keys: KEYS
  agents: tcp://127.0.0.1:PORT
services:
  web: {team: web}
components:
  site: {description: "Web site", services: [web]}
people:
  alice: {}
teams:
  web:
    rotation: {members: [alice]}
"""

    def coord_config(self, text=None, name="coordinator.yaml", port=7401):
        text = (text or self.COORD).replace("DATA", os.path.join(self.tmp, "data")).replace(
            "KEYS", self.keys).replace("PORT", str(port))
        return self.write(name, text)

    def test_coordinator_good(self):
        # A port someone else holds: the check binds nothing, so it is fine.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        path = self.coord_config(port=s.getsockname()[1])
        r = self.check(h.COORDINATOR, path)
        self.assert_ok(r)
        self.assertIn("1 services, 1 components", r.stdout)
        self.assertEqual(r.stderr, "")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "data")),
                         "--check-config must not create the data directory")

    def test_coordinator_mistakes(self):
        cases = [
            # (what, change to the good file, line, words)
            ("YAML typo", ("  keys: KEYS\n", "   keys: KEYS\n"), 3, ["mapping values"]),
            ("unknown key", ("  agents:", "  agentz:"), 4, ["unknown key", "agentz"]),
            ("bad value", ("tcp://127.0.0.1:PORT", "tcp://127.0.0.1"), 4, ["agents"]),
            ("unknown team", ("{team: web}", "{team: wbe}"), 6, ["unknown team", "wbe"]),
            ("unknown person", ("members: [alice]", "members: [alcie]"), 13,
             ["unknown person", "alcie"]),
            ("unknown service", ("services: [web]", "services: [wbe]"), 8,
             ["unknown service", "wbe", "components.site.services[0]"]),
        ]
        for what, (old, new), line, words in cases:
            with self.subTest(what):
                self.assertIn(old, self.COORD)
                path = self.coord_config(self.COORD.replace(old, new), name="c-%d.yaml" % line)
                r = self.check(h.COORDINATOR, path)
                self.assert_bad(r, path, line, *words)
                # That one mistake, and no echo of it elsewhere.
                self.assertIn("tocsin-coordinator: 1 error\n", r.stderr)
                # The same refusal on a normal start, before anything exists.
                r = self.run_bin(h.COORDINATOR, "--config", path)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("%s:%d: " % (path, line), r.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "data")))

    def test_coordinator_every_error_and_warnings(self):
        text = self.COORD.replace("{team: web}", "{team: wbe}") + \
            "  db:\n    rotation: {members: [alice]}\n"
        text = text.replace("services: [web]", "services: [web, fronted]")
        text = text.replace("services:\n  web:", "services:\n  api: {team: dba}\n  web:")
        path = self.coord_config(text)
        r = self.check(h.COORDINATOR, path)
        self.assertEqual(r.returncode, 2, r.stderr)
        # Both unknown teams and the typo'd service, each with its line.
        self.assert_bad(r, path, 6, "dba")
        self.assert_bad(r, path, 7, "wbe")
        self.assert_bad(r, path, 9, "unknown service", "fronted")
        self.assertIn("tocsin-coordinator: 3 errors", r.stderr)
        # Without a services section there is no list to hold a name
        # against: a warning, and it starts.
        text = "components:\n  site: {description: \"Web site\", services: [web]}\n"
        path = self.write("no-services.yaml", text)
        r = self.check(h.COORDINATOR, path, "--insecure")
        self.assertEqual(r.returncode, 0, r.stderr)
        warn = [l for l in r.stderr.splitlines() if l.startswith("%s:2: warning:" % path)]
        self.assertTrue(warn and "no services section" in warn[0], r.stderr)

    def test_coordinator_template_and_keys(self):
        path = self.coord_config()
        tdir = os.path.join(self.tmp, "templates")
        os.mkdir(tdir)
        with open(os.path.join(tdir, "outage.external.investigating.txt"), "w") as f:
            f.write("We are looking into it.\nAffected: {{hosts}}\n")
        r = self.check(h.COORDINATOR, path)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("outage.external.investigating.txt:2", r.stderr)
        self.assertIn("{{hosts}}", r.stderr)
        os.unlink(os.path.join(tdir, "outage.external.investigating.txt"))
        # A coordinator key pair whose secret half is gone: named exactly.
        os.unlink(os.path.join(self.keys, "coordinator.cert_secret"))
        r = self.check(h.COORDINATOR, path)
        self.assert_bad(r, path, 3, self.server + "_secret: no such file")

    # ---- the agent ----------------------------------------------------------

    AGENT = """\
agent:
  id: web-01
  spool: SPOOL
  key: KEY
  server_key: SERVER
checks:
  - name: disk
    service: host
    type: exec
    command: /bin/true --disk
  - name: web
    service: web
    type: tcp
    target: 127.0.0.1:1
"""

    def agent_config(self, text=None, name="agent.yaml"):
        text = (text or self.AGENT).replace("SPOOL", os.path.join(self.tmp, "spool")).replace(
            "SERVER", self.server).replace("KEY", self.agent_key)
        return self.write(name, text)

    def test_agent_good(self):
        r = self.check(h.AGENT, self.agent_config())
        self.assert_ok(r)
        self.assertIn("agent web-01, 2 checks", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "spool")))

    def test_agent_mistakes(self):
        missing_key = os.path.join(self.tmp, "nokey.cert")
        cases = [
            ("YAML typo", ("    type: tcp\n", "    type: tcp\n   x\n"), 14, ["YAML syntax error"]),
            ("unknown key", ("    target:", "    targte:"), 14, ["targte", "unknown key"]),
            ("missing plugin", ("/bin/true --disk", "/usr/lib/nagios/plugins/check_dsk -w 1"),
             10, ["check_dsk", "No such file"]),
            ("missing key", ("  key: KEY", "  key: " + missing_key), 4,
             [missing_key + ": no such file"]),
        ]
        for what, (old, new), line, words in cases:
            with self.subTest(what):
                self.assertIn(old, self.AGENT)
                path = self.agent_config(self.AGENT.replace(old, new), name="a-%d.yaml" % line)
                self.assert_bad(self.check(h.AGENT, path), path, line, *words)
                r = self.run_bin(h.AGENT, "--config", path)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("%s:%d: " % (path, line), r.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "spool")))

    # ---- the status page ----------------------------------------------------

    SP = """\
statuspage:
  out: OUT
  state: STATE
  http: 127.0.0.1:7404
  key: KEY
  server_key: SERVER
"""

    def sp_config(self, text=None, name="statuspage.yaml"):
        text = (text or self.SP).replace("OUT", os.path.join(self.tmp, "site")).replace(
            "STATE", os.path.join(self.tmp, "sp")).replace("SERVER", self.server).replace(
            "KEY", self.sub_key)
        return self.write(name, text)

    def test_statuspage_good_and_bad(self):
        r = self.check(STATUSPAGE, self.sp_config())
        self.assert_ok(r)
        self.assertIn("HTTP 127.0.0.1:7404", r.stdout)
        for d in ("site", "sp"):
            self.assertFalse(os.path.exists(os.path.join(self.tmp, d)))
        cases = [
            ("bad address", ("127.0.0.1:7404", "localhost:7404"), 4, ["ADDR:PORT"]),
            ("unknown key", ("  state:", "  stat:"), 3, ["unknown key"]),
            ("missing key", ("  key: KEY", "  key: /nonexistent/sp.cert"), 5,
             ["/nonexistent/sp.cert: no such file"]),
        ]
        for what, (old, new), line, words in cases:
            with self.subTest(what):
                path = self.sp_config(self.SP.replace(old, new), name="s-%d.yaml" % line)
                self.assert_bad(self.check(STATUSPAGE, path), path, line, *words)

    # ---- the notifier -------------------------------------------------------

    NOTIFY_CFG = """\
notify:
  state: STATE
  key: KEY
  server_key: SERVER
subscriptions:
  - name: hook
    type: webhook
    url: http://127.0.0.1:9/hook
    components: [site]
"""

    def notify_config(self, text=None, name="notify.yaml"):
        text = (text or self.NOTIFY_CFG).replace("STATE", os.path.join(self.tmp, "ns")).replace(
            "SERVER", self.server).replace("KEY", self.sub_key)
        return self.write(name, text)

    def test_notify_good_and_bad(self):
        coord = self.coord_config()
        r = self.check(NOTIFY, self.notify_config(), "--coordinator-config", coord)
        self.assert_ok(r)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "ns")))
        cases = [
            ("unknown component", ("[site]", "[site, api]"), 9, ["unknown component", "api"]),
            ("bad URL", ("http://127.0.0.1:9/hook", "ftp://x/"), 8, ["url"]),
            ("missing key", ("  key: KEY", "  key: /nonexistent/n.cert"), 3,
             ["/nonexistent/n.cert: no such file"]),
        ]
        for what, (old, new), line, words in cases:
            with self.subTest(what):
                path = self.notify_config(self.NOTIFY_CFG.replace(old, new),
                                          name="n-%d.yaml" % line)
                self.assert_bad(self.check(NOTIFY, path, "--coordinator-config", coord), path,
                                line, *words)


if __name__ == "__main__":
    unittest.main()
