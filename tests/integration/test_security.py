"""CURVE security of a coordinator started with --keys: refused handshakes
(unknown key, wrong server key, plaintext, a key on a socket its class may
not use), revocation of a live agent, an agent key used under another id,
hostile frames from an allowed key, key classes on the API, and refusals
to start insecurely.

Every refusal must be counted (`denied` for failed authorization,
`rejected` for bad input), recorded in the audit trail where the brief says
so, leave the event log untouched, and leave a healthy CURVE agent next to
it working: its service outage still opens an incident and its events
arrive without a gap in sender_seq."""

import json
import os
import shutil
import random
import re
import unittest

import zmq

import tocsin_harness as h

REJECT_MALFORMED, REJECT_BAD_VERSION, REJECT_INVALID, REJECT_UNAUTHORIZED = 1, 2, 3, 4

# How long a refused client waits to be sure nothing comes back. Only an
# absence is asserted with it; presences are waited for with wait_until.
SILENCE_MS = 1500
REPLY_TIMEOUT_MS = 10000


# ---- key directory -------------------------------------------------------------


def read_cert(path):
    """(public, secret) Z85 texts of a czmq certificate file (ZPL); secret
    is None for a public certificate."""
    with open(path) as f:
        text = f.read()
    pub = re.search(r'^\s*public-key\s*=\s*"([^"]{40})"', text, re.M)
    sec = re.search(r'^\s*secret-key\s*=\s*"([^"]{40})"', text, re.M)
    if not pub:
        raise AssertionError("no public-key in %s:\n%s" % (path, text))
    return pub.group(1), sec.group(1) if sec else None


class KeyDir:
    """A key directory made and changed with `tocsinctl keys`."""

    def __init__(self, tc, path):
        self.tc = tc
        self.dir = path
        self._ctl("init")
        self.server_cert = os.path.join(path, "coordinator.cert")
        self.server_public = read_cert(self.server_cert)[0]

    def _ctl(self, *args):
        r = h.run([h.binary(h.CTL), "keys", "--dir", self.dir] + list(args), cwd=self.tc.tmp)
        if r.returncode != 0:
            raise AssertionError("tocsinctl keys %s: exit %d: %s%s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def new(self, cls, name):
        """Makes a pair; returns the path of its client certificate."""
        self._ctl("new", cls, name)
        path = self.pair_path(cls, name)
        self.tc.assertTrue(os.path.exists(path + "_secret"), path)
        return path

    def pair_path(self, cls, name):
        return os.path.join(self.dir, "private", "%s.%s.cert" % (cls, name))

    def pair(self, cls, name):
        """(public, secret) of a pair made by new()."""
        pub, sec = read_cert(self.pair_path(cls, name) + "_secret")
        self.tc.assertIsNotNone(sec)
        return pub, sec

    def revoke(self, cls, name):
        self._ctl("revoke", cls, name)


# ---- secure variants of the harness pieces -------------------------------------


class SecureCoordinator(h.Coordinator):
    """A coordinator with CURVE on (`--keys DIR`, no --insecure); tocsinctl
    and tocsin-sub talk to it with an operator key unless told otherwise."""

    def __init__(self, tc, keys, operator_key, **kw):
        super().__init__(tc, **kw)
        self.keys = keys
        self.operator_key = operator_key

    def argv(self):
        a = super().argv()
        a.remove("--insecure")
        return a[:1] + ["--keys", self.keys.dir] + a[1:]

    def ctl_as(self, key, *args, timeout="3s", insecure=False):
        """tocsinctl with `key` (a pair path), or with --insecure."""
        creds = ["--insecure"] if insecure else ["--key", key, "--server-key",
                                                 self.keys.server_cert]
        return h.run([h.binary(h.CTL)] + creds + ["--api", self.api_ep, "--timeout", timeout]
                     + list(args), cwd=self.tc.tmp)

    def ctl_raw(self, *args, timeout="3s"):
        return self.ctl_as(self.operator_key, *args, timeout=timeout)

    def audit(self):
        """Every audit record, across pages."""
        records, frm = [], 1
        while True:
            r = self.ctl_raw("--json", "audit", "--from", str(frm))
            if r.returncode != 0:
                raise RuntimeError("tocsinctl audit: exit %d: %s" % (r.returncode,
                                                                     r.stderr.strip()))
            page = json.loads(r.stdout)
            records += page
            if not page or "more records follow" not in r.stderr:
                return records
            frm = page[-1]["seq"] + 1

    def subscribe_as(self, key, name="sub", frm=None):
        argv = [h.binary(h.SUB), "--key", key, "--server-key", self.keys.server_cert,
                "--api", self.api_ep, "--publish", self.publish_ep]
        if frm is not None:
            argv += ["--from", str(frm)]
        return self.tc.spawn(self.tc.unique(name), argv, pipe=True)


class SecureAgent(h.Agent):
    """An agent with its CURVE pair in the YAML (agent.key, agent.server_key)
    and no --insecure."""

    def __init__(self, tc, agent_id, coordinator_ep, checks, key, server_key, **kw):
        self.key = key
        self.server_key = server_key
        super().__init__(tc, agent_id, coordinator_ep, checks, **kw)

    def write_config(self):
        super().write_config()
        with open(self.config) as f:
            text = f.read()
        secure = "  key: %s\n  server_key: %s\n" % (self.key, self.server_key)
        self.tc.assertIn("  insecure: true\n", text)
        with open(self.config, "w") as f:
            f.write(text.replace("  insecure: true\n", secure))

    def start(self):
        self.starts += 1
        self.proc = self.tc.spawn(
            "agent-%s.%d" % (self.id, self.starts),
            [h.binary(h.AGENT), "--config", self.config, "--log-level", "debug"])
        return self


# ---- a raw client -----------------------------------------------------------------


def hello(sender, heartbeat_ms=1000, seq=0):
    body = h.pb_bytes(1, "fakehost") + h.pb_bytes(2, "0.0.0") + h.pb_uint(3, heartbeat_ms)
    return h.envelope(sender, h.ENV_HELLO, body, seq=seq)


def check_result(sender, seq=1, state=2, host="fakehost"):
    body = (h.pb_bytes(1, "c1") + h.pb_bytes(2, "svc") + h.pb_bytes(3, host)
            + h.pb_uint(4, state) + h.pb_bytes(5, "boom") + h.pb_uint(7, 1)
            + h.pb_uint(8, 1) + h.pb_uint(9, 1))
    return h.envelope(sender, h.ENV_CHECK, body, seq=seq)


class RawClient:
    """A pyzmq DEALER: CURVE with the given keys, or plaintext without."""

    def __init__(self, tc, endpoint, public=None, secret=None, server=None):
        self.ctx = zmq.Context()
        tc.addCleanup(self.ctx.destroy, 0)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDTIMEO, REPLY_TIMEOUT_MS)
        if public:
            self.sock.curve_publickey = _b(public)
            self.sock.curve_secretkey = _b(secret)
            self.sock.curve_serverkey = _b(server)
        self.monitor = self.sock.get_monitor_socket()
        tc.addCleanup(self.close)
        self.sock.connect(endpoint)

    def close(self):
        for s in (self.monitor, self.sock):
            if not s.closed:
                s.close(0)

    def send(self, frames):
        self.sock.send_multipart([frames] if isinstance(frames, bytes) else frames)

    def recv(self, timeout_ms=REPLY_TIMEOUT_MS):
        if not self.sock.poll(timeout_ms):
            return None
        return self.sock.recv_multipart()

    def exchange(self, frames):
        """Sends one message; returns the decoded Reject that answers it."""
        self.send(frames)
        reply = self.recv()
        if reply is None:
            raise AssertionError("no reply within %d ms" % REPLY_TIMEOUT_MS)
        if len(reply) != 1:
            raise AssertionError("reply has %d frames, expected 1" % len(reply))
        rej = h.decode_reject(reply[0])
        if rej is None:
            raise AssertionError("reply is not a Reject: %r" % h.pb_decode(reply[0]))
        if rej["sender"] != "coordinator":
            raise AssertionError("reject from %r" % rej["sender"])
        return rej

    def events(self):
        """Names of the socket events seen so far (handshake results)."""
        from zmq.utils.monitor import recv_monitor_message
        names = []
        while self.monitor.poll(0):
            ev = recv_monitor_message(self.monitor)
            names.append(_EVENT_NAMES.get(ev["event"], str(ev["event"])))
        return names


_EVENT_NAMES = {getattr(zmq, n): n for n in dir(zmq) if n.startswith("EVENT_")
                and n not in ("EVENT_ALL", "EVENT_ALL_V1", "EVENT_ALL_V2")}


def _b(s):
    return s.encode() if isinstance(s, str) else s


# ---- the tests ------------------------------------------------------------------


class SecurityTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.AGENT, h.CTL)

    def setUp(self):
        super().setUp()
        if not zmq.has("curve"):
            self.skipTest("pyzmq without CURVE")

    # a secure coordinator with one healthy agent -------------------------------

    def start_world(self, *more_keys):
        """Key directory (with the pairs `more_keys`, (class, name) tuples),
        coordinator with CURVE, and agent web-01 watching service
        `frontend` with its own key, seen OK in the log. Sets self.keys,
        self.c, self.svc, self.web.

        Every key is made before the coordinator starts: it reloads its key
        directories once a second, and a client refused in between is not
        retried by libzmq (see test_agent_connects_once_its_key_is_allowed)."""
        self.keys = KeyDir(self, os.path.join(self.tmp, "keys"))
        op = self.keys.new("operator-ro", "it")
        web_key = self.keys.new("agent", "web-01")
        for cls, name in more_keys:
            self.keys.new(cls, name)
        self.c = SecureCoordinator(self, self.keys, op).start()
        self.svc = self.service()
        self.web = SecureAgent(
            self, "web-01", self.c.agents_ep,
            [h.tcp_check("frontend-tcp", "frontend", self.svc.target)],
            web_key, self.keys.server_cert).start()
        self.wait_until(lambda: h.has_result(self.c.log(), "web-01", "frontend-tcp", "OK"),
                        what="web-01's first OK result in the log")
        return self.c

    def counters(self):
        st = self.c.status()
        return st["rejected"], st["denied"]

    def wait_denied_above(self, before, what):
        return self.wait_until(lambda: self.c.status()["denied"] > before,
                               what="status.denied to grow past %d (%s)" % (before, what))

    def wait_audit(self, pred, what):
        def found():
            return [a for a in self.c.audit() if pred(a)]
        return self.wait_until(found, what="audit record: " + what)

    def assert_log_only_healthy(self, records):
        """Every log record is web-01's own event or the coordinator's word
        about host web-01."""
        for r in records:
            if r.get("kind") == "check_result":
                self.assertEqual(r["sender"], "web-01", "foreign event in the log: %r" % r)
            elif r.get("kind") == "host_status":
                self.assertEqual(r["host"], "web-01", "foreign host in the log: %r" % r)
            elif r.get("kind") == "config":
                self.assertEqual(r["sender"], "coordinator", "foreign config: %r" % r)
            else:
                self.fail("unexpected record kind in the log: %r" % r)

    def assert_healthy_agent_works(self):
        """web-01's outage still opens an incident; its events carry a
        gap-free sender_seq; the log holds nothing but web-01's business."""
        self.svc.stop()
        inc = self.wait_until(lambda: self.c.incident_for("frontend"),
                              what="an open incident for frontend after the attack")
        self.assertEqual(inc["hosts"], ["web-01"])
        records = self.c.log()
        self.assertTrue(h.has_result(records, "web-01", "frontend-tcp", "CRITICAL"))
        seqs = [r["sender_seq"] for r in h.check_results(records, "web-01")]
        self.assert_contiguous(seqs, what="web-01's sender_seq in the log")
        self.assert_log_only_healthy(records)
        self.assertEqual([x["host"] for x in self.c.status()["hosts"]], ["web-01"])
        self.assertTrue(self.web.proc.alive())

    def assert_silence(self, client, what):
        self.assertIsNone(client.recv(timeout_ms=SILENCE_MS), "%s must not be answered" % what)

    # 1 ------------------------------------------------------------------------

    def test_unknown_key_is_refused_at_handshake(self):
        c = self.start_world()
        log_before = c.log()
        _, denied0 = self.counters()
        pub, sec = zmq.curve_keypair()
        g = RawClient(self, c.agents_ep, pub, sec, self.keys.server_public)
        g.send(hello("web-01"))
        g.send(check_result("web-01", seq=99))
        self.assert_silence(g, "a client with an unknown key")
        self.assertIn("EVENT_HANDSHAKE_FAILED_AUTH", g.events(),
                      "the client must be told the handshake failed")
        self.wait_denied_above(denied0, "unknown key")
        rec = self.wait_audit(lambda a: a["action"] == "auth.denied"
                              and a["public_key"] == pub.decode(), "auth.denied, unknown key")[0]
        self.assertFalse(rec["allowed"])
        self.assertIn("unknown or revoked", rec["detail"])
        g.close()
        # The refused frames changed nothing.
        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assertNotIn("message.denied", [a["action"] for a in c.audit()])
        self.assert_healthy_agent_works()

    # 2 ------------------------------------------------------------------------

    def test_revoked_key_is_cut_off_without_restart(self):
        c = self.start_world(("agent", "app-01"))
        svc2 = self.service()
        app = SecureAgent(self, "app-01", c.agents_ep,
                          [h.tcp_check("backend-tcp", "backend", svc2.target)],
                          self.keys.pair_path("agent", "app-01"), self.keys.server_cert).start()
        app_pub = self.keys.pair("agent", "app-01")[0]
        self.wait_until(lambda: h.has_result(c.log(), "app-01", "backend-tcp", "OK"),
                        what="app-01's OK result before the revocation")
        _, denied0 = self.counters()
        starts = c.starts

        self.keys.revoke("agent", "app-01")
        self.assertTrue(os.path.exists(os.path.join(self.keys.dir, "revoked")))
        # Its heartbeats over the open connection (or a new handshake) are
        # refused from now on.
        self.wait_audit(lambda a: a["action"] in ("message.denied", "auth.denied")
                        and a["public_key"] == app_pub and not a["allowed"],
                        "app-01's key refused after the revocation")
        self.wait_denied_above(denied0, "revoked key")
        # Once refusals are seen, nothing of app-01 gets into the log any more.
        frozen = h.check_results(c.log(), "app-01")
        # app-01 keeps detecting changes: its service goes down...
        svc2.stop()
        detected = re.compile(r"backend-tcp.*CRITICAL|CRITICAL.*backend-tcp")
        self.wait_until(lambda: detected.search(app.logs()),
                        what="app-01 to notice backend-tcp going CRITICAL")
        # ...and what it sends about it is refused.
        self.wait_audit(lambda a: a["public_key"] == app_pub and not a["allowed"]
                        and (a["action"] == "auth.denied"
                             or "check_result claiming sender app-01" in a["detail"]),
                        "app-01's check_result refused")
        self.assertEqual(h.check_results(c.log(), "app-01"), frozen,
                         "a revoked agent's events must not reach the log")
        self.assertFalse(any(r["check"] == "backend-tcp" and r["state"] == "CRITICAL"
                             for r in h.check_results(c.log())))
        self.assertIsNone(c.incident_for("backend"))
        # Its refused heartbeats do not keep it alive either.
        self.wait_until(lambda: c.host("app-01")["up"] is False,
                        what="app-01 marked down after the revocation")
        self.assertEqual(c.starts, starts)
        self.assertTrue(c.proc.alive(), "no coordinator restart")
        self.assert_healthy_agent_works_with_extra(("app-01",))

    def assert_healthy_agent_works_with_extra(self, others):
        """As assert_healthy_agent_works, allowing the records `others` got
        into the log before they were cut off (and the coordinator's
        up/down verdicts about them)."""
        self.svc.stop()
        inc = self.wait_until(lambda: self.c.incident_for("frontend"),
                              what="an open incident for frontend")
        self.assertEqual(inc["hosts"], ["web-01"])
        records = self.c.log()
        seqs = [r["sender_seq"] for r in h.check_results(records, "web-01")]
        self.assert_contiguous(seqs, what="web-01's sender_seq in the log")
        allowed = ("web-01",) + tuple(others)
        for r in records:
            if r["kind"] == "config" and r["sender"] == "coordinator":
                continue  # the coordinator's own configuration, recorded once
            who = r["sender"] if r["kind"] == "check_result" else r.get("host")
            self.assertIn(who, allowed, "unexpected record %r" % r)
        self.assertTrue(self.web.proc.alive())

    # 3 ------------------------------------------------------------------------

    def test_wrong_server_key_is_refused(self):
        c = self.start_world()
        log_before = c.log()
        pub, sec = self.keys.pair("agent", "web-01")
        wrong_server, _ = zmq.curve_keypair()
        _, denied0 = self.counters()
        g = RawClient(self, c.agents_ep, pub, sec, wrong_server)
        g.send(b"\xff\xff")
        g.send(hello("web-01"))
        self.assert_silence(g, "a client that encrypts to the wrong server key")
        self.wait_denied_above(denied0, "wrong server key")
        self.wait_audit(lambda a: a["action"] == "auth.denied" and not a["allowed"]
                        and "handshake failed" in a["detail"], "auth.denied, failed handshake")
        g.close()
        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assert_healthy_agent_works()

    # 4 ------------------------------------------------------------------------

    def test_plaintext_client_is_refused(self):
        c = self.start_world()
        log_before = c.log()
        rejected0, denied0 = self.counters()
        g = RawClient(self, c.agents_ep)
        g.send(hello("web-01"))
        g.send(b"\xff\xff")
        self.assert_silence(g, "a plaintext client")
        self.wait_denied_above(denied0, "plaintext agent socket")
        self.wait_audit(lambda a: a["action"] == "auth.denied" and not a["allowed"]
                        and "not a CURVE client" in a["detail"], "auth.denied, plaintext")
        g.close()
        self.assertEqual(self.counters()[0], rejected0,
                         "a plaintext frame must never be decoded (it would count as rejected)")

        # The tools say so clearly.
        _, denied1 = self.counters()
        r = c.ctl_as(None, "--json", "status", insecure=True)
        self.assertEqual(r.returncode, 1, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertIn("refused", r.stderr)
        self.assertEqual(r.stdout, "")
        self.wait_denied_above(denied1, "plaintext tocsinctl")

        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assert_healthy_agent_works()

    # 5 ------------------------------------------------------------------------

    def test_agent_key_is_bound_to_its_id(self):
        c = self.start_world(("agent", "db-01"))  # B is allowed too, with its own key
        log_before = c.log()
        pub, sec = read_cert(self.keys.pair_path("agent", "web-01") + "_secret")
        _, denied0 = self.counters()
        g = RawClient(self, c.agents_ep, pub, sec, self.keys.server_public)
        rej = g.exchange(hello("db-01"))
        self.assertEqual(rej["reason"], REJECT_UNAUTHORIZED, rej)
        rej = g.exchange(check_result("db-01", seq=7, host="db-01"))
        self.assertEqual(rej["reason"], REJECT_UNAUTHORIZED, rej)
        self.assertEqual(rej["seq"], 7)
        # An id with no key at all is refused the same way.
        self.assertEqual(g.exchange(check_result("ghost-01", seq=1))["reason"],
                         REJECT_UNAUTHORIZED)
        self.assertEqual(self.counters()[1], denied0 + 3)
        recs = self.wait_audit(lambda a: a["action"] == "message.denied"
                               and a["public_key"] == pub, "message.denied for web-01's key")
        self.assertTrue(any("db-01" in a["detail"] for a in recs), recs)
        self.assertTrue(all(a["actor"] == "web-01" and a["class"] == "agent"
                            and not a["allowed"] for a in recs), recs)
        g.close()
        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assertFalse(any(r.get("sender") == "db-01" or r.get("host") in ("db-01", "ghost-01")
                             for r in c.log()))
        self.assert_healthy_agent_works()

    # 6, 7, 8 ------------------------------------------------------------------

    def test_oversized_message_drops_the_connection(self):
        c = self.start_world(("agent", "fuzz-01"))
        pub, sec = self.keys.pair("agent", "fuzz-01")
        g = RawClient(self, c.agents_ep, pub, sec, self.keys.server_public)
        # The connection works before...
        self.assertIn(g.exchange(b"\xff\xff")["reason"], (REJECT_MALFORMED, REJECT_INVALID))
        log_before = c.log()
        g.send(b"\x0a" * (70 * 1024))
        self.assert_silence(g, "a frame over 64 KiB")
        self.assertEqual(c.log()[:len(log_before)], log_before)
        # ...and again after: the DEALER reconnects and is answered.
        def answered_again():
            g.send(b"\xff\xff")
            return g.recv(timeout_ms=2000) is not None
        self.wait_until(answered_again, what="a reply after the oversized frame")
        self.assertIn("EVENT_DISCONNECTED", g.events(),
                      "the oversized frame must have cost the connection")
        g.close()
        self.assert_healthy_agent_works()

    def test_hundreds_of_frames_are_rejected(self):
        c = self.start_world(("agent", "fuzz-01"))
        pub, sec = self.keys.pair("agent", "fuzz-01")
        g = RawClient(self, c.agents_ep, pub, sec, self.keys.server_public)
        log_before = c.log()
        rejected0, denied0 = self.counters()
        rej = g.exchange([hello("fuzz-01")] * 300)
        self.assertEqual(rej["reason"], REJECT_MALFORMED, rej)
        rej = g.exchange([b"x" * 100] * 300)
        self.assertEqual(rej["reason"], REJECT_MALFORMED, rej)
        rejected1, denied1 = self.counters()
        self.assertEqual(rejected1, rejected0 + 2)
        self.assertEqual(denied1, denied0)
        g.close()
        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assertNotIn("fuzz-01", [x["host"] for x in c.status()["hosts"]])
        self.assert_healthy_agent_works()

    def test_random_bytes_are_rejected(self):
        c = self.start_world(("agent", "fuzz-01"))
        pub, sec = self.keys.pair("agent", "fuzz-01")
        g = RawClient(self, c.agents_ep, pub, sec, self.keys.server_public)
        log_before = c.log()
        rejected0, denied0 = self.counters()
        rnd = random.Random(8)
        n = 0
        for size in (1, 2, 7, 100, 1000, 30000, 60000):
            rej = g.exchange(bytes(rnd.getrandbits(8) for _ in range(size)))
            self.assertIn(rej["reason"], (REJECT_MALFORMED, REJECT_BAD_VERSION, REJECT_INVALID),
                          "%d random bytes: %r" % (size, rej))
            n += 1
        rejected1, denied1 = self.counters()
        self.assertEqual(rejected1, rejected0 + n)
        self.assertEqual(denied1, denied0, "bad input is rejected, not denied")
        g.close()
        self.assertEqual(c.log()[:len(log_before)], log_before)
        self.assert_healthy_agent_works()

    # 9 ------------------------------------------------------------------------

    def test_api_key_classes(self):
        h.require(self, h.SUB)
        c = self.start_world(("subscriber", "statuspage"))
        ro = self.keys.pair_path("operator-ro", "it")
        sub_key = self.keys.pair_path("subscriber", "statuspage")
        agent_key = self.keys.pair_path("agent", "web-01")

        # operator-ro may query.
        r = c.ctl_as(ro, "--json", "status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("web-01", [x["host"] for x in json.loads(r.stdout)["hosts"]])
        self.assertEqual(c.ctl_as(ro, "--json", "incidents").returncode, 0)

        # A subscriber may not query...
        _, denied0 = self.counters()
        r = c.ctl_as(sub_key, "--json", "status")
        self.assertEqual(r.returncode, 1, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertIn("not authorized", r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.counters()[1], denied0 + 1)
        sub_pub = read_cert(sub_key)[0]
        rec = self.wait_audit(lambda a: a["public_key"] == sub_pub, "subscriber's status")[0]
        self.assertEqual((rec["action"], rec["actor"], rec["class"], rec["allowed"]),
                         ("status", "statuspage", "subscriber", False))

        # ...except what a status page and a notifier need: the components
        # and windows, and reporting deliveries; it changes nothing else.
        self.assertEqual(c.ctl_as(sub_key, "--json", "component").returncode, 0)
        self.assertEqual(c.ctl_as(sub_key, "--json", "maintenance").returncode, 0)
        for args in (("component", "web", "major_outage"), ("drill",), ("updates", "1"),
                     ("update", "1", "draft", "-m", "x"), ("subscribers",)):
            with self.subTest(args=args):
                r = c.ctl_as(sub_key, *args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("not authorized", r.stderr)
        # operator-ro reads them too, and may not change them.
        self.assertEqual(c.ctl_as(ro, "--json", "subscribers").returncode, 0)
        r = c.ctl_as(ro, "maintenance", "add", "t", "--start", "+1h", "--end", "+2h",
                     "--components", "web")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not authorized", r.stderr)

        # ...but receives broadcasts (catch-up from the API and live).
        sub = c.subscribe_as(sub_key, frm=1)
        self.svc.stop()
        opened = self.wait_lines(sub, lambda l: l.get("topic") == "incident.opened",
                                 "incident.opened at the subscriber")
        self.assertEqual(opened["incident"]["service"], "frontend")
        self.svc.start()
        self.wait_lines(sub, lambda l: l.get("topic") == "incident.resolved",
                        "incident.resolved at the subscriber")
        self.assertNotIn("refused", sub.log())

        # An agent key cannot use the API at all.
        _, denied1 = self.counters()
        r = c.ctl_as(agent_key, "--json", "status")
        self.assertEqual(r.returncode, 1, "stdout %r stderr %r" % (r.stdout, r.stderr))
        self.assertIn("refused the connection", r.stderr)
        self.assertEqual(r.stdout, "")
        self.wait_denied_above(denied1, "agent key on the API")
        web_pub = read_cert(agent_key)[0]
        rec = self.wait_audit(lambda a: a["action"] == "auth.denied"
                              and a["public_key"] == web_pub, "agent key on the API")[0]
        self.assertIn("not allowed", rec["detail"])

        # The healthy agent was never disturbed.
        records = c.log()
        seqs = [x["sender_seq"] for x in h.check_results(records, "web-01")]
        self.assert_contiguous(seqs, what="web-01's sender_seq in the log")
        self.assert_log_only_healthy(records)
        self.assertTrue(self.web.proc.alive())

    # 2b -----------------------------------------------------------------------

    def test_agent_connects_once_its_key_is_allowed(self):
        """An agent refused at the handshake (its key not allowed yet, or
        revoked and then restored) must get in once the key is allowed:
        libzmq does not retry a connection after a ZAP refusal, so the agent
        has to."""
        c = self.start_world()
        svc2 = self.service()
        # The pair exists, but its public half is not allowed yet. It is
        # made in a scratch key directory: made in the watched one and moved
        # out, the coordinator's key reload could see it in between (it did,
        # on a loaded machine).
        scratch = KeyDir(self, os.path.join(self.tmp, "scratch-keys"))
        app_key = scratch.new("agent", "app-01")
        allowed = os.path.join(self.keys.dir, "agents", "app-01.cert")
        parked = os.path.join(scratch.dir, "agents", "app-01.cert")
        app_pub = scratch.pair("agent", "app-01")[0]
        app = SecureAgent(self, "app-01", c.agents_ep,
                          [h.tcp_check("backend-tcp", "backend", svc2.target)],
                          app_key, self.keys.server_cert).start()
        self.wait_audit(lambda a: a["action"] == "auth.denied" and a["public_key"] == app_pub,
                        "app-01 refused while its key is not allowed")
        self.assertIn("handshake with coordinator", app.logs())
        # Whole or not at all: copied beside, then renamed into place.
        shutil.copyfile(parked, os.path.join(self.tmp, "app-01.cert.new"))
        os.rename(os.path.join(self.tmp, "app-01.cert.new"), allowed)
        self.wait_until(lambda: h.has_result(c.log(), "app-01", "backend-tcp", "OK"),
                        timeout=12, what="app-01's OK result once its key is allowed")
        self.assert_healthy_agent_works_with_extra(("app-01",))

    # 10 -----------------------------------------------------------------------

    def coordinator_argv(self, *extra):
        return [h.binary(h.COORDINATOR), "--data", os.path.join(self.tmp, "data"),
                "--agents", h.ep(h.free_port()), "--api", h.ep(h.free_port()),
                "--publish", h.ep(h.free_port())] + list(extra)

    def test_refuses_to_start_insecurely(self):
        blocker = os.path.join(self.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("a regular file\n")
        keys = os.path.join(blocker, "keys")
        r = h.run(self.coordinator_argv("--keys", keys), cwd=self.tmp, timeout=30)
        self.assertNotEqual(r.returncode, 0, "started without a usable key directory: %r"
                            % r.stderr)
        self.assertIn(keys, r.stderr, "the message must name the key directory")
        self.assertIn("cannot start", r.stderr)

        # Plaintext on an endpoint other hosts could reach: a usage error.
        port = h.free_port()
        for flag in ("--agents", "--api", "--publish"):
            with self.subTest(endpoint=flag):
                argv = self.coordinator_argv("--insecure")
                argv[argv.index(flag) + 1] = "tcp://0.0.0.0:%d" % port
                r = h.run(argv, cwd=self.tmp, timeout=30)
                self.assertEqual(r.returncode, 2, "stdout %r stderr %r" % (r.stdout, r.stderr))
                self.assertIn("loopback", r.stderr)
                self.assertIn("0.0.0.0", r.stderr)


if __name__ == "__main__":
    unittest.main()
