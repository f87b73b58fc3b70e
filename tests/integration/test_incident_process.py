"""The incident process as an operator meets it: an alert becomes a declared
incident by policy once its deadline passes (moved there with the test
clock), operators drive it through its life cycle with tocsinctl, invalid
actions are refused without changing anything, every action lands in the
timeline, the event log and the audit trail, and a kill -9 of the
coordinator neither loses nor repeats any of it."""

import datetime
import json
import os
import re
import unittest

import tocsin_harness as h

POLICY = """\
policy:
  declare_after: 15m
  declare_min_users: 5
  reopen_window: 1h
services:
  frontend:
    users_per_host: 40
    total_users: 1000
"""

TIMELINE_KEYS = ("incident", "time", "log_seq", "actor", "kind", "text")


def parse_time(s):
    """An RFC 3339 time as printed by tocsinctl ("...T12:00:00.123Z")."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


def kinds(timeline):
    return [t["kind"] for t in timeline]


class IncidentProcessTest(h.TocsinTestCase):

    # ---- set-up helpers -------------------------------------------------

    def write_config(self, test_clock_in_yaml):
        path = os.path.join(self.tmp, "coordinator.yaml")
        text = POLICY
        if test_clock_in_yaml:
            text = "coordinator:\n  test_clock: true\n" + text
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_coordinator(self, yaml_clock=False):
        """A coordinator with the policy above and the test clock, enabled
        by the YAML key or by the --test-clock flag."""
        cfg = self.write_config(yaml_clock)
        extra = ["--config", cfg] + ([] if yaml_clock else ["--test-clock"])
        return self.coordinator(extra=extra).start()

    def outage(self, c, service="frontend", host="web-01"):
        """One agent whose TCP check of `service` fails from the start (the
        port listens nowhere); returns the agent and the incident opened."""
        down = self.down = self.service(up=False)
        a = self.agent(host, c.agents_ep,
                       [h.tcp_check(service + "-tcp", service, down.target)]).start()

        def opened():
            inc = c.incident_for(service)
            return inc if inc and inc["state"] == "triggered" else None
        inc = self.wait_until(opened, what="an incident for %s" % service)
        return a, inc

    # ---- tocsinctl helpers ----------------------------------------------

    def act(self, c, *args):
        """A successful incident action; returns the incident it prints."""
        r = c.ctl_raw("--json", *[str(x) for x in args])
        self.assertEqual(r.returncode, 0, "tocsinctl %s failed: %s" % (args, r.stderr.strip()))
        return json.loads(r.stdout)

    def refused(self, c, *args, reason=None):
        """An action the coordinator must refuse: exit 1, nothing on stdout,
        one line on stderr (returned)."""
        r = c.ctl_raw("--json", *[str(x) for x in args])
        self.assertEqual(r.returncode, 1, "tocsinctl %s should be refused; stdout %r stderr %r"
                         % (args, r.stdout, r.stderr))
        self.assertEqual(r.stdout, "", "a refused action prints no incident")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "one-line reason expected, got %r" % r.stderr)
        # With --json the reason is a JSON object {"error": ...}.
        lines[0] = "tocsinctl: " + json.loads(lines[0])["error"]
        if reason:
            self.assertRegex(lines[0], reason)
        return lines[0]

    def advance(self, c, dur):
        r = c.ctl_raw("clock", "advance", dur)
        self.assertEqual(r.returncode, 0, "clock advance %s: %s" % (dur, r.stderr.strip()))

    def show(self, c, incident_id):
        return c.ctl("show", str(incident_id))

    def timeline(self, c, incident_id):
        doc = c.ctl("timeline", str(incident_id))
        self.assertEqual(doc["incident"]["id"], incident_id)
        for t in doc["timeline"]:
            self.assertEqual(set(t), set(TIMELINE_KEYS))
            self.assertEqual(t["incident"], incident_id)
        seqs = [t["log_seq"] for t in doc["timeline"]]
        self.assertEqual(seqs, sorted(seqs), "timeline out of log order")
        return doc

    def audit(self, c):
        records, frm = [], 1
        while True:
            r = c.ctl_raw("--json", "audit", "--from", str(frm))
            if r.returncode != 0:
                raise RuntimeError("tocsinctl audit: exit %d: %s" % (r.returncode,
                                                                     r.stderr.strip()))
            page = json.loads(r.stdout)
            records += page
            if not page or "more records follow" not in r.stderr:
                return records
            frm = page[-1]["seq"] + 1

    # ---- the tests --------------------------------------------------------

    def test_declaration_by_policy(self):
        c = self.start_coordinator(yaml_clock=True)
        a, inc = self.outage(c)
        iid = inc["id"]
        self.assertEqual(inc["service"], "frontend")
        self.assertFalse(inc["declared"], "a check alone raises an alert, not an incident")
        self.assertIsNone(inc["severity"])
        self.assertIsNone(inc["declared_at"])
        self.assertEqual(inc["users"], 40, "users_per_host x one failing host")
        self.assertFalse(inc["major"])

        # Not yet: the deadline is 15 minutes after opening.
        self.advance(c, "5m")
        self.assertFalse(self.show(c, iid)["declared"])
        self.assertEqual(kinds(self.timeline(c, iid)["timeline"]), ["opened"])

        self.advance(c, "11m")
        inc = self.wait_until(lambda: (lambda i: i if i["declared"] else None)(self.show(c, iid)),
                              what="the incident declared by policy")
        self.assertTrue(inc["declared"])
        self.assertEqual(inc["severity"], 3, "40 of 1000 users (4%) is SEV-3")
        self.assertFalse(inc["major"])
        self.assertEqual(inc["state"], "triggered", "declaring is not acknowledging")
        self.assertIsNotNone(inc["declared_at"])
        self.assertGreaterEqual(parse_time(inc["declared_at"]) - parse_time(inc["opened_at"]),
                                datetime.timedelta(minutes=15))

        doc = self.timeline(c, iid)
        tl = doc["timeline"]
        # Declared, and announced to staff by tocsin in the same record
        # (policy.internal_announce_severities).
        self.assertEqual(kinds(tl), ["opened", "declared", "update"])
        self.assertEqual(tl[0]["actor"], "web-01")
        self.assertEqual(tl[1]["actor"], "tocsin")
        self.assertEqual(tl[2]["actor"], "tocsin")
        self.assertEqual(tl[2]["log_seq"], tl[1]["log_seq"])
        self.assertIn("internal update 1 published by tocsin", tl[2]["text"])
        self.assertRegex(tl[1]["text"], r"^declared by policy: 40 users affected after \d+ min, "
                                        r"SEV-3$")
        self.assertEqual(tl[1]["time"], inc["declared_at"])
        self.assertEqual(doc["incident"]["declared"], True)

        # The declaration is a TimerFired record in the log, stored once.
        timers = [r for r in c.log() if r["kind"] == "timer"]
        self.assertEqual(len(timers), 1)
        self.assertEqual((timers[0]["incident"], timers[0]["timer"]), (iid, "declare"))
        self.assertEqual(timers[0]["seq"], tl[1]["log_seq"])
        # Moving the clock further does not declare it again.
        self.advance(c, "30m")
        self.assertEqual(kinds(self.timeline(c, iid)["timeline"]), ["opened", "declared", "update"])
        self.assertEqual(len([r for r in c.log() if r["kind"] == "timer"]), 1)

        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)

    def test_not_declared_below_threshold(self):
        c = self.start_coordinator()
        a, inc = self.outage(c, service="batch", host="worker-01")
        iid = inc["id"]
        self.assertEqual(inc["users"], 0, "no users config, no users perfdata")
        self.assertFalse(inc["declared"])

        self.advance(c, "16m")
        tl = self.wait_until(lambda: (lambda t: t if "policy" in kinds(t) else None)(
            self.timeline(c, iid)["timeline"]), what="the policy timeline entry")
        self.assertEqual(kinds(tl), ["opened", "policy"])
        self.assertEqual(tl[1]["actor"], "tocsin")
        self.assertIn("not declared", tl[1]["text"])
        self.assertIn("0 users", tl[1]["text"])
        inc = self.show(c, iid)
        self.assertFalse(inc["declared"])
        self.assertIsNone(inc["severity"])
        self.assertIsNone(inc["declared_at"])

        # An operator reports the impact: the pending declaration completes
        # at once, and with no total known the higher candidate, SEV-2.
        inc = self.act(c, "users", iid, 50)
        self.assertEqual(inc["users"], 50)
        self.assertTrue(inc["declared"])
        self.assertEqual(inc["severity"], 2)
        self.assertTrue(inc["major"])
        self.assertIsNotNone(inc["declared_at"])
        self.assertEqual(self.show(c, iid)["declared"], True)

        tl = self.timeline(c, iid)["timeline"]
        self.assertEqual(kinds(tl), ["opened", "policy", "users", "declared", "update"])
        self.assertEqual([t["actor"] for t in tl[2:]], ["plaintext", "tocsin", "tocsin"])
        self.assertEqual(tl[2]["log_seq"], tl[3]["log_seq"],
                         "the declaration comes from the users action's record")
        self.assertRegex(tl[3]["text"], r"50 users affected .*SEV-2")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)

    def test_lifecycle_and_refusals(self):
        c = self.start_coordinator()
        a, inc = self.outage(c)
        iid = inc["id"]
        expected = [("opened", "web-01")]

        inc = self.act(c, "ack", iid, "-m", "looking")
        expected.append(("ack", "plaintext"))
        self.assertEqual(inc["state"], "investigating")
        self.assertIsNotNone(inc["acknowledged_at"])

        before = self.show(c, iid)
        self.refused(c, "ack", iid, reason="already acknowledged")
        self.assertEqual(self.show(c, iid), before, "a refused action changes nothing")

        inc = self.act(c, "state", iid, "identified")
        expected.append(("state", "plaintext"))
        self.assertEqual(inc["state"], "identified")
        self.assertEqual(inc["acknowledged_at"], before["acknowledged_at"])

        before = self.show(c, iid)
        self.refused(c, "state", iid, "triggered", reason="back to triggered")
        self.refused(c, "state", iid, "resolved", reason="use resolve")
        self.refused(c, "state", iid, "identified", reason="already identified")
        self.refused(c, "state", iid, "sleeping")
        for bad in (7, 0, 6, "x"):  # usage errors: exit 2, nothing sent
            r = c.ctl_raw("sev", str(iid), str(bad))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("1 to 5", r.stderr)
        self.refused(c, "assign", iid, "king", "bob", reason="roles: commander")
        self.refused(c, "undeclare", iid, reason="already not declared")
        self.refused(c, "reopen", iid, reason="not resolved")
        self.refused(c, "ack", 999, reason="no incident 999")
        self.assertEqual(self.show(c, iid), before, "refused actions change nothing")

        inc = self.act(c, "state", iid, "monitoring")
        expected.append(("state", "plaintext"))
        self.assertEqual(inc["state"], "monitoring")

        inc = self.act(c, "assign", iid, "commander", "alice")
        expected.append(("assign", "plaintext"))
        self.assertEqual(inc["roles"], {"commander": "alice"})
        inc = self.act(c, "assign", iid, "scribe", "bob")
        expected.append(("assign", "plaintext"))
        self.assertEqual(inc["roles"], {"commander": "alice", "scribe": "bob"})

        inc = self.act(c, "sev", iid, 1)
        expected.append(("sev", "plaintext"))
        self.assertEqual(inc["severity"], 1)
        self.assertTrue(inc["major"])

        inc = self.act(c, "note", iid, "root", "cause:", "bad", "deploy")
        expected.append(("note", "plaintext"))
        self.assertEqual(inc["state"], "monitoring")

        # web-01 still fails: a resolve would silence it, so it is refused
        # with the reason; --force resolves, and what still fails is a new
        # incident at once.
        before = self.show(c, iid)
        self.refused(c, "resolve", iid, reason=r"1 check of frontend still failing \(on web-01\)"
                                               r".*--force")
        self.assertEqual(self.show(c, iid), before)
        inc = self.act(c, "resolve", iid, "--force")
        expected.append(("resolve", "plaintext"))
        self.assertEqual(inc["state"], "resolved")
        self.assertEqual(inc["severity"], 1, "a resolved incident keeps its severity")
        self.assertEqual(inc["resolved_failing"], 1)
        self.assertIsNotNone(inc["resolved_at"])
        alert = c.incidents()
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert[0]["state"], "triggered")
        self.assertIn("still failing when incident %d was resolved by hand" % iid,
                      alert[0]["summary"])
        nid = alert[0]["id"]

        before = self.show(c, iid)
        self.refused(c, "resolve", iid, reason="resolved")
        self.refused(c, "ack", iid, reason="resolved")
        self.refused(c, "note", iid, "-m", "")  # an empty note
        self.refused(c, "reopen", iid, reason="already has open incident %d" % nid)
        self.assertEqual(self.show(c, iid), before)

        # The service comes back: the new incident resolves by itself, and
        # only it, the newest, can be reopened.
        self.down.start()
        self.wait_until(lambda: self.show(c, nid)["state"] == "resolved",
                        what="the alert resolved by its check")
        self.refused(c, "reopen", iid,
                     reason="incident %d of frontend resolved after incident %d" % (nid, iid))
        inc = self.act(c, "reopen", nid)
        self.assertEqual(inc["state"], "investigating")
        self.assertIsNone(inc["resolved_at"])

        inc = self.act(c, "resolve", nid, "-m", "fixed for good")
        self.assertEqual(inc["state"], "resolved")
        self.assertIn("fixed for good",
                      [t for t in self.timeline(c, nid)["timeline"]
                       if t["kind"] == "resolve"][0]["text"])

        # Outside the reopen window (1h) a reopen is refused.
        self.advance(c, "2h")
        before = self.show(c, nid)
        self.refused(c, "reopen", nid, reason="reopen window")
        self.assertEqual(self.show(c, nid), before)

        doc = self.timeline(c, iid)
        tl = doc["timeline"]
        self.assertEqual([(t["kind"], t["actor"]) for t in tl], expected)
        seqs = [t["log_seq"] for t in tl]
        self.assertEqual(len(seqs), len(set(seqs)), "one log record per action here")
        self.assertEqual(doc["incident"]["state"], "resolved")
        by_kind = {}
        for t in tl:
            by_kind.setdefault(t["kind"], []).append(t["text"])
        self.assertIn("looking", by_kind["ack"][0])
        self.assertEqual(by_kind["note"], ["root cause: bad deploy"])
        self.assertIn("alice is commander", by_kind["assign"][0])
        self.assertIn("SEV-1", by_kind["sev"][0])
        self.assertIn("with --force while 1 check still failed", by_kind["resolve"][0])
        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)

    def test_same_timeline_after_kill9(self):
        c = self.start_coordinator()
        a, inc = self.outage(c)
        iid = inc["id"]
        self.act(c, "ack", iid)
        # Ten minutes on; the note's record carries the moved clock, which
        # is what the restarted coordinator resumes from.
        self.advance(c, "10m")
        self.act(c, "note", iid, "before", "the", "crash")
        before = self.timeline(c, iid)
        self.assertEqual(kinds(before["timeline"]), ["opened", "ack", "note"])
        self.assertFalse(before["incident"]["declared"])
        incidents_before = c.incidents(all=True)

        c.kill9()
        c.start()

        after = self.timeline(c, iid)
        self.assertEqual(after["timeline"], before["timeline"])
        self.assertEqual(after["incident"], before["incident"])
        self.assertEqual(c.incidents(all=True), incidents_before)

        # The deadline (opened + 15m) passes only with these six minutes.
        self.advance(c, "6m")
        self.act(c, "note", iid, "after", "the", "crash")
        inc = self.act(c, "state", iid, "identified")
        self.assertTrue(inc["declared"])
        self.assertEqual(inc["severity"], 3)
        self.assertEqual(inc["state"], "identified")

        final = self.timeline(c, iid)["timeline"]
        n = len(before["timeline"])
        self.assertEqual(final[:n], before["timeline"], "entries before the crash unchanged")
        # tocsin announces the declaration and the new state to staff.
        self.assertEqual(kinds(final[n:]), ["declared", "update", "note", "state", "update"])
        self.assertEqual([t["actor"] for t in final[n:]],
                         ["tocsin", "tocsin", "plaintext", "plaintext", "tocsin"])
        self.assertGreater(final[n]["log_seq"], before["timeline"][-1]["log_seq"])
        keys = [(t["log_seq"], t["kind"]) for t in final]
        self.assertEqual(len(keys), len(set(keys)), "duplicate timeline entries")
        self.assertEqual(kinds(final).count("declared"), 1)
        self.assertEqual(final[n + 2]["text"], "after the crash")

        # A second crash: replay must not fire the deadline again, and the
        # clock moving on afterwards finds nothing left to do.
        incidents_final = c.incidents(all=True)
        c.kill9()
        c.start()
        self.advance(c, "1m")
        self.assertEqual(self.timeline(c, iid)["timeline"], final)
        self.assertEqual(c.incidents(all=True), incidents_final)
        log = c.log()
        self.assert_contiguous([r["seq"] for r in log], what="log seq")
        timers = [r for r in log if r["kind"] == "timer"]
        self.assertEqual(len(timers), 1, "the deadline fired exactly once")
        self.assertEqual(timers[0]["seq"], final[n]["log_seq"])
        self.assertNotRegex(c.logs(), r"replay produced \d+ broadcasts but")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)

    def test_undeclare_after_policy_declaration_sticks(self):
        """KNOWN BUG (expected failure until fixed): once the declaration
        deadline has passed with enough users affected, `undeclare` succeeds
        (exit 0) but the same record declares the incident again by policy
        (s_apply_action calls s_maybe_declare after every action, and
        declare_evaluated stays true), so an operator can never withdraw a
        policy declaration. Remove the decorator when fixed."""
        c = self.start_coordinator()
        a, inc = self.outage(c)
        iid = inc["id"]
        self.advance(c, "16m")
        self.assertTrue(self.show(c, iid)["declared"])
        inc = self.act(c, "undeclare", iid)
        tl = self.timeline(c, iid)["timeline"]
        a.stop()
        c.stop()
        self.assertEqual(kinds(tl)[-1], "undeclare",
                         "the withdrawal is undone at once: %s"
                         % [(t["log_seq"], t["actor"], t["kind"]) for t in tl])
        self.assertFalse(inc["declared"])

    def test_actions_are_audited_and_logged(self):
        c = self.start_coordinator()
        a, inc = self.outage(c)
        iid = inc["id"]
        actions = [
            ("ack", [], "first responder"),
            ("state", ["identified"], ""),
            ("assign", ["commander", "alice"], ""),
            ("users", ["120"], ""),
            ("declare", [], "customers affected"),
            ("sev", ["2"], ""),
            ("security", [], ""),
            ("note", [], "rotating keys"),
            ("resolve", ["--force"], ""),
        ]
        for action, args, msg in actions:
            argv = [action, iid] + args
            if action == "note":
                argv += msg.split()
            elif msg:
                argv += ["-m", msg]
            self.act(c, *argv)
        self.refused(c, "ack", iid)  # refused: not logged

        log = [r for r in c.log() if r["kind"] == "operator_action"]
        self.assertEqual([r["action"] for r in log], [x[0] for x in actions],
                         "every accepted action is logged once, in order; refused ones not")
        for rec, (action, args, msg) in zip(log, actions):
            self.assertEqual(rec["actor"], "plaintext")
            self.assertEqual(rec["incident"], iid)
            # An assignment is a page: the coordinator adds how long it
            # waits for acknowledgement (5 min without a roster).
            want_args = args + ["300000"] if action == "assign" else args
            want_args = ["force" if x == "--force" else x for x in want_args]
            self.assertEqual(rec["args"], want_args)
            self.assertEqual(rec["message"], msg)
            self.assertEqual(rec["sender"], "coordinator")

        # The timeline points at exactly those records.
        tl = self.timeline(c, iid)["timeline"]
        op = [t for t in tl if t["actor"] == "plaintext"]
        self.assertEqual([t["kind"] for t in op], [x[0] for x in actions])
        self.assertEqual([t["log_seq"] for t in op], [r["seq"] for r in log])

        # The audit trail has every request, accepted or refused.
        want = [x[0] for x in actions] + ["ack"]

        def audited():
            recs = [r for r in self.audit(c) if r["action"] in set(want)]
            return recs if len(recs) >= len(want) else None
        recs = self.wait_until(audited, what="the actions in the audit trail")
        self.assertEqual([r["action"] for r in recs], want)
        for i, (r, action) in enumerate(zip(recs, want)):
            self.assertEqual(r["actor"], "plaintext")
            refused = i == len(want) - 1  # the second ack
            self.assertEqual(r["allowed"], not refused, r)
            if refused:
                self.assertIn("refused: ", r["detail"])
            self.assertTrue(re.match(r"^%d\b" % iid, r["detail"]),
                            "audit detail %r names the incident" % r["detail"])
        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)


if __name__ == "__main__":
    unittest.main()
