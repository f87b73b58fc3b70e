"""The incident process as an incident commander walks it (issue 12), with
the real binaries, CURVE keys (every operator is a person with a key, so
the rules about who may do what are the real ones) and the test clock:

* a resolved SEV-1 stays SEV-1 in show, JSON, the report, the resolved
  update and the post-mortem, and every change of severity is in the
  timeline with its reason;
* only the IC hands command over (or someone with --force, and the old IC
  hears of it), and the IC of record approves external updates; people the
  roster does not know are refused; bad numbers are usage errors;
* an older incident keeps its post-mortem, reminder, meeting, notes and
  action items when a newer one of its service resolves;
* resolve over failing checks is refused, --force keeps the alert visible;
* a security incident pages its need-to-know group only, restricts
  internal updates, holds external ones (and the status page) until the IC
  and the DPO clear disclosure, and tracks PagerDuty's checklist;
* out of business hours the on-call engineer alone is paged until
  severity or an operator asks for more;
* the post-mortem has its messaging, time at SEV-1/2 and meeting; its
  reminder pages the owner; the conference link is in pages, show and
  internal updates; an exhausted chain pages its fallback; a quiet major
  incident reminds its IC; a stalled notifier channel shows as FAILING."""

import datetime
import json
import os
import re
import unittest

import tocsin_harness as h
import test_notify
from test_notify import NOTIFY, PAGE, SilentReceiver
from test_security import KeyDir, SecureAgent, SecureCoordinator
from test_statuspage import STATUSPAGE, StatusPage

PEOPLE = ("alice", "bob", "carol", "dave", "erin", "grace", "kate", "leo", "mallory")

CONFIG = """\
coordinator:
  snapshot_every: 4
policy:
  declare_after: 15m
  bridge_url: "https://meet.example.com/incident-{{incident}}"
  out_of_hours_full_response: 2
  security_team: [kate, leo]
  ic_quiet_reminder: 30m
  postmortem_due_by_severity: {1: 12h, 4: 72h}
  roles_by_severity:
    3: [commander, sme]
services:
  frontend: {team: web, users_per_host: 40, total_users: 1000}
  api: {team: web, users_per_host: 100, total_users: 1000}
  checkout: {team: web, users_per_host: 400, total_users: 1000}
  batch: {team: night, users_per_host: 10, total_users: 1000}
components:
  website: {description: Website, services: [frontend, api, checkout]}
people:
%(people)s
teams:
  web:
    rotation: {members: [alice], shift: 30d, handoff: "00:00", start: %(today)s}
    ack_timeout: 5m
    fallback: carol
  night:
    rotation: {members: [bob], shift: 30d, handoff: "00:00", start: %(today)s}
    business_hours: {days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00",
                     timezone: UTC, holidays: [%(today)s, %(tomorrow)s]}
roles:
  commander: {rotation: {members: [carol], shift: 30d, handoff: "00:00", start: %(today)s}}
  customer_liaison: {rotation: {members: [dave], shift: 30d, handoff: "00:00", start: %(today)s}}
  internal_liaison: {rotation: {members: [erin], shift: 30d, handoff: "00:00", start: %(today)s}}
  dpo: {rotation: {members: [grace], shift: 30d, handoff: "00:00", start: %(today)s}}
"""


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


class ProcessTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, h.SUB)

    # ---- the world -----------------------------------------------------------

    def world(self, checks, name="coordinator", up=()):
        """Keys for every person (operator-rw, named as in the roster) and
        for the agents, a coordinator with CONFIG and the test clock, and
        one agent per host in `checks` ({host: [(check, service), ...]}),
        each check against a TCP port (self.down[check]) that is down,
        except for the checks named in `up`."""
        self.keys = KeyDir(self, os.path.join(self.tmp, "keys"))
        self.ops = {p: self.keys.new("operator-rw", p) for p in PEOPLE}
        self.sub_key = self.keys.new("subscriber", "watcher")
        now = datetime.datetime.now(datetime.timezone.utc)
        text = CONFIG % {
            "people": "\n".join("  %s: {}" % p for p in PEOPLE),
            "today": now.strftime("%Y-%m-%d"),
            "tomorrow": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%d"),
        }
        path = self.config_path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write(text)
        self.c = SecureCoordinator(self, self.keys, self.ops["alice"], name=name,
                                   extra=["--config", path, "--test-clock"]).start()
        self.down = {}
        for host, list_ in checks.items():
            key = self.keys.new("agent", host)
            cks = []
            for check, service in list_:
                self.down[check] = self.service(up=check in up)
                cks.append(h.tcp_check(check, service, self.down[check].target))
            SecureAgent(self, host, self.c.agents_ep, cks, key, self.keys.server_cert).start()
        self.sub = self.c.subscribe_as(self.sub_key, name="all", frm=1)
        return self.c

    def tearDown(self):
        # The coordinator stops cleanly (under the sanitizers: no leak, no
        # error) after everything a test made it do.
        c = getattr(self, "c", None)
        if c is not None and c.proc.alive():
            self.sub.destroy()
            self.assertEqual(c.stop(), 0, "the coordinator did not stop cleanly")
            # A state built from its snapshots (every 4 records) is the
            # state a replay of the whole log builds, byte for byte.
            r = h.run([h.binary(h.COORDINATOR), "--verify-replay", "--data", c.data, "--config",
                       self.config_path, "--insecure"], timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("identical", r.stdout)

    # ---- tocsinctl as a person ------------------------------------------------

    def run_as(self, who, *args):
        return self.c.ctl_as(self.ops[who], *[str(a) for a in args])

    def ok(self, who, *args):
        r = self.run_as(who, "--json", *args)
        self.assertEqual(r.returncode, 0, "%s: tocsinctl %s: %s" % (who, args, r.stderr.strip()))
        return json.loads(r.stdout) if r.stdout.strip() else None

    def text(self, who, *args):
        r = self.run_as(who, *args)
        self.assertEqual(r.returncode, 0, "%s: tocsinctl %s: %s" % (who, args, r.stderr.strip()))
        return r.stdout

    def refused(self, who, *args, code=1, why=None):
        r = self.run_as(who, *args)
        self.assertEqual(r.returncode, code, "%s: tocsinctl %s: %r %r" % (who, args, r.stdout,
                                                                          r.stderr))
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        if why:
            self.assertRegex(lines[0], why)
        return lines[0]

    def advance(self, dur):
        self.text("alice", "clock", "advance", dur)

    def show(self, iid):
        return self.ok("alice", "show", iid)

    def timeline(self, iid):
        return self.ok("alice", "timeline", iid)["timeline"]

    def kinds(self, iid):
        return [t["kind"] for t in self.timeline(iid)]

    def entries(self, iid, kind):
        return [t for t in self.timeline(iid) if t["kind"] == kind]

    def incident(self, service, state=None):
        def found():
            incs = [i for i in self.ok("alice", "incidents", "--all") if i["service"] == service
                    and (state is None or i["state"] == state)]
            return max(incs, key=lambda i: i["id"]) if incs else None
        return self.wait_until(found, what="an incident of %s" % service)

    def declared(self, iid):
        self.advance("16m")
        return self.wait_until(lambda: (lambda i: i if i["declared"] else None)(self.show(iid)),
                               what="incident %d declared by policy" % iid)

    def roles(self, iid, want):
        return self.wait_until(lambda: (lambda r: r if all(r.get(k) == v for k, v in want.items())
                                        else None)(self.show(iid)["roles"]),
                               what="roles %s" % want)

    def lines(self, pred=lambda line: True):
        return [line for line in self.sub.json_lines() if pred(line)]

    def topics_after(self, seq):
        return sorted(line["topic"] for line in self.lines(lambda line: line["seq"] > seq))

    def last_seq(self):
        return self.c.status()["broadcast_seq"]

    def recover(self, *checks):
        for name in checks:
            self.down[name].start()

    # ---- 1. severity that holds --------------------------------------------

    def test_resolved_sev1_stays_sev1(self):
        self.world({"web-01": [("fe-1", "frontend")], "web-02": [("fe-2", "frontend")]},
                   up=("fe-2",))
        iid = self.incident("frontend")["id"]
        # The two hosts fail one after the other: first 40 users, SEV-3.
        self.assertEqual(self.show(iid)["affected_hosts"], 1)
        inc = self.declared(iid)
        self.assertEqual((inc["severity"], inc["severity_meaning"]), (3, "Minor"))
        # A second host: 80 users, SEV-2, by tocsin, with its reason.
        self.down["fe-2"].stop()
        self.wait_until(lambda: self.show(iid)["severity"] == 2, what="SEV-2 by evidence")
        sev = self.entries(iid, "severity")
        self.assertEqual(len(sev), 1)
        self.assertEqual(sev[0]["actor"], "tocsin")
        self.assertEqual(sev[0]["text"],
                         "severity SEV-3 -> SEV-2 (Major): 80 of 1000 users affected (8.0%)")
        # An operator reports 400 users: SEV-1, said in the timeline too.
        self.ok("carol", "users", iid, 400)
        self.assertEqual(self.show(iid)["severity"], 1)
        sev = self.entries(iid, "severity")
        self.assertEqual(len(sev), 2)
        self.assertIn("SEV-2 -> SEV-1 (Critical): 400 of 1000 users affected", sev[1]["text"])
        self.roles(iid, {"commander": "carol", "customer_liaison": "dave"})
        self.ok("dave", "update", iid, "draft", "--external", "--title", "Website errors")
        # tocsin's own internal announcements come first in the numbering.
        n = self.show(iid)["pending_update"]
        self.assertGreater(n, 1)
        self.ok("carol", "update", iid, "approve", n)
        self.ok("dave", "update", iid, "publish", n)
        self.ok("erin", "update", iid, "draft", "--internal", "-m", "web-01 and web-02 down")
        self.advance("10m")
        # Every check recovers: resolved, and still SEV-1 everywhere.
        self.recover("fe-1", "fe-2")
        inc = self.wait_until(lambda: (lambda i: i if i["state"] == "resolved" else None)(
            self.show(iid)), what="resolved by the checks")
        self.assertEqual((inc["severity"], inc["severity_meaning"], inc["major"]),
                         (1, "Critical", True))
        self.assertEqual(len(self.entries(iid, "severity")), 2, "recovery changes no severity")
        self.assertIn("severity:       SEV-1 (Critical, major incident)",
                      self.text("alice", "show", iid))
        self.assertEqual([i["severity"] for i in self.ok("alice", "incidents", "--all")
                          if i["id"] == iid], [1])
        report = self.ok("alice", "report")
        self.assertEqual(report["summary"]["major"], 1)
        row = [x for x in report["incidents"] if x["id"] == iid][0]
        self.assertEqual((row["severity"], row["severity_meaning"]), (1, "Critical"))
        self.assertGreaterEqual(row["sev1_ms"], 10 * 60000)
        self.assertIn("1 major", self.text("alice", "report"))
        # The resolved update: an outage, critical impact.
        self.ok("dave", "update", iid, "draft", "--external", "--state", "resolved")
        u = self.ok("alice", "updates", iid)[-1]
        self.assertEqual((u["scenario"], u["impact"], u["state"]), ("outage", "critical",
                                                                   "resolved"))
        # The post-mortem: SEV-1, due by SEV-1's 12 hours, with the updates.
        inc = self.show(iid)
        due = parse_time(inc["postmortem"]["due_at"]) - parse_time(inc["resolved_at"])
        self.assertEqual(due, datetime.timedelta(hours=12))
        md = self.text("carol", "postmortem", iid)
        self.assertIn("- Severity: SEV-1 (Critical, major incident)\n", md)
        self.assertRegex(md, r"- Time at SEV-1: \d+m\d+s\n- Time at SEV-2: \d+")
        self.assertRegex(md, r"\| \d+ \| external \| investigating \| carol \| ")
        self.assertRegex(md, r"\| \d+ \| internal \| investigating \| erin \| web-01 and web-02 down")
        self.assertRegex(md, r"\| 1 \| internal \| investigating \| tocsin \| Declared SEV-")
        self.assertNotIn("none recorded by tocsin yet", md)
        self.assertIn("- Conference bridge: https://meet.example.com/incident-%d" % iid, md)

    # ---- 2. command and approval ----------------------------------------------

    def test_command_and_approval(self):
        self.world({"web-01": [("co", "checkout")]})
        iid = self.incident("checkout")["id"]
        self.declared(iid)  # 400 of 1000 users: SEV-1
        self.roles(iid, {"commander": "carol"})
        # Taking command is not possible without the IC.
        self.refused("mallory", "handoff", iid, "mallory",
                     why=r"only the incident commander \(carol\) hands over command; if carol "
                         r"cannot be reached: handoff %d mallory --force" % iid)
        self.refused("mallory", "assign", iid, "commander", "mallory",
                     why="command changes hands with handoff")
        self.assertEqual(self.show(iid)["roles"]["commander"], "carol")
        # So an external draft of mallory's waits for carol.
        self.ok("mallory", "update", iid, "draft", "--external", "-m", "We are on it.")
        n = self.show(iid)["pending_update"]
        self.refused("mallory", "update", iid, "approve", n,
                     why=r"only the incident commander \(carol\) approves")
        self.refused("mallory", "update", iid, "publish", n, why="approval first")
        # The IC hands over to dave: dave is paged, nobody else is told.
        seq = self.last_seq()
        self.ok("carol", "handoff", iid, "dave", "-m", "end of shift")
        self.wait_until(lambda: "page.dave" in self.topics_after(seq), what="dave paged")
        self.assertNotIn("page.carol", self.topics_after(seq))
        # dave cannot be reached: bob takes command with --force, recorded,
        # and dave is told on his page.
        seq = self.last_seq()
        self.ok("bob", "handoff", iid, "bob", "--force", "-m", "dave does not answer")
        self.assertEqual(self.show(iid)["roles"]["commander"], "bob")
        told = self.wait_until(lambda: [line for line in self.lines(
            lambda line: line["seq"] > seq and line["topic"] == "page.dave")],
            what="the old IC told")
        self.assertIn("taken over with --force and given to bob by bob", told[0]["detail"])
        t = self.entries(iid, "handoff")[-1]
        self.assertEqual(t["actor"], "bob")
        self.assertIn("taken from dave (unreachable) and given to bob by bob with --force",
                      t["text"])
        rec = [r for r in self.c.log() if r.get("action") == "handoff"][-1]
        self.assertEqual((rec["actor"], rec["args"][0], rec["args"][-1]), ("bob", "bob", "force"))
        # The IC of record approves; then anyone may publish it.
        self.refused("mallory", "update", iid, "approve", n, why=r"commander \(bob\)")
        self.ok("bob", "update", iid, "approve", n)
        self.ok("mallory", "update", iid, "publish", n)
        # Nobody the roster does not know is assigned.
        self.refused("bob", "assign", iid, "sme", "nobody_known",
                     why="nobody_known is not in the on-call roster")
        self.refused("bob", "handoff", iid, "ghost", why="ghost is not in the on-call roster")
        self.refused("bob", "postmortem", iid, "owner", "ghost")
        self.refused("bob", "postmortem", iid, "meeting", "soon",
                     why=r"meeting wants a time: RFC 3339 .*, now or \+DURATION")
        # Bad numbers are usage errors: exit 2, nothing sent.
        before = len(self.c.log())
        for args in (("sev", iid, 0), ("sev", iid, 6), ("sev", iid, "two"), ("users", iid, "-1"),
                     ("features", iid, "x"), ("handoff", iid, "--force"),
                     ("ack", iid, "--force"), ("plan", iid, "half")):
            r = self.run_as("bob", *args)
            self.assertEqual(r.returncode, 2, "%s: %r" % (args, r.stderr))
        self.assertEqual(len(self.c.log()), before)

    # ---- 3. every incident keeps its follow-up ----------------------------------

    def test_older_incident_keeps_followup(self):
        self.world({"web-01": [("co", "checkout")]})
        first = self.incident("checkout")["id"]
        self.declared(first)
        self.roles(first, {"commander": "carol"})
        self.recover("co")
        self.wait_until(lambda: self.show(first)["state"] == "resolved", what="first resolved")
        # A newer incident of the same service: a 4-second blip.
        self.down["co"].stop()
        second = self.wait_until(lambda: (lambda i: i if i["id"] != first else None)(
            self.incident("checkout")), what="a second incident")["id"]
        self.recover("co")
        self.wait_until(lambda: self.show(second)["state"] == "resolved", what="blip resolved")
        # The older incident is still one to act on.
        self.ok("carol", "actions", first, "add", "bob", "add", "a", "canary", "stage")
        self.ok("bob", "actions", first, "done", 1)
        self.ok("carol", "note", first, "root", "cause:", "a", "config", "push")
        self.ok("carol", "postmortem", first, "meeting", "+3h")
        self.ok("carol", "postmortem", first, "owner", "erin")
        inc = self.show(first)
        self.assertEqual(inc["postmortem"]["owner"], "erin")
        self.assertIsNotNone(inc["postmortem"]["meeting_at"])
        self.refused("carol", "reopen", first,
                     why="incident %d of checkout resolved after incident %d" % (second, first))
        self.refused("carol", "actions", 999, "add", "bob", "x", why="no incident 999")
        # Its reminder fires, on its owner's page.
        seq = self.last_seq()
        self.advance("13h")
        page = self.wait_until(lambda: [line for line in self.lines(
            lambda line: line["seq"] > seq and line["topic"] == "page.erin")],
            what="the reminder on the owner's page")
        self.assertIn("post-mortem of incident %d (checkout, SEV-1) is overdue" % first,
                      page[0]["detail"])
        self.assertIn("reminder", self.kinds(first))
        md = self.text("erin", "postmortem", first)
        self.assertIn("| 1 | add a canary stage | bob | done |", md)
        self.assertNotIn("meeting: not scheduled", md)
        self.assertIn("root cause: a config push", md)

    # ---- 4. resolve with failing checks -----------------------------------------

    def test_resolve_with_failing_checks(self):
        self.world({"web-01": [("fe-1", "frontend"), ("fe-2", "frontend"), ("fe-3", "frontend")]})
        iid = self.incident("frontend")["id"]
        self.wait_until(lambda: self.show(iid)["failing_checks"] == 3, what="three checks failing")
        self.refused("alice", "resolve", iid,
                     why=r"3 checks of frontend still failing \(on web-01\); fix them, or "
                         r"resolve %d --force to resolve anyway" % iid)
        self.assertEqual(self.show(iid)["state"], "triggered")
        inc = self.ok("alice", "resolve", iid, "--force", "-m", "probes are wrong")
        self.assertEqual((inc["state"], inc["resolved_failing"]), ("resolved", 3))
        self.assertIn("with --force while 3 checks still failed: probes are wrong",
                      self.entries(iid, "resolve")[0]["text"])
        # The alert stays visible: a new incident, at once.
        alert = self.incident("frontend", state="triggered")
        self.assertNotEqual(alert["id"], iid)
        self.assertEqual(alert["failing_checks"], 3)
        self.assertIn("3 checks of frontend still failing when incident %d was resolved by hand"
                      % iid, alert["summary"])
        # The next failure joins it; nothing is silenced: it is declared
        # by the policy when it lasts, and paged.
        self.recover("fe-2")
        self.wait_until(lambda: self.show(alert["id"])["failing_checks"] == 2, what="one recovers")
        self.down["fe-2"].stop()
        self.wait_until(lambda: self.show(alert["id"])["failing_checks"] == 3, what="fails again")
        self.declared(alert["id"])
        self.roles(alert["id"], {"sme": "alice", "commander": "carol"})

    # ---- 5. security incidents ---------------------------------------------------

    def test_security_incident(self):
        self.world({"web-01": [("api", "api")]})
        sp = SecureStatusPage(self, self.c, self.sub_key, self.keys.server_cert).start()
        iid = self.incident("api")["id"]
        self.declared(iid)  # 100 of 1000 users: SEV-2
        self.roles(iid, {"commander": "carol", "customer_liaison": "dave",
                         "internal_liaison": "erin", "sme": "alice"})
        self.wait_until(lambda: self.component("website") == "partial_outage", what="partial")
        self.ok("carol", "ack", iid)
        self.assertEqual(self.show(iid)["next_update_due_at"] is not None, True)
        seq = self.last_seq()
        self.ok("alice", "security", iid, "-m", "odd logins from 203.0.113.9")
        inc = self.show(iid)
        self.assertEqual((inc["security"], inc["severity"]), (True, 1))
        self.assertEqual(inc["disclosure"]["cleared"], False)
        # The need-to-know group is paged: the DPO and the security team.
        self.roles(iid, {"dpo": "grace", "security.kate": "kate", "security.leo": "leo"})
        self.wait_until(lambda: {"page.grace", "page.kate", "page.leo"} <= set(
            self.topics_after(seq)), what="the group paged")
        self.assertIsNone(self.show(iid)["next_update_due_at"], "external updates are held")
        self.ok("grace", "ack", iid)
        # Nobody else: the liaisons' and SME's pages do not escalate.
        self.advance("6m")
        self.advance("6m")
        # tocsin's own announcement of the change (SEV-1, security) went to
        # the group alone: never to status.internal.
        restricted = sorted(line["topic"] for line in self.lines(
            lambda line: line["seq"] > seq and "RESTRICTED" in line.get("detail", "")))
        self.assertIn("page.carol", restricted)
        self.assertTrue(set(restricted) <= {"page.carol", "page.grace", "page.kate",
                                            "page.leo"}, restricted)
        self.assertEqual([line for line in self.lines(lambda line: line["seq"] > seq and
                                                       line["topic"] == "status.internal")], [])
        others = [line["topic"] for line in self.lines(
            lambda line: line["seq"] > seq and "RESTRICTED" not in line.get("detail", ""))
            if line["topic"] in ("page.dave", "page.erin", "page.alice", "page.carol")]
        self.assertEqual(others, [], "pages outside the need-to-know group")
        self.assertNotIn("escalate", self.kinds(iid))
        self.assertNotIn("update-due", self.kinds(iid), "no update is due while it is held")
        self.refused("carol", "assign", iid, "scribe", "bob", why="need-to-know group")
        # Internal updates go to the group alone, not to status.internal.
        seq = self.last_seq()
        self.ok("kate", "update", iid, "draft", "--internal", "-m", "web shell on api-01")
        # The four broadcasts of one commit reach the subscriber one by
        # one: wait for as many as the group has, then say which they are.
        restricted = lambda: sorted(line["topic"] for line in self.lines(  # noqa: E731
            lambda line: line["seq"] > seq and "RESTRICTED" in line.get("detail", "")))
        self.wait_until(lambda: len(restricted()) >= 4, what="the restricted update")
        got = restricted()
        self.assertEqual(got, ["page.carol", "page.grace", "page.kate", "page.leo"])
        self.assertEqual([line for line in self.lines(lambda line: line["seq"] > seq and
                                                       line["topic"].startswith("status."))], [])
        self.assertEqual([u["restricted"] for u in self.ok("alice", "updates", iid)
                          if u["author"] == "kate"], [True])
        # External updates are held until the IC and the DPO clear them.
        self.ok("dave", "update", iid, "draft", "--external", "-m", "We are investigating.")
        n = self.show(iid)["pending_update"]
        self.ok("carol", "update", iid, "approve", n)
        self.refused("carol", "update", iid, "publish", n,
                     why="held until the incident commander and the data protection officer")
        self.refused("mallory", "security", iid, "clear",
                     why=r"only the incident commander \(carol\) and the data protection "
                         r"officer \(grace\)")
        self.ok("carol", "security", iid, "clear")
        self.refused("carol", "update", iid, "publish", n, why="so far: IC cleared, DPO not yet")
        # The checklist, with owners.
        items = self.ok("alice", "actions", iid)
        self.assertEqual(len(items), 14)
        owners = {i["text"]: i["owner"] for i in items}
        self.assertEqual(owners["Stop the attack in progress."], "kate")
        self.assertEqual(owners["Identify compromised data."], "grace")
        self.assertEqual(owners["Assemble the response team."], "carol")
        # Customers have seen nothing more: no external update, the
        # component as it was, nothing on the status page.
        self.assertEqual(self.component("website"), "partial_outage")
        self.assertEqual(sp.json()["incidents"], [])
        self.ok("grace", "security", iid, "clear", "-m", "no customer data exposed")
        self.assertTrue(self.show(iid)["disclosure"]["cleared"])
        self.assertIn("cleared by both", self.entries(iid, "disclosure")[-1]["text"])
        # Now it may go out; the first update is due from the clearance.
        inc = self.show(iid)
        cleared = parse_time(inc["disclosure"]["dpo_cleared_at"])
        self.assertEqual(parse_time(inc["next_update_due_at"]) - cleared,
                         datetime.timedelta(minutes=5))
        self.ok("carol", "update", iid, "publish", n)
        self.wait_until(lambda: self.component("website") == "major_outage", what="major")
        self.wait_until(lambda: sp.json()["incidents"], what="the incident on the status page")

    def component(self, name):
        return [x for x in self.ok("alice", "component") if x["name"] == name][0]["status"]

    # ---- 6. out of hours ------------------------------------------------------------

    def test_out_of_hours_plan(self):
        self.world({"batch-01": [("b1", "batch")], "batch-02": [("b2", "batch")]})
        iid = self.incident("batch")["id"]
        inc = self.declared(iid)  # 10 or 20 of 1000: SEV-3
        self.assertEqual(inc["severity"], 3)
        plan = self.wait_until(lambda: self.entries(iid, "plan"), what="the plan decided")
        self.assertEqual(plan[0]["actor"], "tocsin")
        self.assertRegex(plan[0]["text"],
                         r"^out-of-hours plan \(.* at UTC, outside business hours \(mon-sun "
                         r"00:00-24:00\); a holiday\): team night's on-call engineer contains "
                         r"it; the incident commander and the other roles are paged at SEV-2 "
                         r"or above, or when an operator asks \(tocsinctl plan %d full\)$" % iid)
        self.assertEqual(self.show(iid)["plan"], "out_of_hours")
        # SEV-3 gets an IC in business hours (policy); out of hours only
        # the on-call engineer, with a page that says so.
        roles = self.roles(iid, {"sme": "bob"})
        self.assertNotIn("commander", roles)
        page = [line for line in self.lines(lambda line: line["topic"] == "page.bob")][0]
        self.assertIn("out of hours: contain it", page["detail"])
        # Severity requires more: SEV-2 pages the whole response.
        self.ok("bob", "sev", iid, 2)
        self.roles(iid, {"commander": "carol", "customer_liaison": "dave"})
        a = [t for t in self.entries(iid, "assign") if "commander" in t["text"]][0]
        self.assertIn("out of hours: severity requires the full response", a["text"])
        # An operator asks for the full response of a SEV-3.
        self.down["b1"].start()
        self.down["b2"].start()
        self.wait_until(lambda: self.show(iid)["state"] == "resolved", what="resolved")
        self.down["b1"].stop()
        other = self.wait_until(lambda: (lambda i: i if i["id"] != iid else None)(
            self.incident("batch")), what="another batch incident")["id"]
        self.declared(other)
        self.roles(other, {"sme": "bob"})
        self.refused("bob", "plan", iid, "full", why="reopen it first")
        self.ok("bob", "plan", other, "full", "-m", "customers call")
        self.roles(other, {"commander": "carol"})
        self.assertIn("full response requested by bob", self.entries(other, "plan")[-1]["text"])
        # A team without business hours has no plan entry at all.

    # ---- 8. the post-mortem and the rest of the response ------------------------

    def test_followup_bridge_fallback_quiet(self):
        self.world({"web-01": [("api", "api")]})
        iid = self.incident("api")["id"]
        self.declared(iid)  # SEV-2
        link = "https://meet.example.com/incident-%d" % iid
        self.roles(iid, {"commander": "carol", "sme": "alice"})
        # The conference link: in the incident, its pages and internal updates.
        self.assertEqual(self.show(iid)["bridge"], link)
        self.assertIn("bridge:         %s" % link, self.text("alice", "show", iid))
        pages = self.wait_until(lambda: self.lines(lambda line: line["topic"] == "page.carol"),
                                what="the IC's page")
        self.assertIn("bridge: " + link, pages[0]["detail"])
        self.ok("carol", "ack", iid)
        self.ok("erin", "update", iid, "draft", "--internal", "-m", "db failover running")
        self.assertIn("Conference bridge: " + link, self.ok("alice", "updates", iid)[0]["body"])
        # alice (the whole web rotation) does not answer: the chain ends and
        # the team's fallback, carol, is paged and holds the SME role.
        seq = self.last_seq()
        self.advance("6m")
        ex = self.wait_until(lambda: self.entries(iid, "exhausted"), what="the chain exhausted")
        self.assertIn("its fallback carol is paged and holds sme now", ex[0]["text"])
        self.assertEqual(self.show(iid)["roles"]["sme"], "carol")
        self.wait_until(lambda: "page.carol" in self.topics_after(seq), what="fallback paged")
        # Nothing moves for 30 minutes: the IC is reminded, on her page.
        seq = self.last_seq()
        self.advance("31m")
        quiet = self.wait_until(lambda: self.entries(iid, "quiet"), what="the quiet reminder")
        self.assertIn("reminding the incident commander carol", quiet[0]["text"])
        self.wait_until(lambda: [line for line in self.lines(
            lambda line: line["seq"] > seq and line["topic"] == "page.carol" and
            "no state change and no status update" in line["detail"])], what="the IC reminded")
        self.ok("carol", "state", iid, "identified")
        self.advance("20m")
        self.assertEqual(len(self.entries(iid, "quiet")), 1, "progress resets the reminder")
        # Resolved; the meeting is set; the reminder goes to the owner.
        self.recover("api")
        self.wait_until(lambda: self.show(iid)["state"] == "resolved", what="resolved")
        self.ok("carol", "postmortem", iid, "meeting", "+20h")
        md = self.text("carol", "postmortem", iid)
        self.assertRegex(md, r"meeting: \d{4}-\d\d-\d\dT")
        self.assertRegex(md, r"- Time at SEV-2: \d+m\d+s")
        self.assertRegex(md, r"\| \d+ \| internal \| investigating \| erin \| db failover running")
        # tocsin announced the declaration, the new state and the end to staff.
        self.assertRegex(md, r"\| 1 \| internal \| investigating \| tocsin \| Declared SEV-2\.")
        self.assertRegex(md, r"\| internal \| identified \| tocsin \| Now identified")
        self.assertRegex(md, r"\| internal \| resolved \| tocsin \| Resolved\.")
        seq = self.last_seq()
        self.advance("25h")
        self.wait_until(lambda: [line for line in self.lines(
            lambda line: line["seq"] > seq and line["topic"] == "page.carol" and
            "post-mortem" in line["detail"])], what="the reminder on carol's page")


class ProcessConfigTest(h.TocsinTestCase):
    needs = (h.COORDINATOR,)

    def test_security_team_must_be_people(self):
        """A security team member the roster cannot page stops the
        coordinator at start, naming the file and the person."""
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write("policy:\n  security_team: [kate, ghost]\npeople:\n  kate: {}\n")
        r = h.run([h.binary(h.COORDINATOR), "--config", path, "--insecure", "--data",
                   os.path.join(self.tmp, "data"), "--agents", h.ep(h.free_port()), "--api",
                   h.ep(h.free_port()), "--publish", h.ep(h.free_port())], timeout=30)
        self.assertNotEqual(r.returncode, 0)
        want = (r'%s:2: policy.security_team: unknown person "ghost" \(not listed under '
                r'people\)' % re.escape(path))
        self.assertRegex(r.stderr, want)
        # --check-config says so too, instead of "ok".
        r = h.run([h.binary(h.COORDINATOR), "--config", path, "--insecure", "--check-config"],
                  timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stdout + r.stderr, want)
        # The same key with a bad value is a configuration error: exit 2.
        with open(path, "w") as f:
            f.write("policy:\n  security_team: kate\n")
        r = h.run([h.binary(h.COORDINATOR), "--config", path, "--insecure"], timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("policy.security_team: must be a list of people", r.stderr)


class SecureStatusPage(StatusPage):
    """The status page with a subscriber key, as in production."""

    def __init__(self, tc, coord, key, server_key):
        super().__init__(tc, coord)
        self.key = key
        self.server_key = server_key

    def start(self):
        self.starts += 1
        argv = [h.binary(STATUSPAGE), "--key", self.key, "--server-key", self.server_key,
                "--api", self.coord.api_ep, "--publish", self.coord.publish_ep,
                "--out", self.out, "--state", self.state, "--http", "127.0.0.1:%d" % self.port,
                "--stale", self.stale, "--title", self.title, "--log-level", "debug"]
        self.proc = self.tc.spawn("statuspage.%d" % self.starts, argv)
        self.tc.wait_until(lambda: self.get("api/v2/status.json"), what="the status page to serve")
        return self


class FailingChannelTest(h.TocsinTestCase):
    """A notifier's channel that stalls is shown FAILING in `tocsinctl
    subscribers` (and its JSON), with its timeline entry, until the
    delivery goes through."""

    needs = h.TocsinTestCase.needs + (NOTIFY,)
    # The notifier tests' set-up, not their tests.
    incident = test_notify.NotifyTest.incident
    start_notify = test_notify.NotifyTest.start_notify
    read = test_notify.NotifyTest.read
    ctl_ok = test_notify.NotifyTest.ctl_ok
    publish = test_notify.NotifyTest.publish
    key = test_notify.NotifyTest.key

    def test_failing_channel_shown_and_cleared(self):
        silent = SilentReceiver()
        self.addCleanup(silent.stop)
        self.incident()
        self.cfg_path = os.path.join(self.tmp, "notify.yaml")
        with open(self.cfg_path, "w") as f:
            f.write("notify:\n  retry_first: 200ms\n  retry_max: 400ms\n  timeout: 500ms\n"
                    "  failing_after: 2s\n  page_url: %s\nsubscriptions:\n"
                    "  - name: stuck\n    type: webhook\n    url: %s\n" % (PAGE, silent.url))
        self.start_notify()
        n = self.publish("We are looking into API errors.")
        sub = self.wait_until(lambda: (lambda s: s if s and s["failing"] else None)(
            {x["name"]: x for x in self.c.ctl("subscribers")}.get("stuck")),
            what="the channel shown failing")
        self.assertEqual(sub["delivered"], 0)
        self.assertEqual(sub["failed"], 0)
        self.assertRegex(sub["failing_detail"], "timed out")
        self.assertIsNotNone(sub["failing_since"])
        text = self.c.ctl_raw("subscribers").stdout
        self.assertRegex(text, r"stuck .*FAILING for \d+s: .*timed out")
        tl = self.c.ctl("timeline", str(self.inc))["timeline"]
        failing = [t for t in tl if t["kind"] == "delivery" and ": failing in " in t["text"]]
        self.assertTrue(failing, tl)
        self.assertRegex(failing[0]["text"],
                         r"^update %d to stuck: failing in \d+ ms after \d+ attempts?: " % n)
        silent.answer()
        self.wait_until(lambda: (lambda s: s if s["delivered"] == 1 and not s["failing"]
                                 else None)({x["name"]: x for x in self.c.ctl("subscribers")}
                                            ["stuck"]), what="delivered and no longer failing")
        self.assertNotIn("FAILING", self.c.ctl_raw("subscribers").stdout)


if __name__ == "__main__":
    unittest.main()
