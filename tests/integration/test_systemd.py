"""The daemons under systemd, without systemd: each speaks the sd_notify
protocol to a datagram socket this test binds where $NOTIFY_SOCKET says
(READY=1 once it serves, WATCHDOG=1 while its loop turns, STOPPING=1 on
SIGTERM), writes journald lines with a syslog priority and no timestamp
when $JOURNAL_STREAM names its stderr, and one JSON object per line with
--log-format json."""

import json
import os
import re
import socket
import time
import unittest

import tocsin_harness as h

STATUSPAGE = "tocsin-statuspage"
NOTIFY = "tocsin-notify"


class Listener:
    """A datagram socket standing in for systemd's notification socket."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []

    def poll(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return self.messages

    def has(self, line):
        return [m for m in self.poll() if line in m.split("\n")]

    def close(self):
        self.sock.close()


class SystemdTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT)

    def spawn_env(self, name, argv, env):
        p = h.Proc(self, name, argv, env=env)
        self.procs.append(p)
        return p

    def notify_env(self, name):
        listener = Listener(os.path.join(self.tmp, name + ".notify"))
        self.addCleanup(listener.close)
        # A 2 s watchdog: a ping every second.
        return listener, {"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000"}

    def lifecycle(self, name, argv, ready_words):
        listener, env = self.notify_env(name)
        p = self.spawn_env(name, argv, env)
        ready = self.wait_until(lambda: listener.has("READY=1"), what=name + " READY=1")
        for w in ready_words:
            self.assertIn(w, ready[0])
        n = len(listener.has("WATCHDOG=1"))
        self.wait_until(lambda: len(listener.has("WATCHDOG=1")) >= n + 2,
                        what=name + " watchdog pings")
        self.assertEqual(p.stop(), 0, p.log())
        self.assertTrue(listener.has("STOPPING=1"), listener.poll())
        # In order: READY before the first STOPPING.
        msgs = listener.poll()
        first = lambda key: next(i for i, m in enumerate(msgs) if key in m.split("\n"))
        self.assertLess(first("READY=1"), first("STOPPING=1"))

    def test_coordinator_notifies(self):
        c = self.coordinator()
        self.lifecycle("coordinator", c.argv(), [c.agents_ep, c.api_ep, c.publish_ep])

    def test_agent_notifies(self):
        a = self.agent("sd-01", h.ep(h.free_port()), [h.tcp_check("t", "s", "127.0.0.1:1")])
        self.lifecycle("agent", [h.binary(h.AGENT), "--insecure", "--config", a.config],
                       ["agent sd-01", "1 checks"])

    def test_statuspage_notifies(self):
        h.require(self, STATUSPAGE)
        # No coordinator at all: the page is served (stale) and ready; the
        # watchdog is fed while it retries.
        argv = [h.binary(STATUSPAGE), "--insecure", "--api", h.ep(h.free_port()),
                "--publish", h.ep(h.free_port()), "--out", os.path.join(self.tmp, "site"),
                "--state", os.path.join(self.tmp, "sp"), "--timeout", "300ms"]
        self.lifecycle("statuspage", argv, ["site " + os.path.join(self.tmp, "site")])

    def test_notify_notifies(self):
        h.require(self, NOTIFY)
        cfg = os.path.join(self.tmp, "notify.yaml")
        with open(cfg, "w") as f:
            f.write("notify:\n  state: %s\nsubscriptions:\n  - name: hook\n    type: webhook\n"
                    "    url: http://127.0.0.1:9/hook\n" % os.path.join(self.tmp, "ns"))
        argv = [h.binary(NOTIFY), "--insecure", "--config", cfg, "--api", h.ep(h.free_port()),
                "--publish", h.ep(h.free_port())]
        self.lifecycle("notify", argv, ["1 subscriptions"])

    # ---- logs ---------------------------------------------------------------

    def test_journal_lines(self):
        """stderr is "the journal": priority prefixes, no time, no name."""
        c = self.coordinator()
        name = "coordinator.journal"
        log = os.path.join(self.tmp, name + ".log")
        open(log, "ab").close()  # Proc appends to this very file
        st = os.stat(log)
        p = self.spawn_env(name, c.argv(), {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
        c.proc = p
        c.wait_ready()
        self.assertEqual(p.stop(), 0)
        lines = [l for l in p.log().splitlines() if l]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>", line)
            self.assertNotRegex(line, r"\d{4}-\d\d-\d\dT\d\d:\d\d", line)
            self.assertNotIn("tocsin-coordinator:", line)
        self.assertTrue(any(l.startswith("<6>listening for agents on ") for l in lines), lines)
        self.assertTrue(any(l.startswith("<7>") for l in lines), "debug lines are <7>")

    def test_journal_stream_of_another_file(self):
        """JOURNAL_STREAM inherited, stderr redirected: keep timestamps."""
        c = self.coordinator()
        other = os.path.join(self.tmp, "other")
        open(other, "w").close()
        st = os.stat(other)
        p = self.spawn_env("coordinator.redirected", c.argv(),
                           {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
        c.proc = p
        c.wait_ready()
        self.assertEqual(p.stop(), 0)
        first = p.log().splitlines()[0]
        self.assertRegex(first, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |DEBUG) "
                                r"tocsin-coordinator: ")

    def test_json_lines(self):
        c = self.coordinator(extra=["--log-format", "json"])
        c.start()
        self.assertEqual(c.stop(), 0)
        lines = [l for l in c.logs().splitlines() if l]
        self.assertGreater(len(lines), 3)
        levels = set()
        for line in lines:
            doc = json.loads(line)
            self.assertEqual(sorted(doc), ["level", "message", "program", "time"], line)
            self.assertEqual(doc["program"], "tocsin-coordinator")
            self.assertRegex(doc["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            levels.add(doc["level"])
        self.assertTrue(levels <= {"debug", "info", "warn", "error"}, levels)
        self.assertIn("info", levels)
        self.assertTrue(any(json.loads(l)["message"].startswith("listening for agents on")
                            for l in lines))

    def test_log_format_refused(self):
        for name in (h.COORDINATOR, h.AGENT, STATUSPAGE, NOTIFY):
            with self.subTest(binary=name):
                h.require(self, name)
                r = h.run([h.binary(name), "--insecure", "--log-format", "xml"], cwd=self.tmp)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("--log-format", r.stderr)


if __name__ == "__main__":
    unittest.main()
