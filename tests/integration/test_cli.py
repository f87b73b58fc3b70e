"""Command-line behaviour of every binary: --help, bad usage, unreachable
coordinator, unknown incident, strict configuration files, the data-dir
lock and clean shutdown on SIGTERM."""

import os
import signal
import unittest

import tocsin_harness as h

STATUSPAGE = "tocsin-statuspage"
NOTIFY = "tocsin-notify"
ALL = (h.COORDINATOR, h.AGENT, h.CTL, h.SUB, STATUSPAGE, NOTIFY)


class CliTest(h.TocsinTestCase):
    needs = ()  # each test says what it uses

    def sh(self, argv, **kw):
        # In the test's own directory: nothing may land in the source tree.
        return h.run(argv, cwd=self.tmp, **kw)

    def one_line(self, text, what):
        lines = [l for l in text.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, "%s: expected one line on stderr, got %r" % (what, text))
        return lines[0]

    def test_help_exits_0(self):
        for name in ALL:
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("usage", r.stdout.lower())
                self.assertIn("--insecure", r.stdout)

    def test_unknown_flag_exits_2_with_one_line(self):
        for name in ALL:
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--insecure", "--no-such-flag"])
                self.assertEqual(r.returncode, 2, "stdout %r stderr %r" % (r.stdout, r.stderr))
                line = self.one_line(r.stderr, name)
                self.assertIn("--no-such-flag", line)
                self.assertEqual(r.stdout, "")

    def test_missing_flag_value_exits_2(self):
        for name, flag in ((h.COORDINATOR, "--data"), (h.AGENT, "--config"),
                           (h.CTL, "--api"), (h.SUB, "--from"), (STATUSPAGE, "--stale"),
                           (NOTIFY, "--config")):
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--insecure", flag])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.one_line(r.stderr, name)

    def test_tocsinctl_unknown_command_exits_2(self):
        h.require(self, h.CTL)
        r = self.sh([h.binary(h.CTL), "--insecure", "frobnicate"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("frobnicate", self.one_line(r.stderr, "tocsinctl"))

    def test_tocsinctl_without_coordinator_exits_1(self):
        h.require(self, h.CTL)
        api = h.ep(h.free_port())
        r = self.sh([h.binary(h.CTL), "--insecure", "--api", api, "--timeout", "1s", "status"],
                  timeout=20)
        self.assertEqual(r.returncode, 1, "stdout %r stderr %r" % (r.stdout, r.stderr))
        line = self.one_line(r.stderr, "tocsinctl")
        # A clear message names where it looked.
        self.assertIn(api, line)
        self.assertEqual(r.stdout, "")

    def test_clients_need_a_key_or_insecure(self):
        for name, args in ((h.CTL, ["status"]), (h.SUB, [])):
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name)] + args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("--insecure", self.one_line(r.stderr, name))

    def test_insecure_means_loopback_only(self):
        port = h.free_port()
        for name, args in (
                (h.COORDINATOR, ["--data", os.path.join(self.tmp, "d"),
                                 "--agents", "tcp://0.0.0.0:%d" % port]),
                (h.CTL, ["--api", "tcp://192.0.2.1:%d" % port, "status"]),
                (h.SUB, ["--api", "tcp://192.0.2.1:%d" % port])):
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--insecure"] + args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.one_line(r.stderr, name)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "d")))

    def test_coordinator_show_unknown_incident_and_sigterm(self):
        h.require(self, h.COORDINATOR, h.CTL)
        c = self.coordinator().start()
        r = c.ctl_raw("show", "999")
        self.assertEqual(r.returncode, 1, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertIn("999", self.one_line(r.stderr, "tocsinctl show 999"))
        r = c.ctl_raw("--json", "show", "999")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        # An invalid id is a usage error, not a question for the coordinator.
        r = c.ctl_raw("show", "abc")
        self.assertEqual(r.returncode, 2)
        # The empty store answers every query with an empty document.
        self.assertEqual(c.incidents(all=True), [])
        self.assertEqual(c.log(), [])
        st = c.status()
        for key in ("log_seq", "broadcast_seq", "open_incidents", "hosts", "accepted",
                    "duplicates", "rejected"):
            self.assertIn(key, st)
        self.assertEqual(st["log_seq"], 0)
        self.assertEqual(c.stop(), 0, "SIGTERM must be a clean exit 0")

    def test_coordinator_config_unknown_key(self):
        h.require(self, h.COORDINATOR)
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write("coordinator:\n"
                    "  data: %s\n"
                    "  insecure: true\n"
                    "  bogus_key: 1\n" % os.path.join(self.tmp, "data"))
        r = self.sh([h.binary(h.COORDINATOR), "--config", path])
        self.assertEqual(r.returncode, 2, r.stderr)
        line = self.one_line(r.stderr, "coordinator")
        self.assertIn("%s:4" % path, line)
        self.assertIn("bogus_key", line)

    def test_coordinator_config_bad_value_and_missing_file(self):
        h.require(self, h.COORDINATOR)
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write("coordinator:\n  insecure: true\n  missed_heartbeats: lots\n")
        r = self.sh([h.binary(h.COORDINATOR), "--config", path])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:3" % path, self.one_line(r.stderr, "coordinator"))
        missing = os.path.join(self.tmp, "nope.yaml")
        r = self.sh([h.binary(h.COORDINATOR), "--config", missing])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(missing, self.one_line(r.stderr, "coordinator"))

    def test_coordinator_locked_data_dir(self):
        h.require(self, h.COORDINATOR, h.CTL)
        first = self.coordinator().start()
        second = self.coordinator(name="second", data=first.data)
        p = second.start(wait=False).proc
        rc = p.wait(timeout=20)
        self.assertNotEqual(rc, 0, "a second coordinator on a locked data dir must refuse")
        self.assertIn(first.data, p.log())
        # The first one is unharmed.
        self.assertEqual(first.status()["log_seq"], 0)
        self.assertTrue(first.proc.alive())

    def test_agent_config_unknown_key(self):
        h.require(self, h.AGENT)
        path = os.path.join(self.tmp, "agent.yaml")
        with open(path, "w") as f:
            f.write("agent:\n"
                    "  id: web-01\n"
                    "  insecure: true\n"
                    "  spool: %s\n"
                    "checks:\n"
                    "  - name: c1\n"
                    "    service: s\n"
                    "    type: tcp\n"
                    "    target: 127.0.0.1:1\n"
                    "    colour: blue\n" % os.path.join(self.tmp, "spool"))
        r = self.sh([h.binary(h.AGENT), "--insecure", "--config", path])
        # A bad configuration file is bad usage for every binary: exit 2,
        # with file:line named.
        self.assertEqual(r.returncode, 2, r.stderr)
        line = self.one_line(r.stderr, "agent")
        self.assertIn("%s:10" % path, line)
        self.assertIn("colour", line)

    def test_agent_bad_spool_max_exits_2(self):
        h.require(self, h.AGENT)
        for bad in ("64MB", "512KiB", "lots"):
            r = self.sh([h.binary(h.AGENT), "--insecure", "--spool-max", bad])
            self.assertEqual(r.returncode, 2, r.stderr)
            line = self.one_line(r.stderr, "agent")
            self.assertIn("--spool-max: invalid size \"%s\"" % bad, line)
        # A good value is taken (and the agent runs with it).
        svc = self.service()
        a = self.agent("cli-02", h.ep(h.free_port()), [h.tcp_check("t", "s", svc.target)])
        a.proc = self.spawn("agent-cli-02", [h.binary(h.AGENT), "--insecure", "--config",
                                             a.config, "--spool-max", "2MiB"])
        self.wait_until(lambda: os.path.isdir(a.spool), what="the agent's spool directory")
        self.check_alive()
        self.assertEqual(a.proc.stop(), 0)

    def test_agent_sigterm_exits_0(self):
        h.require(self, h.AGENT)
        svc = self.service()
        a = self.agent("cli-01", h.ep(h.free_port()), [h.tcp_check("t", "s", svc.target)])
        a.start()
        self.wait_until(lambda: os.path.isdir(a.spool), what="the agent's spool directory")
        self.check_alive()
        self.assertEqual(a.stop(), 0, "SIGTERM must be a clean exit 0")

    def test_sub_bad_count_exits_2(self):
        h.require(self, h.SUB)
        r = self.sh([h.binary(h.SUB), "--insecure", "--count", "0"])
        self.assertEqual(r.returncode, 2)
        self.one_line(r.stderr, "tocsin-sub")


if __name__ == "__main__":
    unittest.main()
