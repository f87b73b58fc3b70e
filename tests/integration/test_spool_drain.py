"""The agent's spool: state changes detected while the coordinator is down
are kept on disk, survive a kill -9 of the agent, and arrive (once each, in
order) when the coordinator comes up."""

import os
import re
import unittest

import tocsin_harness as h

# The agent logs each hard state change as "... OLD -> NEW (hard) ...".
CRITICAL = re.compile(r"->\s*CRITICAL\b")
OK = re.compile(r"->\s*OK\b")


class SpoolDrainTest(h.TocsinTestCase):

    def spooled(self, agent, pattern, count=1):
        """Waits until this run of `agent` logged `count` hard changes
        matching pattern; the spool directory must exist by then."""
        self.wait_until(lambda: len(pattern.findall(agent.proc.log())) >= count,
                        what="the agent to detect %s" % pattern.pattern)
        self.assertTrue(os.path.isdir(agent.spool), "no spool directory %s" % agent.spool)
        self.assertTrue(os.listdir(agent.spool), "the spool directory is empty")

    def assert_delivered(self, c, agent_id, states):
        """The log holds exactly `states` from agent_id, as seqs 1..n."""
        def all_there():
            results = h.check_results(c.log(), agent_id)
            return results if len(results) >= len(states) else None
        results = self.wait_until(all_there, what="%d events from %s in the log"
                                  % (len(states), agent_id))
        self.assertEqual([r["state"] for r in results], states)
        self.assert_contiguous([r["sender_seq"] for r in results],
                               what="%s's events" % agent_id)
        return results

    def test_spool_drains_when_coordinator_starts(self):
        svc = self.service()
        c = self.coordinator()  # not started yet
        a = self.agent("web-01", c.agents_ep,
                       [h.tcp_check("frontend-tcp", "frontend", svc.target)]).start()
        self.spooled(a, OK)
        svc.stop()
        self.spooled(a, CRITICAL)

        c.start()
        sub = c.subscribe(frm=1)
        self.assert_delivered(c, "web-01", ["OK", "CRITICAL"])
        opened = self.wait_lines(sub, lambda l: l["topic"] == "incident.opened",
                                 "incident.opened from the drained spool")
        self.assertEqual(opened["incident"]["service"], "frontend")
        self.assertEqual([i["service"] for i in c.incidents()], ["frontend"])

        # Live again: a recovery now goes straight through.
        svc.start()
        self.wait_lines(sub, lambda l: l["topic"] == "incident.resolved",
                        "incident.resolved after the drain")
        self.assert_delivered(c, "web-01", ["OK", "CRITICAL", "OK"])
        # Nothing is left behind: the agent says so when it stops.
        self.assertEqual(a.stop(), 0)
        self.assertRegex(a.proc.log().splitlines()[-1], r"\b0 events spooled")

    def test_spool_survives_agent_kill9(self):
        svc = self.service(up=False)
        c = self.coordinator()  # not started yet
        a = self.agent("web-01", c.agents_ep,
                       [h.tcp_check("frontend-tcp", "frontend", svc.target)]).start()
        self.spooled(a, CRITICAL)
        a.kill9()

        # Restarted on the same spool, with the event still undelivered; the
        # service recovers while the coordinator is still away.
        a.start()
        svc.start()
        self.spooled(a, OK)
        a.kill9()
        a.start()
        self.spooled(a, OK)  # its first hard state after this start

        c.start()
        sub = c.subscribe(frm=1)
        results = self.assert_delivered(c, "web-01", ["CRITICAL", "OK", "OK"])
        self.assertTrue(all(r["check"] == "frontend-tcp" for r in results))
        self.wait_lines(sub, lambda l: l["topic"] == "incident.resolved",
                        "the spooled outage as an incident that opened and resolved")
        topics = [l["topic"] for l in sub.json_lines()]
        self.assertEqual([t for t in topics if t.startswith("incident.")],
                         ["incident.opened", "incident.resolved"])
        inc = c.incidents(all=True)
        self.assertEqual([(i["service"], i["state"]) for i in inc], [("frontend", "resolved")])
        self.assertEqual(c.status()["open_incidents"], 0)
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main()
