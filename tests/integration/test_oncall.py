"""On-call as an operator meets it: a declared incident gets its roles from
the rotation, every assignment pages its person on their own topic, an
unacknowledged page escalates along the chain until someone acknowledges or
nobody is left, and `tocsinctl oncall` says who is on call. The test clock
moves the coordinator through the deadlines without sleeping."""

import datetime
import os
import unittest

import tocsin_harness as h

CONFIG = """\
policy:
  declare_after: 15m
services:
  frontend:
    team: web
    users_per_host: 400
    total_users: 1000
people:
  alice: {}
  bob: {}
  carol: {}
  dave: {}
  erin: {}
teams:
  web:
    rotation: {members: [alice, bob, carol], shift: 30d, handoff: "00:00", start: START}
    ack_timeout: 5m
roles:
  commander: {rotation: {members: [dave, erin], shift: 30d, handoff: "00:00", start: START}}
"""


class OncallTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, h.SUB)

    def start(self, name="coordinator"):
        path = os.path.join(self.tmp, name + ".yaml")
        # The rotations start today, so alice's shift is the current one
        # whatever the date the tests run on.
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        with open(path, "w") as f:
            f.write(CONFIG.replace("START", today))
        c = self.coordinator(name=name, extra=["--config", path, "--test-clock"]).start()
        down = self.service(up=False)
        self.agent("web-01", c.agents_ep, [h.tcp_check("frontend-tcp", "frontend", down.target)],
                   spool=os.path.join(self.tmp, "spool-" + name)).start()
        inc = self.wait_until(lambda: c.incident_for("frontend"), what="an incident")
        return c, inc["id"]

    def advance(self, c, dur):
        c.ctl_raw("clock", "advance", dur)

    def roles_of(self, c, iid):
        return c.ctl("show", str(iid))["roles"]

    def timeline_kinds(self, c, iid):
        return [(t["kind"], t["actor"]) for t in c.ctl("timeline", str(iid))["timeline"]]

    def test_roles_pages_and_escalation(self):
        c, iid = self.start()
        pages = c.subscribe(name="pages", frm=1, topic="page.")
        # Not declared yet: no roles, no pages.
        self.assertEqual(self.roles_of(c, iid), {})
        self.advance(c, "16m")
        # Declared SEV-1 (400 of 1000 users): the commander from its rotation
        # and the owning team's on-call engineer as SME.
        self.wait_until(lambda: self.roles_of(c, iid) == {"commander": "dave", "sme": "alice"},
                        what="roles filled from the rotations")
        topics = lambda: sorted(l["topic"] for l in pages.json_lines())
        self.wait_until(lambda: topics() == ["page.alice", "page.dave"], what="two pages")
        # dave acknowledges; alice does not: after her 5 min the SME page
        # goes to bob, then to carol, then nobody is left.
        r = c.ctl_raw("ack", str(iid), "commander")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.advance(c, "6m")
        self.wait_until(lambda: self.roles_of(c, iid)["sme"] == "bob", what="escalated to bob")
        self.advance(c, "6m")
        self.wait_until(lambda: self.roles_of(c, iid)["sme"] == "carol", what="escalated to carol")
        self.advance(c, "6m")
        self.wait_until(lambda: ("exhausted", "tocsin") in self.timeline_kinds(c, iid),
                        what="the end of the chain")
        self.assertEqual(self.roles_of(c, iid)["commander"], "dave",
                         "an acknowledged page never escalates")
        # Nobody is left in the team's chain: its fallback, the IC, is
        # paged and holds the SME role, and the timeline says so.
        self.wait_until(lambda: topics() == ["page.alice", "page.bob", "page.carol",
                                             "page.dave", "page.dave"],
                        what="the escalation pages and the fallback's")
        self.assertEqual(self.roles_of(c, iid)["sme"], "dave")
        tl = c.ctl("timeline", str(iid))["timeline"]
        exhausted = [t for t in tl if t["kind"] == "exhausted"]
        self.assertEqual(len(exhausted), 1)
        self.assertIn("its fallback dave is paged", exhausted[0]["text"])
        kinds = sorted((l["topic"], l["page"]["kind"]) for l in pages.json_lines())
        self.assertEqual(kinds, [("page.alice", "assigned"), ("page.bob", "escalated"),
                                 ("page.carol", "escalated"), ("page.dave", "assigned"),
                                 ("page.dave", "escalated")])
        kinds = [k for k, _ in self.timeline_kinds(c, iid)]
        self.assertEqual(kinds.count("escalate"), 3)
        # The fallback page waits for dave and never escalates further.
        self.advance(c, "30m")
        self.assertEqual(self.roles_of(c, iid)["sme"], "dave")
        self.assertEqual([k for k, _ in self.timeline_kinds(c, iid)].count("escalate"), 3)
        r = c.ctl_raw("ack", str(iid), "sme")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = c.ctl_raw("ack", str(iid), "sme")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already acknowledged", r.stderr)

    def test_whole_process(self):
        """The issue's scenario end to end: an outage lasts past the
        threshold -> declared with a severity -> roles filled from the
        rotations -> the IC does not acknowledge -> escalated -> resolved ->
        post-mortem due -> reminder -> draft rendered."""
        self.whole_process(crash=False)

    def test_whole_process_with_kill9(self):
        """The same scenario with a kill -9 of the coordinator in the
        middle (after the escalation, before the resolution): the timeline
        comes out the same as without the crash."""
        plain = self.whole_process(crash=False)
        crashed = self.whole_process(crash=True)
        self.assertEqual(crashed, plain)

    def whole_process(self, crash):
        """Runs the scenario in a fresh coordinator; returns the timeline as
        (kind, actor) pairs."""
        c, iid = self.start(name="crashed" if crash else "plain")
        self.advance(c, "16m")
        inc = self.wait_until(lambda: c.ctl("show", str(iid)), what="the incident")
        self.wait_until(lambda: c.ctl("show", str(iid))["declared"], what="declared")
        self.assertEqual(c.ctl("show", str(iid))["severity"], 1)
        self.wait_until(lambda: self.roles_of(c, iid).get("commander") == "dave",
                        what="dave paged as IC")
        r = c.ctl_raw("ack", str(iid), "sme")  # alice answers, dave does not
        self.assertEqual(r.returncode, 0, r.stderr)
        self.advance(c, "6m")
        self.wait_until(lambda: self.roles_of(c, iid)["commander"] == "erin",
                        what="the IC page escalated to erin")
        if crash:
            before = self.timeline_kinds(c, iid)
            c.kill9()
            c.start()
            self.assertEqual(self.timeline_kinds(c, iid), before)
        r = c.ctl_raw("ack", str(iid), "commander")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The agent's check still fails: resolving over it takes --force.
        r = c.ctl_raw("resolve", str(iid), "-m", "fixed by rollback")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("still failing", r.stderr)
        r = c.ctl_raw("resolve", str(iid), "--force", "-m", "fixed by rollback")
        self.assertEqual(r.returncode, 0, r.stderr)
        inc = c.ctl("show", str(iid))
        self.assertEqual(inc["state"], "resolved")
        self.advance(c, "25h")
        self.wait_until(lambda: ("reminder", "tocsin") in self.timeline_kinds(c, iid),
                        what="the overdue post-mortem reminder")
        r = c.ctl_raw("postmortem", str(iid))
        self.assertEqual(r.returncode, 0, r.stderr)
        md = r.stdout
        self.assertIn("# Post-mortem: incident %d, frontend" % iid, md)
        self.assertIn("Post-mortem owner: erin", md)
        for section in ("## Overview", "## What happened", "## Contributing factors",
                        "## Resolution", "## Impact", "## Responders", "## Timeline",
                        "## What went well", "## What went badly", "## Action items",
                        "## Messaging"):
            self.assertIn(section, md)
        self.assertIn("| tocsin | escalate |", md)
        self.assertIn("fixed by rollback", md)
        report = c.ctl("report")
        row = [x for x in report["incidents"] if x["id"] == iid][0]
        self.assertGreaterEqual(row["ttd_ms"], 15 * 60 * 1000)
        self.assertIsNotNone(row["tta_ms"])
        self.assertIsNotNone(row["ttr_ms"])
        kinds = self.timeline_kinds(c, iid)
        self.assertEqual([k for k, _ in kinds].count("reminder"), 1)
        return kinds

    def test_oncall_command(self):
        c, _ = self.start()
        who = {e["scope"]: e["person"] for e in c.ctl("oncall")}
        self.assertEqual(who, {"role commander": "dave", "team web": "alice"})
        self.assertEqual(c.ctl("oncall", "web")[0]["person"], "alice")
        r = c.ctl_raw("oncall", "nobody")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no team or role", r.stderr)


if __name__ == "__main__":
    unittest.main()
