"""Host liveness: an agent that dies is reported down after the configured
number of missed heartbeats, and up again when it comes back; a healthy
agent next to it is not affected; a coordinator that does not run for a
while (paused, or stalled on a slow disk) does not count that time as its
hosts' silence."""

import signal
import time
import unittest

import tocsin_harness as h


class HostDownTest(h.TocsinTestCase):

    def test_killed_agent_goes_down_and_comes_back(self):
        svc = self.service()
        c = self.coordinator(missed_heartbeats=3).start()
        sub = c.subscribe(frm=1, topic="host.")
        checks = [h.tcp_check("frontend-tcp", "frontend", svc.target)]
        a = self.agent("web-01", c.agents_ep, checks, heartbeat="300ms").start()
        # The neighbour that must stay up gets a 3 s window: an agent whose
        # loop stalls on its spool's fsync for longer than its window is
        # rightly reported down, and on a loaded machine 900 ms is too short.
        b = self.agent("web-02", c.agents_ep, checks, heartbeat="1s").start()

        def host_is(host, up):
            def pred():
                info = c.host(host)
                return info if info is not None and info["up"] is up else None
            return pred

        for host, heartbeat_ms in (("web-01", 300), ("web-02", 1000)):
            self.wait_lines(sub, lambda l, host=host: l["topic"] == "host.up"
                            and l["host"] == host, "host.up for %s" % host)
            info = self.wait_until(host_is(host, True), what="%s up in status" % host)
            self.assertEqual(info["heartbeat_ms"], heartbeat_ms)

        a.kill9()
        down = self.wait_lines(sub, lambda l: l["topic"] == "host.down"
                               and l["host"] == "web-01", "host.down for web-01")
        self.wait_until(host_is("web-01", False), what="web-01 down in status")
        self.assertTrue(c.host("web-02")["up"], "the live agent must stay up")

        a.start()
        up = self.wait_lines(sub, lambda l: l["topic"] == "host.up" and l["host"] == "web-01"
                             and l["seq"] > down["seq"], "host.up for web-01 again")
        self.assertGreater(up["seq"], down["seq"])
        self.wait_until(host_is("web-01", True), what="web-01 up in status again")

        # Only host.* lines were printed (--topic), in order, and web-02
        # never went down.
        lines = sub.json_lines()
        self.assertTrue(all(l["topic"].startswith("host.") for l in lines))
        seqs = [l["seq"] for l in lines]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertFalse([l for l in lines if l["host"] == "web-02" and l["topic"] == "host.down"])
        self.assertEqual([l["topic"] for l in lines if l["host"] == "web-01"],
                         ["host.up", "host.down", "host.up"])
        # The verdicts are in the log as coordinator records.
        statuses = [r for r in c.log() if r["kind"] == "host_status" and r["host"] == "web-01"]
        self.assertEqual([r["up"] for r in statuses], [True, False, True])
        self.assertTrue(all(r["sender"] == "coordinator" for r in statuses))
        # No incident came of it: the service itself never failed.
        self.assertEqual(c.incidents(all=True), [])
        for agent in (a, b):
            self.assertEqual(agent.stop(), 0)

    def test_paused_coordinator_marks_nobody_down(self):
        svc = self.service()
        c = self.coordinator(missed_heartbeats=3).start()
        sub = c.subscribe(frm=1, topic="host.")
        checks = [h.tcp_check("frontend-tcp", "frontend", svc.target)]
        agents = [self.agent(name, c.agents_ep, checks, heartbeat="300ms").start()
                  for name in ("web-01", "web-02")]
        for host in ("web-01", "web-02"):
            self.wait_lines(sub, lambda l, host=host: l["topic"] == "host.up"
                            and l["host"] == host, "host.up for %s" % host)
        # Three seconds without the coordinator: three times the hosts'
        # window, their heartbeats queued meanwhile.
        c.proc.signal(signal.SIGSTOP)
        time.sleep(3)
        c.proc.signal(signal.SIGCONT)
        self.wait_until(lambda: "did not run for" in c.proc.log(), what="the pause logged")
        time.sleep(1.5)  # five heartbeat intervals after it
        self.assertEqual([l for l in sub.json_lines() if l["topic"] == "host.down"], [])
        self.assertTrue(all(c.host(n)["up"] for n in ("web-01", "web-02")))
        # A host that does die is still caught.
        agents[0].kill9()
        self.wait_lines(sub, lambda l: l["topic"] == "host.down" and l["host"] == "web-01",
                        "host.down for web-01")
        self.assertTrue(c.host("web-02")["up"])
        self.assertEqual(agents[1].stop(), 0)


if __name__ == "__main__":
    unittest.main()
