"""The status page and the notifier started before their keys are allowed:
the coordinator refuses their handshakes (libzmq does not retry those), and
once an operator allows the keys both get in by themselves, without a
restart: the page follows the broadcasts again and the notifier delivers."""

import json
import os
import shutil
import unittest

import zmq

import tocsin_harness as h
from notify_receivers import HttpReceiver
from test_security import KeyDir, SecureCoordinator

STATUSPAGE = "tocsin-statuspage"
NOTIFY = "tocsin-notify"


class LateKeysTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL, STATUSPAGE, NOTIFY)

    def setUp(self):
        super().setUp()
        if not zmq.has("curve"):
            self.skipTest("pyzmq without CURVE")

    def test_subscribers_get_in_once_their_keys_are_allowed(self):
        keys = KeyDir(self, os.path.join(self.tmp, "keys"))
        op = keys.new("operator-rw", "it")
        config = os.path.join(self.tmp, "coordinator.yaml")
        with open(config, "w") as f:
            f.write("components:\n  api: {description: \"Public API\", services: [api]}\n")
        c = SecureCoordinator(self, keys, op, extra=["--config", config]).start()
        # The subscribers' pairs exist, but in a scratch directory: their
        # public halves are not allowed yet.
        scratch = KeyDir(self, os.path.join(self.tmp, "scratch-keys"))
        page_key = scratch.new("subscriber", "page")
        notify_key = scratch.new("subscriber", "notify")
        creds = ["--server-key", keys.server_cert, "--api", c.api_ep, "--publish", c.publish_ep,
                 "--log-level", "debug"]
        port = h.free_port()
        page = self.spawn("statuspage", [h.binary(STATUSPAGE), "--key", page_key,
                                         "--out", os.path.join(self.tmp, "site"),
                                         "--state", os.path.join(self.tmp, "sp-state"),
                                         "--http", "127.0.0.1:%d" % port] + creds)
        hook = HttpReceiver()
        self.addCleanup(hook.stop)
        cfg = os.path.join(self.tmp, "notify.yaml")
        with open(cfg, "w") as f:
            f.write("notify:\n  retry_first: 200ms\n  timeout: 2s\nsubscriptions:\n"
                    "  - name: hook\n    type: webhook\n    url: %s\n" % hook.url)
        notify = self.spawn("notify", [h.binary(NOTIFY), "--config", cfg, "--key", notify_key,
                                       "--state", os.path.join(self.tmp, "n-state")] + creds)
        for name in ("page", "notify"):
            pub = scratch.pair("subscriber", name)[0]
            self.wait_until(lambda: [a for a in c.audit() if a["action"] == "auth.denied"
                                     and a["public_key"] == pub],
                            what="%s refused while its key is not allowed" % name)

        # Allowed: whole files, renamed into place.
        for name in ("page", "notify"):
            src = os.path.join(scratch.dir, "subscribers", "%s.cert" % name)
            tmp = os.path.join(self.tmp, "%s.cert.new" % name)
            shutil.copyfile(src, tmp)
            os.rename(tmp, os.path.join(keys.dir, "subscribers", "%s.cert" % name))

        def page_json(path="api/v2/summary.json"):
            import urllib.request
            with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (port, path), timeout=5) as r:
                return json.loads(r.read())

        # Both follow the coordinator again: the page loses its stale mark
        # and the notifier starts its feed.
        self.wait_until(lambda: not page_json()["page"]["stale"], timeout=20,
                        what="the page in contact with the coordinator")
        self.wait_until(lambda: "following broadcasts after" in notify.log(), timeout=20,
                        what="the notifier following the coordinator")
        r = c.ctl_raw("maintenance", "add", "Database upgrade", "--start", "+1h", "--end", "+2h",
                      "--components", "api", "-m", "Writes pause.")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_until(lambda: page_json()["scheduled_maintenances"], timeout=20,
                        what="the window on the page")
        self.wait_until(lambda: hook.accepted, timeout=20, what="the announcement delivered")
        self.assertEqual(hook.accepted[0]["json"]["state"], "scheduled")
        self.assertTrue(page.alive() and notify.alive())
        # Once allowed, neither asked for what its subscriber key may not
        # have: the coordinator refused them nothing after the key came.
        self.assertNotIn("refused for subscriber key", c.proc.log())


if __name__ == "__main__":
    unittest.main()
