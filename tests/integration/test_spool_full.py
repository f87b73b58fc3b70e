"""A full spool never wedges the agent: while the coordinator is down and
the spool (agent.spool_max: 1MiB) is full, a check keeps changing; the
agent keeps running, says so in rate-limited lines, survives a kill -9, and
once the coordinator returns and drains the spool, the incident's timeline
says what was lost (events-lost), the check's latest state is right, and
new changes go through as before."""

import json
import re
import unittest
import urllib.request

import tocsin_harness as h

FILL = "spool_fill"


def add_agent_keys(agent, **keys):
    with open(agent.config) as f:
        text = f.read()
    extra = "".join("  %s: %s\n" % kv for kv in keys.items())
    with open(agent.config, "w") as f:
        f.write(text.replace("checks:\n", extra + "checks:\n", 1))


def metric(url, name):
    """The value of the unlabelled sample `name` on the agent's /metrics."""
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"(?m)^%s (\S+)$" % re.escape(name), text)
    return float(m.group(1)) if m else None


class SpoolFullTest(h.TocsinTestCase):
    needs = h.TocsinTestCase.needs + (FILL,)

    def changes(self, agent, state):
        """Hard changes to `state` this run of the agent logged."""
        return len(re.findall(r"frontend-tcp \(service frontend\): \S+ -> %s \(hard\)" % state,
                              agent.proc.log()))

    def flip(self, agent, svc, up):
        before = self.changes(agent, "OK" if up else "CRITICAL")
        svc.start() if up else svc.stop()
        self.wait_until(lambda: self.changes(agent, "OK" if up else "CRITICAL") > before,
                        what="the agent to see frontend %s" % ("up" if up else "down"))

    def test_full_spool_reports_what_it_left_out(self):
        svc = self.service(up=False)
        c = self.coordinator()  # down for now
        a = self.agent("web-01", c.agents_ep, [
            h.tcp_check("frontend-tcp", "frontend", svc.target, interval="100ms", retries=1)])
        add_agent_keys(a, spool_max="1MiB")

        # The outage is spooled: seq 1, CRITICAL.
        a.start()
        self.wait_until(lambda: re.search(r"-> CRITICAL \(hard\).*\[seq 1\]", a.proc.log()),
                        what="the first CRITICAL spooled as seq 1")
        self.assertEqual(a.stop(), 0)
        # Then the spool fills up to its limit (as a long outage of the
        # coordinator would, only faster).
        r = h.run([h.binary(FILL), "--dir", a.spool, "--id", "web-01", "--until-full",
                   "--spool-max", "1MiB"])
        self.assertEqual(r.returncode, 0, r.stderr)
        filled = json.loads(r.stdout)
        self.assertGreater(filled["count"], 1000)
        last_spooled = filled["last"]

        # Full: the check goes on changing, nothing more fits.
        a.start()
        self.wait_until(lambda: "is full (1 MiB)" in a.proc.log(), what="the spool-full line")
        self.flip(a, svc, up=True)
        self.flip(a, svc, up=False)
        # A crash while full loses nothing of the bookkeeping.
        a.kill9()
        mport = h.free_port()
        murl = "http://127.0.0.1:%d/metrics" % mport
        a.start(extra=["--metrics", "127.0.0.1:%d" % mport])
        self.wait_until(lambda: self.changes(a, "CRITICAL") >= 1,
                        what="the restarted agent's first state")
        self.flip(a, svc, up=True)
        self.flip(a, svc, up=False)
        self.flip(a, svc, up=True)
        log = a.logs()
        left_out = len(re.findall(r"\(hard\): .*\[not spooled", log))
        self.assertGreaterEqual(left_out, 5)
        self.assertNotIn("[seq %d]" % (last_spooled + 1), log, "nothing fits a full spool")
        # Rate-limited: a line for the condition, not one per event.
        full_lines = len(re.findall(r"spool \S+ is full \(1 MiB\)", log))
        self.assertGreaterEqual(full_lines, 1)
        self.assertLess(full_lines, left_out)
        self.assertNotIn("ERROR", a.proc.log())
        # The metrics say so too: what this run left out, and that some
        # transitions wait to be reported.
        self.wait_until(lambda: metric(murl, "tocsin_agent_coordinator_connected") == 0,
                        what="the agent's metrics")
        this_run = len(re.findall(r"\(hard\): .*\[not spooled", a.proc.log()))
        self.assertGreaterEqual(this_run, 3)
        self.assertEqual(metric(murl, "tocsin_agent_lost_transitions_total"), this_run)
        # (A repeat of the state kept from before the crash is no change,
        # so this is not simply the sum of the "not spooled" lines.)
        self.assertGreaterEqual(metric(murl, "tocsin_agent_lost_transitions_pending"), 1)
        self.assertEqual(metric(murl, "tocsin_agent_last_seq"), last_spooled)
        self.assertGreater(metric(murl, "tocsin_agent_spool_events"), 1000)

        # The coordinator returns and drains the spool.
        c.start()

        def lost_record():
            recs = [r for r in c.log() if r["kind"] == "events_lost"]
            return recs or None
        lost = self.wait_until(lost_record, timeout=120, interval=0.5,
                               what="an events_lost record in the log")[0]
        self.assertEqual((lost["sender"], lost["check"], lost["service"], lost["host"]),
                         ("web-01", "frontend-tcp", "frontend", "web-01"))
        self.assertEqual(lost["sender_seq"], last_spooled + 1)
        self.assertEqual(lost["reason"], "spool full (1 MiB)")
        self.assertGreaterEqual(lost["transitions"], 1)
        self.assertLessEqual(lost["first"], lost["last"])

        # The outage that opened with seq 1 has the loss in its timeline,
        # and the check's latest state (OK) resolved it.
        inc = self.wait_until(lambda: (lambda i: i if i and i["state"] == "resolved" else None)(
            c.incident_for("frontend", all=True)), what="the frontend incident resolved")
        tl = c.ctl("timeline", str(inc["id"]))["timeline"]
        entries = [t for t in tl if t["kind"] == "events-lost"]
        self.assertEqual(len(entries), 1, tl)
        self.assertIn("were lost on the agent (spool full (1 MiB))", entries[0]["text"])
        records = c.log()
        results = h.check_results(records, "web-01")
        mine = [r for r in results if r["check"] == "frontend-tcp"]
        self.assertEqual([r["state"] for r in mine], ["CRITICAL", "OK"])
        self.assertEqual(mine[1]["sender_seq"], last_spooled + 2)
        seqs = [r["sender_seq"] for r in records
                if r["sender"] == "web-01" and r["kind"] in ("check_result", "events_lost")]
        self.assert_contiguous(seqs, what="web-01's events")

        # Normal again: the next change is spooled and delivered at once.
        svc.stop()
        self.wait_until(lambda: (lambda i: i if i and i["state"] == "triggered" else None)(
            c.incident_for("frontend")), what="a new incident for the next outage")
        self.assertRegex(a.proc.log(), r"-> CRITICAL \(hard\).*\[seq %d\]" % (last_spooled + 3))
        self.wait_until(lambda: "has room again" in a.proc.log(), what="the recovery line")
        self.wait_until(lambda: metric(murl, "tocsin_agent_lost_transitions_pending") == 0
                        and metric(murl, "tocsin_agent_unacknowledged_events") == 0,
                        what="the metrics showing the loss reported and everything acknowledged")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main()
