"""Start-up failures name their cause: a YAML typo names file and line, a
port conflict names the endpoint and "address already in use", a missing
key names the file that is missing, and `make run` (scripts/run.sh) passes
the daemon's own message through instead of guessing. And `make run`
itself: everything it starts answers, every metrics address it prints
serves /metrics, an alert sent the way it shows reaches an incident, and
the incident's pages reach the demo's inbox (var/inbox/) with a link that
shows the page on GET and acknowledges it, "via link", on POST."""

import email
import email.policy
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import unittest
import urllib.request

import tocsin_harness as h

STATUSPAGE = "tocsin-statuspage"
RUN_SH = os.path.join(h.HERE, "..", "..", "scripts", "run.sh")
SINK = os.path.join(h.HERE, "..", "..", "scripts", "smtp-sink.py")


class StartupErrorsTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL)

    def lines(self, text):
        return [l for l in text.splitlines() if l.strip()]

    def test_yaml_typo(self):
        path = os.path.join(self.tmp, "coordinator.yaml")
        with open(path, "w") as f:
            f.write("coordinator:\n  insecure: true\n  data: %s\n policy:\n  declare_after: 1m\n"
                    % os.path.join(self.tmp, "data"))
        r = h.run([h.binary(h.COORDINATOR), "--config", path], cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = self.lines(r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("tocsin-coordinator: %s:4: " % path), lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "data")))

    def test_port_conflict(self):
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        self.addCleanup(holder.close)
        busy = "tcp://127.0.0.1:%d" % holder.getsockname()[1]
        c = self.coordinator(extra=["--api", busy])
        # The harness puts its own --api first; ours, later, wins.
        p = c.start(wait=False).proc
        rc = p.wait(timeout=30)
        self.assertEqual(rc, 1, p.log())
        log = p.log()
        cause = [l for l in log.splitlines() if "Address already in use" in l]
        self.assertTrue(cause, "no 'Address already in use' in %r" % log)
        self.assertIn(busy, cause[0], "the message must name the endpoint")
        self.assertIn("ERROR", cause[0])
        # The last line says nothing runs, and no misleading errno.
        last = self.lines(log)[-1]
        self.assertIn("not started", last)
        self.assertNotIn("input/output error", log)

    def test_statuspage_port_conflict(self):
        h.require(self, STATUSPAGE)
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        self.addCleanup(holder.close)
        port = holder.getsockname()[1]
        r = h.run([h.binary(STATUSPAGE), "--insecure", "--api", h.ep(h.free_port()),
                   "--publish", h.ep(h.free_port()), "--out", os.path.join(self.tmp, "site"),
                   "--state", os.path.join(self.tmp, "st"), "--http", "127.0.0.1:%d" % port],
                  cwd=self.tmp)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Address already in use", r.stderr)
        self.assertIn("cannot serve HTTP on 127.0.0.1:%d" % port, r.stderr)

    def test_missing_key(self):
        keys = os.path.join(self.tmp, "keys")
        r = h.run([h.binary(h.CTL), "keys", "--dir", keys, "init"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        server = os.path.join(keys, "coordinator.cert")
        missing = os.path.join(self.tmp, "agent.cert")
        # The agent: the missing file itself is named, with where it was set.
        cfg = os.path.join(self.tmp, "agent.yaml")
        with open(cfg, "w") as f:
            f.write("agent:\n  id: web-01\n  spool: %s\n  key: %s\n  server_key: %s\n"
                    % (os.path.join(self.tmp, "spool"), missing, server))
        r = h.run([h.binary(h.AGENT), "--config", cfg], cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        line = self.lines(r.stderr)[0]
        self.assertIn("%s:4: agent.key: %s: no such file" % (cfg, missing), line)
        self.assertNotIn("_secret", line)
        # Only the secret half missing: that file is named.
        with open(missing, "w") as f:
            with open(server) as g:
                f.write(g.read())
        r = h.run([h.binary(h.AGENT), "--config", cfg], cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s_secret: no such file" % missing, r.stderr)
        # tocsinctl: the same words.
        r = h.run([h.binary(h.CTL), "--key", os.path.join(self.tmp, "gone.cert"),
                   "--server-key", server, "status"], cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("gone.cert: no such file", r.stderr)
        r = h.run([h.binary(h.CTL), "--json", "--key", os.path.join(self.tmp, "gone.cert"),
                   "--server-key", server, "status"], cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("gone.cert: no such file", json.loads(r.stderr)["error"])

    def test_run_sh_passes_the_message_through(self):
        """make run with a typo in var/coordinator.yaml: the coordinator's own
        file:line message, not a guess."""
        var = os.path.join(self.tmp, "var")
        os.mkdir(var)
        with open(os.path.join(var, "coordinator.yaml"), "w") as f:
            f.write("policy:\n  declare_after: 1m\n  declare_aftre: 2m\n")
        base = self.free_block()
        r = subprocess.run(["/bin/sh", RUN_SH, h.BIN], cwd=self.tmp, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL,
                           env=h.clean_env({"TOCSIN_RUN_PORT": str(base)}))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("%s/coordinator.yaml:3: policy: unknown key \"declare_aftre\"" % var,
                      r.stderr)
        self.assertNotIn("port in use", r.stderr)
        self.assertNotIn("tocsin is running", r.stdout)

    def start_run(self):
        """Starts make run (scripts/run.sh) in the test's directory on a
        free block of ports, stopped at clean-up; returns the process, a
        function that reads its output so far, and the base port."""
        for prog in (STATUSPAGE, "tocsin-gateway", "tocsin-notify", h.SUB):
            h.require(self, prog)
        base = self.free_block()
        out = os.path.join(self.tmp, "run.out")
        with open(out, "w") as f:
            p = subprocess.Popen(["/bin/sh", RUN_SH, h.BIN], cwd=self.tmp, stdout=f,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=h.clean_env({"TOCSIN_RUN_PORT": str(base)}))

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        self.addCleanup(stop)

        def text():
            with open(out) as f:
                return f.read()
        self.wait_until(lambda: "Ctrl-C stops everything" in text() or p.poll() is not None,
                        what="make run up")
        self.assertIsNone(p.poll(), text())
        return p, stop, text, base

    def test_make_run_starts_everything_with_metrics(self):
        p, stop, text, base = self.start_run()
        printed = text()
        metrics = re.findall(r"^  (tocsin-[a-z]+) +(http://127\.0\.0\.1:\d+/metrics)$",
                             printed, re.M)
        self.assertEqual(sorted(d for d, _ in metrics),
                         ["tocsin-coordinator", "tocsin-gateway", "tocsin-notify",
                          "tocsin-statuspage"], printed)
        for daemon, url in metrics:
            with self.subTest(daemon=daemon):
                with urllib.request.urlopen(url, timeout=10) as r:
                    body = r.read().decode()
                self.assertIn("# TYPE tocsin_", body)
        with open(os.path.join(self.tmp, "var", "gateway-token")) as f:
            token = f.read().strip()
        self.assertIn(token, printed)
        gw = re.search(r"url (http://127\.0\.0\.1:\d+)/v1/alertmanager", printed).group(1)
        req = urllib.request.Request(gw + "/v2/enqueue", method="POST", data=json.dumps({
            "routing_key": token, "event_action": "trigger", "dedup_key": "run-sh",
            "payload": {"summary": "from the test", "source": "web-01",
                        "severity": "critical", "group": "host"}}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 202)
        ctl = [h.binary(h.CTL), "--json", "--api", "tcp://127.0.0.1:%d" % (base + 1),
               "incidents", "--all"]

        def incident():
            r = h.run(ctl, cwd=self.tmp)
            return [i for i in json.loads(r.stdout) if i["service"] == "host"] \
                if r.returncode == 0 else None
        self.wait_until(incident, what="the gateway's alert as an incident")
        stop()
        self.assertEqual(p.returncode, 0, text())
        self.assertIn("stopped", text())

    def test_make_run_pages_reach_the_inbox_and_the_link_acknowledges(self):
        """An Events API trigger for demo-web (the team web's service), the
        incident declared by hand (make run's coordinator has no test
        clock; it would declare after 1m): its SME, alice, and its IC, the
        operator key "local", are paged by e-mail into var/inbox/; the
        link in alice's mail shows the page on GET and acknowledges it on
        POST; tocsin-notify's /metrics counts the deliveries."""
        p, stop, text, base = self.start_run()
        printed = text()
        var = os.path.join(self.tmp, "var")
        inbox = os.path.join(var, "inbox")
        self.assertIn("mails in %s/" % inbox, printed)
        with open(os.path.join(var, "gateway-token")) as f:
            token = f.read().strip()
        gw = re.search(r"url (http://127\.0\.0\.1:\d+)/v1/alertmanager", printed).group(1)
        req = urllib.request.Request(gw + "/v2/enqueue", method="POST", data=json.dumps({
            "routing_key": token, "event_action": "trigger", "dedup_key": "run-sh-web",
            "payload": {"summary": "web is down", "source": "web-01",
                        "severity": "critical", "group": "demo-web"}}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 202)
        ctl = [h.binary(h.CTL), "--json", "--api", "tcp://127.0.0.1:%d" % (base + 1)]

        def ctl_json(*args):
            r = h.run(ctl + [str(a) for a in args], cwd=self.tmp)
            self.assertEqual(r.returncode, 0, "tocsinctl %s: %s" % (args, r.stderr))
            return json.loads(r.stdout)

        def incident():
            r = h.run(ctl + ["incidents", "--all"], cwd=self.tmp)
            if r.returncode != 0:
                return None
            # The agent's demo-http check may have opened it already.
            found = [i for i in json.loads(r.stdout) if i["service"] == "demo-web"
                     and "web-01" in i["hosts"]]
            return found[0] if found else None
        inc = self.wait_until(incident, what="the gateway's alert as a demo-web incident")["id"]
        ctl_json("declare", inc)

        def mails():
            out = {}
            for name in sorted(os.listdir(inbox)):
                if name.endswith(".eml"):
                    with open(os.path.join(inbox, name), "rb") as f:
                        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
                    out.setdefault(msg["To"], []).append(msg)
            return out
        self.wait_until(lambda: {"alice@example.com", "you@example.com"} <= set(mails()),
                        what="the SME's and the IC's pages in %s" % inbox)
        page = mails()["alice@example.com"][0]
        self.assertTrue(page["Subject"].startswith("PAGE: SEV-1 incident %d (demo-web)" % inc),
                        page["Subject"])
        link = re.search(r"(http://127\.0\.0\.1:\d+/ack/[A-Za-z0-9_-]+)",
                         page.get_body(("plain",)).get_content()).group(1)
        self.assertTrue(link.startswith(gw + "/ack/"), link)
        # The sink's one line names it too.
        with open(os.path.join(var, "inbox.log")) as f:
            self.assertRegex(f.read(), r"mail \d+\.eml: to alice@example\.com: PAGE: .*, ack: "
                             + re.escape(link))

        def sme_page():
            pages = [pg for pg in ctl_json("show", inc)["pages"] if pg["role"] == "sme"]
            self.assertEqual([pg["person"] for pg in pages], ["alice"])
            return pages[0]
        self.assertIsNone(sme_page()["acknowledged_at"])
        with urllib.request.urlopen(link, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("Acknowledge this page?", r.read().decode())
        self.assertIsNone(sme_page()["acknowledged_at"], "a GET must acknowledge nothing")
        req = urllib.request.Request(link, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("Acknowledged", r.read().decode())
        self.assertIsNotNone(sme_page()["acknowledged_at"])
        acks = [e for e in ctl_json("timeline", inc)["timeline"] if e["kind"] == "ack"]
        self.assertTrue(any("acknowledged by alice via link" in e["text"] for e in acks), acks)
        # Only alice's page: the IC's is still waiting.
        ic = [pg for pg in ctl_json("show", inc)["pages"] if pg["role"] == "commander"]
        self.assertEqual([(pg["person"], pg["acknowledged_at"]) for pg in ic], [("local", None)])
        # tocsin-notify's /metrics, at the address make run printed.
        url = re.search(r"^  tocsin-notify +(http://127\.0\.0\.1:\d+/metrics)$", printed,
                        re.M).group(1)

        def delivered():
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read().decode()
            m = re.search(r'^tocsin_notify_deliveries_total\{channel="page:alice",type="email",'
                          r'result="delivered"\} (\d+)$', body, re.M)
            return m and int(m.group(1)) >= 1
        self.wait_until(delivered, what="alice's page counted in tocsin-notify's /metrics")
        stop()
        self.assertEqual(p.returncode, 0, text())

    def test_inbox_sink(self):
        """make run's inbox, scripts/smtp-sink.py: each mail whole in its own
        file (dots unstuffed) and one line naming it; an unknown command
        502, an oversized mail 552 and not kept; the numbering goes on after
        a restart; usage and a busy port are errors; SIGTERM exits 0."""
        inbox = os.path.join(self.tmp, "inbox")
        r = subprocess.run([sys.executable, SINK], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("usage: smtp-sink.py ADDR:PORT DIR", r.stderr)
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        self.addCleanup(holder.close)
        busy = "127.0.0.1:%d" % holder.getsockname()[1]
        r = subprocess.run([sys.executable, SINK, busy, inbox], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("smtp-sink.py: cannot listen on %s" % busy, r.stderr)
        addr = "127.0.0.1:%d" % h.free_port()
        log = os.path.join(self.tmp, "inbox.log")

        def start():
            with open(log, "a") as f:
                p = subprocess.Popen([sys.executable, SINK, addr, inbox], stdout=f,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
            self.wait_until(lambda: self.read(log).count("inbox on smtp://" + addr) == start.n,
                            what="the sink listening")
            return p
        start.n = 1
        p = start()
        host, port = addr.split(":")
        data = (b"To: alice@example.com\r\nSubject: PAGE: test\r\n\r\n"
                b"Acknowledge: http://127.0.0.1:7405/ack/AQ_x-1\r\n.leading dot\r\n")
        with smtplib.SMTP(host, int(port), timeout=10) as c:
            c.sendmail("tocsin@localhost", ["alice@example.com"], data)
            self.assertEqual(c.docmd("VRFY", "alice")[0], 502)
            with self.assertRaises(smtplib.SMTPDataError) as e:
                c.sendmail("tocsin@localhost", ["bob@example.com"],
                           b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1100)
            self.assertEqual(e.exception.smtp_code, 552)
        with open(os.path.join(inbox, "0001.eml"), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(sorted(os.listdir(inbox)), ["0001.eml"])
        self.assertIn("mail 0001.eml: to alice@example.com: PAGE: test, ack: "
                      "http://127.0.0.1:7405/ack/AQ_x-1\n", self.read(log))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=30), 0)
        start.n = 2
        p = start()
        with smtplib.SMTP(host, int(port), timeout=10) as c:
            c.sendmail("tocsin@localhost", ["bob@example.com"], b"Subject: again\r\n\r\nhi\r\n")
        self.assertEqual(sorted(os.listdir(inbox)), ["0001.eml", "0002.eml"])
        self.assertIn("mail 0002.eml: to ?: again\n", self.read(log))
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=30), 0)

    def read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def free_block(self, n=8):
        """A base port with it and the next n-1 free a moment ago (make
        run uses eight)."""
        for _ in range(50):
            base = h.free_port()
            if base > 65000:
                continue
            socks = []
            try:
                for p in range(base, base + n):
                    s = socket.socket()
                    socks.append(s)
                    s.bind(("127.0.0.1", p))
                return base
            except OSError:
                continue
            finally:
                for s in socks:
                    s.close()
        self.fail("no block of %d free ports" % n)


if __name__ == "__main__":
    unittest.main()
