"""Every daemon can be scraped: the coordinator (--metrics), tocsin-gateway
and tocsin-statuspage (on their HTTP listeners), tocsin-notify and
tocsin-agent (--metrics) serve GET /metrics, and Debian's `promtool check metrics`
accepts each text, after some traffic so that the histograms, the labelled
counters and the incident gauges have values. The values say what
happened (events accepted, open incidents by severity and state, deliveries
by channel and result, requests by endpoint and code)."""

import os
import re
import socket

import gateway_harness as g
import tocsin_harness as h
from notify_receivers import HttpReceiver


def sample(text, name, **labels):
    """The value of the sample `name` with exactly these labels, or None."""
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(3) or "").split(","))) if m.group(3) else ""
        if got == want:
            return float(m.group(4))
    return None


class MetricsTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL, g.GATEWAY, g.NOTIFY, g.STATUSPAGE)

    def test_every_daemon_serves_metrics_promtool_accepts(self):
        if not g.have_tool(g.PROMTOOL):
            self.skipTest("promtool (Debian package prometheus) is not installed")
        keys = g.keys_dir(self)
        hook = HttpReceiver()
        self.addCleanup(hook.stop)
        cfg = os.path.join(self.tmp, "coordinator.yaml")
        with open(cfg, "w") as f:
            f.write("people:\n  alice:\n    contact:\n      - {type: webhook, url: \"%s\"}\n"
                    % hook.url)
        mport = h.free_port()
        c = self.coordinator(extra=["--config", cfg, "--metrics",
                                    "127.0.0.1:%d" % mport]).start()
        token = g.make_integration(self, keys, "prom", "api")
        gw = g.Gateway(self, c, os.path.join(keys, "integrations")).start()
        nport = h.free_port()
        ncfg = os.path.join(self.tmp, "notify.yaml")
        with open(ncfg, "w") as f:
            f.write("notify:\n  retry_first: 200ms\n")
        self.spawn("notify", [h.binary(g.NOTIFY), "--config", ncfg, "--insecure",
                              "--api", c.api_ep, "--publish", c.publish_ep,
                              "--state", os.path.join(self.tmp, "notify-state"),
                              "--metrics", "127.0.0.1:%d" % nport])
        sport = h.free_port()
        self.spawn("statuspage", [h.binary(g.STATUSPAGE), "--insecure", "--api", c.api_ep,
                                  "--publish", c.publish_ep,
                                  "--out", os.path.join(self.tmp, "site"),
                                  "--state", os.path.join(self.tmp, "sp-state"),
                                  "--http", "127.0.0.1:%d" % sport])
        self.wait_until(lambda: g.request("http://127.0.0.1:%d/metrics" % nport)[0] == 200,
                        what="tocsin-notify's /metrics")
        # Some traffic: an alert from the gateway opens an incident, a page
        # to alice is delivered, and a bad request is refused.
        st, _, b = gw.post("/v2/enqueue", body={
            "routing_key": token, "event_action": "trigger", "dedup_key": "k1",
            "payload": {"summary": "down", "source": "web-01", "severity": "critical"}})
        self.assertEqual(st, 202, b)
        self.assertEqual(gw.post("/v2/enqueue", body="{")[0], 400)
        inc = self.wait_until(lambda: c.incident_for("api"), what="an incident")
        self.wait_until(lambda: "following broadcasts" in open(
            os.path.join(self.tmp, "notify.log")).read(), what="notify following")
        c.ctl("assign", str(inc["id"]), "sme", "alice")
        self.wait_until(lambda: hook.bodies(), what="alice's page delivered")

        def scrape(port):
            st, hd, body = g.request("http://127.0.0.1:%d/metrics" % port)
            self.assertEqual(st, 200, body)
            self.assertTrue(hd["content-type"].startswith("text/plain; version=0.0.4"), hd)
            return body.decode()

        coord = self.wait_until(
            lambda: (lambda t: t if sample(t, "tocsin_coordinator_events_accepted_total") >= 1
                     else None)(scrape(mport)), what="the coordinator counting the event")
        g.promtool_check(self, coord)
        self.assertEqual(sample(coord, "tocsin_coordinator_incidents_open", severity="none",
                                state="triggered"), 1)
        self.assertEqual(sample(coord, "tocsin_coordinator_storage_state", state="ok"), 1)
        self.assertGreaterEqual(sample(coord, "tocsin_coordinator_commit_seconds_count"), 1)
        self.assertGreaterEqual(
            sample(coord, "tocsin_coordinator_commit_batch_records_bucket", le="+Inf"), 1)
        self.assertEqual(sample(coord, "tocsin_coordinator_senders_connected"), 1)

        gwm = scrape(gw.port)
        g.promtool_check(self, gwm)
        self.assertEqual(sample(gwm, "tocsin_gateway_requests_total", endpoint="events",
                                code="202"), 1)
        self.assertEqual(sample(gwm, "tocsin_gateway_requests_total", endpoint="events",
                                code="400"), 1)
        self.assertEqual(sample(gwm, "tocsin_gateway_events_spooled_total", endpoint="events"), 1)
        self.assertEqual(sample(gwm, "tocsin_gateway_coordinator_connected"), 1)

        nm = self.wait_until(
            lambda: (lambda t: t if sample(t, "tocsin_notify_deliveries_total",
                                           channel="page:alice", type="webhook",
                                           result="delivered") == 1 else None)(scrape(nport)),
            what="notify counting alice's delivery")
        g.promtool_check(self, nm)
        self.assertEqual(sample(nm, "tocsin_notify_queue_depth"), 0)
        self.assertGreater(
            sample(nm, "tocsin_notify_coordinator_last_contact_timestamp_seconds"), 0)

        sp = self.wait_until(
            lambda: (lambda t: t if sample(t, "tocsin_statuspage_renders_total") else None)(
                scrape(sport)), what="the status page's metrics")
        g.promtool_check(self, sp)
        self.assertEqual(sample(sp, "tocsin_statuspage_stale"), 0)
        self.assertGreaterEqual(sample(sp, "tocsin_statuspage_broadcast_cursor"), 1)

        # Wrong paths and methods are refused, on every listener.
        for port in (mport, nport, gw.port):
            self.assertEqual(g.request("http://127.0.0.1:%d/nope" % port)[0], 404)
            self.assertEqual(g.request("http://127.0.0.1:%d/metrics" % port, "POST")[0], 405)

        # Health without noise: every daemon with a listener answers
        # /healthz without a key, and the probes write no audit record.
        # Reading the audit trail is itself audited, once an hour per key,
        # and the record is stored with the next commit: the baseline is
        # the trail once that record is in it.
        audit = self.wait_until(lambda: (lambda a: a if any(
            r["action"] == "audit" for r in a) else None)(c.ctl("audit")),
            what="the audit read recorded")
        for _ in range(3):
            for port in (mport, nport, gw.port):
                st, _, body = g.request("http://127.0.0.1:%d/healthz" % port)
                self.assertEqual(st, 200, body)
                self.assertIn(b"ok", body)
        after = c.ctl("audit")
        self.assertEqual(after, audit, after[len(audit):])

    def test_agent_serves_metrics_and_healthz(self):
        if not g.have_tool(g.PROMTOOL):
            self.skipTest("promtool (Debian package prometheus) is not installed")
        c = self.coordinator().start()
        up = self.service()
        down = self.service(up=False)
        a = self.agent("prom-01", c.agents_ep, [h.tcp_check("web", "frontend", up.target),
                                                h.tcp_check("db", "database", down.target,
                                                            retries=1)])
        aport = h.free_port()
        a.start(extra=["--metrics", "127.0.0.1:%d" % aport])
        url = "http://127.0.0.1:%d" % aport

        def scrape():
            st, hd, body = g.request(url + "/metrics")
            self.assertEqual(st, 200, body)
            self.assertTrue(hd["content-type"].startswith("text/plain; version=0.0.4"), hd)
            return body.decode()

        # Both checks have a hard state and the coordinator acknowledged both
        # events (one per check: the first hard state after start).
        def settled():
            try:
                t = scrape()
            except OSError:
                return None  # not listening yet
            return t if (sample(t, "tocsin_agent_acked_seq") == 2
                         and sample(t, "tocsin_agent_heartbeats_sent_total")
                         and sample(t, "tocsin_agent_check_state", check="db",
                                    service="database") is not None) else None
        am = self.wait_until(settled, what="the agent's metrics showing both checks acknowledged")
        g.promtool_check(self, am)
        self.assertRegex(am, r'(?m)^tocsin_build_info\{version="[^"]+"\} 1$')
        self.assertEqual(sample(am, "tocsin_agent_checks"), 2)
        self.assertEqual(sample(am, "tocsin_agent_check_state", check="web", service="frontend"), 0)
        self.assertEqual(sample(am, "tocsin_agent_check_state", check="db", service="database"), 2)
        self.assertGreaterEqual(sample(am, "tocsin_agent_check_runs_total", check="web",
                                       result="ok"), 1)
        self.assertEqual(sample(am, "tocsin_agent_check_runs_total", check="web",
                                result="critical"), 0)
        self.assertGreaterEqual(sample(am, "tocsin_agent_check_runs_total", check="db",
                                       result="critical"), 1)
        runs = sum(sample(am, "tocsin_agent_check_runs_total", check=ck, result=r)
                   for ck in ("web", "db") for r in ("ok", "warning", "critical", "unknown"))
        self.assertGreaterEqual(sample(am, "tocsin_agent_check_run_seconds_count"), runs)
        self.assertEqual(sample(am, "tocsin_agent_last_seq"), 2)
        self.assertEqual(sample(am, "tocsin_agent_coordinator_connected"), 1)
        self.assertEqual(sample(am, "tocsin_agent_lost_transitions_total"), 0)
        self.assertGreater(sample(am, "tocsin_agent_spool_bytes"), 0)
        self.assertGreater(sample(am, "tocsin_agent_start_time_seconds"), 0)

        # A change is counted: the database comes up, its state goes to 0
        # and a third event is acknowledged.
        down.start()
        am = self.wait_until(
            lambda: (lambda t: t if sample(t, "tocsin_agent_check_state", check="db",
                                           service="database") == 0
                     and sample(t, "tocsin_agent_acked_seq") == 3 else None)(scrape()),
            what="the agent's metrics showing db recovered")
        self.assertEqual(sample(am, "tocsin_agent_unacknowledged_events"), 0)
        g.promtool_check(self, am)

        # Health, wrong paths and methods; none of it changes the agent.
        for _ in range(3):
            st, _, body = g.request(url + "/healthz")
            self.assertEqual(st, 200, body)
            self.assertEqual(body, b"ok\n")
        self.assertEqual(g.request(url + "/nope")[0], 404)
        self.assertEqual(g.request(url + "/metrics", "POST")[0], 405)
        self.assertEqual(sample(scrape(), "tocsin_agent_last_seq"), 3)
        self.assertEqual(a.stop(), 0)

    def test_agent_metrics_off_by_default_and_bad_address(self):
        c = self.coordinator().start()
        # Off unless asked: nothing listens, the log says nothing of it.
        a = self.agent("prom-02", c.agents_ep, [h.tcp_check("web", "frontend",
                                                            self.service().target)])
        a.start()
        self.wait_until(lambda: "acknowledged" in a.logs() or os.path.isdir(a.spool),
                        what="the agent's spool")
        self.assertEqual(a.stop(), 0)
        self.assertNotIn("metrics on", a.logs())
        # A bad address is bad usage, before anything starts.
        for bad in ("localhost:7409", "127.0.0.1", "127.0.0.1:99999", ""):
            r = h.run([h.binary(h.AGENT), "--insecure", "--metrics", bad], cwd=self.tmp)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn('--metrics: invalid address "%s" (want IP:PORT, e.g. 127.0.0.1:7409)'
                          % bad, r.stderr)
        # An address that is taken stops the start with a reason (exit 1).
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        self.addCleanup(held.close)
        a2 = self.agent("prom-03", c.agents_ep, [])
        r = h.run([h.binary(h.AGENT), "--insecure", "--config", a2.config, "--metrics",
                   "127.0.0.1:%d" % held.getsockname()[1]], cwd=self.tmp)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("metrics:", r.stderr)
