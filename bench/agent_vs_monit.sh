#!/bin/sh
# tocsin-agent and monit side by side on the same 10 checks, for a bounded
# time: 3 tcp and 3 http checks against local listeners and 4 Nagios
# plugins, every 10 s. Prints for each: CPU seconds per minute (its own,
# and with the plugins it ran, from /proc/PID/stat's utime+stime and
# cutime+cstime), and RSS from /proc/PID/smaps_rollup (total Rss and
# private: Private_Clean + Private_Dirty), the peak of one-second samples.
#
#   bench/agent_vs_monit.sh [BIN_DIR] [SECONDS]      (default build/bin 60)
#
# Needs Debian's monit (scripts/deps.sh bench) and monitoring-plugins-basic.
# Everything listens on 127.0.0.1 and lives in a temporary directory that
# is removed at the end; every process started is stopped.
set -eu

BIN=${1:-build/bin}
SECONDS_RUN=${2:-60}
PLUGINS=/usr/lib/nagios/plugins
command -v monit >/dev/null || { echo "monit is not installed: scripts/deps.sh bench" >&2; exit 1; }
[ -x "$BIN/tocsin-agent" ] || { echo "no $BIN/tocsin-agent: build first" >&2; exit 1; }
[ -x "$PLUGINS/check_load" ] || { echo "no Nagios plugins: monitoring-plugins-basic" >&2; exit 1; }

exec python3 - "$BIN" "$SECONDS_RUN" "$PLUGINS" <<'EOF'
import http.server, os, platform, shutil, signal, socket, socketserver, subprocess
import sys, tempfile, threading, time

bin_dir, seconds, plugins = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tmp = tempfile.mkdtemp(prefix="tocsin-bench-")
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---- listeners: 3 tcp (accept and close), 3 http (200 on /health) -------------
class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def tcp_listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)

    def serve():
        while True:
            c, _ = s.accept()
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    return s.getsockname()[1]


tcp_ports = [tcp_listener() for _ in range(3)]
http_ports = []
for _ in range(3):
    srv = Server(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    http_ports.append(srv.server_address[1])

plugin_cmds = [
    "%s/check_load -w 5,5,5 -c 10,10,10" % plugins,
    "%s/check_disk -w 10%% -c 5%% -p /" % plugins,
    "%s/check_users -w 5 -c 10" % plugins,
    "%s/check_dummy 0 fine" % plugins,
]

# ---- tocsin: a coordinator (not measured) and the agent -----------------------
agents_port = free_port()
coord = subprocess.Popen(
    [os.path.join(bin_dir, "tocsin-coordinator"), "--insecure", "--data", tmp + "/data",
     "--agents", "tcp://127.0.0.1:%d" % agents_port, "--api", "tcp://127.0.0.1:%d" % free_port(),
     "--publish", "tcp://127.0.0.1:%d" % free_port(), "--log-level", "warn"],
    stdout=subprocess.DEVNULL, stderr=open(tmp + "/coordinator.log", "w"))
procs.append(coord)
lines = ["agent:", "  id: bench", "  coordinator: tcp://127.0.0.1:%d" % agents_port,
         "  spool: %s/spool" % tmp, "  insecure: true", "  log_level: warn", "checks:"]
for i, p in enumerate(tcp_ports):
    lines += ["  - {name: tcp%d, service: s, type: tcp, target: \"127.0.0.1:%d\", interval: 10s}"
              % (i, p)]
for i, p in enumerate(http_ports):
    lines += ["  - {name: http%d, service: s, type: http, url: \"http://127.0.0.1:%d/health\","
              " interval: 10s}" % (i, p)]
for i, cmd in enumerate(plugin_cmds):
    lines += ["  - {name: plugin%d, service: s, type: exec, command: \"%s\", interval: 10s}"
              % (i, cmd)]
with open(tmp + "/agent.yaml", "w") as f:
    f.write("\n".join(lines) + "\n")

# ---- monit: the same checks, a 10 s cycle ----------------------------------------
m = ["set daemon 10", "set logfile %s/monit.log" % tmp, "set idfile %s/monit.id" % tmp,
     "set statefile %s/monit.state" % tmp, "set pidfile %s/monit.pid" % tmp]
for i, p in enumerate(tcp_ports):
    m += ["check host tcp%d with address 127.0.0.1" % i,
          "    if failed port %d type tcp then alert" % p]
for i, p in enumerate(http_ports):
    m += ["check host http%d with address 127.0.0.1" % i,
          "    if failed port %d protocol http request \"/health\" then alert" % p]
for i, cmd in enumerate(plugin_cmds):
    m += ["check program plugin%d with path \"%s\"" % (i, cmd), "    if status != 0 then alert"]
with open(tmp + "/monitrc", "w") as f:
    f.write("\n".join(m) + "\n")
os.chmod(tmp + "/monitrc", 0o600)

agent = subprocess.Popen([os.path.join(bin_dir, "tocsin-agent"), "--config", tmp + "/agent.yaml"],
                         stdout=subprocess.DEVNULL, stderr=open(tmp + "/agent.log", "w"))
procs.append(agent)
monit = subprocess.Popen(["monit", "-I", "-c", tmp + "/monitrc"], stdout=subprocess.DEVNULL,
                         stderr=open(tmp + "/monit.err", "w"))
procs.append(monit)

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own = int(fields[11]) + int(fields[12])      # utime, stime
    kids = int(fields[13]) + int(fields[14])     # cutime, cstime: reaped children
    return own / TICK, (own + kids) / TICK


def rss(pid):
    vals = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                vals[parts[0][:-1]] = int(parts[1])
    return vals.get("Rss", 0), vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)


def finish(code):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(code)


try:
    # Warm-up: both have started and run their first cycle.
    time.sleep(5)
    for p, name in ((agent, "tocsin-agent"), (monit, "monit")):
        if p.poll() is not None:
            sys.stderr.write("%s exited (%s); see %s\n" % (name, p.returncode, tmp))
            procs.remove(p)
            finish(1)
    start = {p.pid: cpu(p.pid) for p in (agent, monit)}
    peak = {p.pid: (0, 0) for p in (agent, monit)}
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        time.sleep(1)
        for p in (agent, monit):
            r = rss(p.pid)
            peak[p.pid] = (max(peak[p.pid][0], r[0]), max(peak[p.pid][1], r[1]))
    elapsed = time.monotonic() - t0
    end = {p.pid: cpu(p.pid) for p in (agent, monit)}
    print("agent vs monit: 10 checks (3 tcp, 3 http, 4 plugins) every 10 s, %.0f s measured"
          % elapsed)
    print("machine: %s, %d cores, %s" % (platform.processor() or platform.machine(),
                                         os.cpu_count(), platform.platform()))
    print("%-14s %14s %18s %12s %14s" % ("", "CPU s/min", "CPU s/min +plugins", "RSS MiB",
                                        "private MiB"))
    for p, name in ((agent, "tocsin-agent"), (monit, "monit")):
        own = (end[p.pid][0] - start[p.pid][0]) * 60 / elapsed
        tot = (end[p.pid][1] - start[p.pid][1]) * 60 / elapsed
        print("%-14s %14.3f %18.3f %12.1f %14.1f" % (name, own, tot, peak[p.pid][0] / 1024,
                                                    peak[p.pid][1] / 1024))
    finish(0)
except KeyboardInterrupt:
    finish(130)
EOF
