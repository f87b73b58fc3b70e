"""Command-line behaviour of every binary: --help, bad usage, unreachable
coordinator, unknown incident, strict configuration files, the data-dir
lock and clean shutdown on SIGTERM."""

import json
import os
import re
import signal
import socket
import subprocess
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

    def silent_api(self):
        """An endpoint that accepts connections and never answers: held by
        this test, so no other process on the machine can take the port."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.addCleanup(s.close)
        return h.ep(s.getsockname()[1])

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

    def test_tocsinctl_postmortem_report_usage(self):
        """The public report's words are checked before anything is sent."""
        h.require(self, h.CTL)
        api = h.ep(h.free_port())  # nobody listens: a usage error must come first
        parts = ["--summary", "s", "--impact", "i", "--cause", "c", "--actions", "a"]
        missing = os.path.join(self.tmp, "no-such-file")
        binary = os.path.join(self.tmp, "binary")
        with open(binary, "wb") as f:
            f.write(b"a\0b")
        for args, words in (
                (["postmortem", "3", "report", "--summary", "s"], "needs --summary, --impact"),
                (["postmortem", "3", "done", "--summary", "s"], "go with postmortem ID report"),
                (["postmortem", "3", "publish", "now"], "postmortem takes ID"),
                (["postmortem", "3", "report"] + parts[:-1] + ["@" + missing],
                 "--actions @%s: No such file or directory" % missing),
                (["postmortem", "3", "report"] + parts[:-1] + ["@" + binary], "NUL byte"),
                (["postmortem", "3", "report"] + parts[:-1] + ["x" * 5000], "at most 4096"),
                (["postmortem", "3", "report"] + parts[:-1] + ["a\x1fb"], "control character")):
            with self.subTest(args=args[2:4]):
                r = self.sh([h.binary(h.CTL), "--insecure", "--api", api] + args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(words, self.one_line(r.stderr, "tocsinctl"))

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
        self.assertNotIn("may still take effect", line)  # a query: nothing to undo
        # An action without an answer may still have arrived: the message
        # says to check before repeating it.
        r = self.sh([h.binary(h.CTL), "--insecure", "--api", api, "--timeout", "300ms", "note",
                     "1", "-m", "rolled back"], timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        line = self.one_line(r.stderr, "tocsinctl")
        self.assertIn("the action may still take effect", line)
        self.assertIn("before repeating it", line)

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

    # ---- one command line -------------------------------------------------

    DAEMONS = (h.COORDINATOR, h.AGENT, STATUSPAGE, NOTIFY)

    def test_help_layout_is_the_same_everywhere(self):
        for name in ALL:
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertTrue(r.stdout.startswith("usage: %s " % name), r.stdout[:80])
                self.assertNotIn("Usage:", r.stdout)
                for flag in ("-h, --help", "-V, --version"):
                    self.assertIn(flag, r.stdout)
                self.assertIn("exit status: 0 success, 1 runtime failure", r.stdout)
                self.assertIn("2 bad usage", r.stdout)
                if name in self.DAEMONS:
                    for flag in ("-c, --config FILE", "--check-config", "--log-format",
                                 "--log-level"):
                        self.assertIn(flag, r.stdout)
                for line in r.stdout.splitlines():
                    self.assertLessEqual(len(line), 80, line)
                # -h is --help.
                self.assertEqual(self.sh([h.binary(name), "-h"]).stdout, r.stdout)

    def test_version(self):
        for name in ALL:
            with self.subTest(binary=name):
                h.require(self, name)
                for flag in ("-V", "--version"):
                    r = self.sh([h.binary(name), flag])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertRegex(r.stdout, r"^%s \d+\.\d+\.\d+\n$" % re.escape(name))

    def test_option_forms(self):
        """getopt_long everywhere: --opt=VALUE, abbreviations, and one
        wording for a missing value or a value given to a flag."""
        h.require(self, h.CTL, h.SUB)
        api = self.silent_api()
        r = self.sh([h.binary(h.CTL), "--insecure", "--api=" + api, "--timeout=200ms",
                     "status"], timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(api, r.stderr)
        for name in ALL:
            with self.subTest(binary=name):
                h.require(self, name)
                r = self.sh([h.binary(name), "--insecure=yes"])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("option --insecure takes no value", self.one_line(r.stderr, name))

    def test_json_errors(self):
        h.require(self, h.CTL)
        for args, code in ((["--json", "--no-such-flag", "status"], 2),
                           (["frobnicate", "-j"], 2),
                           (["-o", "json", "show", "abc"], 2),
                           (["--json", "--api", self.silent_api(), "--timeout", "300ms",
                             "status"], 1),
                           (["--output=json", "incidents", "--from", "3"], 2)):
            with self.subTest(args=args):
                r = self.sh([h.binary(h.CTL), "--insecure"] + args, timeout=20)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertEqual(r.stdout, "")
                doc = json.loads(self.one_line(r.stderr, "tocsinctl"))
                self.assertEqual(list(doc), ["error"])
                self.assertTrue(doc["error"])
        r = self.sh([h.binary(h.CTL), "--output", "yaml", "status"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--output", self.one_line(r.stderr, "tocsinctl"))

    def test_keys_json(self):
        h.require(self, h.CTL)
        d = os.path.join(self.tmp, "keys")
        ctl = [h.binary(h.CTL), "keys", "--dir", d, "--json"]
        r = self.sh(ctl + ["init"])
        self.assertEqual(r.returncode, 0, r.stderr)
        init = json.loads(r.stdout)
        self.assertEqual(init["certificate"], os.path.join(d, "coordinator.cert"))
        self.assertEqual(len(init["public_key"]), 40)
        r = self.sh(ctl + ["new", "agent", "web-01"])
        made = json.loads(r.stdout)
        self.assertEqual((made["class"], made["name"]), ("agent", "web-01"))
        self.assertTrue(os.path.exists(made["secret"]))
        self.sh(ctl + ["new", "subscriber", "sp"])
        self.sh(ctl + ["revoke", "subscriber", "sp"])
        r = self.sh(ctl + ["list"])
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        self.assertEqual(sorted((k["class"], k["name"], k["state"]) for k in listed),
                         [("agent", "web-01", "allowed"), ("subscriber", "sp", "revoked")])
        # Errors in JSON too; and the table without --json.
        r = self.sh(ctl + ["new", "agent", "web-01"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists already", json.loads(r.stderr)["error"])
        r = self.sh([h.binary(h.CTL), "keys", "--dir", d, "list"])
        self.assertTrue(r.stdout.startswith("CLASS"), r.stdout)

    def test_incident_filters(self):
        h.require(self, h.COORDINATOR, h.AGENT, h.CTL)
        c = self.coordinator().start()
        a = self.service(up=False)
        b = self.service(up=False)
        self.agent("f-01", c.agents_ep, [h.tcp_check("ta", "alpha", a.target),
                                         h.tcp_check("tb", "beta", b.target)]).start()
        self.wait_until(lambda: len(c.incidents()) == 2, what="two incidents")
        beta = c.incident_for("beta")
        r = c.ctl_raw("--json", "sev", str(beta["id"]), "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = c.ctl_raw("--json", "ack", str(beta["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)

        def ids(*args):
            return sorted(i["service"] for i in c.ctl("incidents", *args))
        self.assertEqual(ids(), ["alpha", "beta"])
        self.assertEqual(ids("--service", "alpha"), ["alpha"])
        self.assertEqual(ids("--state", "investigating"), ["beta"])
        self.assertEqual(ids("--state", "triggered,investigating"), ["alpha", "beta"])
        self.assertEqual(ids("--severity", "2"), ["beta"])
        self.assertEqual(ids("--severity", "0"), ["alpha"])
        self.assertEqual(ids("--since", "1h"), ["alpha", "beta"])
        self.assertEqual(ids("--since", "2999-01-01T00:00:00Z"), [])
        self.assertEqual(ids("--service", "beta", "--state", "triggered"), [])
        # Resolved ones are in --all; --state resolved implies it.
        b.start()
        self.wait_until(lambda: c.incident_for("beta", all=True)["state"] == "resolved",
                        what="beta resolved")
        self.assertEqual(ids("--state", "resolved"), ["beta"])
        self.assertEqual(ids(), ["alpha"])
        self.assertEqual(ids("--all", "--since", "1h"), ["alpha", "beta"])
        # The report takes the same filters.
        rep = c.ctl("report", "--service", "beta")
        self.assertEqual([i["service"] for i in rep["incidents"]], ["beta"])
        # Bad filters are usage errors.
        for args in (["--state", "sleeping"], ["--severity", "9"], ["--since", "lately"]):
            r = c.ctl_raw("incidents", *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.one_line(r.stderr, "tocsinctl")

    def test_bash_completion_from_the_command_table(self):
        h.require(self, h.CTL)
        bash = "/bin/bash"
        if not os.access(bash, os.X_OK):
            self.skipTest("no bash")
        r = self.sh([h.binary(h.CTL), "completion", "bash"])
        self.assertEqual(r.returncode, 0, r.stderr)
        script = os.path.join(self.tmp, "tocsinctl.bash")
        with open(script, "w") as f:
            f.write(r.stdout)

        def complete(*words):
            prog = ("source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_tocsinctl\n"
                    "printf '%%s\\n' \"${COMPREPLY[@]}\"\n"
                    % (script, " ".join("'%s'" % w for w in words), len(words) - 1))
            out = subprocess.run([bash, "--norc", "-c", prog], capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            return sorted(filter(None, out.stdout.split("\n")))

        # Every command in the help is offered, and nothing else.
        help_text = self.sh([h.binary(h.CTL), "--help"]).stdout
        commands = complete("tocsinctl", "")
        for cmd in commands:
            self.assertRegex(help_text, r"\n  %s( |\n)" % re.escape(cmd))
        self.assertIn("incidents", commands)
        self.assertIn("maintenance", commands)
        self.assertEqual(complete("tocsinctl", "inc"), ["incidents"])
        self.assertEqual(complete("tocsinctl", "--json", "keys", ""),
                         ["init", "list", "new", "revoke"])
        self.assertEqual(complete("tocsinctl", "keys", "new", ""),
                         ["agent", "gateway", "integration", "operator-ro", "operator-rw",
                          "subscriber"])
        self.assertIn("--since", complete("tocsinctl", "incidents", "--s"))
        self.assertNotIn("--since", complete("tocsinctl", "log", "--s"))
        self.assertEqual(complete("tocsinctl", "-o", ""), ["json", "text"])
        self.assertEqual(complete("tocsinctl", "--api", "tcp://x:1", "state", "3", ""),
                         ["identified", "investigating", "monitoring"])


if __name__ == "__main__":
    unittest.main()
