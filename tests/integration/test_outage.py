"""An outage end to end: a TCP service goes down, the agent's check turns
hard CRITICAL, the coordinator opens an incident and broadcasts it; a second
agent failing on the same service joins that incident; the service comes
back and the incident resolves."""

import unittest

import tocsin_harness as h


class OutageTest(h.TocsinTestCase):

    def test_outage_opens_correlates_and_resolves(self):
        svc = self.service()
        c = self.coordinator().start()
        sub = c.subscribe(frm=1)
        check = h.tcp_check("frontend-tcp", "frontend", svc.target)
        a1 = self.agent("web-01", c.agents_ep, [check]).start()

        # The first hard state (OK) is reported and the host comes up.
        self.wait_until(lambda: h.has_result(c.log(), "web-01", "frontend-tcp", "OK"),
                        what="web-01's first OK result in the log")
        self.wait_lines(sub, lambda l: l["topic"] == "host.up" and l["host"] == "web-01",
                        "host.up for web-01")
        self.assertEqual(c.incidents(all=True), [], "an OK check opens nothing")

        # Outage.
        svc.stop()
        opened = self.wait_lines(sub, lambda l: l["topic"] == "incident.opened",
                                 "incident.opened on tocsin-sub")
        inc = opened["incident"]
        self.assertEqual(inc["service"], "frontend")
        self.assertEqual(inc["state"], "triggered")
        self.assertIsNone(inc["severity"])
        self.assertIn("time", opened)
        self.assertIn("web-01", inc["hosts"])
        incident_id = inc["id"]

        open_now = self.wait_until(lambda: c.incidents(), what="an open incident")
        self.assertEqual(len(open_now), 1)
        i = open_now[0]
        self.assertEqual((i["id"], i["service"], i["state"]), (incident_id, "frontend",
                                                                "triggered"))
        self.assertFalse(i["declared"])
        self.assertIsNone(i["resolved_at"])
        self.assertTrue(i["opened_at"])
        self.assertEqual(i["hosts"], ["web-01"])
        self.assertEqual(i["affected_hosts"], 1)
        self.assertEqual(i["failing_checks"], 1)
        self.assertEqual(i["roles"], {})
        self.assertEqual(c.status()["open_incidents"], 1)
        self.assertEqual(c.ctl("show", str(incident_id))["id"], incident_id)

        # A second host failing on the same service joins the same incident.
        a2 = self.agent("web-02", c.agents_ep,
                        [h.tcp_check("frontend-tcp", "frontend", svc.target)]).start()

        def joined():
            inc = c.incident_for("frontend")
            return inc if inc and inc["affected_hosts"] == 2 else None
        i = self.wait_until(joined, what="web-02 joining the incident")
        self.assertEqual(i["id"], incident_id)
        self.assertEqual(i["hosts"], ["web-01", "web-02"])
        self.assertEqual(i["failing_checks"], 2)
        self.assertEqual(len(c.incidents()), 1, "one service, one incident")
        self.wait_lines(sub, lambda l: l["topic"] == "incident.updated"
                        and l["incident"]["id"] == incident_id
                        and l["incident"]["affected_hosts"] == 2,
                        "incident.updated with two hosts")

        # Recovery.
        svc.start()
        resolved = self.wait_lines(sub, lambda l: l["topic"] == "incident.resolved",
                                   "incident.resolved on tocsin-sub")
        self.assertEqual(resolved["incident"]["id"], incident_id)
        self.assertEqual(resolved["incident"]["state"], "resolved")
        self.assertEqual(c.incidents(), [])
        everything = c.incidents(all=True)
        self.assertEqual(len(everything), 1)
        r = everything[0]
        self.assertEqual((r["id"], r["service"], r["state"]), (incident_id, "frontend",
                                                                "resolved"))
        self.assertTrue(r["resolved_at"])
        self.assertGreaterEqual(r["resolved_at"], r["opened_at"])
        self.assertEqual(c.status()["open_incidents"], 0)

        # Both agents' results are in the log, each numbered 1, 2, 3 ...
        log = c.log()
        for agent_id in ("web-01", "web-02"):
            seqs = [r["sender_seq"] for r in h.check_results(log, agent_id)]
            self.assert_contiguous(seqs, what="%s's sender_seq" % agent_id)
            self.assertTrue(h.has_result(log, agent_id, "frontend-tcp", "CRITICAL"))
            self.assertTrue(h.has_result(log, agent_id, "frontend-tcp", "OK"))
        self.assert_contiguous([r["seq"] for r in log], what="log seq")

        # Every broadcast reached the subscriber once, in order.
        self.wait_until(lambda: len(sub.json_lines()) >= c.status()["broadcast_seq"],
                        what="tocsin-sub to print every broadcast")
        lines = sub.json_lines()
        self.assert_contiguous([l["seq"] for l in lines], what="tocsin-sub seq")
        topics = [l["topic"] for l in lines]
        self.assertEqual(topics.count("incident.opened"), 1)
        self.assertEqual(topics.count("incident.resolved"), 1)
        self.assertLess(topics.index("incident.opened"), topics.index("incident.resolved"))

        # A later failure opens a new incident.
        svc.stop()
        second = self.wait_lines(sub, lambda l: l["topic"] == "incident.opened"
                                 and l["incident"]["id"] != incident_id,
                                 "a second incident.opened")
        self.assertEqual(second["incident"]["service"], "frontend")
        self.assertGreater(second["incident"]["id"], incident_id)
        for agent in (a1, a2):
            self.assertEqual(agent.stop(), 0)
        self.assertEqual(c.stop(), 0)


if __name__ == "__main__":
    unittest.main()
