"""A big spooled backlog drains into a real coordinator without tripping its
limits, and afterwards every acknowledged event is in the log exactly once,
in order, with the time it was observed: nothing lost, nothing doubled.

The backlog is written by tests/tools/spool_fill through the real spool
module: event i is a check result "fill i" observed at time_base + i ms."""

import datetime
import json
import os
import re
import sys
import time
import unittest

import tocsin_harness as h

FILL = "spool_fill"


def fill(tc, spool, agent_id, count, extra=()):
    r = h.run([h.binary(FILL), "--dir", spool, "--id", agent_id, "--count", str(count)]
              + list(extra))
    tc.assertEqual(r.returncode, 0, r.stderr)
    return json.loads(r.stdout)


def whole_log(c):
    """Every log record, in pages of the API's maximum."""
    records, frm = [], 1
    while True:
        r = c.ctl_raw("--json", "log", "--from", str(frm), "--limit", "10000", timeout="10s")
        if r.returncode != 0:
            raise RuntimeError("tocsinctl log: %s" % r.stderr.strip())
        page = json.loads(r.stdout)
        records += page
        if not page or "more records follow" not in r.stderr:
            return records
        frm = page[-1]["seq"] + 1


def epoch_ms(rfc3339):
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


class BacklogTest(h.TocsinTestCase):
    needs = h.TocsinTestCase.needs + (FILL,)

    def drain(self, c, count, agent_id="web-01"):
        """Prefills `count` events, starts the agent and waits until the
        coordinator stored them all; returns (fill info, seconds)."""
        a = self.agent(agent_id, c.agents_ep, [], heartbeat="1s")
        info = fill(self, a.spool, agent_id, count)
        self.assertEqual((info["first"], info["last"]), (1, count))
        t0 = time.monotonic()
        a.start()
        pruned = re.compile(r"ack %d: \d+ events delivered" % count)
        # Generous: the pace alone takes count / 4000 s. Done when the
        # agent deleted the last event on the coordinator's Ack.
        self.wait_until(lambda: pruned.search(a.proc.log()), timeout=120 + count / 1000,
                        interval=0.25, what="the Ack of seq %d to empty the spool" % count)
        seconds = time.monotonic() - t0
        self.assertGreaterEqual(c.status()["log_seq"], count)
        self.assertEqual(a.stop(), 0)
        self.assertRegex(a.proc.log().splitlines()[-1], r"\b0 events spooled")
        return a, info, seconds

    def assert_exactly_once(self, records, agent_id, info):
        events = [r for r in records if r["sender"] == agent_id
                  and r["kind"] in ("check_result", "events_lost")]
        self.assertFalse([r for r in events if r["kind"] == "events_lost"], "nothing was lost")
        seqs = [r["sender_seq"] for r in events]
        self.assertEqual(len(seqs), info["count"])
        self.assert_contiguous(seqs, what="%s's events in the log" % agent_id)
        for r in events:
            i = r["sender_seq"] - 1
            if r["output"] != "fill %d" % i:
                self.fail("seq %d holds %r, not event %d" % (r["sender_seq"], r["output"], i))
            # The envelope's time is when the event was observed, kept
            # through the spool and the resends.
            if epoch_ms(r["sent_at"]) != info["time_base"] + i:
                self.fail("seq %d sent_at %s, observed at %d" % (r["sender_seq"], r["sent_at"],
                                                                 info["time_base"] + i))

    def test_50000_events_drain_under_the_default_limits(self):
        n = 50000
        c = self.coordinator().start()  # default rate_limit: 5000/s per peer
        a, info, seconds = self.drain(c, n)
        st = c.status()
        self.assertEqual(st["throttled"], 0, "the agent's pace must stay under the limit")
        self.assertEqual(st["deferred"], 0, "nothing arrived out of order")
        self.assertEqual(st["duplicates"], 0)
        self.assert_exactly_once(whole_log(c), "web-01", info)
        sys.stderr.write("\n[backlog] %d events drained in %.1f s: %.0f events/s\n"
                         % (n, seconds, n / seconds))

    def test_backlog_under_a_tight_rate_limit(self):
        n = 600
        cfg = os.path.join(self.tmp, "coordinator.yaml")
        with open(cfg, "w") as f:
            f.write("coordinator:\n  rate_limit: 100\n")
        c = self.coordinator(extra=["--config", cfg]).start()
        a, info, seconds = self.drain(c, n)
        st = c.status()
        # The limit was hit (the agent starts at its own pace), and
        # throttling delayed events without losing or doubling any.
        self.assertGreater(st["throttled"], 0)
        self.assert_exactly_once(whole_log(c), "web-01", info)
        self.assertIn("is throttling us", a.proc.log())
        sys.stderr.write("\n[backlog] %d events at rate_limit 100/s drained in %.1f s: "
                         "%.0f events/s\n" % (n, seconds, n / seconds))


if __name__ == "__main__":
    unittest.main()
