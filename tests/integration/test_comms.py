"""The communication plan in the coordinator, driven as an operator drives
it: status updates drafted from templates, approved by the incident
commander and published to their audience; components that follow the
incidents; reminders when an external update is due; maintenance windows
that silence paging and re-notify at their end; drills; and the refusals
for bad input. The test clock moves time without sleeping."""

import datetime
import os
import unittest

import tocsin_harness as h

CONFIG = """\
policy:
  declare_after: 15m
services:
  api:
    team: platform
    users_per_host: 100
    total_users: 1000
  web: {}
components:
  public-api: {description: "Public API", services: [api]}
  web: {description: "Web app", services: [web]}
people:
  alice: {}
  bob: {}
  carol: {}
teams:
  platform:
    rotation: {members: [alice], shift: 30d, handoff: "00:00", start: START}
roles:
  commander: {rotation: {members: [bob], shift: 30d, handoff: "00:00", start: START}}
  customer_liaison: {rotation: {members: [carol], shift: 30d, handoff: "00:00", start: START}}
"""


class CommsTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, h.SUB)

    def config(self, text=CONFIG, name="coordinator"):
        path = os.path.join(self.tmp, name + ".yaml")
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        with open(path, "w") as f:
            f.write(text.replace("START", today))
        return path

    def start(self, name="coordinator", agent=True):
        path = self.config(name=name)
        c = self.coordinator(name=name, extra=["--config", path, "--test-clock"]).start()
        if agent:
            down = self.service(up=False)
            self.agent("api-01", c.agents_ep, [h.tcp_check("api-tcp", "api", down.target)],
                       spool=os.path.join(self.tmp, "spool-" + name)).start()
        return c

    def ok(self, c, *args):
        r = c.ctl_raw(*args)
        self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (" ".join(args), r.stderr))
        return r

    def refused(self, c, *args, code=1, why=None):
        r = c.ctl_raw(*args)
        self.assertEqual(r.returncode, code, "tocsinctl %s: %r %r" % (" ".join(args), r.stdout,
                                                                      r.stderr))
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        if why:
            self.assertIn(why, r.stderr)
        return r

    def component(self, c, name):
        return [x for x in c.ctl("component") if x["name"] == name][0]

    def test_updates_components_and_reminders(self):
        c = self.start()
        external = c.subscribe(name="external", frm=1, topic="status.external")
        internal = c.subscribe(name="internal", frm=1, topic="status.internal")
        pages = c.subscribe(name="pages", frm=1, topic="page.carol")
        inc = self.wait_until(lambda: c.incident_for("api"), what="an incident")
        iid = str(inc["id"])
        # An alert is not an incident: the public sees nothing yet.
        self.assertEqual(self.component(c, "public-api")["status"], "operational")
        self.ok(c, "declare", iid)
        self.ok(c, "sev", iid, "2")
        self.wait_until(lambda: c.ctl("show", iid)["roles"].get("commander") == "bob",
                        what="the IC from the rotation")
        self.assertEqual(self.component(c, "public-api")["status"], "partial_outage")

        # The liaison drafts from the template; it waits for the IC.
        r = self.ok(c, "--json", "update", iid, "draft", "--external", "--title", "API errors")
        # Update 1 is tocsin's own: the declaration, announced to staff
        # once the incident had a severity (policy.internal_announce_severities).
        self.assertEqual(h.json.loads(r.stdout)["pending_update"], 2)
        line = self.wait_lines(internal, lambda l: True, "tocsin's internal announcement")
        self.assertEqual((line["update"]["number"], line["update"]["author"]), (1, "tocsin"))
        self.assertTrue(line["update"]["body"].startswith("Declared SEV-2.\n"),
                        line["update"]["body"])
        self.refused(c, "update", iid, "publish", "2", why="approval")
        # Internal detail never goes out: a host name is refused.
        self.refused(c, "update", iid, "draft", "-m", "api-01 is on fire", why="api-01")
        # ... and so are addresses, ports, check names and the check's output.
        summary = c.ctl("show", iid)["summary"]
        self.assertIn("127.0.0.1", summary)
        for text, why in (("errors from 127.0.0.1", "the IP address 127.0.0.1"),
                          ("the listener on :5432 died", "the port :5432"),
                          ("the api-tcp check fails", "the check api-tcp"),
                          ("API-01 is slow", "the host api-01")):
            with self.subTest(text=text):
                self.refused(c, "update", iid, "draft", "-m", text, why=why)
        self.ok(c, "update", iid, "approve", "2")
        self.ok(c, "update", iid, "publish", "2")
        line = self.wait_lines(external, lambda l: l["topic"] == "status.external",
                               "the external update")
        u = line["update"]
        self.assertEqual((u["number"], u["audience"], u["state"], u["status"]),
                         (2, "external", "investigating", "published"))
        self.assertIn("Public API", u["body"])
        self.assertNotIn("api-01", u["body"])
        self.assertNotIn("{{", u["body"])
        self.assertEqual(u["components"], [{"name": "public-api", "status": "partial_outage"}])
        self.assertEqual(u["approver"], "plaintext")
        self.assertIsNotNone(u["next_update_at"])

        # Internal updates go out at once, with the detail.
        self.ok(c, "update", iid, "draft", "--internal", "-m", "api-01 disk full; rotating logs")
        line = self.wait_lines(internal, lambda l: l["update"]["author"] != "tocsin",
                               "the internal update")
        self.assertIn("api-01", line["update"]["body"])
        updates = c.ctl("updates", iid)
        self.assertEqual([(x["number"], x["audience"], x["status"]) for x in updates],
                         [(1, "internal", "published"), (2, "external", "published"),
                          (3, "internal", "published")])

        # No further external update: the liaison is reminded once due.
        self.ok(c, "clock", "advance", "25m")
        self.wait_lines(pages, lambda l: "external update due" in l["detail"],
                        "the reminder on carol's page topic")
        kinds = [t["kind"] for t in c.ctl("timeline", iid)["timeline"]]
        self.assertEqual(kinds.count("update-due"), 1)

        # An operator overrides a component, then gives it back.
        self.ok(c, "component", "web", "major_outage", "-m", "CDN trouble")
        self.assertEqual(self.component(c, "web")["status"], "major_outage")
        self.ok(c, "component", "web", "auto")
        self.assertEqual(self.component(c, "web")["status"], "operational")

        # The same state after a crash: it is a function of the log.
        before = (c.ctl("updates", iid), c.ctl("component"), c.ctl("show", iid))
        c.kill9()
        c.start()
        after = (c.ctl("updates", iid), c.ctl("component"), c.ctl("show", iid))
        self.assertEqual(after, before)

        # api-01 still fails: resolving takes --force (and what still fails
        # is an alert again, which the public does not see).
        self.refused(c, "resolve", iid, why="still failing")
        self.ok(c, "resolve", iid, "--force")
        self.wait_until(lambda: self.component(c, "public-api")["status"] == "operational",
                        what="the component back to operational")
        # Customers were last told "investigating": they are still owed the
        # resolution, and the liaison is reminded of it.
        shown = c.ctl("show", iid)
        self.assertIsNotNone(shown["next_update_due_at"])
        # (carol's page went unanswered: the role escalated meanwhile.)
        liaison = shown["roles"]["customer_liaison"]
        reminders = c.subscribe(name="reminders", topic="page." + liaison,
                                frm=c.status()["broadcast_seq"] + 1)
        self.ok(c, "clock", "advance", "6m")
        line = self.wait_lines(reminders, lambda l: "is resolved, but customers" in l["detail"],
                               "the reminder to announce the resolution")
        self.assertIn('last told "investigating"', line["detail"])
        self.assertIn("--state resolved", line["detail"])
        # The resolution is announced after the fact.
        r = self.ok(c, "--json", "update", iid, "draft", "--state", "resolved")
        n = str(h.json.loads(r.stdout)["pending_update"])
        self.assertEqual(n, "5")  # 4: tocsin announced the resolution to staff
        self.assertEqual(c.ctl("updates", iid)[3]["author"], "tocsin")
        self.ok(c, "update", iid, "approve", n)
        self.ok(c, "update", iid, "publish", n)
        self.wait_lines(external, lambda l: l["update"]["state"] == "resolved", "resolved")
        self.assertIsNone(c.ctl("show", iid)["next_update_due_at"])

    def test_maintenance_window(self):
        c = self.start(agent=False)
        external = c.subscribe(name="external", frm=1, topic="status.external")
        r = self.ok(c, "--json", "maintenance", "add", "Database upgrade", "--start", "+10m",
                    "--end", "+40m", "--components", "public-api", "-m", "Writes pause.")
        w = h.json.loads(r.stdout)[0]
        self.assertEqual((w["id"], w["state"]), (1, "scheduled"))
        self.wait_lines(external, lambda l: l["update"]["state"] == "scheduled", "announced")
        self.ok(c, "clock", "advance", "11m")
        self.wait_until(lambda: c.ctl("maintenance")[0]["state"] == "in_progress",
                        what="in progress")
        self.assertEqual(self.component(c, "public-api")["status"], "under_maintenance")
        # A failure in the window is recorded, declared even, but pages nobody.
        down = self.service(up=False)
        self.agent("api-01", c.agents_ep, [h.tcp_check("api-tcp", "api", down.target)]).start()
        inc = self.wait_until(lambda: c.incident_for("api"), what="the alert is recorded")
        iid = str(inc["id"])
        self.assertEqual(c.ctl("show", iid)["maintenance"], 1)
        self.ok(c, "declare", iid)
        self.ok(c, "sev", iid, "1")
        self.assertEqual(c.ctl("show", iid)["roles"], {})
        # The window ends with the check still failing: re-notified, and
        # now the roles are filled and paged.
        self.ok(c, "clock", "advance", "30m")
        self.wait_until(lambda: c.ctl("maintenance")[0]["state"] == "verifying",
                        what="verifying")
        self.wait_until(lambda: c.ctl("show", iid)["roles"].get("commander") == "bob",
                        what="paging after the window")
        kinds = [t["kind"] for t in c.ctl("timeline", iid)["timeline"]]
        self.assertIn("maintenance", kinds)
        self.ok(c, "clock", "advance", "16m")
        self.wait_until(lambda: c.ctl("maintenance")[0]["state"] == "completed",
                        what="completed after verifying")
        self.refused(c, "maintenance", "cancel", "1", why="completed")
        self.refused(c, "maintenance", "start", "9", why="no maintenance window 9")

    def test_drill(self):
        c = self.start(agent=False)
        sub = c.subscribe(name="all", frm=1)
        r = self.ok(c, "drill", "--wait", "1s")
        self.assertIn("DRILL incident", r.stdout)
        self.assertIn("commander=bob", r.stdout)
        inc = c.incident_for("drill", all=True)
        self.assertTrue(inc["drill"])
        self.assertEqual(inc["state"], "resolved")
        pages = self.wait_lines(sub, lambda l: l["topic"] == "page.bob", "the IC's page")
        self.assertIn("DRILL", pages["detail"])
        updates = c.ctl("updates", str(inc["id"]))
        self.assertEqual([(u["audience"], u["state"], u["status"], u["drill"]) for u in updates],
                         [("external", "investigating", "published", True),
                          ("internal", "investigating", "published", True),
                          ("external", "resolved", "published", True)])
        # A drill never changes what the public sees of the components.
        self.assertEqual(self.component(c, "public-api")["changed_at"],
                         self.component(c, "web")["changed_at"])
        r = c.ctl_raw("--json", "drill", "--wait", "1s")
        self.assertEqual(r.returncode, 0, r.stderr)
        report = h.json.loads(r.stdout)
        self.assertEqual(report["deliveries"], [])
        self.assertTrue(report["incident"]["drill"])

    def test_bad_input(self):
        c = self.start(agent=False)
        # Usage errors: exit 2, one line, nothing sent.
        for args in (["update", "1", "draft", "--bogus"], ["update", "1", "draft", "--next", "x"],
                     ["update", "x", "approve", "1"], ["update", "1", "approve"],
                     ["update", "1", "draft", "--external", "--internal"],
                     ["maintenance", "add", "t", "--start", "yesterday", "--end", "+1h",
                      "--components", "web"],
                     ["maintenance", "add", "t", "--start", "+1h"],
                     ["maintenance", "frobnicate", "1"], ["component", "web"],
                     ["drill", "--severity", "9"], ["updates"], ["subscribers", "x"],
                     ["components", "-m", "x"]):
            with self.subTest(args=args):
                self.refused(c, *args, code=2)
        # The coordinator's refusals: exit 1 with its reason.
        self.refused(c, "update", "99", "approve", "1", why="no incident 99")
        self.refused(c, "component", "nope", "operational", why="no component")
        self.refused(c, "component", "web", "sideways", why="component wants")
        self.refused(c, "maintenance", "add", "t", "--start", "+2h", "--end", "+1h",
                     "--components", "web", why="end after it starts")
        self.refused(c, "maintenance", "add", "t", "--start", "+1h", "--end", "+2h",
                     "--components", "nope", why="no component")
        self.refused(c, "update", "1", "draft", "--scenario", "meteor", why="no incident 1")
        self.ok(c, "drill", "--wait", "0s")
        self.refused(c, "update", "1", "draft", "--scenario", "meteor", why="scenario")
        self.refused(c, "update", "1", "draft", "--state", "in_progress", why="in_progress")
        self.refused(c, "update", "1", "approve", "2", why="already published")
        self.refused(c, "update", "1", "publish", "1", why="already published")

    def test_limits_that_speak(self):
        """Issue 13: a 780-byte body came back as 511 bytes with exit 0.
        Bodies of up to 4096 bytes of UTF-8 are stored whole; a longer one,
        and a title with a control character, is refused with the limit or
        the reason, and nothing is stored."""
        c = self.start(agent=False)
        self.ok(c, "drill", "--service", "api", "--wait", "0s")
        before = len(c.ctl("updates", "1"))
        # 4096 bytes exactly, with multi-byte characters and several lines.
        unit = "Paiements retard\u00e9s \u2014 we are on it.\n"
        body = (unit * (4096 // len(unit.encode()) + 1)).encode()[:4090].decode("utf-8", "ignore")
        body += "x" * (4096 - len(body.encode()))
        self.assertEqual(len(body.encode()), 4096)
        self.ok(c, "update", "1", "draft", "--external", "--title", "Payments delayed", "-m", body)
        updates = c.ctl("updates", "1")
        self.assertEqual(len(updates), before + 1)
        self.assertEqual(updates[-1]["body"], body)
        # One byte more: refused before sending, naming the limit.
        self.refused(c, "update", "1", "draft", "--external", "-m", body + "y", code=2,
                     why="at most 4096 bytes")
        for title in ("Payments\r\ndelayed", "Payments\ndelayed", "Payments\tdelayed"):
            with self.subTest(title=title):
                self.refused(c, "update", "1", "draft", "--title", title, "-m", "x", code=2,
                             why="control character")
                self.refused(c, "maintenance", "add", title, "--start", "+1h", "--end", "+2h",
                             "--components", "web", code=2, why="control character")
        self.refused(c, "update", "1", "draft", "--title", "t" * 160, "-m", "x", code=2,
                     why="at most 159 bytes")
        self.refused(c, "maintenance", "add", "DB upgrade", "--start", "+1h", "--end", "+2h",
                     "--components", "web", "-m", "d" * 512, code=2, why="at most 511 bytes")
        self.refused(c, "note", "1", "n" * 512, code=2, why="at most 511 bytes")
        self.assertEqual(len(c.ctl("updates", "1")), before + 1)
        self.assertEqual(c.ctl("maintenance"), [])

    def test_restoration_estimate(self):
        """AWS OPS10-BP05: a notice without a timeline for restoring service
        is an anti-pattern. --eta as a duration, a time or unknown; the
        estimate carries over to the next update; JSON field eta."""
        c = self.start(agent=False)
        self.ok(c, "drill", "--service", "api", "--wait", "0s")
        n = len(c.ctl("updates", "1"))
        self.ok(c, "update", "1", "draft", "--external", "--state", "identified", "--eta", "45m")
        u = c.ctl("updates", "1")[-1]
        self.assertEqual(u["number"], n + 1)
        eta = datetime.datetime.fromisoformat(u["eta"].replace("Z", "+00:00"))
        drafted = datetime.datetime.fromisoformat(u["drafted_at"].replace("Z", "+00:00"))
        # From the coordinator's now when it drafted; the record's time
        # (drafted_at) is taken a moment later, when it is stored.
        self.assertLess(abs(eta - drafted - datetime.timedelta(minutes=45)),
                        datetime.timedelta(minutes=1))
        self.assertIn("We expect service to be restored by " + eta.strftime("%a ") +
                      str(eta.day) + eta.strftime(" %b %Y, %H:%M UTC."), u["body"])
        # Not said again: the estimate stands.
        self.ok(c, "update", "1", "draft", "--external", "--state", "identified", "-m",
                "Still on it.")
        self.assertEqual(c.ctl("updates", "1")[-1]["eta"], u["eta"])
        self.ok(c, "update", "1", "draft", "--external", "--state", "monitoring", "--eta",
                "2099-01-01T12:00:00Z")
        u = c.ctl("updates", "1")[-1]
        self.assertEqual(u["eta"][:19], "2099-01-01T12:00:00")
        self.assertNotIn("restored", u["body"])  # monitoring: the fix is in place
        self.ok(c, "update", "1", "draft", "--external", "--state", "identified", "--eta",
                "unknown")
        u = c.ctl("updates", "1")[-1]
        self.assertIsNone(u["eta"])
        self.assertIn("We do not yet know when service will be restored.", u["body"])
        self.refused(c, "update", "1", "draft", "--eta", "soon", code=2, why="--eta needs")
        self.refused(c, "update", "1", "draft", "--eta", "2001-01-01T00:00:00Z",
                     why="not in the future")
        self.refused(c, "update", "1", "approve", "1", "--eta", "1h", code=2)
        # The drill resolved its incident: a resolved update expects nothing.
        self.ok(c, "update", "1", "draft", "--external", "--eta", "1h")
        self.assertIsNone(c.ctl("updates", "1")[-1]["eta"])

    def test_bad_configuration(self):
        for text, why in (
                ("components:\n  api: {colour: red}\n", "components.api: unknown key"),
                ("components:\n  api: {services: [\"bad name\"]}\n", "not a service name"),
                ("policy:\n  public_severities: [0]\n", "not a severity"),
                ("policy:\n  internal_announce_severities: [1, 9]\n",
                 "bad.yaml:2: policy.internal_announce_severities: \"9\" is not a severity"),
                ("policy:\n  internal_announce_severities: 2\n",
                 "policy.internal_announce_severities: must be a list"),
                ("policy:\n  update_every: soon\n", "policy.update_every"),
                ("coordinator:\n  templates: /nonexistent/templates\n", "templates")):
            with self.subTest(text=text):
                path = self.config(text=text, name="bad")
                c = self.coordinator(name=self.unique("bad"), extra=["--config", path])
                p = c.start(wait=False).proc
                rc = p.wait()
                self.assertNotEqual(rc, 0)
                self.assertIn(why, p.log())
        # A template file with an unknown placeholder stops the start, naming it.
        tdir = os.path.join(self.tmp, "templates")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "outage.external.investigating.txt"), "w") as f:
            f.write("Hello\n{{hosts}} are down\n")
        path = self.config(text="coordinator:\n  templates: %s\n" % tdir, name="tpl")
        c = self.coordinator(name="tpl", extra=["--config", path])
        p = c.start(wait=False).proc
        self.assertNotEqual(p.wait(), 0)
        self.assertIn("outage.external.investigating.txt:2: unknown placeholder", p.log())

    def test_templates_from_files(self):
        tdir = os.path.join(self.tmp, "templates")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "outage.external.investigating.txt"), "w") as f:
            f.write("Custom: {{components}} trouble. Next: {{next_update}}.\n")
        path = self.config(text=CONFIG.replace("policy:", "coordinator:\n  templates: %s\npolicy:"
                                                % tdir))
        c = self.coordinator(extra=["--config", path, "--test-clock"]).start()
        self.ok(c, "drill", "--service", "api", "--wait", "0s")
        body = c.ctl("updates", "1")[0]["body"]
        self.assertTrue(body.startswith("Custom: Public API trouble. Next: "), body)


if __name__ == "__main__":
    unittest.main()
