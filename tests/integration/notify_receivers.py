"""Receivers for tocsin-notify's integration test: an HTTP server that
records every POST (body and headers) and can answer 503 to the first N,
and a minimal SMTP server (EHLO/HELO, MAIL FROM, RCPT TO, DATA, RSET,
NOOP, QUIT) that records every message. Both listen on 127.0.0.1 in a
thread of the test process."""

import email
import email.policy
import http.server
import json
import socketserver
import threading


class HttpReceiver:
    """Records POSTs as dicts {path, headers, body, json}. `fail_first`
    requests are answered 503 (and recorded in `refused`)."""

    def __init__(self, fail_first=0):
        self.lock = threading.Lock()
        self.accepted = []
        self.refused = []
        self.fail_first = fail_first
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                rec = {"path": self.path, "headers": dict(self.headers.items()),
                       "body": body, "json": doc}
                with outer.lock:
                    fail = outer.fail_first > 0
                    if fail:
                        outer.fail_first -= 1
                        outer.refused.append(rec)
                    else:
                        outer.accepted.append(rec)
                code = 503 if fail else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/hook" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set_fail(self, n):
        with self.lock:
            self.fail_first = n

    def bodies(self):
        with self.lock:
            return [r["json"] for r in self.accepted]

    def keys(self):
        with self.lock:
            return [r["headers"].get("Idempotency-Key") for r in self.accepted]

    def refused_keys(self):
        with self.lock:
            return [r["headers"].get("Idempotency-Key") for r in self.refused]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """Records messages as dicts {mail_from, rcpt, data (bytes), msg
    (email.message.EmailMessage)}."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                try:
                    self.session()
                except ConnectionError:
                    pass  # the client died (kill -9): nothing to record

            def session(self):
                self.reply("220 test ESMTP")
                mail_from, rcpt = None, []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line[:4].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
                        self.wfile.flush()
                    elif verb == "HELO":
                        self.reply("250 test")
                    elif line.upper().startswith("MAIL FROM:"):
                        mail_from, rcpt = line[10:].strip(), []
                        self.reply("250 OK")
                    elif line.upper().startswith("RCPT TO:"):
                        rcpt.append(line[8:].strip())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        lines = []
                        while True:
                            d = self.rfile.readline()
                            if not d or d in (b".\r\n", b".\n"):
                                break
                            if d.startswith(b".."):
                                d = d[1:]
                            lines.append(d)
                        data = b"".join(lines)
                        msg = email.message_from_bytes(data, policy=email.policy.default)
                        with outer.lock:
                            outer.messages.append({"mail_from": mail_from, "rcpt": list(rcpt),
                                                   "data": data, "msg": msg})
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        mail_from, rcpt = None, []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "smtp://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def all(self):
        with self.lock:
            return list(self.messages)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
