"""The coordinator's guarantees in the hours they matter (issue 9): a
backlog delivered late is dated when it happened; deadlines fire once, in
logical time, across clock jumps and restarts; a restart with a changed
policy leaves what already happened as it was.

Events come from a hand-made DEALER (test_sequence.Sender) so their
observation times can be set; the test clock moves time without sleeping."""

import datetime
import os
import subprocess
import time
import unittest

import tocsin_harness as h
from test_comms import CONFIG as COMMS_CONFIG
from test_sequence import Sender, check_result

MIN = 60 * 1000

POLICY = """\
policy:
  declare_after: 15m
services:
  svc:
    users_per_host: USERS
    total_users: 1000
"""


def ms(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


class RecoveryTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL)

    def config(self, text, name="coordinator"):
        path = os.path.join(self.tmp, name + ".yaml")
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        with open(path, "w") as f:
            f.write(text.replace("START", today))
        return path

    def ok(self, c, *args):
        r = c.ctl_raw(*args)
        self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (" ".join(args), r.stderr))
        return r

    def kinds(self, c, iid):
        return [t["kind"] for t in c.ctl("timeline", str(iid))["timeline"]]

    def test_backlog_is_dated_when_observed(self):
        """Two transitions observed an hour ago and half an hour ago, delivered
        now: the incident opened and resolved when they happened, lasted 30
        minutes, and its declaration deadline (15 min) fired in between."""
        path = self.config(POLICY.replace("USERS", "10"))
        c = self.coordinator(extra=["--config", path]).start()
        s = Sender(self, c.agents_ep, "late-01")
        t0 = int(time.time() * 1000) - 60 * MIN
        s.sock.send(check_result("late-01", 1, state=2, time_ms=t0))
        s.sock.send(check_result("late-01", 2, state=0, time_ms=t0 + 30 * MIN))
        s.until_acked(2, self)
        inc = c.incident_for("svc", all=True)
        self.assertEqual(inc["state"], "resolved")
        self.assertEqual(ms(inc["opened_at"]), t0)
        self.assertEqual(ms(inc["resolved_at"]), t0 + 30 * MIN)
        self.assertTrue(inc["declared"], "the outage lasted 30 min with 10 users")
        kinds = self.kinds(c, inc["id"])
        self.assertLess(kinds.index("declared"), kinds.index("resolved"), kinds)
        row = [x for x in c.ctl("report")["incidents"] if x["id"] == inc["id"]][0]
        self.assertEqual(row["ttr_ms"], 30 * MIN)
        # An event claiming to come from the future is dated now, and one
        # older than its sender's previous event is dated with that one.
        future = int(time.time() * 1000) + 3600 * 1000
        s.sock.send(check_result("late-01", 3, state=2, time_ms=future))
        s.until_acked(3, self)
        now = int(time.time() * 1000)
        inc = c.incident_for("svc")
        self.assertLessEqual(ms(inc["opened_at"]), now)
        self.assertGreater(ms(inc["opened_at"]), now - 60 * 1000)
        s.sock.send(check_result("late-01", 4, state=0, time_ms=t0))
        s.until_acked(4, self)
        resolved = c.ctl("show", str(inc["id"]))
        self.assertEqual(resolved["resolved_at"], inc["opened_at"])

    def test_restart_with_changed_policy_keeps_the_past(self):
        path = self.config(POLICY.replace("USERS", "100"))
        c = self.coordinator(extra=["--config", path, "--test-clock"]).start()
        s = Sender(self, c.agents_ep, "pol-01")
        s.send(1, state=2, service="svc")
        s.until_acked(1, self)
        iid = str(c.incident_for("svc")["id"])
        self.ok(c, "clock", "advance", "16m")
        self.wait_until(lambda: c.ctl("show", iid)["declared"], what="declared by policy")
        before = c.ctl("show", iid)
        self.assertIsNotNone(before["severity"])
        self.assertEqual(c.stop(), 0)
        # Now no host counts any users: under this policy the incident would
        # never have been declared. It was, and stays so.
        self.config(POLICY.replace("USERS", "0"))
        c.start()
        # The new configuration is in the log at start-up, before any
        # request is checked against it.
        self.assertEqual(c.log()[-1]["kind"], "config")
        after = c.ctl("show", iid)
        for field in ("declared", "severity", "users", "declared_at", "opened_at"):
            self.assertEqual(after[field], before[field], field)
        # An unrelated action changes nothing of that either.
        self.ok(c, "note", iid, "checking the dashboards")
        noted = c.ctl("show", iid)
        for field in ("declared", "severity", "users"):
            self.assertEqual(noted[field], before[field], field)
        configs = [r for r in c.log() if r["kind"] == "config"]
        self.assertEqual(len(configs), 2, configs)
        self.assertEqual(configs[0]["source"], path)
        # A third start with the same file records nothing new.
        self.assertEqual(c.stop(), 0)
        c.start()
        self.ok(c, "note", iid, "still fine")
        self.assertEqual(len([r for r in c.log() if r["kind"] == "config"]), 2)

    def test_clock_jump_of_a_day_reminds_once(self):
        """A public incident whose next external update is due: the clock
        jumps 25 hours; the liaison is reminded once, not once per interval
        that passed, and the next reminder is an interval after the jump."""
        path = self.config(COMMS_CONFIG)
        c = self.coordinator(extra=["--config", path, "--test-clock"]).start()
        s = Sender(self, c.agents_ep, "api-01")
        s.sock.send(check_result("api-01", 1, state=2, service="api", check="api-tcp"))
        s.until_acked(1, self)
        iid = str(c.incident_for("api")["id"])
        self.ok(c, "sev", iid, "1")
        self.ok(c, "declare", iid)
        self.ok(c, "clock", "advance", "25h")
        self.wait_until(lambda: "update-due" in self.kinds(c, iid), what="the reminder")
        # Let a few ticks pass: a storm would show up as more reminders.
        self.ok(c, "note", iid, "after the jump")
        time.sleep(1.0)
        self.assertEqual(self.kinds(c, iid).count("update-due"), 1)
        due = ms(c.ctl("show", iid)["next_update_due_at"])
        clock = ms(c.log()[-1]["time"])
        self.assertGreater(due, clock, "re-armed from now, not from the missed time")

    def test_clock_advance_survives_a_restart(self):
        path = self.config(POLICY.replace("USERS", "100"))
        c = self.coordinator(extra=["--config", path, "--test-clock"]).start()
        self.ok(c, "clock", "advance", "3h")
        self.assertEqual(c.stop(), 0)
        c.start()
        s = Sender(self, c.agents_ep, "clk-01")
        s.send(1, state=2, service="svc")
        s.until_acked(1, self)
        rec = [r for r in c.log() if r["kind"] == "check_result"][0]
        self.assertGreater(ms(rec["time"]), int(time.time() * 1000) + 2 * 3600 * 1000,
                           "the clock resumed from the advanced time")

    def test_disk_full_coordinator_stays_up(self):
        """The data directory on a small file system that fills: the
        coordinator stays up, stores and acknowledges nothing, says why in
        status, keeps answering reads, and resumes by itself when space
        returns, without losing or doubling an event. The map starts at 1
        MiB and grows as it goes."""
        mnt = os.path.join(self.tmp, "disk")
        os.makedirs(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs root)")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], capture_output=True)
        cfg = self.config("coordinator:\n  map_size_mb: 1\n")
        c = self.coordinator(data=os.path.join(mnt, "data"), extra=["--config", cfg]).start()
        s = Sender(self, c.agents_ep, "full-01")

        def send(seqs):
            for seq in seqs:
                s.sock.send(check_result("full-01", seq, state=2 if seq % 2 else 0,
                                         check="c%d" % (seq % 40)))

        send(range(1, 2001))
        s.until_acked(2000, self)
        self.assertIn("map grown", c.proc.log())
        # Fill what is left of the file system.
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=1M"], capture_output=True)
        n = 2000
        deadline = time.time() + 30
        while c.status()["storage"] == "ok" and time.time() < deadline:
            send(range(n + 1, n + 501))
            n += 500
            s.pump(timeout_ms=300)
        st = c.status()
        self.assertEqual(st["storage"], "full", st)
        self.assertIn("disk full at " + os.path.join(mnt, "data"), st["storage_error"])
        self.assertTrue(c.proc.alive())
        acked = s.acked
        stored_before = [r["sender_seq"] for r in c.log() if r.get("sender") == "full-01"]
        self.assertEqual(stored_before, list(range(1, len(stored_before) + 1)))
        self.assertEqual(acked, len(stored_before), "an Ack covers exactly what is stored")
        # Reads still work; changes are refused with the reason.
        self.assertIsNotNone(c.incidents(all=True))
        r = c.ctl_raw("note", "1", "-m", "x")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("disk full", r.stderr)
        self.assertRegex(c.proc.log(), r"ERROR .*disk full at")
        # A restart on the full disk: it comes up (a supervisor must not
        # loop), replays what is stored, and is full again at the first write.
        self.assertEqual(c.stop(), 0)
        c.start()
        self.assertEqual(c.status()["log_seq"], st["log_seq"])
        send(range(s.acked + 1, s.acked + 501))
        # Those may go past the last event sent before (when most of them
        # had been stored): they count among what must be stored.
        n = max(n, s.acked + 500)
        self.wait_until(lambda: c.status()["storage"] == "full", what="full again after restart")
        # Space returns: it resumes by itself; the sender resends from its Ack.
        os.unlink(filler)
        self.wait_until(lambda: c.status()["storage"] == "ok", what="storage ok again")
        for _ in range(40):
            if s.acked >= n:
                break
            send(range(s.acked + 1, min(n, s.acked + 500) + 1))
            s.pump(timeout_ms=300)
        self.assertEqual(s.acked, n)
        stored = [r["sender_seq"] for r in c.log() if r.get("sender") == "full-01"]
        self.assertEqual(stored, list(range(1, n + 1)), "every event exactly once")
        self.assertTrue(c.proc.alive())


if __name__ == "__main__":
    unittest.main()
