#!/bin/sh
# scripts/run.sh BIN_DIR - what `make run` does: a coordinator and one local
# agent on 127.0.0.1, data and logs in ./var/, until Ctrl-C or SIGTERM.
#
#   ./var/coordinator     the coordinator's LMDB data
#   ./var/agent-spool     the agent's spool
#   ./var/agent.yaml      the agent's configuration (written once; edit it freely)
#   ./var/coordinator.log, ./var/agent.log
#
# Plaintext (--insecure) on loopback only: this is a local trial, not a
# deployment.
set -u

BIN=${1:-build/bin}
VAR=$(pwd)/var
AGENTS_PORT=7401
API_PORT=7402
PUBLISH_PORT=7403
AGENTS_EP=tcp://127.0.0.1:$AGENTS_PORT
API_EP=tcp://127.0.0.1:$API_PORT
PUBLISH_EP=tcp://127.0.0.1:$PUBLISH_PORT
CHECK_DISK=/usr/lib/nagios/plugins/check_disk
COORD_LOG=$VAR/coordinator.log
AGENT_LOG=$VAR/agent.log

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for b in tocsin-coordinator tocsin-agent tocsinctl tocsin-sub; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing; build first (make build)"
done

mkdir -p "$VAR/coordinator" "$VAR/agent-spool" || die "cannot create $VAR"

# A YAML double-quoted string.
yq() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

if [ ! -f "$VAR/agent.yaml" ]; then
    id=$( (hostname -s 2>/dev/null || uname -n) | head -n 1 | tr -c 'A-Za-z0-9._:-' '-' |
        sed 's/-*$//' | cut -c 1-63)
    [ -n "$id" ] || id=local
    {
        say "# Written by scripts/run.sh; edit freely (see README, Configuration)."
        say "agent:"
        say "  id: $(yq "$id")"
        say "  coordinator: $AGENTS_EP"
        say "  spool: $(yq "$VAR/agent-spool")"
        say "  heartbeat: 5s"
        say "  insecure: true"
        say "checks:"
        say "  - name: coordinator-agents-port"
        say "    service: tocsin"
        say "    type: tcp"
        say "    target: 127.0.0.1:$AGENTS_PORT"
        say "    interval: 10s"
        say "    timeout: 2s"
        say "    retries: 3"
        if [ -x "$CHECK_DISK" ]; then
            say "  - name: root-disk"
            say "    service: host"
            say "    type: exec"
            say "    command: $(yq "$CHECK_DISK -w 10% -c 5% -p /")"
            say "    interval: 10s"
            say "    timeout: 5s"
            say "    retries: 3"
        fi
    } >"$VAR/agent.yaml.tmp" || die "cannot write $VAR/agent.yaml.tmp"
    mv "$VAR/agent.yaml.tmp" "$VAR/agent.yaml" || die "cannot write $VAR/agent.yaml"
    say "wrote $VAR/agent.yaml (agent id $id)"
fi

# Something already listening on one of our ports (an earlier `make run`?)
# would answer in our place; say so before starting anything.
if command -v ss >/dev/null 2>&1; then
    busy=$(ss -Htln 2>/dev/null | awk '{print $4}' |
        grep -E "[:.]($AGENTS_PORT|$API_PORT|$PUBLISH_PORT)\$" | head -n 3 | tr '\n' ' ')
    if [ -n "$busy" ]; then
        die "already in use: $busy(another tocsin-coordinator or make run?)"
    fi
fi

CPID=
APID=

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# SIGTERM, then up to 10 s for a clean exit, then SIGKILL.
stop_one() {
    pid=$1 name=$2
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    i=0
    while alive "$pid" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if alive "$pid"; then
        say "$name (pid $pid) did not stop within 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

stop_all() {
    trap '' INT TERM
    stop_one "$APID" tocsin-agent
    stop_one "$CPID" tocsin-coordinator
}

log_tail() {
    say "--- last lines of $1:" >&2
    tail -n 20 "$1" >&2
    say "---" >&2
}

fail() {
    say "run.sh: $*" >&2
    stop_all
    exit 1
}

trap 'say ""; say "stopping..."; stop_all; say "stopped"; exit 0' INT TERM

"$BIN/tocsin-coordinator" --insecure --data "$VAR/coordinator" \
    --agents "$AGENTS_EP" --api "$API_EP" --publish "$PUBLISH_EP" \
    </dev/null >"$COORD_LOG" 2>&1 &
CPID=$!

# Ready when it answers `status` and is still ours a moment later (a
# coordinator that cannot bind or lock its data exits at once).
i=0
while :; do
    if ! alive "$CPID"; then
        log_tail "$COORD_LOG"
        fail "tocsin-coordinator exited at start (port in use or data dir locked?)"
    fi
    if "$BIN/tocsinctl" --insecure --api "$API_EP" --timeout 1s status >/dev/null 2>&1; then
        sleep 0.3
        alive "$CPID" && break
        continue
    fi
    i=$((i + 1))
    if [ $i -ge 60 ]; then
        log_tail "$COORD_LOG"
        fail "tocsin-coordinator does not answer on $API_EP"
    fi
    sleep 0.5
done

"$BIN/tocsin-agent" --insecure --config "$VAR/agent.yaml" </dev/null >"$AGENT_LOG" 2>&1 &
APID=$!
sleep 0.5
if ! alive "$APID"; then
    log_tail "$AGENT_LOG"
    fail "tocsin-agent exited at start (see $VAR/agent.yaml)"
fi

cat <<EOF

tocsin is running (plaintext on 127.0.0.1 only):
  tocsin-coordinator  pid $CPID  agents $AGENTS_EP  api $API_EP  publish $PUBLISH_EP
                      data $VAR/coordinator, log $COORD_LOG
  tocsin-agent        pid $APID  config $VAR/agent.yaml
                      spool $VAR/agent-spool, log $AGENT_LOG

Try, in another terminal:
  $BIN/tocsinctl --insecure status
  $BIN/tocsinctl --insecure incidents --all
  $BIN/tocsinctl --insecure log
  $BIN/tocsin-sub --insecure --from 1

Ctrl-C stops both.
EOF

# Wait for a signal, watching the children: if one dies, say so and stop.
while :; do
    if ! alive "$CPID"; then
        wait "$CPID" 2>/dev/null
        log_tail "$COORD_LOG"
        fail "tocsin-coordinator stopped unexpectedly"
    fi
    if ! alive "$APID"; then
        wait "$APID" 2>/dev/null
        log_tail "$AGENT_LOG"
        fail "tocsin-agent stopped unexpectedly"
    fi
    sleep 1 &
    wait $! 2>/dev/null
done
