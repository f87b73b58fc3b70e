"""tocsin-statuspage against a real coordinator: the site it writes and
serves (JSON in the Statuspage shape, a valid Atom feed, HTML a browser
renders), the out-of-date banner while the coordinator is down and its end
when it returns, and a restart that resumes after the stored cursor without
duplicates. test_what_customers_read drives an outage and a maintenance
window through tocsinctl and reads the page in headless Chromium at desktop
and phone widths, as a customer would, includes embed/banner.js in a page
of another origin, and ends with the incident's public post-mortem.
test_full_disk fills the state's file system."""

import html.parser
import http.server
import json
import os
import re
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

    def __init__(self, tc, coord, stale="2s", title="Acme Status", state=None, url=None):
        self.tc = tc
        self.coord = coord
        self.out = os.path.join(tc.tmp, "site")
        self.state = state or os.path.join(tc.tmp, "sp-state")
        self.port = h.free_port()
        self.public_url = url
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
        if self.public_url:
            argv += ["--url", self.public_url]
        self.proc = self.tc.spawn("statuspage.%d" % self.starts, argv)
        self.tc.wait_until(lambda: self.get("api/v2/status.json"), what="the status page to serve")
        return self

    def stop(self):
        return self.proc.stop()

    def get(self, path, method="GET", headers=False):
        req = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            if headers:
                return r.status, r.headers, r.read()
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



VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Dom(html.parser.HTMLParser):
    """The text a reader sees, whole and per element: by id, and a list per
    class. Script and style are not text."""

    def __init__(self, doc):
        super().__init__()
        self.stack = []  # [tag, id, classes, parts]
        self.ids, self.classes, self.all = {}, {}, []
        self.feed(doc)

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        a = dict(attrs)
        self.stack.append([tag, a.get("id"), (a.get("class") or "").split(), []])

    def handle_endtag(self, tag):
        while self.stack:
            t, ident, classes, parts = self.stack.pop()
            text = re.sub(r"\s+", " ", "".join(parts)).strip()
            if ident:
                self.ids[ident] = text
            for c in classes:
                self.classes.setdefault(c, []).append(text)
            if self.stack:
                self.stack[-1][3].append("".join(parts))
            if t == tag:
                return

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        if self.stack:
            self.stack[-1][3].append(data)
        self.all.append(data)

    def text(self):
        return re.sub(r"\s+", " ", "".join(self.all))


class HostPage:
    """A product's page on another origin (its own port) that includes the
    status banner with one script tag."""

    def __init__(self, tc, script_src):
        doc = ("<!DOCTYPE html><html><head><title>Acme app</title></head><body>"
               "<h1 id=\"app\">Acme app</h1>"
               "<script src=\"%s\" async></script></body></html>" % script_src).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(doc)))
                self.end_headers()
                self.wfile.write(doc)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        import threading
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        tc.addCleanup(self.stop)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


SUMMARY_KEYS = ("page", "status", "components", "incidents", "scheduled_maintenances")
PAGE_KEYS = ("id", "name", "url", "time_zone", "updated_at", "stale", "last_contact_at", "cursor")
COMPONENT_KEYS = ("id", "name", "status", "created_at", "updated_at", "position", "description",
                  "showcase", "group_id", "page_id", "group", "only_show_if_degraded")
INCIDENT_KEYS = ("id", "name", "status", "created_at", "updated_at", "monitoring_at",
                 "resolved_at", "impact", "shortlink", "started_at", "page_id", "eta", "drill",
                 "incident_updates", "components", "postmortem", "postmortem_body",
                 "postmortem_published_at")
UPDATE_KEYS = ("id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
               "eta", "next_update_at", "affected_components", "drill")
REPORT_KEYS = ("id", "published_at", "summary", "impact", "root_cause", "actions", "url", "drill")
BANNER_KEYS = ("active", "indicator", "description", "components", "title", "text",
               "updated_at", "eta", "url", "stale", "page")
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"

CONFIG = """\
services:
  frontend: {users_per_host: 100, total_users: 1000}
  api: {}
components:
  web: {description: "Website", services: [frontend]}
  api: {description: "Public API", services: [api]}
"""


class StatusPageTest(h.TocsinTestCase):

    needs = (h.COORDINATOR, h.AGENT, h.CTL, STATUSPAGE)

    def check_time(self, v, nullable=True):
        if v is None and nullable:
            return
        self.assertRegex(v, RFC3339)

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
        ids = set()
        for i in s["incidents"] + s["scheduled_maintenances"]:
            for k in INCIDENT_KEYS:
                if not (k == "eta" or k.startswith("postmortem")) or i in s["incidents"]:
                    self.assertIn(k, i)
            self.check_time(i.get("eta"))
            self.assertNotIn(i["id"], ids, "an id shared by an incident and a window")
            ids.add(i["id"])
            for u in i["incident_updates"]:
                for k in UPDATE_KEYS:
                    self.assertIn(k, u)
                self.assertEqual(u["incident_id"], i["id"])
                self.check_time(u["eta"])

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

    def need_chromium(self):
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest("%s is not installed: the browser checks cannot run" % CHROMIUM)

    def dom(self, url, size="1280,900"):
        """The DOM after scripts ran (virtual time lets fetches finish)."""
        r = chromium(self, ["--dump-dom", "--window-size=" + size,
                            "--virtual-time-budget=8000"], url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def screenshot(self, url, name, size):
        shot = os.path.join(self.tmp, name)
        r = chromium(self, ["--screenshot=" + shot, "--window-size=" + size,
                            "--hide-scrollbars"], url)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000,
                        "the screenshot is not a real PNG (%d bytes)" % len(png))
        self.note("screenshot %s (%s)" % (shot, size))
        # To look at them: TOCSIN_IT_SHOTS=DIR keeps a copy (the test's own
        # directory goes when it passes).
        if os.environ.get("TOCSIN_IT_SHOTS"):
            os.makedirs(os.environ["TOCSIN_IT_SHOTS"], exist_ok=True)
            shutil.copy(shot, os.environ["TOCSIN_IT_SHOTS"])
        return shot

    def ok(self, c, *args):
        r = c.ctl_raw(*args)
        self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (" ".join(args), r.stderr))
        return r

    # ---- tests -----------------------------------------------------------------

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
        banner = sp.json("api/v2/banner.json")
        for k in BANNER_KEYS:
            self.assertIn(k, banner)
        self.assertFalse(banner["active"])
        feed = sp.atom()
        self.check_atom(feed)
        # The feed's id is this deployment's, from its URL.
        self.assertEqual(feed.findtext(ATOM + "id"), sp.url + "history.atom")
        html = sp.html()
        self.assertIn("All Systems Operational", html)
        self.assertRegex(html, r'<p id="last-updated">Updated <time datetime="[^"]+">'
                               r'\d\d:\d\d UTC</time></p>')
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
        # What other sites may read, and how long caches keep it.
        for path, cors, cache, ctype in (
                ("api/v2/banner.json", True, "public, max-age=15", "application/json"),
                ("api/v2/summary.json", True, "no-cache", "application/json"),
                ("embed/banner.js", True, "public, max-age=300", "text/javascript"),
                ("index.html", False, "no-cache", "text/html"),
                ("outage.html", False, "no-cache", "text/html")):
            _, hd, body = sp.get(path, headers=True)
            self.assertEqual(hd.get("Access-Control-Allow-Origin"), "*" if cors else None, path)
            self.assertEqual(hd.get("Cache-Control"), cache, path)
            self.assertTrue(hd.get("Content-Type").startswith(ctype), path)
        status, hd, _ = sp.get("api/v2/banner.json", method="OPTIONS", headers=True)
        self.assertEqual(status, 204)
        self.assertIn("GET", hd.get("Access-Control-Allow-Methods"))
        outage = sp.html("outage.html")
        self.assertIn("We&rsquo;ll be back soon", outage)
        self.assertIn('<a href="%s">' % sp.url, outage)
        self.assertNotIn("<script", outage)
        self.assertIn("serving the status page on %s" % sp.url, sp.logs())

        # The coordinator goes away: the page keeps serving, and says so.
        c.stop()
        self.wait_until(lambda: sp.json()["page"]["stale"], what="summary.json to say stale")
        self.wait_until(lambda: "Status may be out of date: no contact with the monitoring "
                        "system since" in sp.html(), what="the stale banner")
        if os.access(CHROMIUM, os.X_OK):
            text = Dom(self.dom(sp.url)).text()
            self.assertIn("Status may be out of date", text)
            self.assertIn("Acme Status", text)
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
            f.write(CONFIG)
        return path

    def test_what_customers_read(self):
        self.need_chromium()
        eta = "--eta" in h.run([h.binary(h.CTL), "--help"]).stdout
        c = self.coordinator(extra=["--config", self.write_config()]).start()
        sp = StatusPage(self, c, stale="60s").start()
        # Configuration order (web before api), not the alphabet.
        self.wait_until(lambda: [x["id"] for x in sp.json()["components"]] == ["web", "api"],
                        what="the configured components on the page, in order")
        comps = sp.json()["components"]
        self.assertEqual([x["name"] for x in comps], ["Website", "Public API"])
        self.assertEqual([x["position"] for x in comps], [1, 2])

        # An outage of the website, published before the coordinator's own
        # component status moved (the incident is not declared).
        down = self.service(up=False)
        # The check is named like a heading of the public report: the guard
        # against internal detail must read the author's words, not tocsin's.
        self.agent("web-01", c.agents_ep, [h.tcp_check("impact", "frontend",
                                                            down.target)]).start()
        iid = str(self.wait_until(lambda: c.incident_for("frontend"), what="an incident")["id"])
        self.ok(c, "sev", iid, "2")
        self.assertEqual([x for x in c.ctl("component") if x["name"] == "web"][0]["status"],
                         "operational")
        first = ["update", iid, "draft", "--external", "--scenario", "outage", "--state",
                 "investigating", "--components", "web", "--next", "20m", "--title",
                 "Website unavailable"]
        self.ok(c, *first)
        self.ok(c, "update", iid, "approve", "1")
        self.ok(c, "update", iid, "publish", "1")
        for n in range(2, 8):
            args = ["update", iid, "draft", "--external", "--state",
                    "identified" if n == 7 else "investigating", "--components", "web",
                    "--next", "30m", "-m", "Update %d: we are still working on the website." % n]
            if n == 7 and eta:
                args += ["--eta", "40m"]
            self.ok(c, *args)
            self.ok(c, "update", iid, "approve", str(n))
            self.ok(c, "update", iid, "publish", str(n))
        self.wait_until(lambda: len((sp.json()["incidents"] or [{}])[0]
                                    .get("incident_updates", [])) == 7,
                        what="seven updates on the page")

        # A maintenance window ahead, with its description.
        self.ok(c, "maintenance", "add", "Database upgrade", "--start", "+3h", "--end", "+4h",
                "--components", "api", "-m", "Saving changes pauses for ten minutes.")
        self.wait_until(lambda: sp.json()["scheduled_maintenances"], what="the window")

        s = sp.json()
        self.check_summary_shape(s)
        self.assertEqual(s["status"]["indicator"], "major")
        web = [x for x in s["components"] if x["id"] == "web"][0]
        self.assertEqual((web["name"], web["status"]), ("Website", "partial_outage"))
        inc = s["incidents"][0]
        self.assertEqual(inc["id"], iid)
        self.assertEqual(inc["name"], "Website unavailable")
        upd = inc["incident_updates"][0]
        self.assertEqual(upd["affected_components"][0]["name"], "Website")
        self.assertEqual(upd["affected_components"][0]["new_status"], "partial_outage")
        if eta:
            self.check_time(inc["eta"], nullable=False)
        else:
            self.note("this coordinator has no update --eta yet: only 'No estimate yet' checked")
            self.assertIsNone(inc["eta"])
        m = s["scheduled_maintenances"][0]
        self.assertTrue(m["id"].startswith("m-"), m["id"])
        self.assertEqual(m["incident_updates"][0]["incident_id"], m["id"])
        self.assertEqual(m["description"], "Saving changes pauses for ten minutes.")
        banner = sp.json("api/v2/banner.json")
        for k in BANNER_KEYS:
            self.assertIn(k, banner)
        self.assertTrue(banner["active"])
        self.assertEqual([x["name"] for x in banner["components"]], ["Website"])
        self.assertEqual(banner["url"], sp.url + "incidents/%s.html" % iid)

        # What a customer sees, in a real browser, at two widths.
        doc = self.dom(sp.url)
        dom = Dom(doc)
        text = dom.text()
        self.assertNotIn("All Systems Operational", text)
        self.assertEqual(dom.ids["overall"], "Partial System Outage")
        self.assertEqual(dom.ids["summary"], "Website: partial outage")
        self.assertIn("Affected: Website (Partial outage)", text)
        self.assertNotIn("Operational)", text)
        self.assertNotIn("website (", text)
        self.assertIn("Public API", text)
        # Times in words, with the date; relative ones computed in the page.
        self.assertRegex(text, r"Started (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} "
                               r"\d{4}, \d\d:\d\d UTC \((just now|\d+ minutes? ago)\)")
        # (The update texts themselves are the coordinator's, written from
        # its templates; what the page writes around them is checked.)
        own = text
        for body in dom.classes.get("body", []):
            own = own.replace(body, "")
        self.assertNotRegex(own, r"\d{4}-\d\d-\d\dT\d\d:\d\d")
        rels = dom.classes.get("rel", [])
        self.assertTrue(rels and all(re.match(r"^(just now|in less than a minute|(in )?\d+ "
                                              r"(minute|hour|day)s?( ago)?)$", r) for r in rels),
                        rels)
        if eta:
            self.assertRegex(dom.classes["eta"][0],
                             r"^Expected back by \d\d:\d\d UTC \(in (39|40) minutes\)$|"
                             r"^Expected back by .+ UTC \(in (39|40) minutes\)$")
        else:
            self.assertEqual(dom.classes["eta"][0], "No estimate yet")
        # The newest update in full, the six before folded away; one line
        # says when the next update comes.
        card = doc[doc.index('<article class="incident"'):]
        card = card[:card.index("</article>")]
        self.assertEqual(card.count('<div class="upd latest">'), 1)
        latest = dom.classes["latest"][0]  # the incident's: it comes first
        self.assertIn("Update 7", latest)
        self.assertEqual(latest.count("Next update"), 1, latest)
        self.assertIn("<details class=\"older\"><summary>6 earlier updates</summary>", doc)
        self.assertEqual(text.count("Investigating ·"), 6)
        # Maintenance: human window, its description, and the legend.
        maint = dom.classes["maint"][0]
        self.assertIn("Database upgrade", maint)
        self.assertIn("Saving changes pauses for ten minutes.", maint)
        self.assertRegex(maint, r"\d\d:\d\d UTC to .*\d\d:\d\d UTC \(starts in (2|3) hours\)")
        self.assertIn("No downtime", dom.ids["legend"])
        self.assertRegex(dom.ids["last-updated"], r"^Updated \d\d:\d\d UTC$")
        self.screenshot(sp.url, "outage-desktop.png", "1280,900")
        self.screenshot(sp.url, "outage-phone.png", "390,844")

        # The banner inside a product on another origin: a real
        # cross-origin fetch, so without CORS there would be no banner.
        host = HostPage(self, sp.url + "embed/banner.js")
        hdom = Dom(self.dom(host.url))
        self.assertEqual(hdom.ids.get("app"), "Acme app")
        bar = hdom.ids.get("tocsin-status-banner")
        self.assertIsNotNone(bar, "no banner in the host page")
        self.assertIn("Partial System Outage: Website", bar)
        self.assertIn("Status page", bar)
        self.screenshot(host.url, "banner-phone.png", "390,844")

        # Restarts of both processes keep the order and the updates.
        count = len(sp.json()["incidents"][0]["incident_updates"])
        self.assertEqual(sp.stop(), 0)
        c.stop()
        c.start()
        sp.start()
        self.wait_until(lambda: not sp.json()["page"]["stale"], what="contact again")
        s = sp.json()
        self.assertEqual([x["id"] for x in s["components"]], ["web", "api"])
        self.assertEqual(len(s["incidents"][0]["incident_updates"]), count)

        # Resolved: the page says so, and the banner goes.
        self.ok(c, "resolve", iid, "--force")  # the agent's check still fails
        self.ok(c, "update", iid, "draft", "--external", "--state", "resolved", "--components",
                "web", "-m", "The website works again.")
        self.ok(c, "update", iid, "approve", "8")
        self.ok(c, "update", iid, "publish", "8")
        self.wait_until(lambda: not sp.json()["incidents"], what="no active incident")
        self.wait_until(lambda: not sp.json("api/v2/banner.json")["active"], what="banner off")
        text = Dom(self.dom(sp.url)).text()
        self.assertIn("All Systems Operational", text)
        self.assertIn("Past incidents", text)
        self.assertNotIn("Post-incident report", text)
        listed = [i for i in sp.json("api/v2/incidents.json")["incidents"] if i["id"] == iid]
        self.assertEqual(len(listed), 1)
        self.assertIsNone(listed[0]["postmortem"])

        # The public post-mortem (Hotjar step 8): drafted, approved by the
        # IC, published; on the incident's page, in JSON and in the feed.
        parts = {"summary": "On Tuesday our website was unavailable for 40 minutes.",
                 "impact": "Customers could not sign in or pay.\nNo data was lost.",
                 "cause": "A change to how we route traffic sent it to servers that were "
                          "not ready.",
                 "actions": "Routing changes are now rolled out in stages."}
        cause_file = os.path.join(self.tmp, "cause.txt")
        with open(cause_file, "w") as f:
            f.write(parts["cause"] + "\n")
        report = ["postmortem", iid, "report", "--summary", parts["summary"], "--impact",
                  parts["impact"], "--cause", "@" + cause_file, "--actions", parts["actions"]]
        # Internal detail is refused here as in any external text.
        r = c.ctl_raw(*report[:-1], "web-01 was restarted.")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("web-01", r.stderr)
        self.ok(c, *report)
        r = c.ctl_raw("postmortem", iid, "publish")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("approval first", r.stderr)
        self.ok(c, "postmortem", iid, "approve")
        self.ok(c, "postmortem", iid, "publish")

        def published():
            i = [x for x in sp.json("api/v2/incidents.json")["incidents"] if x["id"] == iid][0]
            return i if i["postmortem"] else None
        inc = self.wait_until(published, what="the report in incidents.json")
        pm = inc["postmortem"]
        for k in REPORT_KEYS:
            self.assertIn(k, pm)
        self.check_time(pm["published_at"], nullable=False)
        self.assertEqual((pm["summary"], pm["impact"], pm["root_cause"], pm["actions"]),
                         (parts["summary"], parts["impact"], parts["cause"], parts["actions"]))
        self.assertEqual(pm["url"], sp.url + "incidents/%s.html#postmortem" % iid)
        self.assertEqual(inc["postmortem_published_at"], pm["published_at"])
        self.assertIn("Root cause\n" + parts["cause"], inc["postmortem_body"])
        # The incident is still resolved with its eight status updates.
        self.assertEqual(inc["status"], "resolved")
        self.assertEqual(len(inc["incident_updates"]), 8)
        self.assertNotIn("postmortem", [u["status"] for u in inc["incident_updates"]])
        self.assertEqual(sp.json("api/v2/status.json")["status"]["indicator"], "none")
        entries = self.check_atom(sp.atom())
        rep = [e for e in entries if e.findtext(ATOM + "title").endswith("Post-incident report")]
        self.assertEqual(len(rep), 1)
        self.assertEqual(rep[0].find(ATOM + "link").get("href"),
                         sp.url + "incidents/%s.html#postmortem" % iid)
        self.assertIn(parts["actions"], rep[0].findtext(ATOM + "content"))
        self.assertEqual(len({e.findtext(ATOM + "id") for e in entries}), len(entries))
        # In a browser: the index links it; the incident's page shows the
        # four parts under their headings, above the updates.
        idx = Dom(self.dom(sp.url))
        self.assertEqual(idx.classes.get("report-link"), ["Post-incident report"])
        page = sp.url + "incidents/%s.html" % iid
        dom = Dom(self.dom(page, size="390,844"))
        rep = dom.ids["postmortem"]
        for heading, key in (("Summary", "summary"), ("Impact", "impact"),
                             ("Root cause", "cause"), ("What we are doing", "actions")):
            # (headings and paragraphs are blocks: no space between them here)
            self.assertRegex(rep, re.escape(heading) + r"\s*" +
                             re.escape(re.sub(r"\s+", " ", parts[key])))
        self.assertRegex(rep, r"^Post-incident report\s*Published (Mon|Tue|Wed|Thu|Fri|Sat|Sun) ")
        doc = self.dom(page)
        self.assertLess(doc.index('id="postmortem"'), doc.index('class="upd latest"'))
        self.screenshot(page, "postmortem-desktop.png", "1280,900")
        self.screenshot(page, "postmortem-phone.png", "390,844")
        # A page restart reloads it from its own store; the coordinator's
        # restart replays it from the log, parts and all.
        self.assertEqual(sp.stop(), 0)
        before = [u for u in c.ctl("updates", iid) if u["scenario"] == "postmortem"]
        self.assertEqual([u["status"] for u in before], ["published"])
        c.stop()
        c.start()
        sp.start()
        self.assertEqual(published()["postmortem"], pm)
        self.assertEqual([u for u in c.ctl("updates", iid) if u["scenario"] == "postmortem"],
                         before)

    def test_full_disk(self):
        """The state's file system fills up: the page keeps serving what it
        wrote last, says why in its log, does not exit, and catches up once
        there is room again."""
        state = os.path.join(self.tmp, "small-state")
        os.makedirs(state)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", state],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (%s)" % r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", state], capture_output=True)
        c = self.coordinator(extra=["--config", self.write_config()]).start()
        sp = StatusPage(self, c, stale="60s", state=state).start()
        self.wait_until(lambda: len(sp.json()["components"]) == 2, what="the components")
        filler = os.path.join(state, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # Broadcasts the page cannot store.
        self.ok(c, "component", "api", "major_outage")
        self.wait_until(lambda: "disk full at %s" % state in sp.logs(), what="disk full logged")
        self.assertTrue(sp.proc.alive())
        s = sp.json()
        self.assertEqual([x["status"] for x in s["components"]], ["operational", "operational"])
        # Room again: it catches up by itself.
        os.unlink(filler)
        self.wait_until(lambda: [x["status"] for x in sp.json()["components"]]
                        == ["operational", "major_outage"], what="the change on the page")
        self.assertIn("the state is written again", sp.logs())
        self.assertEqual(sp.stop(), 0)


if __name__ == "__main__":
    unittest.main()
