"""Pages reach people: a page to alice goes to an SMTP receiver, an
ntfy-style receiver and a webhook and a Slack-compatible receiver on
127.0.0.1, through the real coordinator, tocsin-notify and tocsin-gateway;
each delivery is reported into the incident's timeline and counted per
person; a high-urgency page repeats until acknowledged; the link in the
page shows a confirmation (a GET acknowledges nothing) and only its POST
acknowledges that page as alice, which stops the repeats and the
escalation. A link is single use (even across a gateway restart), works
for its own page only, expires, and cannot be forged."""

import datetime
import json
import os
import re

import gateway_harness as g
import tocsin_harness as h
from notify_receivers import HttpReceiver, SmtpReceiver

CONFIG = """\
policy:
  bridge_url: "https://meet.example.com/tocsin-{{incident}}"
services:
  api: {team: web, users_per_host: 40, total_users: 1000}
teams:
  web:
    rotation: {members: [alice], shift: 1w, handoff: "00:00", start: START}
    ack_timeout: 30m
people:
  alice:
    name: Alice Liddell
    contact:
      - {type: email, to: alice@example.com}
      - {type: ntfy, url: "NTFY", token: tk_alice}
      - {type: slack, url: "SLACK"}
      - {type: webhook, url: "HOOK"}
  bob: {name: Bob, email: bob@example.com}
paging:
  high_urgency: [1, 2, 3]
  low_urgency: [4]
  repeat_every: 5m
"""

ACK = re.compile(r"(http://127\.0\.0\.1:\d+/ack/[A-Za-z0-9_-]+)")


class PagesTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, g.GATEWAY, g.NOTIFY)

    def setUp(self):
        super().setUp()
        self.http = HttpReceiver()
        self.smtp = SmtpReceiver()
        self.addCleanup(self.http.stop)
        self.addCleanup(self.smtp.stop)
        self.keys = g.keys_dir(self)

    def start(self):
        base = "http://127.0.0.1:%d" % self.http.port
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.replace("START", today).replace("NTFY", base + "/alice-pages")
                    .replace("SLACK", base + "/slack").replace("HOOK", base + "/pager"))
        self.c = self.coordinator(extra=["--config", path, "--test-clock",
                                         "--keys", self.keys]).start()
        self.gw = g.Gateway(self, self.c, os.path.join(self.keys, "integrations")).start()
        cfg = os.path.join(self.tmp, "notify.yaml")
        with open(cfg, "w") as f:
            f.write("""\
notify:
  retry_first: 200ms
  retry_max: 1s
  timeout: 3s
  ack_url: %s/
  link_key: %s/links.key
  link_ttl: 1h
smtp:
  url: %s
  from: tocsin@example.com
""" % (self.gw.url, self.keys, self.smtp.url))
        self.notify = self.spawn("notify", [
            h.binary(g.NOTIFY), "--config", cfg, "--insecure", "--api", self.c.api_ep,
            "--publish", self.c.publish_ep, "--state", os.path.join(self.tmp, "notify-state"),
            "--log-level", "debug"])
        self.wait_until(lambda: "following broadcasts after" in self.log(self.notify),
                        what="tocsin-notify following the coordinator")
        down = self.service(up=False)
        self.agent("web-01", self.c.agents_ep,
                   [h.tcp_check("api-tcp", "api", down.target)]).start()
        inc = self.wait_until(lambda: self.c.incident_for("api"), what="an incident")
        self.inc = inc["id"]

    def log(self, p):
        with open(p.log_path, errors="replace") as f:
            return f.read()

    def ctl_ok(self, *args):
        r = self.c.ctl_raw(*[str(a) for a in args])
        self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (args, r.stderr.strip()))
        return r.stdout

    def timeline(self, kind=None):
        t = self.c.ctl("timeline", str(self.inc))["timeline"]
        return [e for e in t if kind is None or e["kind"] == kind]

    def page_of(self, role):
        for p in self.c.ctl("show", str(self.inc))["pages"]:
            if p["role"] == role:
                return p
        return None

    def hooks(self, path):
        with self.http.lock:
            return [r for r in self.http.accepted if r["path"] == path]

    def mails(self, to):
        return [m for m in self.smtp.all() if any(to in r for r in m["rcpt"])]

    def test_pages_delivered_repeated_and_acknowledged_by_link(self):
        self.start()
        self.ctl_ok("assign", self.inc, "sme", "alice")

        # Every method at once (high urgency: not assessed yet).
        mail = self.wait_until(lambda: self.mails("alice@example.com"), what="the page by e-mail")
        ntfy = self.wait_until(lambda: self.hooks("/alice-pages"), what="the ntfy push")
        slack = self.wait_until(lambda: self.hooks("/slack"), what="the Slack message")
        hook = self.wait_until(lambda: self.hooks("/pager"), what="the webhook")
        msg = mail[0]["msg"]
        self.assertTrue(msg["Subject"].startswith("PAGE: incident %d (api)" % self.inc),
                        msg["Subject"])
        self.assertEqual(msg["Importance"], "high")
        text = msg.get_content()
        self.assertIn("You are the Subject Matter Expert for incident %d." % self.inc, text)
        self.assertIn("Severity: not assessed yet", text)
        # Not declared yet: no conference call to join.
        self.assertNotIn("Conference:", text)
        link = ACK.search(text).group(1)
        self.assertTrue(link.startswith(self.gw.url + "/ack/"), link)
        hd = ntfy[0]["headers"]
        self.assertEqual(hd["Priority"], "5")
        self.assertEqual(hd["Authorization"], "Bearer tk_alice")
        self.assertIn("view, Acknowledge, %s, clear=true" % link, hd["Actions"])
        self.assertIn(b"You are the Subject Matter Expert", ntfy[0]["body"])
        self.assertEqual(hook[0]["json"]["ack_url"], link)
        self.assertEqual(hook[0]["json"]["kind"], "assigned")
        self.assertEqual(hook[0]["json"]["urgency"], "high")
        self.assertEqual(hook[0]["headers"]["Idempotency-Key"], hook[0]["json"]["id"])
        self.assertIn(link, json.dumps(slack[0]["json"]))
        # Each delivery is reported: the timeline and tocsinctl pages.
        self.wait_until(lambda: len(self.timeline("page-delivery")) >= 4,
                        what="four delivery reports in the timeline")
        texts = [e["text"] for e in self.timeline("page-delivery")]
        self.assertTrue(any(re.match(r"page to alice by e-mail delivered in \d+ ms", t)
                            for t in texts), texts)
        for method in ("ntfy", "slack", "webhook"):
            self.assertTrue(any(t.startswith("page to alice by %s delivered" % method)
                                for t in texts), texts)
        pages = {p["person"]: p for p in self.c.ctl("pages")}
        self.assertEqual(pages["alice"]["pages"], 1)
        self.assertEqual(pages["alice"]["delivered"], 4)

        # Not acknowledged: the page repeats after repeat_every.
        self.ctl_ok("clock", "advance", "301s")
        again = self.wait_until(lambda: [r for r in self.hooks("/pager")
                                         if r["json"]["number"] == 2], what="the repeated page")
        self.assertEqual(again[0]["json"]["kind"], "repeated")
        self.assertEqual(again[0]["json"]["ack_url"], link, "the same page, the same link")
        self.assertNotEqual(again[0]["json"]["id"], hook[0]["json"]["id"])
        self.assertTrue(self.timeline("repage"))

        # The link: GET (and HEAD) show a confirmation and acknowledge nothing.
        st, hd, body = g.request(link)
        self.assertEqual(st, 200, (hd, body))
        self.assertIn(b"Acknowledge this page?", body, hd)
        self.assertIn(b'<form method="post"', body)
        self.assertIn("default-src 'none'", hd["content-security-policy"])
        self.assertEqual(hd["referrer-policy"], "no-referrer")
        st, _, _ = g.request(link, "HEAD")
        self.assertEqual(st, 200)
        self.assertIsNone(self.page_of("sme")["acknowledged_at"])
        # A forged or changed link acknowledges nothing either.
        token = link.rsplit("/", 1)[1]
        forged = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
        st, _, body = g.request(self.gw.url + "/ack/" + forged, "POST")
        self.assertIn(st, (403, 404), body)
        self.assertIsNone(self.page_of("sme")["acknowledged_at"])
        # The POST acknowledges the page as alice, via link.
        st, _, body = g.request(link, "POST")
        self.assertEqual(st, 200, body)
        self.assertIn(b"Acknowledged", body)
        self.assertIsNotNone(self.page_of("sme")["acknowledged_at"])
        acks = [e for e in self.timeline("ack")]
        self.assertEqual(acks[-1]["actor"], "alice")
        self.assertIn("acknowledged by alice via link: sme page (alice)", acks[-1]["text"])
        self.assertEqual(self.c.ctl("show", str(self.inc))["state"], "investigating")
        # Single use, also after the gateway restarts.
        st, _, body = g.request(link, "POST")
        self.assertEqual(st, 409, body)
        self.assertIn(b"already acknowledged", body)
        self.gw.stop()
        self.gw.start()
        st, _, body = g.request(link, "POST")
        self.assertEqual(st, 409, body)

        # The repeats and the escalation stop: 40 minutes later (past the
        # team's 30 min ack_timeout) nothing more went to alice. bob's page
        # after the advance is the marker that everything due ran.
        repeats = len(self.hooks("/pager"))
        self.ctl_ok("clock", "advance", "40m")
        self.ctl_ok("assign", self.inc, "commander", "bob")
        bob = self.wait_until(lambda: self.mails("bob@example.com"), what="bob's page")
        after = self.timeline()
        ack_at = max(i for i, e in enumerate(after) if e["kind"] == "ack")
        self.assertFalse([e for e in after[ack_at:] if e["kind"] in ("repage", "escalate")],
                         after[ack_at:])
        self.assertTrue(any(e["kind"] == "declared" for e in after), "the marker deadline ran")
        self.assertEqual(len(self.hooks("/pager")), repeats)
        self.assertEqual(self.c.ctl("show", str(self.inc))["roles"]["sme"], "alice")

        # A link works for its own page only: alice's link does not touch
        # bob's page, and a new page of alice's makes her old link stale.
        bob_text = bob[0]["msg"].get_content()
        bob_link = ACK.search(bob_text).group(1)
        # Declared meanwhile: its pages carry the incident's conference link.
        self.assertIn("Conference: https://meet.example.com/tocsin-%d" % self.inc, bob_text)
        self.assertNotEqual(bob_link, link)
        self.assertIsNone(self.page_of("commander")["acknowledged_at"])
        st, _, body = g.request(link, "POST")
        self.assertEqual(st, 409, body)
        self.assertIsNone(self.page_of("commander")["acknowledged_at"])
        # Links expire (link_ttl 1h): bob's, two hours on, no longer works.
        self.ctl_ok("clock", "advance", "2h")
        st, _, body = g.request(bob_link)
        self.assertEqual(st, 409, body)
        self.assertIn(b"expired", body)
        st, _, body = g.request(bob_link, "POST")
        self.assertEqual(st, 409, body)
        self.assertIsNone(self.page_of("commander")["acknowledged_at"])
        pages = {p["person"]: p for p in self.c.ctl("pages")}
        self.assertEqual(pages["alice"]["acknowledged_by_link"], 1)
        self.assertEqual(pages["bob"]["acknowledged_by_link"], 0)

        # The process's notices reach people too: bob, the IC, hears by
        # e-mail that command was taken from him; a notice has no link.
        before = len(self.mails("bob@example.com"))
        self.ctl_ok("handoff", self.inc, "alice", "--force")
        notice = self.wait_until(lambda: self.mails("bob@example.com")[before:],
                                 what="bob's notice of the handoff")
        text = notice[0]["msg"].get_content()
        self.assertIn("incident command was taken over with --force and given to alice", text)
        self.assertIsNone(ACK.search(text), "a notice acknowledges nothing")
        self.assertNotIn("tocsinctl ack", text)
