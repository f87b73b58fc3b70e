"""tocsin_harness - drive the real tocsin binaries on 127.0.0.1.

Everything a test starts lives in one temporary directory and is stopped
when the test ends, pass or fail: processes (killed, with their process
group), TCP services, sockets. Each process writes stderr to its own file in
that directory; when a test fails, the tails of all of them are printed.

Tests assert outcomes, never durations: wait_until() polls with generous
timeouts and fails with the last value it saw.

The binaries come from $TOCSIN_BIN (CTest sets it to <build>/bin), or
<repo>/build/bin when run by hand:
    cd tests/integration && TOCSIN_BIN=../../build/bin /usr/bin/python3 -m unittest -v
Set TOCSIN_IT_KEEP=1 to keep the temporary directories of failed tests.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(
    os.environ.get("TOCSIN_BIN") or os.path.join(HERE, "..", "..", "build", "bin")
)

COORDINATOR = "tocsin-coordinator"
AGENT = "tocsin-agent"
CTL = "tocsinctl"
SUB = "tocsin-sub"

# Default patience of wait_until(); every wait is for an outcome, and on a
# healthy run each one takes a fraction of this.
TIMEOUT = 30.0

# setpriv(1) from util-linux makes a child die with the test runner even if
# the runner itself is killed (a CTest timeout), without a preexec_fn.
_SETPRIV = shutil.which("setpriv")


def binary(name):
    return os.path.join(BIN, name)


def have(name):
    return os.access(binary(name), os.X_OK)


def require(testcase, *names):
    """Skips the test if one of the binaries has not been built."""
    missing = [n for n in names if not have(n)]
    if missing:
        testcase.skipTest("not built in %s: %s" % (BIN, ", ".join(missing)))


def _port_range():
    """Ports below the kernel's ephemeral range: no outgoing connection and
    no bind to port 0, in this process or another, is ever given one."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    low = max(low, 12000)
    return 10000, low - 1


class _PortPool:
    """Hands out each port once per process, and never one another test
    process holds: a port is reserved by an exclusive lock on a file named
    after it, kept for the life of the process (the kernel drops it when the
    process ends, however it ends). "Free a moment ago" alone is not enough:
    two picks could return the same port, and another test running beside
    this one could be given it too."""

    def __init__(self):
        self._given = set()
        self._locks = []
        self._lock = threading.Lock()
        self._dir = os.path.join(tempfile.gettempdir(), "tocsin-test-ports")
        lo, hi = _port_range()
        self._lo, self._hi = lo, hi
        self._next = lo + (os.getpid() * 7919) % (hi - lo + 1)

    def _reserve(self, port):
        import fcntl

        os.makedirs(self._dir, exist_ok=True)
        fd = os.open(os.path.join(self._dir, str(port)), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._locks.append(fd)
        return True

    def take(self):
        with self._lock:
            for _ in range(self._hi - self._lo + 1):
                port = self._next
                self._next = self._lo if port >= self._hi else port + 1
                if port in self._given or not self._reserve(port):
                    continue
                self._given.add(port)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.bind(("127.0.0.1", port))  # nothing else on the machine has it
                except OSError:
                    continue
                finally:
                    s.close()
                return port
            raise RuntimeError("no free TCP port in %d-%d" % (self._lo, self._hi))


_PORTS = _PortPool()


def free_port():
    """A TCP port on 127.0.0.1 that is free, that no other call in this
    process has returned and that no other test process holds."""
    return _PORTS.take()


def ep(port):
    return "tcp://127.0.0.1:%d" % port


def wait_until(pred, timeout=TIMEOUT, interval=0.1, what=None, check=None):
    """Calls pred() until it returns something truthy, and returns that.

    An exception from pred counts as "not yet" (the coordinator may be
    restarting); the last value or exception is in the failure message.
    `check`, if given, is called every round and may raise to fail fast
    (for example when a process that must stay up died)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if check:
            check()
        try:
            value = pred()
            last = value
            if value:
                return value
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - "not yet", reported at the end
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(
                "timed out after %.0fs waiting for %s; last result: %s"
                % (timeout, what or getattr(pred, "__name__", "condition"), _short(last))
            )
        time.sleep(interval)


def _short(v, limit=2000):
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d more chars)" % (len(s) - limit)


def _tail(path, lines=80):
    try:
        with open(path, "r", errors="replace") as f:
            data = f.read().splitlines()
    except OSError as e:
        return ["(cannot read: %s)" % e]
    if len(data) > lines:
        return ["... (%d lines before)" % (len(data) - lines)] + data[-lines:]
    return data


# ---- processes ---------------------------------------------------------------


class Proc:
    """One child process: stderr to <tmp>/<name>.log, stdout to
    <tmp>/<name>.out unless `pipe` (then read by a thread into .lines)."""

    def __init__(self, tc, name, argv, pipe=False, env=None):
        self.tc = tc
        self.name = name
        self.argv = list(argv)
        self.log_path = os.path.join(tc.tmp, name + ".log")
        self.out_path = os.path.join(tc.tmp, name + ".out")
        self.pipe = pipe
        self.lines = []  # stdout lines, when pipe
        self._lock = threading.Lock()
        self._reader = None
        self.expect_alive = True
        self._err = open(self.log_path, "ab")
        self._out = None if pipe else open(self.out_path, "ab")
        full_env = clean_env(env)
        argv = self.argv
        if _SETPRIV:
            argv = [_SETPRIV, "--pdeathsig", "KILL", "--"] + argv
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe else self._out,
            stderr=self._err,
            env=full_env,
            start_new_session=True,
            cwd=tc.tmp,
        )
        self.pid = self.popen.pid
        if pipe:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
        self.popen.stdout.close()

    def stdout_lines(self):
        with self._lock:
            return list(self.lines)

    def json_lines(self):
        """stdout lines parsed as JSON; a line that is not JSON fails."""
        out = []
        for line in self.stdout_lines():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError("%s printed a line that is not JSON: %r" % (self.name, line))
        return out

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill9(self):
        """SIGKILL of the process itself (a crash), then reap it."""
        self.expect_alive = False
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=10)
        self._finish()

    def stop(self, timeout=15):
        """SIGTERM, wait; SIGKILL if it does not go. Returns the exit status."""
        self.expect_alive = False
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.tc.note("%s ignored SIGTERM for %ss; killing it" % (self.name, timeout))
                self._kill_group()
                self.popen.wait(timeout=10)
        self._finish()
        return self.popen.returncode

    def wait(self, timeout=TIMEOUT):
        self.expect_alive = False
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %ss" % (self.name, timeout))
        self._finish()
        return rc

    def _kill_group(self):
        # The process group is the child's own (start_new_session): it holds
        # the child and whatever it started (an agent's check plugins).
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def destroy(self):
        self.expect_alive = False
        self._kill_group()
        if self.alive():
            self.popen.kill()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._finish()

    def _finish(self):
        # Whatever a killed child left in its group goes too.
        self._kill_group()
        if self._reader:
            self._reader.join(timeout=5)
        for f in (self._err, self._out):
            if f and not f.closed:
                f.close()


def clean_env(extra=None):
    """The environment for children: no TOCSIN_* settings of the caller's
    (keys, endpoints) leak into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    if extra:
        env.update(extra)
    return env


def run(argv, timeout=30, env=None, cwd=None):
    """Runs a short command; returns CompletedProcess with text output.
    Give `cwd` a temporary directory: the tools look for ./var/keys."""
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(env),
        cwd=cwd or tempfile.gettempdir(),
    )


# ---- a service to watch --------------------------------------------------------


class TcpService:
    """A listening socket on 127.0.0.1 that accepts and closes connections.
    stop() closes it (connects are refused); start() listens again on the
    same port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.target = "127.0.0.1:%d" % self.port
        self._sock = None
        self._thread = None
        self._stop = threading.Event()
        self.accepted = 0

    def start(self):
        if self._sock:
            return self
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                s.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    s.close()
                    raise
                time.sleep(0.1)
        s.listen(64)
        s.settimeout(0.05)
        self._sock = s
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(s,), daemon=True)
        self._thread.start()
        return self

    def _serve(self, s):
        while not self._stop.is_set():
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.accepted += 1
            # A graceful close (FIN): a connect check must see a healthy
            # service, not a reset.
            conn.close()

    def stop(self):
        if not self._sock:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        self._sock = None
        self._thread = None

    @property
    def running(self):
        return self._sock is not None


# ---- the tocsin pieces -----------------------------------------------------------


class Coordinator:
    """A tocsin-coordinator on three free ports and a data dir in tmp."""

    # Heartbeats come from the agent's own loop, so an agent stalled on its
    # disk is silent (on purpose: a wedged agent is reported down). On a
    # loaded test machine a commit took a second and an agent went 1.5 s
    # without a heartbeat: 3 x the agents' 500 ms. Tests about liveness give
    # their own window; the rest get 10 s, so a host.down there is real.
    LENIENT_MISSED = 20

    def __init__(self, tc, name="coordinator", data=None, missed_heartbeats=LENIENT_MISSED,
                 extra=()):
        self.tc = tc
        self.name = name
        self.data = data or os.path.join(tc.tmp, name + "-data")
        self.agents_port = free_port()
        self.api_port = free_port()
        self.publish_port = free_port()
        self.agents_ep = ep(self.agents_port)
        self.api_ep = ep(self.api_port)
        self.publish_ep = ep(self.publish_port)
        self.missed_heartbeats = missed_heartbeats
        self.extra = list(extra)
        self.proc = None
        self.starts = 0

    def argv(self):
        a = [
            binary(COORDINATOR), "--insecure", "--data", self.data,
            "--agents", self.agents_ep, "--api", self.api_ep, "--publish", self.publish_ep,
            "--log-level", "debug",
        ]
        if self.missed_heartbeats is not None:
            a += ["--missed-heartbeats", str(self.missed_heartbeats)]
        return a + self.extra

    def start(self, wait=True):
        self.starts += 1
        self.proc = self.tc.spawn("%s.%d" % (self.name, self.starts), self.argv())
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        wait_until(lambda: self.ctl("status") is not None, what="%s to answer status" % self.name,
                   check=self.tc.check_alive)

    def kill9(self):
        self.proc.kill9()

    def stop(self):
        return self.proc.stop()

    def logs(self):
        """stderr of every run of this coordinator, in order."""
        out = []
        for i in range(1, self.starts + 1):
            path = os.path.join(self.tc.tmp, "%s.%d.log" % (self.name, i))
            with open(path, "r", errors="replace") as f:
                out.append(f.read())
        return "".join(out)

    # tocsinctl ------------------------------------------------------------

    # An action is answered once its record is committed; on a loaded test
    # machine a commit (an fsync) was seen to take over a second and a
    # fresh LMDB open 1.3 s. tocsinctl's own default is 5 s; a test waits
    # longer rather than fail on the disk.
    def ctl_raw(self, *args, timeout="10s"):
        return run([binary(CTL), "--insecure", "--api", self.api_ep, "--timeout", timeout]
                   + list(args), cwd=self.tc.tmp)

    def ctl(self, *args):
        """tocsinctl --json ARGS, parsed; raises if it fails."""
        r = self.ctl_raw("--json", *args)
        if r.returncode != 0:
            raise RuntimeError("tocsinctl %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                              r.stderr.strip()))
        return json.loads(r.stdout)

    def status(self):
        return self.ctl("status")

    def incidents(self, all=False):
        return self.ctl("incidents", "--all") if all else self.ctl("incidents")

    def log(self):
        """Every log record, across pages."""
        records, frm = [], 1
        while True:
            r = self.ctl_raw("--json", "log", "--from", str(frm))
            if r.returncode != 0:
                raise RuntimeError("tocsinctl log: exit %d: %s" % (r.returncode, r.stderr.strip()))
            page = json.loads(r.stdout)
            records += page
            if not page or "more records follow" not in r.stderr:
                return records
            frm = page[-1]["seq"] + 1

    def host(self, host):
        for h in self.status()["hosts"]:
            if h["host"] == host:
                return h
        return None

    def incident_for(self, service, all=False):
        """The open (or, with all, latest) incident of `service`, or None."""
        found = [i for i in self.incidents(all=all) if i["service"] == service]
        return max(found, key=lambda i: i["id"]) if found else None

    # tocsin-sub ----------------------------------------------------------

    def subscribe(self, name="sub", frm=None, topic=None, count=None):
        argv = [binary(SUB), "--insecure", "--api", self.api_ep, "--publish", self.publish_ep]
        if frm is not None:
            argv += ["--from", str(frm)]
        if topic is not None:
            argv += ["--topic", topic]
        if count is not None:
            argv += ["--count", str(count)]
        p = self.tc.spawn(self.tc.unique(name), argv, pipe=True)
        if count is not None:
            p.expect_alive = False  # it exits by itself
        return p


class Agent:
    """A tocsin-agent with a generated YAML configuration."""

    def __init__(self, tc, agent_id, coordinator_ep, checks, heartbeat="500ms", spool=None):
        self.tc = tc
        self.id = agent_id
        self.coordinator_ep = coordinator_ep
        self.checks = checks
        self.heartbeat = heartbeat
        self.spool = spool or os.path.join(tc.tmp, "spool-" + agent_id)
        self.config = os.path.join(tc.tmp, "agent-%s.yaml" % agent_id)
        self.proc = None
        self.starts = 0
        self.write_config()

    def write_config(self):
        lines = [
            "agent:",
            "  id: %s" % self.id,
            "  coordinator: %s" % self.coordinator_ep,
            "  spool: %s" % self.spool,
            "  heartbeat: %s" % self.heartbeat,
            "  insecure: true",
            "checks:",
        ]
        for c in self.checks:
            first = True
            for k, v in c.items():
                lines.append("%s%s: %s" % ("  - " if first else "    ", k, v))
                first = False
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, extra=()):
        self.starts += 1
        self.proc = self.tc.spawn(
            "agent-%s.%d" % (self.id, self.starts),
            [binary(AGENT), "--insecure", "--config", self.config, "--log-level", "debug"]
            + list(extra),
        )
        return self

    def kill9(self):
        self.proc.kill9()

    def stop(self):
        return self.proc.stop()

    def logs(self):
        out = []
        for i in range(1, self.starts + 1):
            path = os.path.join(self.tc.tmp, "agent-%s.%d.log" % (self.id, i))
            with open(path, "r", errors="replace") as f:
                out.append(f.read())
        return "".join(out)


def tcp_check(name, service, target, interval="200ms", timeout="1s", retries=2):
    return {"name": name, "service": service, "type": "tcp", "target": target,
            "interval": interval, "timeout": timeout, "retries": retries}


# ---- log helpers -------------------------------------------------------------------


def check_results(records, sender=None):
    return [r for r in records
            if r.get("kind") == "check_result" and (sender is None or r["sender"] == sender)]


def has_result(records, sender, check, state):
    return any(r["check"] == check and r["state"] == state
               for r in check_results(records, sender))


def event_keys(records):
    """(sender, sender_seq) of every sequenced agent event."""
    return [(r["sender"], r["sender_seq"]) for r in check_results(records)]


# ---- protobuf, just enough to build and read envelopes -----------------------------


def pb_varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_uint(field, value):
    return pb_varint(field << 3) + pb_varint(value)


def pb_bytes(field, value):
    if isinstance(value, str):
        value = value.encode()
    return pb_varint((field << 3) | 2) + pb_varint(len(value)) + value


def pb_decode(buf):
    """Decodes one message level: {field: [values]}; ints for varints,
    bytes for length-delimited. Raises ValueError on anything else."""
    fields, i = {}, 0

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= len(buf) or shift > 63:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(buf):
        key = varint()
        field, wt = key >> 3, key & 7
        if wt == 0:
            v = varint()
        elif wt == 2:
            n = varint()
            if i + n > len(buf):
                raise ValueError("truncated bytes")
            v = bytes(buf[i:i + n])
            i += n
        elif wt == 1:
            v, i = bytes(buf[i:i + 8]), i + 8
        elif wt == 5:
            v, i = bytes(buf[i:i + 4]), i + 4
        else:
            raise ValueError("wire type %d" % wt)
        fields.setdefault(field, []).append(v)
    return fields


ENV_HELLO, ENV_HEARTBEAT, ENV_CHECK, ENV_ACK, ENV_REJECT = 10, 11, 12, 13, 14


def envelope(sender, payload_field, payload, version=1, seq=0, time_ms=None):
    if time_ms is None:
        time_ms = int(time.time() * 1000)
    return (pb_uint(1, version) + pb_bytes(2, sender) + pb_uint(3, seq)
            + pb_uint(4, time_ms) + pb_bytes(payload_field, payload))


def decode_reject(frame):
    """The Reject inside a coordinator reply, as {reason, seq, detail}, or
    None if the frame is an Envelope without one. Raises on garbage."""
    env = pb_decode(frame)
    if ENV_REJECT not in env:
        return None
    rej = pb_decode(env[ENV_REJECT][0])
    return {
        "sender": env.get(2, [b""])[0].decode(errors="replace"),
        "reason": rej.get(1, [0])[0],
        "seq": rej.get(2, [0])[0],
        "detail": rej.get(3, [b""])[0].decode(errors="replace"),
        "resend_from": rej.get(4, [0])[0],
        "retry_after_ms": rej.get(5, [0])[0],
    }


def decode_ack(frame):
    """The seq of the Ack inside a coordinator reply, or None if the frame
    is an Envelope without one."""
    env = pb_decode(frame)
    if ENV_ACK not in env:
        return None
    return pb_decode(env[ENV_ACK][0]).get(1, [0])[0]


# ---- the test case -----------------------------------------------------------------


class TocsinTestCase(unittest.TestCase):
    """Base class: a temporary directory, process bookkeeping, cleanup and
    log dumps on failure."""

    needs = (COORDINATOR, AGENT, CTL, SUB)

    def setUp(self):
        require(self, *self.needs)
        self.tmp = tempfile.mkdtemp(prefix="tocsin-it-")
        self.procs = []
        self.services = []
        self.notes = []
        self._names = {}
        self.addCleanup(self._cleanup)

    # bookkeeping ------------------------------------------------------------

    def unique(self, name):
        n = self._names.get(name, 0) + 1
        self._names[name] = n
        return name if n == 1 else "%s.%d" % (name, n)

    def note(self, text):
        self.notes.append(text)

    def spawn(self, name, argv, pipe=False):
        p = Proc(self, name, argv, pipe=pipe)
        self.procs.append(p)
        return p

    def service(self, port=None, up=True):
        s = TcpService(port)
        self.services.append(s)
        if up:
            s.start()
        return s

    def coordinator(self, **kw):
        return Coordinator(self, **kw)

    def agent(self, agent_id, coordinator_ep, checks, **kw):
        return Agent(self, agent_id, coordinator_ep, checks, **kw)

    def check_alive(self):
        """Fails at once if a process that should be running has exited."""
        for p in self.procs:
            if p.expect_alive and not p.alive():
                p.expect_alive = False
                raise AssertionError("%s exited unexpectedly with status %s; its stderr:\n%s"
                                     % (p.name, p.popen.returncode, "\n".join(_tail(p.log_path))))

    def wait_until(self, pred, timeout=TIMEOUT, what=None, interval=0.1):
        return wait_until(pred, timeout=timeout, what=what, interval=interval,
                          check=self.check_alive)

    def wait_lines(self, sub, pred, what, timeout=TIMEOUT):
        """Waits until some JSON line of subscriber `sub` satisfies pred;
        returns that line."""
        def found():
            for line in sub.json_lines():
                if pred(line):
                    return line
            return None
        return self.wait_until(found, timeout=timeout, what=what)

    def assert_contiguous(self, seqs, first=1, what="sequence"):
        self.assertEqual(seqs, list(range(first, first + len(seqs))),
                         "%s is not contiguous from %d without duplicates" % (what, first))

    # cleanup -----------------------------------------------------------------

    def _failed(self):
        # While cleanups run, unittest has already reported a failure of the
        # test body to the result object (outcome.success is reset for each
        # cleanup, so it cannot tell).
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return True
        for test, _ in list(getattr(result, "errors", [])) + list(getattr(result, "failures", [])):
            if test is self or getattr(test, "test_case", None) is self:
                return True
        return False

    def _cleanup(self):
        failed = self._failed()
        for p in reversed(self.procs):
            p.destroy()
        for s in self.services:
            s.stop()
        if failed or os.environ.get("TOCSIN_IT_VERBOSE"):
            self._dump()
        if failed and os.environ.get("TOCSIN_IT_KEEP"):
            sys.stderr.write("kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _dump(self):
        w = sys.stderr.write
        w("\n===== %s: process output (in %s) =====\n" % (self.id(), self.tmp))
        for text in self.notes:
            w("note: %s\n" % text)
        for p in self.procs:
            w("----- %s (pid %d, exit %s): %s\n" % (p.name, p.pid, p.popen.returncode,
                                                  " ".join(p.argv)))
            for line in _tail(p.log_path):
                w("  %s\n" % line)
            if p.pipe:
                lines = p.stdout_lines()
                w("  -- stdout (%d lines):\n" % len(lines))
                for line in lines[-40:]:
                    w("  %s\n" % line)
        for name in sorted(os.listdir(self.tmp)):
            if name.endswith(".yaml"):
                w("----- %s\n" % name)
                for line in _tail(os.path.join(self.tmp, name), 40):
                    w("  %s\n" % line)
        w("===== end of %s =====\n" % self.id())
