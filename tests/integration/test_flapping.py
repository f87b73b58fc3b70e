"""Flap detection end to end, with the real agent and coordinator. A plugin
alternates OK / CRITICAL on every run for ten runs (a counter file), then
stays OK. With retries: 3 none of its failures is ever hard, yet exactly
one incident opens, from the one flapping event, and it resolves once the
check has settled. With retries: 1 the first transitions go out before the
flapping is seen, then one flapping event, then nothing until the real
state OK: two incidents (not one per transition), both resolved."""

import os
import stat
import unittest

import tocsin_harness as h

FLAPPY = r"""#!/bin/sh
# Run n: CRITICAL for even n up to 10, OK otherwise.
f="$1"
n=$(cat "$f" 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > "$f.tmp" && mv "$f.tmp" "$f"
if [ $n -le 10 ] && [ $((n % 2)) -eq 0 ]; then
    echo "FLAPPY CRITICAL - run $n"
    exit 2
fi
echo "FLAPPY OK - run $n"
"""


class FlappingTest(h.TocsinTestCase):

    def test_a_flapping_check_is_one_alert(self):
        plugin = os.path.join(self.tmp, "flappy.sh")
        with open(plugin, "w") as f:
            f.write(FLAPPY)
        os.chmod(plugin, stat.S_IRWXU)
        c = self.coordinator().start()
        checks = []
        for name, retries in (("soft", 3), ("hard", 1)):
            checks.append({"name": "flappy-" + name, "service": "svc-" + name, "type": "exec",
                           "command": "%s %s/count-%s" % (plugin, self.tmp, name),
                           "interval": "200ms", "timeout": "5s", "retries": retries,
                           "flap": "{low: 5, high: 20}"})
        agent = self.agent("flap-host", c.agents_ep, checks).start()

        def events(check):
            return [(r["state"], r["flapping"]) for r in h.check_results(c.log(), "flap-host")
                    if r["check"] == check]

        def settled():
            return all(events("flappy-" + n)[-1:] == [("OK", False)]
                       and len(events("flappy-" + n)) > 2 for n in ("soft", "hard"))
        self.wait_until(settled, what="both checks to flap and settle")
        # A few more runs: nothing else is sent.
        def runs():
            with open(os.path.join(self.tmp, "count-soft")) as f:
                return int(f.read().strip() or 0)
        self.wait_until(lambda: runs() >= 36, what="runs after settling")

        self.assertEqual(events("flappy-soft"),
                         [("OK", False), ("CRITICAL", True), ("OK", False)])
        self.assertEqual(events("flappy-hard"),
                         [("OK", False), ("CRITICAL", False), ("OK", False), ("CRITICAL", False),
                          ("CRITICAL", True), ("OK", False)])
        flap = [r for r in h.check_results(c.log(), "flap-host") if r["flapping"]]
        for r in flap:
            self.assertTrue(r["hard"])
            self.assertTrue(r["output"].startswith("flapping: "), r["output"])
            self.assertIn("of the last 21 results changed state (worst CRITICAL)", r["output"])

        everything = c.incidents(all=True)
        soft = [i for i in everything if i["service"] == "svc-soft"]
        hard = [i for i in everything if i["service"] == "svc-hard"]
        self.assertEqual(len(soft), 1, "one flapping alert, one incident: %s" % soft)
        self.assertEqual(len(hard), 2, "two transitions before detection, then one alert")
        self.wait_until(lambda: c.incidents() == [], what="every incident resolved")
        log = agent.logs()
        self.assertIn("check flappy-soft: started flapping", log)
        self.assertIn("check flappy-soft: stopped flapping", log)
        self.assertEqual(agent.stop(), 0)


if __name__ == "__main__":
    unittest.main()
