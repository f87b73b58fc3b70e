"""A sender's events are stored strictly in sequence order (issue 9): an
event that skips ahead is not stored and its sender is told to resend; an
Ack never covers an event that is not in the log; an invalid event takes
its place in the sequence without holding up the ones after it; a sender
over the rate limit is told to pause and loses nothing by resending.

These tests speak the wire protocol from a hand-made DEALER, so they check
the coordinator's side of the contract independently of tocsin-agent."""

import os
import time
import unittest

import zmq

import tocsin_harness as h

REJECT_INVALID, REJECT_RESEND, REJECT_THROTTLED = 3, 5, 6


def check_result(sender, seq, state=2, attempt=1, check="c1", service="svc", time_ms=None):
    body = (h.pb_bytes(1, check) + h.pb_bytes(2, service) + h.pb_bytes(3, sender)
            + h.pb_uint(4, state) + h.pb_bytes(5, "result %d" % seq) + h.pb_uint(7, attempt)
            + h.pb_uint(8, 1) + h.pb_uint(9, 1))
    return h.envelope(sender, h.ENV_CHECK, body, seq=seq, time_ms=time_ms)


class Sender:
    """A DEALER that sends sequenced events and collects the replies."""

    def __init__(self, tc, endpoint, sender):
        self.ctx = zmq.Context()
        tc.addCleanup(self.ctx.destroy, 0)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.sender = sender
        self.acked = 0
        self.rejects = []

    def send(self, seq, **kw):
        self.sock.send(check_result(self.sender, seq, **kw))

    def pump(self, timeout_ms=200):
        """Reads every reply that arrives within timeout_ms of the last one."""
        got = []
        while self.sock.poll(timeout_ms):
            frame = self.sock.recv()
            ack = h.decode_ack(frame)
            if ack is not None:
                self.acked = max(self.acked, ack)
                got.append(("ack", ack))
                continue
            rej = h.decode_reject(frame)
            if rej is not None:
                self.rejects.append(rej)
                got.append(("reject", rej))
        return got

    def until_acked(self, seq, tc):
        tc.wait_until(lambda: self.pump() is not None and self.acked >= seq,
                      what="an ack of %d from the coordinator" % seq)


def stored(c, sender):
    return [r["sender_seq"] for r in c.log() if r.get("sender") == sender]


class SequenceTest(h.TocsinTestCase):
    needs = (h.COORDINATOR, h.CTL)

    def test_gap_is_never_acknowledged(self):
        h.require(self, h.COORDINATOR, h.CTL)
        c = self.coordinator().start()
        s = Sender(self, c.agents_ep, "seq-01")
        s.send(1)
        s.until_acked(1, self)
        s.send(3)  # 2 went missing on the way
        self.wait_until(lambda: s.pump() is not None and any(
            r["reason"] == REJECT_RESEND for r in s.rejects), what="a RESEND for the gap")
        rej = [r for r in s.rejects if r["reason"] == REJECT_RESEND][0]
        self.assertEqual(rej["resend_from"], 2)
        self.assertEqual(s.acked, 1, "an Ack must never cover the missing event")
        self.assertEqual(stored(c, "seq-01"), [1], "the early event is not stored")
        self.assertGreaterEqual(c.status()["deferred"], 1)
        s.send(2)
        s.send(3)
        s.until_acked(3, self)
        self.assertEqual(stored(c, "seq-01"), [1, 2, 3])
        # Resending what is stored changes nothing and is acknowledged.
        for seq in (1, 2, 3):
            s.send(seq)
        s.pump()
        self.assertEqual(stored(c, "seq-01"), [1, 2, 3])
        self.assertEqual(s.acked, 3)

    def test_invalid_event_takes_its_place(self):
        h.require(self, h.COORDINATOR, h.CTL)
        c = self.coordinator().start()
        s = Sender(self, c.agents_ep, "seq-02")
        s.send(1)
        s.until_acked(1, self)
        s.send(2, attempt=0)  # invalid: attempt must be >= 1
        s.send(3)
        s.until_acked(3, self)
        invalid = [r for r in s.rejects if r["reason"] == REJECT_INVALID]
        self.assertEqual([r["seq"] for r in invalid], [2])
        self.assertEqual(stored(c, "seq-02"), [1, 3], "the invalid event is never stored")
        audit = c.ctl("audit")
        self.assertTrue(any(a["action"] == "event.refused" and "event 2 of agent seq-02"
                            in a["detail"] for a in audit), audit)

    def test_throttled_sender_loses_nothing(self):
        h.require(self, h.COORDINATOR, h.CTL)
        cfg = os.path.join(self.tmp, "coordinator.yaml")
        with open(cfg, "w") as f:
            f.write("coordinator:\n  rate_limit: 50\n")
        c = self.coordinator(extra=["--config", cfg]).start()
        s = Sender(self, c.agents_ep, "seq-03")
        total = 400
        # Far over the limit at once: most frames are refused.
        for seq in range(1, total + 1):
            s.send(seq, state=2 if seq % 2 else 0)
        s.pump()
        throttled = [r for r in s.rejects if r["reason"] == REJECT_THROTTLED]
        self.assertTrue(throttled, "a sender over the limit is told so")
        self.assertGreater(throttled[0]["retry_after_ms"], 0)
        self.assertLess(s.acked, total)
        got = stored(c, "seq-03")
        self.assertEqual(got, list(range(1, len(got) + 1)), "no gap is ever stored")
        self.assertLessEqual(s.acked, len(got), "no Ack beyond what is stored")
        # A well-behaved sender: pause when told, resend from the last Ack,
        # a bounded window at a time. Bounded: at most 60 rounds.
        for _ in range(60):
            if s.acked >= total:
                break
            pause = max([r["retry_after_ms"] for r in s.rejects
                         if r["reason"] == REJECT_THROTTLED] or [0])
            s.rejects.clear()
            time.sleep(pause / 1000.0)
            for seq in range(s.acked + 1, min(total, s.acked + 20) + 1):
                s.send(seq, state=2 if seq % 2 else 0)
            s.pump(timeout_ms=300)
        self.assertEqual(s.acked, total)
        self.assertEqual(stored(c, "seq-03"), list(range(1, total + 1)),
                         "every acknowledged event is in the log exactly once")
        self.assertGreater(c.status()["throttled"], 0)


if __name__ == "__main__":
    unittest.main()
