"""Snapshots (issue 10): the coordinator writes them as it goes, starts
from the newest one and replays only the log after it, and
`tocsin-coordinator --verify-replay` confirms byte for byte that the state
so built is the state a replay of the whole log builds."""

import os
import subprocess
import unittest

import tocsin_harness as h
from test_comms import CONFIG as COMMS_CONFIG
# The module, not the class: a TestCase imported by name would run here too.
import test_recovery
from test_sequence import Sender, check_result

# The senders here send no heartbeats: a host marked down 15 s after its
# last event would be a record written at a moment the test does not
# control (between two readings of the state), so liveness stays out.
SNAP = """\
coordinator:
  snapshot_every: 40
  missed_heartbeats: 1000
"""


class SnapshotTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL)
    config = test_recovery.RecoveryTest.config
    ok = test_recovery.RecoveryTest.ok

    def verify(self, c):
        r = subprocess.run([h.binary(h.COORDINATOR), "--verify-replay", "--data", c.data,
                            "--config", c.extra[1], "--insecure"],
                           capture_output=True, text=True, timeout=60)
        return r

    def busy(self, c, n=300):
        """Incidents opening, updating and resolving on three services, with
        operator actions and a deadline in between."""
        s = Sender(self, c.agents_ep, "api-01")
        for seq in range(1, n + 1):
            svc = ("api", "web", "db")[seq % 3]
            state = 2 if (seq // 7) % 2 else 0
            s.sock.send(check_result("api-01", seq, state=state, service=svc,
                                     check="c%d" % (seq % 5)))
        s.until_acked(n, self)
        inc = c.incident_for("api", all=True)
        self.ok(c, "note", str(inc["id"]), "-m", "looking")
        self.ok(c, "clock", "advance", "20m")
        return s

    def state(self, c):
        return (c.ctl("incidents", "--all"), c.ctl("component"), c.ctl("status")["log_seq"])

    def test_snapshot_start_equals_full_replay(self):
        path = self.config(COMMS_CONFIG.replace("policy:\n", SNAP + "policy:\n"))
        c = self.coordinator(missed_heartbeats=None,
                             extra=["--config", path, "--test-clock"]).start()
        self.busy(c)
        self.assertRegex(c.proc.log(), r"snapshot at log record \d+: ")
        before = self.state(c)
        self.assertEqual(c.stop(), 0)
        r = self.verify(c)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("identical", r.stdout)
        self.assertIn("stored snapshot at record", r.stdout)
        c.start()
        self.assertRegex(c.logs(), r"loaded the snapshot at log record \d+ and replayed \d+ records")
        self.assertEqual(self.state(c), before)
        # It keeps working from there, and still verifies (beside the
        # running coordinator: verify reads without the lock).
        s = Sender(self, c.agents_ep, "api-02")
        s.sock.send(check_result("api-02", 1, state=2, service="web"))
        s.until_acked(1, self)
        r = self.verify(c)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_verify_reports_a_damaged_snapshot(self):
        path = self.config(SNAP)
        c = self.coordinator(missed_heartbeats=None,
                             extra=["--config", path, "--test-clock"]).start()
        self.busy(c, n=100)
        self.assertEqual(c.stop(), 0)
        # Damage the newest snapshot with LMDB's own tools (lmdb-utils): dump
        # the snapshots database, change a byte of the newest value, load it
        # back over the old one.
        dump = subprocess.run(["mdb_dump", "-s", "snapshots", c.data], capture_output=True,
                              text=True, check=True).stdout.splitlines()
        body = [i for i, line in enumerate(dump) if line.startswith(" ")]
        self.assertGreaterEqual(len(body), 2, "a snapshot in the store")
        value = dump[body[-1]]
        at = len(value) - 40  # a byte inside the archive section
        flipped = "%02x" % (int(value[at:at + 2], 16) ^ 0xff)
        dump[body[-1]] = value[:at] + flipped + value[at + 2:]
        subprocess.run(["mdb_load", "-s", "snapshots", c.data], input="\n".join(dump) + "\n",
                       capture_output=True, text=True, check=True)
        r = self.verify(c)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue("MISMATCH" in r.stdout or "failed" in r.stdout, r.stdout)

    def test_as_of(self):
        """What did we know then: queries answered from the state after an
        earlier log record, or at an earlier time, whatever happened since."""
        path = self.config(COMMS_CONFIG.replace("policy:\n", SNAP + "policy:\n"))
        c = self.coordinator(missed_heartbeats=None,
                             extra=["--config", path, "--test-clock"]).start()
        s = self.busy(c, n=120)
        then = c.ctl("status")["log_seq"]
        incidents_then = c.ctl("incidents", "--all")
        iid = str(incidents_then[-1]["id"])
        show_then = c.ctl("show", iid)
        timeline_then = c.ctl("timeline", iid)["timeline"]
        at = c.log()[-1]["time"]
        # Much happens afterwards: more events, notes, a declaration.
        for seq in range(121, 241):
            s.sock.send(check_result("api-01", seq, state=2 if (seq // 5) % 2 else 0,
                                     service=("api", "web", "db")[seq % 3]))
        s.until_acked(240, self)
        self.ok(c, "note", iid, "-m", "later")
        self.assertNotEqual(c.ctl("incidents", "--all"), incidents_then)
        self.assertEqual(c.ctl("--as-of", str(then), "incidents", "--all"), incidents_then)
        self.assertEqual(c.ctl("--as-of", str(then), "show", iid), show_then)
        self.assertEqual(c.ctl("--as-of", str(then), "timeline", iid)["timeline"], timeline_then)
        self.assertEqual(c.ctl("--as-of", str(then), "status")["log_seq"], then)
        self.assertEqual(c.ctl("--as-of", at, "incidents", "--all"), incidents_then)
        # Bad input: a clear refusal each.
        r = c.ctl_raw("--as-of", "banana", "incidents")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--as-of", r.stderr)
        r = c.ctl_raw("--as-of", "99999999", "incidents")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not stored yet", r.stderr)
        r = c.ctl_raw("--as-of", str(then), "log")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--as-of works with", r.stderr)
        r = c.ctl_raw("--as-of", "2000-01-01T00:00:00Z", "incidents")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nothing was stored by then", r.stderr)


if __name__ == "__main__":
    unittest.main()
