"""tocsin-sub's sequence guarantees: a late joiner without --from prints only
new broadcasts; --from 1 prints the whole history then continues live; a
subscriber that outlives a coordinator crash fills whatever it missed and
never prints a broadcast twice."""

import signal
import time
import unittest

import tocsin_harness as h


def view(l):
    return (l["seq"], l["topic"], l.get("host"), l.get("incident", {}).get("id"))


class SubscriberGapTest(h.TocsinTestCase):

    def setup_system(self):
        self.svc = self.service()
        self.c = self.coordinator().start()
        self.a = self.agent("web-01", self.c.agents_ep,
                            [h.tcp_check("frontend-tcp", "frontend", self.svc.target)]).start()
        self.wait_until(lambda: h.has_result(self.c.log(), "web-01", "frontend-tcp", "OK"),
                        what="the first OK result")
        self.wait_until(lambda: self.c.status()["broadcast_seq"] >= 1, what="host.up")

    def outage(self, sub):
        """One outage and recovery; returns the resolved line seen by sub."""
        self.svc.stop()
        self.wait_until(lambda: self.c.incident_for("frontend"), what="an open incident")
        self.svc.start()
        self.wait_until(lambda: self.c.incidents() == [], what="the incident resolved")
        n = self.c.status()["broadcast_seq"]
        return self.wait_lines(sub, lambda l: l["seq"] == n, "broadcast %d on %s" % (n, sub.name))

    def test_late_joiner_then_history(self):
        self.setup_system()
        c = self.c
        self.outage(c.subscribe(name="early", frm=1))
        before = c.status()["broadcast_seq"]

        live = c.subscribe(name="live")  # no --from: new broadcasts only
        time.sleep(0.5)  # lets SUB connect; the assertions hold either way
        last = self.outage(live)
        self.assertEqual(last["topic"], "incident.resolved")
        lines = live.json_lines()
        seqs = [l["seq"] for l in lines]
        self.assertTrue(seqs, "the live subscriber printed nothing")
        self.assertGreater(seqs[0], before, "a subscriber without --from printed old news")
        self.assert_contiguous(seqs, first=seqs[0], what="live subscriber seq")

        n = c.status()["broadcast_seq"]
        hist = c.subscribe(name="history", frm=1, count=n)
        self.assertEqual(hist.wait(), 0)
        all_lines = hist.json_lines()
        self.assert_contiguous([l["seq"] for l in all_lines], what="--from 1")
        self.assertEqual(len(all_lines), n)
        by_seq = {l["seq"]: view(l) for l in all_lines}
        self.assertEqual([view(l) for l in lines], [by_seq[s] for s in seqs])

        # --from in the middle starts there.
        mid = c.subscribe(name="mid", frm=before + 1, count=n - before)
        self.assertEqual(mid.wait(), 0)
        self.assertEqual([l["seq"] for l in mid.json_lines()], list(range(before + 1, n + 1)))

        # --from beyond the end waits for the future, then continues live.
        future = c.subscribe(name="future", frm=n + 1, count=1)
        time.sleep(0.5)
        self.assertEqual(future.stdout_lines(), [])
        self.svc.stop()
        line = self.wait_lines(future, lambda l: True, "the next broadcast")
        self.assertEqual((line["seq"], line["topic"]), (n + 1, "incident.opened"))
        self.assertEqual(future.wait(), 0)

    def test_subscriber_survives_coordinator_crash(self):
        self.setup_system()
        c = self.c
        sub = c.subscribe(frm=1)
        self.outage(sub)
        for round_ in range(2):
            # While the coordinator is down the service changes; the agent
            # spools the change and delivers it the moment the coordinator
            # is back, racing the subscriber's reconnection.
            seen = c.status()["broadcast_seq"]
            c.kill9()
            if round_ == 0:
                self.svc.stop()
            else:
                self.svc.start()
            c.start()
            want = "incident.opened" if round_ == 0 else "incident.resolved"
            self.wait_until(lambda: c.status()["broadcast_seq"] > seen,
                            what="the coordinator's %s" % want)
            self.wait_lines(sub, lambda l, want=want, seen=seen: l["topic"] == want
                            and l["seq"] > seen,
                            "tocsin-sub to print the %s broadcast after restart %d"
                            % (want, round_ + 1))
        self.assert_same_as_history(sub)

    def test_paused_subscriber_misses_nothing(self):
        """The same race made deterministic: the subscriber is stopped
        (SIGSTOP) while the coordinator restarts and publishes, so the
        broadcast goes out before it has reconnected. Nothing else is
        published afterwards; it must still print that broadcast."""
        self.setup_system()
        c = self.c
        sub = c.subscribe(frm=1)
        self.outage(sub)
        seen = c.status()["broadcast_seq"]
        sub.signal(signal.SIGSTOP)
        try:
            c.kill9()
            self.svc.stop()
            c.start()
            self.wait_until(lambda: c.status()["broadcast_seq"] > seen,
                            what="the coordinator's incident.opened")
        finally:
            sub.signal(signal.SIGCONT)
        self.wait_lines(sub, lambda l: l["topic"] == "incident.opened" and l["seq"] > seen,
                        "tocsin-sub to print the broadcast published while it was "
                        "reconnecting")
        self.assert_same_as_history(sub)

    def assert_same_as_history(self, sub):
        c = self.c
        n = c.status()["broadcast_seq"]
        self.wait_until(lambda: len(sub.json_lines()) >= n, what="all %d broadcasts" % n)
        lines = sub.json_lines()
        self.assert_contiguous([l["seq"] for l in lines], what="subscriber across crashes")
        self.assertEqual(len(lines), n)
        hist = c.subscribe(name="history", frm=1, count=n)
        self.assertEqual(hist.wait(), 0)
        self.assertEqual([view(l) for l in hist.json_lines()], [view(l) for l in lines])
        self.assertTrue(sub.alive(), "tocsin-sub must outlive coordinator restarts")


if __name__ == "__main__":
    unittest.main()
