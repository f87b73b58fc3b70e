"""Nothing a plugin starts outlives its check. A plugin that leaves four
processes behind on every run (in the background, by a double fork, and
twice by setsid, once holding the agent's pipes) runs at a 1 s interval:
while the real agent runs, no process of a run before the previous one is
alive; after SIGTERM none is. The plugin's stderr stays out of its status
text and is logged at debug. `tocsin-agent --once` runs every check type
once and is contained the same way."""

import os
import signal
import stat
import time
import unittest

import tocsin_harness as h

LEAKY = r"""#!/bin/sh
# One run of a plugin that leaks: numbered runs, each leftover named
# tocsin-leak-MARK-RUN on its command line (a symlink to sleep).
dir=%(dir)s
n=$(cat "$dir/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$dir/count.tmp" && mv "$dir/count.tmp" "$dir/count"
m="$dir/tocsin-leak-%(mark)s-$n"
ln -sf /bin/sleep "$m"
"$m" 302 >/dev/null 2>&1 &
( "$m" 303 >/dev/null 2>&1 & )
setsid "$m" 304 >/dev/null 2>&1 &
setsid "$m" 305 &
echo "EEEE-%(mark)s on stderr" >&2
echo "OK - leaked four processes|run=$n"
"""


def marker_processes(mark):
    """{pid: run number} of every live process whose command line has the
    marker (zombies have an empty command line and do not count)."""
    found = {}
    tag = "tocsin-leak-%s-" % mark
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        for arg in argv:
            s = arg.decode(errors="replace")
            i = s.find(tag)
            if i >= 0:
                found[int(name)] = int(s[i + len(tag):].split("/")[0])
                break
    return found


class PluginContainmentTest(h.TocsinTestCase):

    def write_plugin(self):
        self.mark = "%d-%d" % (os.getpid(), int(time.monotonic() * 1000))
        self.count = os.path.join(self.tmp, "count")
        path = os.path.join(self.tmp, "leaky.sh")
        with open(path, "w") as f:
            f.write(LEAKY % {"dir": self.tmp, "mark": self.mark})
        os.chmod(path, stat.S_IRWXU)
        self.addCleanup(self.kill_markers)
        return path

    def kill_markers(self):
        # Only for a failing run: never leave the leaks of a broken agent.
        for pid in marker_processes(self.mark):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def runs(self):
        try:
            with open(self.count) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def test_leaking_plugin_leaves_nothing_behind(self):
        plugin = self.write_plugin()
        c = self.coordinator().start()
        agent = self.agent("leaky-host", c.agents_ep, [
            {"name": "leaky", "service": "leaks", "type": "exec", "command": plugin,
             "interval": "1s", "timeout": "5s", "retries": 1},
        ]).start()

        # While it runs: sample the process table until five runs are done.
        # Each sample reads the run counter first, so `current` is at most
        # the newest run; runs before current - 1 ended a whole interval
        # before it started, and everything they left was killed then.
        samples = 0
        while self.runs() < 6:
            self.check_alive()
            current = self.runs()
            procs = marker_processes(self.mark)
            old = {pid: run for pid, run in procs.items() if run < current - 1}
            self.assertEqual(old, {}, "processes of earlier runs are alive (run now %d)" % current)
            samples += 1
            self.assertLess(samples, 3000, "the plugin did not run six times")
            time.sleep(0.01)

        # Its answer reached the coordinator without its stderr.
        def result():
            for r in h.check_results(c.log(), "leaky-host"):
                if r["check"] == "leaky":
                    return r
            return None
        r = self.wait_until(result, what="the plugin's result in the log")
        self.assertEqual(r["state"], "OK")
        self.assertEqual(r["output"], "OK - leaked four processes")
        self.assertNotIn("EEEE", r["output"])
        self.assertEqual([p["label"] for p in r["perfdata"]], ["run"])

        self.assertEqual(agent.stop(), 0)
        # After a clean stop: nothing at all, at once (the agent reaped
        # every process it killed before it exited).
        self.assertEqual(marker_processes(self.mark), {})
        log = agent.logs()
        self.assertIn("stderr (", log)
        self.assertIn("EEEE-%s on stderr" % self.mark, log)
        self.assertIn("killed process", log)
        self.assertNotIn("did not die", log)

    def test_sigterm_while_a_plugin_runs(self):
        plugin = self.write_plugin()
        # The plugin leaks, then hangs: SIGTERM arrives while it runs.
        slow = os.path.join(self.tmp, "slow.sh")
        with open(slow, "w") as f:
            f.write("#!/bin/sh\n%s\nexec \"%s/tocsin-leak-%s-0\" 300\n"
                    % (plugin, self.tmp, self.mark))
        os.chmod(slow, stat.S_IRWXU)
        os.symlink("/bin/sleep", os.path.join(self.tmp, "tocsin-leak-%s-0" % self.mark))
        c = self.coordinator().start()
        agent = self.agent("hang-host", c.agents_ep, [
            {"name": "hangs", "service": "leaks", "type": "exec", "command": slow,
             "interval": "1s", "timeout": "60s"},
        ]).start()
        self.wait_until(lambda: len(marker_processes(self.mark)) >= 4,
                        what="the hanging plugin and its leftovers")
        self.assertEqual(agent.stop(), 0)
        self.assertEqual(marker_processes(self.mark), {})

    def test_once_runs_every_type_and_leaves_nothing(self):
        plugin = self.write_plugin()
        svc = self.service()
        closed = h.free_port()
        agent = self.agent("once-host", "tcp://127.0.0.1:1", [
            {"name": "leaky", "service": "leaks", "type": "exec", "command": plugin},
            {"name": "port-up", "service": "db", "type": "tcp", "target": svc.target},
            {"name": "port-down", "service": "db", "type": "tcp",
             "target": "127.0.0.1:%d" % closed},
        ])
        r = h.run([h.binary(h.AGENT), "--once", "--config", agent.config], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertEqual(lines[0], "leaky leaks OK OK - leaked four processes")
        self.assertTrue(lines[1].startswith("port-up db OK TCP OK - "), lines[1])
        self.assertTrue(lines[2].startswith("port-down db CRITICAL TCP CRITICAL - "), lines[2])
        self.assertIn("Connection refused", lines[2])
        self.assertEqual(marker_processes(self.mark), {})


if __name__ == "__main__":
    unittest.main()
