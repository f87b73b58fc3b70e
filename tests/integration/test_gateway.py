"""tocsin-gateway with real clients nobody here wrote: Debian's
prometheus-alertmanager, started on 127.0.0.1 with a generated config and
a webhook receiver pointing at the gateway, turns alerts POSTed to its own
API into a tocsin incident and, when they resolve, resolves it; curl sends
PagerDuty Events API v2 triggers, acknowledgements and resolves. Bad input
at every endpoint is refused with the right status and stores nothing; a
revoked token stops working without a restart; a flood gets 429; and a
kill -9 of the gateway loses no event it accepted."""

import datetime
import json
import os
import subprocess
import time

import gateway_harness as g
import tocsin_harness as h


def now_rfc3339(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GatewayTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL, g.GATEWAY)

    def setUp(self):
        super().setUp()
        self.keys = g.keys_dir(self)
        self.integrations = os.path.join(self.keys, "integrations")

    def start(self, config=None):
        self.c = self.coordinator().start()
        self.token = g.make_integration(self, self.keys, "prom", "api", "web")
        self.gw = g.Gateway(self, self.c, self.integrations, config=config).start()
        return self.c, self.gw

    def events(self):
        return g.gateway_events(self.c.log())

    # ---- Alertmanager ------------------------------------------------------

    def start_alertmanager(self, token):
        if not g.have_tool(g.ALERTMANAGER):
            self.skipTest("prometheus-alertmanager is not installed (scripts/deps.sh)")
        port = h.free_port()
        cfg = os.path.join(self.tmp, "alertmanager.yml")
        with open(cfg, "w") as f:
            f.write("""\
route:
  receiver: tocsin
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: %s/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
""" % (self.gw.url, token))
        self.spawn("alertmanager", [g.ALERTMANAGER, "--config.file=" + cfg,
                                    "--storage.path=" + os.path.join(self.tmp, "am-data"),
                                    "--web.listen-address=127.0.0.1:%d" % port,
                                    "--cluster.listen-address=", "--log.level=debug"])
        am = "http://127.0.0.1:%d" % port
        self.wait_until(lambda: g.request(am + "/-/ready")[0] == 200,
                        what="Alertmanager to be ready")
        return am

    def test_alertmanager_opens_and_resolves_an_incident(self):
        self.start()
        am = self.start_alertmanager(self.token)
        alert = {"labels": {"alertname": "HighErrorRate", "service": "api",
                            "instance": "web-01:9100", "severity": "page"},
                 "annotations": {"summary": "5xx above 5%", "description": "checkout fails"},
                 "startsAt": now_rfc3339(-30)}
        status, _, body = g.request(am + "/api/v2/alerts", "POST", body=[alert],
                                    headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        inc = self.wait_until(lambda: self.c.incident_for("api"),
                              what="an incident from Alertmanager's notification")
        self.assertEqual(inc["state"], "triggered")
        self.assertEqual(inc["hosts"], ["web-01:9100"])
        self.assertIn("5xx above 5% - checkout fails", inc["summary"])
        ev = self.events()
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual(ev[0]["state"], "CRITICAL")
        self.assertTrue(ev[0]["check"].startswith("HighErrorRate-"), ev[0])
        # Resolved in Alertmanager: it says so, and the incident resolves.
        alert["endsAt"] = now_rfc3339(-1)
        status, _, body = g.request(am + "/api/v2/alerts", "POST", body=[alert],
                                    headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        self.wait_until(lambda: self.c.incident_for("api", all=True)["state"] == "resolved",
                        what="the incident resolved by Alertmanager's resolved notification")
        ev = self.events()
        self.assertEqual([e["state"] for e in ev], ["CRITICAL", "OK"])
        self.assertEqual(ev[0]["check"], ev[1]["check"], "keyed by the fingerprint")
        self.assertEqual(h.event_keys(self.c.log()), [("gw-01", 1), ("gw-01", 2)])

    # ---- the Events API with curl ------------------------------------------

    def curl(self, event):
        r = subprocess.run([g.CURL, "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST",
                            "-H", "Content-Type: application/json", "--data-binary", "@-",
                            self.gw.url + "/v2/enqueue"],
                           input=json.dumps(event), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, code = r.stdout.rpartition("\n")
        return int(code), json.loads(body)

    def test_events_api_trigger_acknowledge_resolve(self):
        if not g.have_tool(g.CURL):
            self.skipTest("curl is not installed (scripts/deps.sh)")
        c, gw = self.start()
        code, body = self.curl({"routing_key": self.token, "event_action": "trigger",
                                "dedup_key": "zabbix-problem-4711",
                                "payload": {"summary": "Disk full on db-01", "source": "db-01",
                                            "severity": "critical", "group": "api",
                                            "component": "disk", "class": "space",
                                            "custom_details": {"free": "0%"}}})
        self.assertEqual(code, 202, body)
        self.assertEqual(body, {"status": "success", "message": "Event processed",
                                "dedup_key": "zabbix-problem-4711"})
        inc = self.wait_until(lambda: c.incident_for("api"), what="an incident from a trigger")
        self.assertEqual(inc["hosts"], ["db-01"])
        self.assertIn("Disk full on db-01 (component: disk, class: space, group: api)",
                      inc["summary"])
        # A person holds the SME role and is paged; the tool acknowledges.
        c.ctl("assign", str(inc["id"]), "sme", "alice")
        code, body = self.curl({"routing_key": self.token, "event_action": "acknowledge",
                                "dedup_key": "zabbix-problem-4711"})
        self.assertEqual(code, 202, body)
        self.wait_until(lambda: c.ctl("show", str(inc["id"]))["state"] == "investigating",
                        what="the incident acknowledged from the integration")
        timeline = c.ctl("timeline", str(inc["id"]))["timeline"]
        acks = [t for t in timeline if t["kind"] == "ack"]
        self.assertTrue(acks and "acknowledged from gw-01" in acks[-1]["text"], timeline)
        self.assertIn("sme page (alice)", acks[-1]["text"])
        # Resolve.
        code, body = self.curl({"routing_key": self.token, "event_action": "resolve",
                                "dedup_key": "zabbix-problem-4711"})
        self.assertEqual(code, 202, body)
        self.wait_until(lambda: c.incident_for("api", all=True)["state"] == "resolved",
                        what="the incident resolved from the integration")
        # Without a dedup key PagerDuty makes one and says which.
        code, body = self.curl({"routing_key": self.token, "event_action": "trigger",
                                "payload": {"summary": "Queue backlog", "source": "mq-01",
                                            "severity": "warning", "group": "web"}})
        self.assertEqual(code, 202, body)
        self.assertRegex(body["dedup_key"], r"^[0-9a-f]{32}$")
        # Severity mapping: warning is WARNING, recorded without an incident.
        self.wait_until(lambda: any(e["state"] == "WARNING" for e in self.events()),
                        what="the warning recorded")
        self.assertIsNone(c.incident_for("web"))
        # A resolve of a key nobody triggered changes nothing, as PagerDuty.
        n = len(self.events())
        code, body = self.curl({"routing_key": self.token, "event_action": "resolve",
                                "dedup_key": "never-seen"})
        self.assertEqual(code, 202, body)
        self.assertEqual(len(self.events()), n)

    # ---- bad input -------------------------------------------------------

    def test_bad_input_everywhere(self):
        cfg = os.path.join(self.tmp, "gateway.yaml")
        with open(cfg, "w") as f:
            f.write("gateway:\n  max_body: 4KiB\n  rate_limit: 5\n")
        c, gw = self.start(config=cfg)
        am = {"version": "4", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "A", "service": "api"},
             "annotations": {}, "startsAt": now_rfc3339(), "fingerprint": "0123456789abcdef"}]}
        auth = {"Authorization": "Bearer " + self.token}

        def am_post(body, headers=auth):
            st, hd, b = gw.post("/v1/alertmanager", body=body, headers=headers)
            return st, b

        st, b = am_post(am, headers={})
        self.assertEqual(st, 401, b)
        st, b = am_post(am, headers={"Authorization": "Bearer 0000"})
        self.assertEqual(st, 401, b)
        self.assertIn(b"unknown or revoked", b)
        st, b = am_post(am, headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertEqual(st, 401, b)
        st, b = am_post("{not json")
        self.assertEqual(st, 400, b)
        self.assertIn(b"invalid JSON at line 1", b)
        st, b = am_post(dict(am, version="3"))
        self.assertEqual(st, 400, b)
        self.assertIn(b'version: expected \\"4\\"', b)
        bad = json.loads(json.dumps(am))
        bad["alerts"][0]["status"] = "burning"
        st, b = am_post(bad)
        self.assertEqual((st, b"alerts[0].status" in b), (400, True), b)
        bad = json.loads(json.dumps(am))
        del bad["alerts"][0]["labels"]["service"]
        st, b = am_post(bad)
        self.assertEqual((st, b"no service or job label" in b), (400, True), b)
        bad = json.loads(json.dumps(am))
        bad["alerts"][0]["fingerprint"] = "not hex!"
        st, b = am_post(bad)
        self.assertEqual((st, b"fingerprint" in b), (400, True), b)
        # A good alert and a bad one: nothing of the request is stored.
        mixed = json.loads(json.dumps(am))
        mixed["alerts"].append({"status": "firing", "labels": {"service": 7}})
        st, b = am_post(mixed)
        self.assertEqual(st, 400, b)
        # Bound to its services.
        other = json.loads(json.dumps(am))
        other["alerts"][0]["labels"]["service"] = "billing"
        st, b = am_post(other)
        self.assertEqual(st, 403, b)
        self.assertIn(b"may not create alerts for service billing", b)
        # Too big: refused before it is read.
        st, b = am_post("x" * 5000)
        self.assertEqual(st, 413, b)
        st, _, b = gw.get("/v1/alertmanager")
        self.assertEqual(st, 405, b)

        def ev(body):
            st, hd, b = gw.post("/v2/enqueue", body=body)
            return st, json.loads(b) if b.startswith(b"{") else b

        st, b = ev({"routing_key": "f" * 32, "event_action": "trigger"})
        self.assertEqual(st, 401, b)
        self.assertEqual(b["message"], "Invalid routing key")
        st, b = ev({"routing_key": self.token, "event_action": "explode"})
        self.assertEqual(st, 400, b)
        self.assertEqual(b["status"], "invalid event")
        self.assertIn("'event_action' must be one of trigger, acknowledge, resolve", b["errors"])
        st, b = ev({"routing_key": self.token, "event_action": "trigger",
                    "payload": {"summary": "", "severity": "apocalyptic"}})
        self.assertEqual(st, 400, b)
        self.assertIn("'payload.summary' is missing or blank", b["errors"])
        self.assertIn("'payload.source' is missing or blank", b["errors"])
        self.assertIn("'payload.severity' must be one of critical, error, warning, info",
                      b["errors"])
        st, b = ev({"routing_key": self.token, "event_action": "resolve"})
        self.assertEqual(st, 400, b)
        self.assertIn("'dedup_key' is required for acknowledge and resolve", b["errors"])
        st, b = ev({"routing_key": self.token, "event_action": "trigger",
                    "payload": {"summary": "s", "source": "h", "severity": "critical"}})
        self.assertEqual(st, 400, b)  # bound to two services: group must say which
        self.assertIn("payload.group", b["errors"][0])
        st, b = ev('{"routing_key": "a", "routing_key": "b"}')
        self.assertEqual(st, 400, b)  # duplicate keys are refused
        st, b = ev("[1, 2]")
        self.assertEqual(st, 400, b)
        st, _, b = gw.post("/v2/enqueue", body="x" * 5000)
        self.assertEqual(st, 413, b)
        # Other endpoints.
        st, _, b = gw.get("/nowhere")
        self.assertEqual(st, 404, b)
        st, _, b = gw.post("/healthz")
        self.assertEqual(st, 405, b)
        st, _, b = gw.get("/ack/not-a-token")
        self.assertEqual(st, 404, b)
        st, _, b = gw.post("/ack/" + "A" * 300)
        self.assertEqual(st, 404, b)
        st, hd, b = gw.get("/healthz")
        self.assertEqual(st, 200, b)
        self.assertEqual(json.loads(b)["coordinator"], "connected")
        # None of it reached the coordinator.
        self.assertEqual(self.events(), [])
        # A flood: 5 requests a second for this integration, then 429.
        codes = [am_post(am)[0] for _ in range(40)]
        self.assertIn(429, codes)
        self.assertIn(200, codes)
        st, hd, b = gw.post("/v1/alertmanager", body=am, headers=auth)
        while st != 429:
            st, hd, b = gw.post("/v1/alertmanager", body=am, headers=auth)
        self.assertEqual(hd.get("retry-after"), "1")
        # Revoked without a restart.
        time.sleep(1.1)
        r = h.run([h.binary(h.CTL), "keys", "--dir", self.keys, "revoke", "integration",
                   "prom"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_until(lambda: am_post(am)[0] == 401, what="the revoked token refused")
        self.assertTrue(gw.proc.alive())

    # ---- kill -9 ---------------------------------------------------------

    def test_kill9_loses_no_accepted_event(self):
        """The coordinator is away; the gateway accepts 30 events (each
        answered only once it is spooled) and is killed; started again with
        the coordinator back, all 30 arrive, each once, in order."""
        self.c = self.coordinator()
        self.token = g.make_integration(self, self.keys, "zabbix", "api")
        gw = g.Gateway(self, self.c, self.integrations).start()
        accepted = []
        for i in range(30):
            st, _, b = gw.post("/v2/enqueue", body={
                "routing_key": self.token, "event_action": "trigger", "dedup_key": "p-%d" % i,
                "payload": {"summary": "problem %d" % i, "source": "h-%d" % (i % 3),
                            "severity": "error"}})
            self.assertEqual(st, 202, b)
            accepted.append("p-%d" % i)
        st, _, b = gw.get("/healthz")
        self.assertEqual(json.loads(b)["coordinator"], "unreachable")
        self.assertEqual(json.loads(b)["spooled"], 30)
        gw.kill9()
        self.c.start()
        gw.start()
        self.wait_until(lambda: len(self.events()) == 30, what="all 30 events in the log",
                        timeout=60)
        ev = self.events()
        self.assertEqual(sorted(e["check"] for e in ev), sorted(accepted))
        self.assert_contiguous([e["sender_seq"] for e in ev], what="the gateway's sequence")
        self.wait_until(lambda: json.loads(gw.get("/healthz")[2])["unacknowledged"] == 0,
                        what="the spool acknowledged")
