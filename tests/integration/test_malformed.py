"""Hostile and broken frames on the coordinator's agents and API sockets:
each gets a Reject (an ApiReply with ok false on the API), a WARN line and a
count in status.rejected; an oversized frame costs the sender its
connection; the coordinator keeps serving, and a healthy agent next to the
garbage still gets its outage turned into an incident."""

import random
import unittest

import zmq

import tocsin_harness as h

REJECT_MALFORMED, REJECT_BAD_VERSION, REJECT_INVALID, REJECT_UNAUTHORIZED = 1, 2, 3, 4
REPLY_TIMEOUT_MS = 10000


def hello(sender="fake-01", heartbeat_ms=1000, version=1, seq=0):
    body = h.pb_bytes(1, "fakehost") + h.pb_bytes(2, "0.0.0") + h.pb_uint(3, heartbeat_ms)
    return h.envelope(sender, h.ENV_HELLO, body, version=version, seq=seq)


def check_result(sender="fake-01", seq=1, state=2, attempt=1, max_attempts=1, host="fakehost"):
    body = (h.pb_bytes(1, "c1") + h.pb_bytes(2, "svc") + h.pb_bytes(3, host)
            + h.pb_uint(4, state) + h.pb_bytes(5, "boom") + h.pb_uint(7, attempt)
            + h.pb_uint(8, max_attempts) + h.pb_uint(9, 1))
    return h.envelope(sender, h.ENV_CHECK, body, seq=seq)


def refused(status):
    """Frames the coordinator refused: `rejected` (broken) plus `denied`
    (well-formed but not allowed, such as an agent sending an Ack)."""
    return status["rejected"] + status.get("denied", 0)


class Garbage:
    """A DEALER on the coordinator's agents endpoint."""

    def __init__(self, tc, endpoint):
        self.ctx = zmq.Context()
        tc.addCleanup(self.ctx.destroy, 0)
        self.endpoint = endpoint
        self.sock = self._new()
        self.replies = 0

    def _new(self):
        s = self.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDTIMEO, REPLY_TIMEOUT_MS)
        s.connect(self.endpoint)
        return s

    def send(self, frames):
        if isinstance(frames, bytes):
            frames = [frames]
        self.sock.send_multipart(frames)

    def recv(self, timeout_ms=REPLY_TIMEOUT_MS):
        if not self.sock.poll(timeout_ms):
            return None
        frames = self.sock.recv_multipart()
        self.replies += 1
        return frames

    def exchange(self, frames):
        """Sends one message; returns the decoded Reject of the reply."""
        self.send(frames)
        reply = self.recv()
        if reply is None:
            raise AssertionError("no reply within %d ms to %r" % (REPLY_TIMEOUT_MS,
                                                                   h._short(frames, 120)))
        if len(reply) != 1:
            raise AssertionError("reply has %d frames, expected 1" % len(reply))
        rej = h.decode_reject(reply[0])
        if rej is None:
            raise AssertionError("reply is not a Reject: %r" % h.pb_decode(reply[0]))
        if rej["sender"] != "coordinator":
            raise AssertionError("reject from %r" % rej["sender"])
        return rej


class MalformedTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL)

    def blast(self, c, g, seed):
        """Sends every kind of bad frame through `g`; returns how many
        rejects came back."""
        rnd = random.Random(seed)
        before = g.replies
        for n in (1, 2, 7, 100, 1000, 60000):
            rej = g.exchange(bytes(rnd.getrandbits(8) for _ in range(n)))
            self.assertIn(rej["reason"], (REJECT_MALFORMED, REJECT_BAD_VERSION, REJECT_INVALID))
        self.assertIn(g.exchange(b"")["reason"], (REJECT_MALFORMED, REJECT_BAD_VERSION,
                                                  REJECT_INVALID))
        self.assertEqual(g.exchange([b"a", b"b", b"c"])["reason"], REJECT_MALFORMED)
        self.assertEqual(g.exchange([b"", b""])["reason"], REJECT_MALFORMED)
        # Well-formed protobuf that breaks the protocol's rules.
        self.assertEqual(g.exchange(hello(version=2))["reason"], REJECT_BAD_VERSION)
        self.assertEqual(g.exchange(hello(version=0))["reason"], REJECT_BAD_VERSION)
        self.assertEqual(g.exchange(hello(sender="bad id!"))["reason"], REJECT_INVALID)
        self.assertEqual(g.exchange(hello(sender=""))["reason"], REJECT_INVALID)
        # Too long for an id: refused by the decoder or the validator.
        self.assertIn(g.exchange(hello(sender="x" * 64))["reason"],
                      (REJECT_MALFORMED, REJECT_INVALID))
        self.assertEqual(g.exchange(hello(heartbeat_ms=0))["reason"], REJECT_INVALID)
        self.assertEqual(g.exchange(hello(seq=5))["reason"], REJECT_INVALID)
        self.assertEqual(g.exchange(check_result(seq=0))["reason"], REJECT_INVALID)
        self.assertIn(g.exchange(check_result(state=9))["reason"],
                      (REJECT_MALFORMED, REJECT_INVALID))
        self.assertEqual(g.exchange(check_result(attempt=0))["reason"], REJECT_INVALID)
        self.assertEqual(g.exchange(check_result(host="no spaces"))["reason"], REJECT_INVALID)
        rej = g.exchange(h.envelope("fake-01", h.ENV_ACK, h.pb_uint(1, 99), seq=3))
        self.assertEqual(rej["reason"], REJECT_UNAUTHORIZED)
        self.assertEqual(rej["seq"], 3)
        # Truncated valid frame.
        self.assertIn(g.exchange(hello()[:-3])["reason"], (REJECT_MALFORMED, REJECT_INVALID))
        # A storm of small random frames, replies read afterwards.
        for _ in range(200):
            g.send(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 64))))
        for i in range(200):
            self.assertIsNotNone(g.recv(), "reply %d of the storm missing" % i)
        # Over 64 KiB: libzmq drops the connection, no reply; the DEALER
        # reconnects by itself and the next frame is answered again.
        g.send(b"\x0a" * (70 * 1024))
        self.assertIsNone(g.recv(timeout_ms=500), "an oversized frame must not be answered")

        def answered_again():
            g.send(b"\xff\xff")
            return g.recv(timeout_ms=2000) is not None
        self.wait_until(answered_again, what="a reply after the oversized frame")
        return g.replies - before

    def test_garbage_is_rejected_and_counted(self):
        h.require(self, h.COORDINATOR, h.CTL)
        c = self.coordinator().start()
        g = Garbage(self, c.agents_ep)
        rejects = self.blast(c, g, seed=1)
        st = c.status()
        self.assertEqual(refused(st), rejects, "every refused frame is counted once")
        self.assertEqual(st["accepted"], 0)
        self.assertEqual(st["log_seq"], 0, "bad frames must change nothing")
        self.assertEqual(st["hosts"], [])
        self.assertEqual(c.log(), [])
        log = c.proc.log()
        self.assertRegex(log, r"WARN .*rejected")

        # The API socket: garbage gets an ApiReply with ok false.
        api = g.ctx.socket(zmq.DEALER)
        api.setsockopt(zmq.LINGER, 0)
        api.connect(c.api_ep)
        for frames in ([b"\x00\x01garbage"], [b""], [b"a", b"b", b"c"]):
            api.send_multipart(frames)
            self.assertTrue(api.poll(REPLY_TIMEOUT_MS), "no API reply to %r" % frames)
            reply = api.recv_multipart()
            self.assertEqual(len(reply), 1)
            fields = h.pb_decode(reply[-1])
            self.assertNotEqual(fields.get(1, [0])[0], 1, "ok must be false")
            self.assertTrue(fields.get(2, [b""])[0], "an error message is expected")
        # The two undecodable requests are counted; the empty frame decodes
        # as a version-0 request, which is refused too and may be counted.
        self.assertIn(refused(c.status()), (rejects + 2, rejects + 3))
        self.assertTrue(c.proc.alive())
        self.assertEqual(c.stop(), 0)

    def test_healthy_agent_keeps_working(self):
        h.require(self, h.AGENT, h.SUB)
        svc = self.service()
        c = self.coordinator().start()
        sub = c.subscribe(frm=1)
        a = self.agent("web-01", c.agents_ep,
                       [h.tcp_check("frontend-tcp", "frontend", svc.target)]).start()
        self.wait_until(lambda: h.has_result(c.log(), "web-01", "frontend-tcp", "OK"),
                        what="the agent's first OK result in the log")

        g = Garbage(self, c.agents_ep)
        rejects = self.blast(c, g, seed=2)

        # The agent's outage still becomes an incident.
        svc.stop()
        opened = self.wait_lines(sub, lambda l: l["topic"] == "incident.opened",
                                 "incident.opened after the garbage")
        self.assertEqual(opened["incident"]["service"], "frontend")
        inc = self.wait_until(lambda: c.incident_for("frontend"), what="an open incident")
        self.assertEqual(inc["state"], "triggered")
        self.assertEqual(inc["hosts"], ["web-01"])

        st = c.status()
        self.assertGreaterEqual(refused(st), rejects)
        self.assertEqual([x["host"] for x in st["hosts"]], ["web-01"],
                         "garbage must not create hosts")
        self.assertTrue(c.host("web-01")["up"])
        keys = h.event_keys(c.log())
        self.assertEqual(keys, [("web-01", i) for i in range(1, len(keys) + 1)])
        self.assertRegex(c.proc.log(), r"WARN .*rejected")
        self.assertTrue(a.proc.alive())


if __name__ == "__main__":
    unittest.main()
