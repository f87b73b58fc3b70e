"""The drill the source documents ask for, end to end: `tocsinctl drill`
runs a synthetic incident through the plan, tocsin-notify delivers its
updates to the drill recipients (and to nobody else), reports back, and the
drill ends with a report of what each channel delivered and how fast."""

import json
import os
import re
import unittest

import tocsin_harness as h
from notify_receivers import HttpReceiver, SmtpReceiver

NOTIFY = "tocsin-notify"


class DrillTest(h.TocsinTestCase):
    needs = h.TocsinTestCase.needs + (NOTIFY,)

    def test_drill_through_every_channel(self):
        hook, chat, smtp, real = HttpReceiver(), HttpReceiver(), SmtpReceiver(), HttpReceiver()
        for r in (hook, chat, smtp, real):
            self.addCleanup(r.stop)
        c = self.coordinator().start()
        cfg = os.path.join(self.tmp, "notify.yaml")
        with open(cfg, "w") as f:
            f.write("""\
notify:
  retry_first: 200ms
  retry_max: 1s
smtp:
  url: %s
  from: status@example.com
subscriptions:
  - {name: drill-hook, type: webhook, url: "%s", drill: true}
  - {name: drill-chat, type: slack, url: "%s", audience: internal, drill: only}
  - {name: drill-mail, type: email, to: [oncall@example.com], drill: true}
  - {name: customers, type: webhook, url: "%s"}
""" % (smtp.url, hook.url, chat.url, real.url))
        p = self.spawn("notify", [h.binary(NOTIFY), "--config", cfg, "--insecure",
                                  "--api", c.api_ep, "--publish", c.publish_ep,
                                  "--state", os.path.join(self.tmp, "notify-state")])
        self.wait_until(lambda: re.search(r"following broadcasts after|resuming after",
                                          p.log()), what="tocsin-notify to follow")

        r = c.ctl_raw("--json", "drill", "--wait", "20s", timeout="30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertTrue(report["incident"]["drill"])
        got = sorted((d["channel"], d["update"], d["result"]) for d in report["deliveries"])
        # Two external updates (investigating, resolved) to the external
        # drill recipients, the internal one to the chat.
        self.assertEqual(got, [("drill-chat", 2, "delivered"),
                               ("drill-hook", 1, "delivered"), ("drill-hook", 3, "delivered"),
                               ("drill-mail", 1, "delivered"), ("drill-mail", 3, "delivered")])
        for d in report["deliveries"]:
            self.assertGreaterEqual(d["latency_ms"], 0)
            self.assertGreaterEqual(d["attempts"], 1)
        # Marked DRILL wherever it appears; the customers heard nothing.
        self.assertTrue(all(b["json"]["drill"] for b in hook.accepted))
        self.assertTrue(all("DRILL" in json.dumps(b["json"]) for b in chat.accepted))
        self.assertTrue(smtp.all())
        self.assertTrue(all("DRILL" in str(m["msg"]["Subject"]) for m in smtp.all()))
        self.assertEqual(real.accepted, [])
        subs = {s["name"]: s for s in c.ctl("subscribers")}
        self.assertEqual(subs["drill-hook"]["delivered"], 2)

        # The table form says the same in words.
        r = c.ctl_raw("drill", "--wait", "20s", timeout="30s")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("DRILL incident", r.stdout)
        self.assertRegex(r.stdout, r"drill-hook\s+1\s+delivered\s+\d+ ms")


if __name__ == "__main__":
    unittest.main()
