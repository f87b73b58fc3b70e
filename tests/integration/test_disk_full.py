"""A full disk under the spool (a 4 MiB tmpfs, filled up): the agent keeps
checking and heartbeating, says "disk full at DIR" in rate-limited lines,
keeps each check's latest state in memory, still delivers what it had
spooled, and recovers by itself when space returns: what it could not spool
arrives as EventsLost plus each check's latest state, and new changes go
through as before. Needs root to mount the tmpfs; skipped otherwise."""

import errno
import json
import os
import re
import subprocess
import unittest

import tocsin_harness as h

FILL = "spool_fill"
CHECKS = ("c1", "c2", "c3", "c4")


class DiskFullTest(h.TocsinTestCase):
    needs = h.TocsinTestCase.needs + (FILL,)

    def mount_tmpfs(self, path, size):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a tmpfs")
        os.makedirs(path)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.strip())
        # Lazily: a process that failed to stop may still map the spool.
        self.addCleanup(subprocess.run, ["umount", "-l", path], capture_output=True)

    def fill_disk(self, path):
        with open(path, "wb") as f:
            chunk = b"\0" * 65536
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC)
        # The last partial chunk may have been kept; so much the better.

    def set_state(self, rc):
        with open(self.rc_file, "w") as f:
            f.write("%d\n" % rc)

    def seen(self, agent, state):
        """How many hard changes to `state` this run of `agent` logged."""
        return len(re.findall(r"check c\d \(service app\): \S+ -> %s \(hard\)" % state,
                              agent.proc.log()))

    def flip(self, agent, state):
        """Turns every check to `state` and waits until all four saw it."""
        before = self.seen(agent, state)
        self.set_state(0 if state == "OK" else 2)
        self.wait_until(lambda: self.seen(agent, state) >= before + len(CHECKS),
                        what="all checks %s" % state)

    def test_disk_full_under_the_spool(self):
        disk = os.path.join(self.tmp, "disk")
        self.mount_tmpfs(disk, "4m")
        spool = os.path.join(disk, "spool")
        # Checks whose events are large (a long first output line), so that
        # a few of them need new pages in the spool's file.
        self.rc_file = os.path.join(self.tmp, "rc")
        script = os.path.join(self.tmp, "check.sh")
        with open(script, "w") as f:
            f.write("printf 'state %%s %s\\n' \"$(cat %s)\"; exit \"$(cat %s)\"\n"
                    % ("x" * 400, self.rc_file, self.rc_file))
        self.set_state(2)
        checks = [{"name": n, "service": "app", "type": "exec",
                   "command": "/bin/sh %s" % script, "interval": "100ms", "retries": 1}
                  for n in CHECKS]
        c = self.coordinator()  # down for now
        a = self.agent("web-01", c.agents_ep, checks, spool=spool)
        r = h.run([h.binary(FILL), "--dir", spool, "--id", "web-01", "--count", "3000"])
        self.assertEqual(r.returncode, 0, r.stderr)
        backlog = json.loads(r.stdout)["last"]
        self.fill_disk(os.path.join(disk, "filler"))

        # Started on the full disk (a restart must never make things worse);
        # the checks change until the spool's file cannot grow.
        a.start()
        self.wait_until(lambda: self.seen(a, "CRITICAL") >= len(CHECKS), what="first states")
        state = "CRITICAL"
        for _ in range(40):
            if "disk full at %s" % spool in a.proc.log():
                break
            state = "OK" if state == "CRITICAL" else "CRITICAL"
            self.flip(a, state)
        self.assertIn("disk full at %s" % spool, a.proc.log())
        # Two more rounds while full: kept in memory, said once.
        for _ in range(2):
            state = "OK" if state == "CRITICAL" else "CRITICAL"
            self.flip(a, state)
        log = a.proc.log()
        left_out = len(re.findall(r"\(hard\): .*\[not spooled", log))
        disk_lines = len(re.findall(r"disk full at %s" % re.escape(spool), log))
        self.assertGreaterEqual(left_out, 2 * len(CHECKS))
        self.assertLess(disk_lines, left_out, "disk-full lines must be rate-limited")
        last_seq = max(int(s) for s in re.findall(r"\[seq (\d+)\]", log))

        # The coordinator comes up: heartbeats flow and the spooled events
        # are delivered, though the disk is still full.
        c.start()
        self.wait_until(lambda: (c.host("web-01") or {}).get("up"), what="web-01 up")

        def delivered():
            seqs = [r["sender_seq"] for r in h.check_results(c.log(), "web-01")]
            return len(seqs) >= last_seq
        self.wait_until(delivered, timeout=60, what="the %d spooled events" % last_seq)
        self.assertTrue(a.proc.alive())

        # Space returns: the agent recovers by itself.
        os.unlink(os.path.join(disk, "filler"))
        self.wait_until(lambda: "has room again" in a.proc.log(), timeout=60,
                        what="the agent to report its recovery")
        records = c.log()
        lost = [r for r in records if r["kind"] == "events_lost"]
        results = h.check_results(records, "web-01")

        def latest_states():
            recs = [r for r in h.check_results(c.log(), "web-01") if r["check"] in CHECKS]
            return {r["check"]: r["state"] for r in recs}
        final = state
        self.wait_until(lambda: latest_states() == {n: final for n in CHECKS},
                        what="every check's latest state, %s" % final)
        records = c.log()
        lost = [r for r in records if r["kind"] == "events_lost"]
        self.assertTrue(lost, "the transitions left out are reported")
        for r in lost:
            self.assertEqual(r["reason"], "disk full at %s" % spool)
            self.assertGreaterEqual(r["transitions"], 1)
        seqs = [r["sender_seq"] for r in records
                if r["sender"] == "web-01" and r["kind"] in ("check_result", "events_lost")]
        self.assert_contiguous(seqs, what="web-01's events")
        self.assertGreater(len(seqs), backlog)
        results = h.check_results(records, "web-01")
        self.assertEqual(len([r for r in results if r["check"].startswith("fill-")]), backlog)

        # And normal again: the next change is spooled and delivered.
        nxt = "OK" if final == "CRITICAL" else "CRITICAL"
        self.flip(a, nxt)
        self.wait_until(lambda: latest_states() == {n: nxt for n in CHECKS},
                        what="the next change delivered")
        self.assertTrue(a.proc.alive())
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main()
