#!/usr/bin/python3
"""scripts/smtp-sink.py ADDR:PORT DIR - the demo's inbox for `make run`.

A minimal SMTP server on 127.0.0.1 that accepts every message (EHLO/HELO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT; no relaying, no authentication) and
writes each one to DIR/NNNN.eml, then prints one line to stdout: number,
To, Subject and the acknowledgement link of a page. A file appears whole
(written, then renamed), so whoever watches DIR never reads half a mail.
Only for a demo on loopback: it keeps what it receives and sends nothing.
SIGTERM or SIGINT stops it (exit 0)."""

import email
import email.policy
import os
import re
import signal
import socketserver
import sys
import threading

MAX = 1 << 20  # bytes per message; tocsin's pages are a few KiB
ACK = re.compile(r"https?://\S+/ack/[A-Za-z0-9_-]+")


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, folder):
        super().__init__(addr, Session)
        self.folder = folder
        self.lock = threading.Lock()
        names = [n for n in os.listdir(folder) if re.fullmatch(r"\d+\.eml", n)]
        self.count = max([int(n[:-4]) for n in names], default=0)

    def store(self, data):
        # What the line says is a courtesy: a message it cannot read is
        # kept all the same.
        to, subject, link = "?", "(unreadable)", None
        try:
            msg = email.message_from_bytes(data, policy=email.policy.default)
            to, subject = msg.get("To", "?"), msg.get("Subject", "(no subject)")
            body = msg.get_body(("plain", "html"))
            link = ACK.search(body.get_content() if body else "")
        except Exception:  # noqa: BLE001 - any parse failure: keep the bytes
            pass
        with self.lock:
            self.count += 1
            path = os.path.join(self.folder, "%04d.eml" % self.count)
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.rename(path + ".tmp", path)
            print("mail %s: to %s: %s%s" % (os.path.basename(path), to, subject,
                                            ", ack: " + link.group(0) if link else ""), flush=True)


class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 tocsin demo inbox ESMTP")
        try:
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    return
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.reply("250-tocsin demo inbox\r\n250-8BITMIME\r\n250 SIZE %d" % MAX)
                elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    self.reply("250 OK")
                elif verb == b"DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    self.data()
                elif verb == b"QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")
        except (ConnectionError, OSError):
            pass  # the client went away mid-session: nothing complete to keep

    def data(self):
        lines, size = [], 0
        while True:
            line = self.rfile.readline(MAX)
            if not line:
                raise ConnectionError("closed during DATA")
            if line in (b".\r\n", b".\n"):
                break
            size += len(line)
            if size <= MAX:  # past it: read to the end, keep nothing
                lines.append(line[1:] if line.startswith(b"..") else line)
        if size > MAX:
            self.reply("552 message larger than %d bytes" % MAX)
            return
        self.server.store(b"".join(lines))
        self.reply("250 OK stored")


def main():
    if len(sys.argv) != 3 or ":" not in sys.argv[1]:
        sys.exit("usage: smtp-sink.py ADDR:PORT DIR")
    host, port = sys.argv[1].rsplit(":", 1)
    os.makedirs(sys.argv[2], exist_ok=True)
    try:
        server = Sink((host, int(port)), sys.argv[2])
    except (OSError, ValueError) as e:
        sys.exit("smtp-sink.py: cannot listen on %s: %s" % (sys.argv[1], e))

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    print("inbox on smtp://%s, mails in %s" % (sys.argv[1], sys.argv[2]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
