"""kill -9 of the coordinator loses nothing: after a restart on the same data
directory the incidents are the same, every stored (hence acknowledged)
event is still in the log exactly once, and the stored broadcasts replay as
1..N without gaps or duplicates. A second kill while the agent has events in
flight must not lose or double any of them either."""

import random
import time
import unittest

import tocsin_harness as h

INCIDENT_KEYS = ("id", "service", "state", "opened_at", "resolved_at", "hosts",
                 "affected_hosts", "failing_checks", "declared", "severity")
RECORD_KEYS = ("seq", "sender", "sender_seq", "kind")


def incident_view(incs):
    return [{k: i[k] for k in INCIDENT_KEYS} for i in incs]


def record_view(records):
    return [{k: r[k] for k in RECORD_KEYS} for r in records]


def bcast_view(lines):
    return [(l["seq"], l["topic"], l["log_seq"], l.get("incident", {}).get("id"),
             l.get("incident", {}).get("state"), l.get("host")) for l in lines]


class CrashRestartTest(h.TocsinTestCase):

    def assert_log_sound(self, log, agent_id):
        self.assert_contiguous([r["seq"] for r in log], what="log seq")
        keys = h.event_keys(log)
        self.assertEqual(len(keys), len(set(keys)), "an event is stored twice")
        seqs = [s for (sender, s) in keys if sender == agent_id]
        self.assert_contiguous(seqs, what="%s's events in the log" % agent_id)

    def test_kill9_and_restart(self):
        frontend = self.service()
        api = self.service()
        c = self.coordinator()
        c.start()
        sub = c.subscribe(frm=1)
        a = self.agent("web-01", c.agents_ep, [
            h.tcp_check("frontend-tcp", "frontend", frontend.target),
            h.tcp_check("api-tcp", "api", api.target),
        ]).start()
        self.wait_until(lambda: h.has_result(c.log(), "web-01", "api-tcp", "OK")
                        and h.has_result(c.log(), "web-01", "frontend-tcp", "OK"),
                        what="both first OK results")

        def incident_state(service, state):
            def pred():
                inc = c.incident_for(service, all=True)
                return inc if inc and inc["state"] == state else None
            return pred

        # Incident 1: frontend fails and recovers. 2: api fails and stays
        # down. 3: frontend fails again and stays down.
        frontend.stop()
        first = self.wait_until(incident_state("frontend", "triggered"), what="incident 1")
        frontend.start()
        self.wait_until(incident_state("frontend", "resolved"), what="incident 1 resolved")
        api.stop()
        self.wait_until(incident_state("api", "triggered"), what="incident 2")
        frontend.stop()
        third = self.wait_until(
            lambda: [i for i in c.incidents() if i["service"] == "frontend"],
            what="incident 3")[0]
        self.assertGreater(third["id"], first["id"])

        # Quiet now: the services hold still, so the agent has nothing more
        # to say, and what the log holds was committed (and acknowledged).
        before_incidents = c.incidents(all=True)
        self.assertEqual(len(before_incidents), 3)
        before_log = c.log()
        before_status = c.status()
        self.assert_log_sound(before_log, "web-01")
        self.wait_until(lambda: len(sub.json_lines()) >= before_status["broadcast_seq"],
                        what="the subscriber to see every broadcast")
        before_bcasts = sub.json_lines()[:before_status["broadcast_seq"]]

        c.kill9()
        c.start()

        self.assertEqual(incident_view(c.incidents(all=True)), incident_view(before_incidents))
        after_log = c.log()
        self.assertEqual(record_view(after_log[:len(before_log)]), record_view(before_log),
                         "the log before the crash must survive it unchanged")
        self.assert_log_sound(after_log, "web-01")
        st = c.status()
        self.assertEqual(st["open_incidents"], before_status["open_incidents"])
        self.assertGreaterEqual(st["broadcast_seq"], before_status["broadcast_seq"])
        self.assertNotRegex(c.proc.log(), r"replay produced \d+ broadcasts but",
                            "replay must regenerate the stored broadcasts")

        # A new subscriber replays the stored broadcasts: 1..N, the same ones.
        n = before_status["broadcast_seq"]
        replay = c.subscribe(name="replay", frm=1, count=n)
        self.assertEqual(replay.wait(), 0)
        lines = replay.json_lines()
        self.assert_contiguous([l["seq"] for l in lines], what="replayed broadcasts")
        self.assertEqual(len(lines), n)
        self.assertEqual(bcast_view(lines), bcast_view(before_bcasts))

        # Second crash with events in flight: both services recover at once
        # and the coordinator dies at some point while the agent reports it.
        frontend.start()
        api.start()
        time.sleep(random.uniform(0.1, 0.6))
        c.kill9()
        c.start()
        self.wait_until(lambda: c.incidents() == [] and len(c.incidents(all=True)) == 3,
                        what="incidents 2 and 3 resolved after the second restart")
        final_log = c.log()
        self.assertEqual(record_view(final_log[:len(before_log)]), record_view(before_log))
        self.assert_log_sound(final_log, "web-01")
        self.assertTrue(h.has_result(final_log[len(before_log):], "web-01", "frontend-tcp", "OK"))
        self.assertTrue(h.has_result(final_log[len(before_log):], "web-01", "api-tcp", "OK"))
        final = c.incidents(all=True)
        self.assertEqual([(i["id"], i["service"]) for i in final],
                         [(i["id"], i["service"]) for i in before_incidents])
        self.assertTrue(all(i["state"] == "resolved" and i["resolved_at"] for i in final))

        n = c.status()["broadcast_seq"]
        replay2 = c.subscribe(name="replay", frm=1, count=n)
        self.assertEqual(replay2.wait(), 0)
        lines = replay2.json_lines()
        self.assert_contiguous([l["seq"] for l in lines], what="replayed broadcasts")
        self.assertEqual(bcast_view(lines[:len(before_bcasts)]), bcast_view(before_bcasts))
        self.assertEqual([l["topic"] for l in lines].count("incident.resolved"), 3)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(c.stop(), 0)


if __name__ == "__main__":
    unittest.main()
