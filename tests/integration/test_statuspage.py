"""tocsin-statuspage against a real coordinator: the site it writes and
serves (JSON in the Statuspage shape, a valid Atom feed, HTML a browser
renders), the out-of-date banner while the coordinator is down and its end
when it returns, and a restart that resumes after the stored cursor without
duplicates. The public-incident test drives status updates, components and
maintenance through tocsinctl."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import tocsin_harness as h

STATUSPAGE = "tocsin-statuspage"
CHROMIUM = "/usr/bin/chromium"
ATOM = "{http://www.w3.org/2005/Atom}"


class StatusPage:
    """A tocsin-statuspage with its own out and state dirs in tmp."""

    def __init__(self, tc, coord, stale="2s", title="Acme Status"):
        self.tc = tc
        self.coord = coord
        self.out = os.path.join(tc.tmp, "site")
        self.state = os.path.join(tc.tmp, "sp-state")
        self.port = h.free_port()
        self.url = "http://127.0.0.1:%d/" % self.port
        self.stale = stale
        self.title = title
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        argv = [h.binary(STATUSPAGE), "--insecure", "--api", self.coord.api_ep,
                "--publish", self.coord.publish_ep, "--out", self.out, "--state", self.state,
                "--http", "127.0.0.1:%d" % self.port, "--stale", self.stale,
                "--title", self.title, "--log-level", "debug"]
        self.proc = self.tc.spawn("statuspage.%d" % self.starts, argv)
        self.tc.wait_until(lambda: self.get("api/v2/status.json"), what="the status page to serve")
        return self

    def stop(self):
        return self.proc.stop()

    def get(self, path, method="GET"):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read()

    def json(self, path="api/v2/summary.json"):
        status, ctype, body = self.get(path)
        assert status == 200 and ctype == "application/json", (status, ctype)
        return json.loads(body)

    def atom(self):
        status, ctype, body = self.get("history.atom")
        assert ctype == "application/atom+xml", ctype
        return ET.fromstring(body)

    def html(self, path=""):
        return self.get(path)[2].decode()

    def logs(self):
        out = []
        for i in range(1, self.starts + 1):
            with open(os.path.join(self.tc.tmp, "statuspage.%d.log" % i), errors="replace") as f:
                out.append(f.read())
        return "".join(out)


def chromium(tc, args, url):
    """Runs headless Chromium; returns CompletedProcess."""
    prof = tempfile.mkdtemp(prefix="chromium-", dir=tc.tmp)
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + prof] + args + [url]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=120,
                              env=h.clean_env({"HOME": tc.tmp}))
    finally:
        shutil.rmtree(prof, ignore_errors=True)


SUMMARY_KEYS = ("page", "status", "components", "incidents", "scheduled_maintenances")
PAGE_KEYS = ("id", "name", "url", "time_zone", "updated_at")
COMPONENT_KEYS = ("id", "name", "status", "created_at", "updated_at", "position", "description",
                  "showcase", "group_id", "page_id", "group", "only_show_if_degraded")
INCIDENT_KEYS = ("id", "name", "status", "created_at", "updated_at", "monitoring_at",
                 "resolved_at", "impact", "shortlink", "started_at", "page_id",
                 "incident_updates", "components")
UPDATE_KEYS = ("id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
               "affected_components")


class StatusPageTest(h.TocsinTestCase):

    needs = (h.COORDINATOR, h.AGENT, h.CTL, STATUSPAGE)

    def check_summary_shape(self, s):
        for k in SUMMARY_KEYS:
            self.assertIn(k, s)
        for k in PAGE_KEYS:
            self.assertIn(k, s["page"])
        self.assertIn(s["status"]["indicator"], ("none", "minor", "major", "critical",
                                                 "maintenance"))
        self.assertTrue(s["status"]["description"])
        for c in s["components"]:
            for k in COMPONENT_KEYS:
                self.assertIn(k, c)
        for i in s["incidents"] + s["scheduled_maintenances"]:
            for k in INCIDENT_KEYS:
                self.assertIn(k, i)
            for u in i["incident_updates"]:
                for k in UPDATE_KEYS:
                    self.assertIn(k, u)

    def check_atom(self, feed):
        self.assertEqual(feed.tag, ATOM + "feed")
        for k in ("id", "title", "updated"):
            self.assertIsNotNone(feed.find(ATOM + k), "feed has no <%s>" % k)
        entries = feed.findall(ATOM + "entry")
        for e in entries:
            for k in ("id", "title", "updated"):
                self.assertTrue(e.findtext(ATOM + k), "entry has no <%s>" % k)
            self.assertEqual(e.find(ATOM + "content").get("type"), "text")
        return entries

    def browser_checks(self, sp, expect):
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest("%s is not installed: the browser checks cannot run" % CHROMIUM)
        r = chromium(self, ["--dump-dom"], sp.url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        for text in expect:
            self.assertIn(text, r.stdout)
        shot = os.path.join(self.tmp, "shot.png")
        r = chromium(self, ["--screenshot=" + shot, "--window-size=1200,1600"], sp.url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000,
                        "the screenshot is not a real PNG (%d bytes)" % len(png))
        return r

    def test_site_stale_and_resume(self):
        svc = self.service()
        c = self.coordinator().start()
        sp = StatusPage(self, c).start()
        self.agent("web-01", c.agents_ep, [h.tcp_check("frontend-tcp", "frontend",
                                                            svc.target)]).start()
        self.wait_until(lambda: c.status()["broadcast_seq"] >= 1, what="a broadcast (host.up)")
        n = c.status()["broadcast_seq"]
        self.wait_until(lambda: sp.json()["page"]["cursor"] == n, what="the page at cursor %d" % n)

        # The site: JSON, Atom, HTML, HTTP rules.
        s = sp.json()
        self.check_summary_shape(s)
        self.assertEqual(s["page"]["name"], "Acme Status")
        self.assertEqual(s["page"]["url"], sp.url)
        self.assertFalse(s["page"]["stale"])
        self.assertEqual(s["status"]["indicator"], "none")
        st = sp.json("api/v2/status.json")
        self.assertEqual(set(st), {"page", "status"})
        self.check_atom(sp.atom())
        html = sp.html()
        self.assertIn("All Systems Operational", html)
        self.assertIn("Last updated from the coordinator:", html)
        self.assertNotIn("Status may be out of date", html)
        self.assertEqual(sp.get("", method="HEAD")[0], 200)
        for bad in ("nothing.html", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd",
                    ".index.html.tmp", "api/"):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                sp.get(bad)
            self.assertEqual(cm.exception.code, 404, bad)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            sp.get("", method="POST")
        self.assertEqual(cm.exception.code, 405)
        self.assertIn("serving the status page on %s" % sp.url, sp.logs())

        # The coordinator goes away: the page keeps serving, and says so.
        c.stop()
        self.wait_until(lambda: sp.json()["page"]["stale"], what="summary.json to say stale")
        self.wait_until(lambda: "Status may be out of date: no contact with the monitoring "
                        "system since" in sp.html(), what="the stale banner")
        self.assertIn("last_contact_at", sp.json()["page"])
        if os.access(CHROMIUM, os.X_OK):
            self.browser_checks(sp, ["Status may be out of date", "Acme Status"])
        else:
            self.note("%s is not installed: browser checks skipped" % CHROMIUM)

        # It comes back: the banner goes.
        c.start()
        self.wait_until(lambda: not sp.json()["page"]["stale"], what="stale to clear")
        self.wait_until(lambda: "Status may be out of date" not in sp.html(),
                        what="the banner to go")

        # A restart of the page resumes after its cursor: nothing twice.
        before = sp.json()
        self.assertEqual(sp.stop(), 0)
        svc.stop()  # more broadcasts while the page is down: an incident opens
        self.wait_until(lambda: c.status()["broadcast_seq"] > before["page"]["cursor"],
                        what="a broadcast while the page is down")
        sp.start()
        n = c.status()["broadcast_seq"]
        self.wait_until(lambda: sp.json()["page"]["cursor"] >= n, what="catch-up to %d" % n)
        self.assertIn("following %s from broadcast %d" % (c.publish_ep,
                                                          before["page"]["cursor"] + 1),
                      sp.logs())
        self.assertEqual(len(sp.json()["incidents"]), len(before["incidents"]))

    def write_config(self):
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write("components:\n"
                    "  api:\n    description: \"Public API\"\n    services: [api]\n"
                    "  web:\n    description: \"Web site\"\n    services: [frontend]\n")
        return path

    def test_public_incident(self):
        help_text = h.run([h.binary(h.CTL), "--help"]).stdout
        if "update ID" not in help_text and "\n  update" not in help_text:
            self.skipTest("this coordinator has no status updates yet (tocsinctl update); "
                          "the test runs once the lead's coordinator side is merged")
        c = self.coordinator(extra=["--config", self.write_config()]).start()
        sp = StatusPage(self, c, stale="60s").start()
        self.wait_until(lambda: {x["name"] for x in sp.json()["components"]} >= {"api", "web"},
                        what="the configured components on the page")
        comps = {x["name"]: x for x in sp.json()["components"]}
        self.assertEqual(comps["api"]["description"], "Public API")
        self.assertEqual(comps["api"]["status"], "operational")

        # An incident by hand, an internal and an external update.
        c.ctl_raw("declare", "0")  # tolerated: ids come from the coordinator
        r = c.ctl_raw("--json", "incidents")
        incs = json.loads(r.stdout) if r.returncode == 0 else []
        if not incs:
            svc = self.service()
            self.agent("web-01", c.agents_ep,
                       [h.tcp_check("api-tcp", "api", svc.target)]).start()
            self.wait_until(lambda: c.status()["broadcast_seq"] >= 1, what="host.up")
            svc.stop()
            self.wait_until(lambda: c.incident_for("api"), what="an incident of api")
        inc = c.incident_for("api") or c.incidents()[0]
        iid = str(inc["id"])

        def ok(*args):
            r = c.ctl_raw(*args)
            self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (" ".join(args), r.stderr))
            return r

        ok("sev", iid, "2")  # a major incident: its impact shows on the page

        ok("update", iid, "draft", "--internal", "--scenario", "outage", "--state", "investigating",
           "--components", "api", "-m", "Internal only <b>text</b>")
        ok("update", iid, "draft", "--external", "--scenario", "outage", "--state",
           "investigating", "--components", "api", "-m", "We are looking into API <errors>.")
        # The external one is number 2 if numbers are shared, else 1.
        for n in ("1", "2"):
            c.ctl_raw("update", iid, "approve", n)
            c.ctl_raw("update", iid, "publish", n)
        self.wait_until(lambda: sp.json()["incidents"], what="the incident on the page")
        s = sp.json()
        self.check_summary_shape(s)
        pub = s["incidents"][0]
        self.assertEqual(pub["id"], iid)
        bodies = [u["body"] for u in pub["incident_updates"]]
        self.assertIn("We are looking into API <errors>.", bodies)
        self.assertNotIn("Internal only <b>text</b>", bodies)
        self.assertNotEqual(s["status"]["indicator"], "none", json.dumps(s, indent=1))
        html = sp.html()
        self.assertIn("We are looking into API &lt;errors&gt;.", html)
        self.assertNotIn("Internal only", html)
        page = sp.html("incidents/%s.html" % iid)
        self.assertIn("We are looking into API &lt;errors&gt;.", page)
        entries = self.check_atom(sp.atom())
        self.assertTrue(any("looking into API" in (e.findtext(ATOM + "content") or "")
                            for e in entries))

        # A component status set by hand shows up.
        ok("component", "web", "degraded_performance")
        self.wait_until(lambda: {x["name"]: x["status"] for x in sp.json()["components"]}
                        .get("web") == "degraded_performance", what="web degraded")

        self.browser_checks(sp, ["We are looking into API", "Acme Status", "Public API"])

        # Restart: the same updates, not twice.
        count = sum(len(i["incident_updates"]) for i in sp.json()["incidents"])
        cursor = sp.json()["page"]["cursor"]
        self.assertEqual(sp.stop(), 0)
        sp.start()
        self.wait_until(lambda: sp.json()["page"]["cursor"] >= cursor, what="the cursor back")
        self.assertEqual(sum(len(i["incident_updates"]) for i in sp.json()["incidents"]), count)
        self.assertEqual(len(self.check_atom(sp.atom())), len(entries))


if __name__ == "__main__":
    unittest.main()
