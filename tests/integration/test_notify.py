"""tocsin-notify end to end: a real coordinator and agent make an incident,
tocsinctl publishes status updates, and tocsin-notify delivers them to an
HTTP receiver (webhook and Slack payloads) and an SMTP receiver, retries a
receiver that fails and recovers (same idempotency key, in order),
survives kill -9 without losing or doubling a delivery, reports every
result into the incident's timeline, and reports a receiver that accepts
connections and never answers as failing."""

import json
import os
import re
import socket
import subprocess
import threading
import unittest

import tocsin_harness as h
from notify_receivers import HttpReceiver, SmtpReceiver

NOTIFY = "tocsin-notify"
PAGE = "https://status.example.com/"

COORDINATOR_CONFIG = """\
components:
  api: {description: "Public API", services: [api]}
"""


class SilentReceiver:
    """A listener on 127.0.0.1 that accepts connections and never answers,
    until answer() makes it reply 200 to every request from then on."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.url = "http://127.0.0.1:%d/hook" % self.sock.getsockname()[1]
        self.accepted = 0
        self.answered = []
        self.held = []
        self.answering = False
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            if not self.answering:
                self.held.append(conn)  # read nothing, say nothing
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < n:
                body += conn.recv(65536)
            self.answered.append(json.loads(body))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        finally:
            conn.close()

    def answer(self):
        self.answering = True

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()
        for c in self.held:
            c.close()


class NotifyTest(h.TocsinTestCase):

    needs = h.TocsinTestCase.needs + (NOTIFY,)

    # ---- set-up ------------------------------------------------------------

    def receivers(self, fail_first=0):
        self.hook = HttpReceiver(fail_first=fail_first)
        self.chat = HttpReceiver()
        self.smtp = SmtpReceiver()
        for r in (self.hook, self.chat, self.smtp):
            self.addCleanup(r.stop)

    def incident(self):
        """A coordinator and an incident (service api) declared by hand."""
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write(COORDINATOR_CONFIG)
        self.c = self.coordinator(extra=["--config", path]).start()
        down = self.service(up=False)
        self.agent("web-01", self.c.agents_ep,
                   [h.tcp_check("api-tcp", "api", down.target)]).start()
        inc = self.wait_until(lambda: self.c.incident_for("api"), what="an incident for api")
        self.inc = inc["id"]
        self.ctl_ok("declare", self.inc)
        self.number = 0
        return self.inc

    def write_config(self):
        path = os.path.join(self.tmp, "notify.yaml")
        with open(path, "w") as f:
            f.write("""\
notify:
  retry_first: 200ms
  retry_max: 1s
  give_up_after: 1h
  timeout: 3s
  page_url: %s
smtp:
  url: %s
  from: status@example.com
subscriptions:
  - name: hook
    type: webhook
    url: %s
  - name: chat
    type: slack
    url: %s
    audience: internal
  - name: mail
    type: email
    to: [alice@example.com, bob@example.org]
  - name: billing-only
    type: webhook
    url: %s
    components: [billing]
""" % (PAGE, self.smtp.url, self.hook.url, self.chat.url,
       self.hook.url.replace("/hook", "/billing")))
        return path

    def start_notify(self, name="notify"):
        state = os.path.join(self.tmp, "notify-state")
        argv = [h.binary(NOTIFY), "--config", self.cfg_path, "--insecure",
                "--api", self.c.api_ep, "--publish", self.c.publish_ep,
                "--state", state, "--log-level", "debug"]
        p = self.spawn(self.unique(name), argv)
        self.wait_until(lambda: re.search(r"following broadcasts after|resuming after",
                                          self.read(p)),
                        what="tocsin-notify to follow the coordinator")
        return p

    def read(self, p):
        with open(p.log_path, errors="replace") as f:
            return f.read()

    def ctl_ok(self, *args):
        r = self.c.ctl_raw(*[str(a) for a in args])
        self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (args, r.stderr.strip()))
        return r.stdout

    def publish(self, text, external=True, components="api"):
        """Drafts, approves (external) and publishes one update; returns its
        number."""
        self.number += 1
        n = self.number
        args = ["update", self.inc, "draft", "--external" if external else "--internal",
                "--scenario", "outage", "--state", "investigating", "-m", text]
        if components:
            args += ["--components", components]
        self.ctl_ok(*args)
        if external:
            self.ctl_ok("update", self.inc, "approve", n)
        r = self.c.ctl_raw("update", str(self.inc), "publish", str(n))
        # Internal updates need no approval and may go out when drafted.
        if r.returncode != 0 and "already published" not in r.stderr:
            self.fail("tocsinctl update %d publish %d: %s" % (self.inc, n, r.stderr.strip()))
        return n

    def key(self, n, sub):
        return "tocsin-i%d-u%d-%s" % (self.inc, n, sub)

    def timeline_deliveries(self):
        t = self.c.ctl("timeline", str(self.inc))
        entries = t["timeline"] if isinstance(t, dict) else t
        return [e for e in entries if e["kind"] == "delivery"]

    # ---- tests ---------------------------------------------------------------

    def test_deliveries_and_payloads(self):
        self.receivers()
        self.incident()
        self.cfg_path = self.write_config()
        self.notify_proc = self.start_notify()
        ext = self.publish("We are looking into API errors.")
        internal = self.publish("DB primary is at 100% CPU.", external=False)

        self.wait_until(lambda: len(self.hook.accepted) >= 1, what="the webhook delivery")
        self.wait_until(lambda: len(self.chat.accepted) >= 1, what="the Slack delivery")
        self.wait_until(lambda: len(self.smtp.all()) >= 1, what="the e-mail")

        # Webhook: the generic payload and headers.
        rec = self.hook.accepted[0]
        self.assertEqual(rec["path"], "/hook")
        doc = rec["json"]
        self.assertEqual(doc["id"], self.key(ext, "hook"))
        self.assertEqual(rec["headers"]["Idempotency-Key"], self.key(ext, "hook"))
        self.assertTrue(rec["headers"]["User-Agent"].startswith("tocsin-notify/"))
        self.assertEqual(rec["headers"]["Content-Type"], "application/json")
        self.assertEqual(doc["incident"], self.inc)
        self.assertEqual(doc["maintenance"], 0)
        self.assertEqual(doc["update"], ext)
        self.assertEqual(doc["audience"], "external")
        self.assertEqual(doc["scenario"], "outage")
        self.assertEqual(doc["state"], "investigating")
        self.assertIn("API errors", doc["body"])
        # By their configuration names (id) and the names customers know.
        self.assertEqual([(c["id"], c["name"]) for c in doc["components"]],
                         [("api", "Public API")])
        self.assertEqual(doc["url"], PAGE + "incidents/%d.html" % self.inc)
        self.assertIn("eta", doc)
        self.assertFalse(doc["drill"])
        self.assertRegex(doc["published_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        for k in ("title", "impact", "severity", "next_update_at"):
            self.assertIn(k, doc)

        # Slack: the internal update only, in the incoming-webhook shape.
        self.assertEqual(len(self.chat.accepted), 1)
        s = self.chat.accepted[0]["json"]
        self.assertIn("text", s)
        kinds = [b["type"] for b in s["blocks"]]
        self.assertEqual(kinds, ["header", "section", "context"])
        self.assertIn("Investigating", s["blocks"][0]["text"]["text"])
        self.assertIn("100% CPU", s["blocks"][1]["text"]["text"])
        self.assertIn("Public API: ", s["text"])
        self.assertNotIn("(major_outage)", json.dumps(s))
        self.assertIn("<%s|Status page>" % PAGE, s["text"])
        self.assertEqual(self.chat.accepted[0]["headers"]["Idempotency-Key"],
                         self.key(internal, "chat"))

        # E-mail: envelope and headers.
        m = self.smtp.all()[0]
        self.assertEqual(m["mail_from"], "<status@example.com>")
        self.assertEqual(sorted(m["rcpt"]), ["<alice@example.com>", "<bob@example.org>"])
        msg = m["msg"]
        self.assertEqual(msg["From"], "status@example.com")
        self.assertIn("alice@example.com", msg["To"])
        self.assertIn("bob@example.org", msg["To"])
        self.assertIn("\u2014 Investigating", str(msg["Subject"]))
        self.assertEqual(msg["Message-ID"], "<%s@example.com>" % self.key(ext, "mail"))
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertIsNotNone(msg["Date"])
        text = msg.get_content()
        self.assertIn("API errors", text)
        self.assertIn("Affected: Public API: ", text)
        self.assertIn("Expected back: no estimate yet", text)
        self.assertLessEqual(text.count("Next update"), 1, text)
        self.assertNotIn("when there is news", text)
        self.assertIn("Status page: %sincidents/%d.html" % (PAGE, self.inc), text)

        # billing-only names a component the coordinator does not have:
        # said, not silent.
        unknown = re.compile(r"ERROR.*subscription billing-only \(line \d+\) names component "
                             r"\"billing\", which the coordinator does not define")
        self.wait_until(lambda: unknown.search(self.read(self.notify_proc)),
                        what="the unknown component logged as an error")
        # The component filter kept billing-only out; the internal update
        # went to nobody external.
        self.assertEqual([r["path"] for r in self.hook.accepted], ["/hook"])
        self.assertEqual(len(self.smtp.all()), 1)

        # Every result lands in the incident's timeline.
        def reported():
            d = self.timeline_deliveries()
            return d if len(d) >= 3 else None
        entries = self.wait_until(reported, what="three delivery entries in the timeline")
        text = "\n".join(e["text"] for e in entries)
        for sub in ("hook", "chat", "mail"):
            self.assertRegex(text, r"to %s: delivered" % sub)

    def test_public_postmortem_reaches_subscribers(self):
        """The public post-mortem goes to external subscribers as a status
        update does, with its parts apart in the webhook and its link to
        the report on the status page."""
        self.receivers()
        self.incident()
        self.cfg_path = self.write_config()
        self.start_notify()
        first = self.publish("We are looking into API errors.")
        self.wait_until(lambda: len(self.smtp.all()) >= 1, what="the first e-mail")
        self.ctl_ok("resolve", self.inc, "--force")  # the agent's check still fails
        self.ctl_ok("postmortem", self.inc, "report", "--summary", "The API failed for an hour.",
                    "--impact", "Requests to the API were refused.", "--cause",
                    "A certificate expired.", "--actions", "Certificates now renew by themselves.")
        self.ctl_ok("postmortem", self.inc, "approve")
        self.ctl_ok("postmortem", self.inc, "publish")
        report = first + 1
        self.wait_until(lambda: len(self.hook.accepted) >= 2, what="the report by webhook")
        self.wait_until(lambda: len(self.smtp.all()) >= 2, what="the report by e-mail")

        doc = self.hook.accepted[1]["json"]
        self.assertEqual(doc["id"], self.key(report, "hook"))
        self.assertEqual((doc["scenario"], doc["state"]), ("postmortem", "postmortem"))
        self.assertEqual(doc["postmortem"], {
            "summary": "The API failed for an hour.",
            "impact": "Requests to the API were refused.",
            "root_cause": "A certificate expired.",
            "actions": "Certificates now renew by themselves."})
        self.assertIsNone(self.hook.accepted[0]["json"]["postmortem"])
        self.assertEqual(doc["url"], PAGE + "incidents/%d.html#postmortem" % self.inc)
        self.assertIsNone(doc["next_update_at"])

        msg = self.smtp.all()[1]["msg"]
        self.assertIn("\u2014 Post-incident report", str(msg["Subject"]))
        text = msg.get_content()
        self.assertIn("Root cause\nA certificate expired.", text.replace("\r\n", "\n"))
        # What it affected, not how the components are now.
        self.assertIn("Affected: Public API\n", text.replace("\r\n", "\n"))
        self.assertNotIn("Expected back", text)
        self.assertNotIn("Next update", text)
        self.assertIn("Status page: %sincidents/%d.html#postmortem" % (PAGE, self.inc), text)
        # The internal Slack channel gets no external report.
        self.assertFalse(any("Post-incident" in json.dumps(a["json"]) for a in self.chat.accepted))

    def test_failing_receiver_recovers_in_order(self):
        self.receivers(fail_first=4)
        self.incident()
        self.cfg_path = self.write_config()
        self.start_notify()
        numbers = [self.publish("update %d" % i) for i in range(1, 4)]
        self.wait_until(lambda: len(self.hook.accepted) >= 3, what="all three webhook deliveries")
        got = [b["update"] for b in self.hook.bodies()]
        self.assertEqual(got, numbers, "delivered out of order")
        keys = self.hook.keys()
        self.assertEqual(keys, [self.key(n, "hook") for n in numbers])
        # The head of the queue is retried (with its own key) until it gets
        # through; nothing behind it overtakes.
        self.assertEqual(len(self.hook.refused), 4)
        self.assertEqual(set(self.hook.refused_keys()), {self.key(numbers[0], "hook")})
        for r in self.hook.refused:
            self.assertEqual(r["json"]["id"], self.key(numbers[0], "hook"))

        def reported():
            d = [e for e in self.timeline_deliveries() if "to hook:" in e["text"]]
            return d if len(d) >= 3 else None
        entries = self.wait_until(reported, what="webhook results in the timeline")
        first = [e["text"] for e in entries if e["text"].startswith("update %d " % numbers[0])]
        self.assertTrue(first and "5 attempts" in first[0], entries)

    def test_kill9_and_restart_lose_and_double_nothing(self):
        self.receivers()
        self.incident()
        self.cfg_path = self.write_config()
        p = self.start_notify()
        before = [self.publish("before %d" % i) for i in range(2)]
        # Wait for the commit of each delivery (logged after it), so the
        # kill falls outside the documented crash window and any repeat is
        # a real bug.
        self.wait_until(lambda: all("delivered %s " % self.key(n, "hook") in self.read(p)
                                    for n in before), what="the first two committed")
        p.kill9()
        p.expect_alive = False
        during = [self.publish("while down %d" % i) for i in range(2)]
        p2 = self.start_notify()
        after = [self.publish("after restart")]
        want = [self.key(n, "hook") for n in before + during + after]
        self.wait_until(lambda: len(self.hook.accepted) >= len(want),
                        what="every update delivered after the restart")
        self.wait_until(lambda: len(self.smtp.all()) >= len(want), what="every e-mail")
        h.time.sleep(1.0)  # room for a duplicate to show up
        self.assertEqual(self.hook.keys(), want, "lost, doubled or reordered deliveries")
        ids = [m["msg"]["Message-ID"] for m in self.smtp.all()]
        self.assertEqual(len(ids), len(set(ids)), "an e-mail was sent twice")
        self.assertEqual(len(ids), len(want))
        self.assertTrue(p2.alive())
        # SIGTERM: a clean stop with status 0 that saves the cursor.
        self.assertEqual(p2.stop(), 0)
        self.assertIn("stopped after broadcast", self.read(p2))

    def test_never_answering_receiver_is_failing(self):
        """A receiver that accepts and never answers: each attempt ends at
        the timeout, the attempts back off, and after failing_after the
        channel is reported failing with the delivery's age and the last
        error; once it answers, the delivery goes through."""
        silent = SilentReceiver()
        self.addCleanup(silent.stop)
        self.incident()
        self.cfg_path = os.path.join(self.tmp, "notify.yaml")
        with open(self.cfg_path, "w") as f:
            f.write("notify:\n  retry_first: 200ms\n  retry_max: 400ms\n  timeout: 500ms\n"
                    "  failing_after: 2s\n  page_url: %s\nsubscriptions:\n"
                    "  - name: stuck\n    type: webhook\n    url: %s\n" % (PAGE, silent.url))
        p = self.start_notify()
        n = self.publish("We are looking into API errors.")
        self.wait_until(lambda: "subscription stuck is failing" in self.read(p),
                        what="the channel reported failing")
        log = self.read(p)
        self.assertRegex(log, r"delivery %s to stuck failed \(attempt 1\): [^\n]*timed out"
                         % self.key(n, "stuck"))
        self.assertGreaterEqual(silent.accepted, 2, "attempts must be retried")
        self.assertRegex(log, r"subscription stuck is failing: %s undelivered for [0-9.]+(ms|s|m) "
                              r"after \d+ attempts; last error: [^\n]*timed out"
                         % self.key(n, "stuck"))
        # What the coordinator makes of the report: shown as failing where
        # it knows the word, refused (and logged) by an older one.
        def reported():
            log = self.read(p)
            if "refused the failing report" in log:
                return "refused"
            subs = {x["name"]: x for x in self.c.ctl("subscribers")}
            if "failing" in json.dumps(subs.get("stuck", {})):
                return "shown"
            return None
        how = self.wait_until(reported, what="the failing report to reach the coordinator")
        if how == "refused":
            self.note("this coordinator refuses failing reports; tocsinctl subscribers cannot "
                      "show them until it accepts them")
        silent.answer()
        self.wait_until(lambda: silent.answered, what="the delivery once the receiver answers")
        self.assertEqual(silent.answered[0]["id"], self.key(n, "stuck"))
        self.wait_until(lambda: "subscription stuck works again" in self.read(p),
                        what="the channel working again")

    def test_full_disk_keeps_the_queue(self):
        """The state's file system fills up: tocsin-notify does not exit,
        names the full disk, and delivers what it could not queue once
        there is room again."""
        state = os.path.join(self.tmp, "notify-state")
        os.makedirs(state)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", state],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (%s)" % r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", state], capture_output=True)
        self.receivers()
        self.incident()
        self.cfg_path = self.write_config()
        p = self.start_notify()
        first = self.publish("Before the disk filled up.")
        # Committed (logged after the commit), not only received: a commit
        # that met the full disk would rightly send it again.
        self.wait_until(lambda: "delivered %s " % self.key(first, "hook") in self.read(p),
                        what="the first delivery committed")
        filler = os.path.join(state, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        second = self.publish("While the disk is full.")
        self.wait_until(lambda: "disk full at %s" % state in self.read(p),
                        what="the full disk named in the log")
        self.assertTrue(p.alive())
        os.unlink(filler)
        self.wait_until(lambda: self.key(second, "hook") in self.hook.keys(),
                        what="the delivery once there is room")
        self.assertEqual(self.hook.keys(), [self.key(first, "hook"), self.key(second, "hook")])
        self.assertIn("the state is written again", self.read(p))
        self.assertEqual(p.stop(), 0)

    def test_bad_configuration_exits_2(self):
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w") as f:
            f.write("notify:\n  retry_first: soon\n")
        r = subprocess.run([h.binary(NOTIFY), "--config", path, "--insecure"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s:2:" % path, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)
        r = subprocess.run([h.binary(NOTIFY), "--bogus"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([h.binary(NOTIFY), "--help"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--config FILE", r.stdout)


if __name__ == "__main__":
    unittest.main()
