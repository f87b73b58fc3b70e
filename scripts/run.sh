#!/bin/sh
# scripts/run.sh BIN_DIR - what `make run` does: a coordinator, one local
# agent, the status page, the HTTP gateway for alerts and tocsin-notify on
# 127.0.0.1, each serving Prometheus metrics, and a local inbox (an SMTP
# sink) that receives every page and update tocsin-notify mails; data and
# logs in ./var/, until Ctrl-C or SIGTERM.
#
#   ./var/coordinator.yaml  the coordinator's configuration and roster
#                           (written once)
#   ./var/statuspage        the status page's state and site
#   ./var/coordinator     the coordinator's LMDB data
#   ./var/keys            CURVE keys (made on first start; see tocsinctl keys)
#   ./var/agent-spool     the agent's spool
#   ./var/agent.yaml      the agent's configuration (written once; edit it freely)
#   ./var/gateway         the gateway's spool and state
#   ./var/gateway-token   the token of the integration "demo" (any service)
#   ./var/notify.yaml     tocsin-notify's configuration (written once)
#   ./var/notify-state    tocsin-notify's queue and cursor
#   ./var/inbox/          every mail the sink received, one file each
#   ./var/inbox.log       one line a mail: to, subject, acknowledgement link
#   ./var/coordinator.log, ./var/agent.log, ./var/statuspage.log,
#   ./var/gateway.log, ./var/notify.log
#
# Secure like a deployment: CURVE on every socket, with a key for the agent,
# one operator key, a subscriber key for the status page and one for
# tocsin-notify.
# tocsinctl and tocsin-sub run from this directory find them in ./var/keys.
set -u

BIN=${1:-build/bin}
VAR=$(pwd)/var
# The ports can be moved (TOCSIN_RUN_PORT=7501 uses 7501..7508), so that a
# second copy or a test can run beside the usual one.
BASE=${TOCSIN_RUN_PORT:-7401}
AGENTS_PORT=$BASE
API_PORT=$((BASE + 1))
PUBLISH_PORT=$((BASE + 2))
AGENTS_EP=tcp://127.0.0.1:$AGENTS_PORT
API_EP=tcp://127.0.0.1:$API_PORT
PUBLISH_EP=tcp://127.0.0.1:$PUBLISH_PORT
PLUGINS=/usr/lib/nagios/plugins
KEYS=$VAR/keys
DEMO_PORT=8080
STATUS_HTTP=127.0.0.1:$((BASE + 3))
GATEWAY_HTTP=127.0.0.1:$((BASE + 4))
COORD_METRICS=127.0.0.1:$((BASE + 5))
NOTIFY_METRICS=127.0.0.1:$((BASE + 6))
INBOX_SMTP=127.0.0.1:$((BASE + 7))
INBOX=$VAR/inbox
COORD_LOG=$VAR/coordinator.log
AGENT_LOG=$VAR/agent.log
STATUS_LOG=$VAR/statuspage.log
GATEWAY_LOG=$VAR/gateway.log
NOTIFY_LOG=$VAR/notify.log
INBOX_LOG=$VAR/inbox.log
SINK=$(dirname "$0")/smtp-sink.py

say() { printf '%s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

for b in tocsin-coordinator tocsin-agent tocsinctl tocsin-sub tocsin-statuspage tocsin-gateway \
    tocsin-notify; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing; build first (make build)"
done
[ -f "$SINK" ] || die "$SINK is missing"
command -v python3 >/dev/null 2>&1 ||
    die "python3 is missing (the demo's inbox needs it; scripts/deps.sh installs it)"

mkdir -p "$VAR/coordinator" "$VAR/agent-spool" "$VAR/gateway" "$INBOX" || die "cannot create $VAR"

# Keys, once: the coordinator's pair, and one key per client class. Names
# are bound to keys; the agent's must be its id.
id=
if [ -f "$VAR/agent.yaml" ]; then
    id=$(sed -n 's/^  id: "\(.*\)"$/\1/p' "$VAR/agent.yaml" | head -n 1)
fi
if [ -z "$id" ]; then
    id=$( (hostname -s 2>/dev/null || uname -n) | head -n 1 | tr -c 'A-Za-z0-9._:-' '-' |
        sed 's/-*$//' | cut -c 1-63)
    [ -n "$id" ] || id=local
fi
CTL="$BIN/tocsinctl"
"$CTL" keys --dir "$KEYS" init >/dev/null || die "cannot make keys in $KEYS"
for k in "agent $id" "operator-rw local" "subscriber local" "subscriber notify" "gateway gateway"; do
    # shellcheck disable=SC2086
    set -- $k
    [ -f "$KEYS/private/$1.$2.cert_secret" ] ||
        "$CTL" keys --dir "$KEYS" new "$1" "$2" >/dev/null || die "cannot make the $1 key $2"
done
OPERATOR="--key $KEYS/private/operator-rw.local.cert --server-key $KEYS/coordinator.cert"
# An integration for the gateway, once; its token is shown only when it is
# made, so it is kept (readable by you alone) for the hints below.
TOKEN_FILE=$VAR/gateway-token
if [ ! -f "$KEYS/integrations/demo.token" ] || [ ! -s "$TOKEN_FILE" ]; then
    rm -f "$KEYS/integrations/demo.token"
    out=$("$CTL" keys --dir "$KEYS" new integration demo '*') ||
        die "cannot make the gateway's integration token"
    (umask 077 && printf '%s\n' "$out" | sed -n 's/^  token: //p' >"$TOKEN_FILE") ||
        die "cannot write $TOKEN_FILE"
fi
TOKEN=$(cat "$TOKEN_FILE")

# A YAML double-quoted string.
yq() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

if [ ! -f "$VAR/agent.yaml" ]; then
    {
        say "# Written by scripts/run.sh; edit freely (see README, Configuration)."
        say "agent:"
        say "  id: $(yq "$id")"
        say "  coordinator: $AGENTS_EP"
        say "  spool: $(yq "$VAR/agent-spool")"
        say "  heartbeat: 5s"
        say "  key: $(yq "$KEYS/private/agent.$id.cert")"
        say "  server_key: $(yq "$KEYS/coordinator.cert")"
        say "checks:"
        say "  # Down until something listens on 127.0.0.1:$DEMO_PORT: an incident to watch."
        say "  - name: demo-http"
        say "    service: demo-web"
        say "    type: http"
        say "    url: http://127.0.0.1:$DEMO_PORT/"
        say "    interval: 5s"
        say "    timeout: 2s"
        say "    retries: 2"
        if [ -x "$PLUGINS/check_disk" ]; then
            say "  - name: root-disk"
            say "    service: host"
            say "    type: exec"
            say "    command: $(yq "$PLUGINS/check_disk -w 10% -c 5% -p /")"
            say "    interval: 30s"
            say "    timeout: 5s"
        fi
        if [ -x "$PLUGINS/check_load" ]; then
            say "  - name: load"
            say "    service: host"
            say "    type: exec"
            say "    command: $(yq "$PLUGINS/check_load -r -w 4,3,2 -c 8,6,4")"
            say "    interval: 30s"
        fi
        if [ -x "$PLUGINS/check_procs" ]; then
            say "  - name: coordinator-process"
            say "    service: tocsin"
            say "    type: exec"
            say "    command: $(yq "$PLUGINS/check_procs -c 1: -a tocsin-coordinator")"
            say "    interval: 10s"
        fi
    } >"$VAR/agent.yaml.tmp" || die "cannot write $VAR/agent.yaml.tmp"
    mv "$VAR/agent.yaml.tmp" "$VAR/agent.yaml" || die "cannot write $VAR/agent.yaml"
    say "wrote $VAR/agent.yaml (agent id $id)"
fi

if [ ! -f "$VAR/coordinator.yaml" ]; then
    # The rotations start today, so alice is on call for the web team this
    # week, and the incident commander is "local": you, with the operator
    # key made above (an actor is its key's name), so that you may approve
    # the updates to customers and acknowledge as the IC.
    today=$(date -u +%Y-%m-%d) || die "cannot read the date"
    {
        say "# Written by scripts/run.sh; edit freely (see README, Configuration)."
        say "policy:"
        say "  declare_after: 1m          # the demo declares quickly; the default is 15m"
        say "services:"
        say "  demo-web: {team: web, users_per_host: 50, total_users: 200}"
        say "  host: {}                   # the agent's disk and load checks"
        say "  tocsin: {}                 # and its check of the coordinator process"
        say "components:                  # what the status page shows"
        say "  website: {description: \"Website\", services: [demo-web]}"
        say "  hosts: {description: \"Servers\", services: [host, tocsin]}"
        say "# Who is paged: every address ends in the local inbox ($INBOX)."
        say "people:"
        say "  alice:"
        say "    name: Alice Liddell"
        say "    contact: [{type: email, to: alice@example.com}]"
        say "  local:                     # you: the operator key var/keys/private/operator-rw.local"
        say "    name: You"
        say "    contact: [{type: email, to: you@example.com}]"
        say "  carol:"
        say "    name: Carol Crane"
        say "    contact: [{type: email, to: carol@example.com}]"
        say "teams:"
        say "  web:                       # owns demo-web: its on-call is the SME"
        say "    rotation: {members: [alice, carol], shift: 1w, handoff: \"00:00\", start: $today}"
        say "    ack_timeout: 2m          # unacknowledged this long: the next one is paged"
        say "roles:"
        say "  commander:"
        say "    rotation: {members: [local, carol], shift: 1w, handoff: \"00:00\", start: $today}"
        say "    ack_timeout: 2m"
        say "paging:"
        say "  high_urgency: [1, 2, 3]    # by e-mail here (and ntfy, Slack, webhooks if listed)"
        say "  low_urgency: [4]"
        say "  repeat_every: 2m           # until acknowledged"
    } >"$VAR/coordinator.yaml.tmp" || die "cannot write $VAR/coordinator.yaml.tmp"
    mv "$VAR/coordinator.yaml.tmp" "$VAR/coordinator.yaml" || die "cannot write $VAR/coordinator.yaml"
    say "wrote $VAR/coordinator.yaml"
fi

# A coordinator.yaml from before the demo had a roster pages nobody.
grep -q '^people:' "$VAR/coordinator.yaml" ||
    say "note: $VAR/coordinator.yaml has no people, so nobody is paged; remove it for the demo's roster"

# tocsin-notify: pages and status updates by e-mail to the local inbox,
# acknowledgement links through the gateway. The endpoints, keys and state
# are given on its command line.
if [ ! -f "$VAR/notify.yaml" ]; then
    {
        say "# Written by scripts/run.sh; edit freely (see README, Notifications)."
        say "notify:"
        say "  page_url: http://$STATUS_HTTP/"
        say "  ack_url: http://$GATEWAY_HTTP/    # the gateway serves the links"
        say "  link_key: $(yq "$KEYS/links.key")"
        say "  retry_first: 1s"
        say "  retry_max: 30s"
        say "smtp:"
        say "  url: smtp://$INBOX_SMTP          # the demo's inbox, $INBOX"
        say "  from: tocsin@localhost"
        say "subscriptions:"
        say "  - name: ops"
        say "    type: email"
        say "    to: [ops@example.com]"
        say "    audience: internal"
        say "  - name: customers"
        say "    type: email"
        say "    to: [customers@example.com]"
    } >"$VAR/notify.yaml.tmp" || die "cannot write $VAR/notify.yaml.tmp"
    mv "$VAR/notify.yaml.tmp" "$VAR/notify.yaml" || die "cannot write $VAR/notify.yaml"
    say "wrote $VAR/notify.yaml"
fi
NOTIFY_ARGS="--config $VAR/notify.yaml --api $API_EP --publish $PUBLISH_EP --state $VAR/notify-state
    --key $KEYS/private/subscriber.notify.cert --server-key $KEYS/coordinator.cert
    --metrics $NOTIFY_METRICS"

# Everything each daemon can check without starting (the files, their
# cross-references, keys, directories), with file and line for each
# problem: better now than a daemon that exits a second after start.
"$BIN/tocsin-coordinator" --check-config --config "$VAR/coordinator.yaml" --keys "$KEYS" \
    --data "$VAR/coordinator" >/dev/null ||
    die "fix $VAR/coordinator.yaml (the problems are listed above)"
"$BIN/tocsin-agent" --check-config --config "$VAR/agent.yaml" >/dev/null ||
    die "fix $VAR/agent.yaml (the problems are listed above)"
# shellcheck disable=SC2086
"$BIN/tocsin-notify" --check-config $NOTIFY_ARGS --coordinator-config "$VAR/coordinator.yaml" \
    >/dev/null || die "fix $VAR/notify.yaml (the problems are listed above)"

# Something already listening on one of our ports (an earlier `make run`?)
# would answer in our place; say so before starting anything.
if command -v ss >/dev/null 2>&1; then
    busy=$(ss -Htln 2>/dev/null | awk '{print $4}' |
        grep -E "[:.]($AGENTS_PORT|$API_PORT|$PUBLISH_PORT|${STATUS_HTTP##*:}|${GATEWAY_HTTP##*:}|${COORD_METRICS##*:}|${NOTIFY_METRICS##*:}|${INBOX_SMTP##*:})\$" |
        head -n 8 |
        tr '\n' ' ')
    if [ -n "$busy" ]; then
        die "already in use: $busy(another tocsin-coordinator or make run?)"
    fi
fi

CPID=
APID=
SPID=
GPID=
NPID=
IPID=

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
    stop_one "$NPID" tocsin-notify
    stop_one "$IPID" smtp-sink.py
    stop_one "$GPID" tocsin-gateway
    stop_one "$SPID" tocsin-statuspage
    stop_one "$APID" tocsin-agent
    stop_one "$CPID" tocsin-coordinator
}

log_tail() {
    say "--- last lines of $1:" >&2
    tail -n 20 "$1" >&2
    say "---" >&2
}

# The daemon's own reason for stopping: its error lines (text or JSON log,
# or a one-line usage/configuration message), the last three of them.
reason() {
    grep -E ' ERROR |"level":"error"|^tocsin-[a-z]+: |^smtp-sink.py: ' "$1" 2>/dev/null | tail -n 3
}

fail() {
    say "run.sh: $*" >&2
    stop_all
    exit 1
}

# Waits until daemon NAME (PID, logging to LOG) says it is ready (PATTERN,
# the line it logs once it listens), up to 30 s: "tocsin is running" is
# printed only when every address it lists answers. A slow disk can hold a
# daemon's start for a second or more; a fixed pause was not enough.
wait_ready() {
    pid=$1 log=$2 pattern=$3 name=$4
    i=0
    while ! grep -q "$pattern" "$log" 2>/dev/null; do
        if ! alive "$pid"; then
            wait "$pid" 2>/dev/null
            log_tail "$log"
            fail "$name exited at start: $(reason "$log")"
        fi
        i=$((i + 1))
        [ $i -lt 300 ] || fail "$name did not start within 30 s; see $log"
        sleep 0.1
    done
}

trap 'say ""; say "stopping..."; stop_all; say "stopped"; exit 0' INT TERM

"$BIN/tocsin-coordinator" --config "$VAR/coordinator.yaml" --keys "$KEYS" --data "$VAR/coordinator" \
    --agents "$AGENTS_EP" --api "$API_EP" --publish "$PUBLISH_EP" --metrics "$COORD_METRICS" \
    </dev/null >"$COORD_LOG" 2>&1 &
CPID=$!

# Ready when it answers `status` and is still ours a moment later (a
# coordinator that cannot bind or lock its data exits at once).
i=0
while :; do
    if ! alive "$CPID"; then
        wait "$CPID" 2>/dev/null
        log_tail "$COORD_LOG"
        fail "tocsin-coordinator exited at start: $(reason "$COORD_LOG")"
    fi
    # shellcheck disable=SC2086
    if "$CTL" $OPERATOR --api "$API_EP" --timeout 1s status >/dev/null 2>&1; then
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

"$BIN/tocsin-agent" --config "$VAR/agent.yaml" </dev/null >"$AGENT_LOG" 2>&1 &
APID=$!
sleep 0.5
if ! alive "$APID"; then
    log_tail "$AGENT_LOG"
    fail "tocsin-agent exited at start: $(reason "$AGENT_LOG")"
fi

"$BIN/tocsin-statuspage" --api "$API_EP" --publish "$PUBLISH_EP" \
    --key "$KEYS/private/subscriber.local.cert" --server-key "$KEYS/coordinator.cert" \
    --out "$VAR/statuspage/site" --state "$VAR/statuspage/state" --http "$STATUS_HTTP" \
    </dev/null >"$STATUS_LOG" 2>&1 &
SPID=$!
wait_ready "$SPID" "$STATUS_LOG" "serving the status page on" tocsin-statuspage

"$BIN/tocsin-gateway" --listen "$GATEWAY_HTTP" --agents "$AGENTS_EP" --api "$API_EP" \
    --key "$KEYS/private/gateway.gateway.cert" --server-key "$KEYS/coordinator.cert" \
    --spool "$VAR/gateway/spool" --state "$VAR/gateway/state" \
    --integrations "$KEYS/integrations" \
    </dev/null >"$GATEWAY_LOG" 2>&1 &
GPID=$!
wait_ready "$GPID" "$GATEWAY_LOG" "tocsin-gateway: listening on" tocsin-gateway

# The inbox first, so that the first mail finds it; ready when it says so.
python3 "$SINK" "$INBOX_SMTP" "$INBOX" </dev/null >"$INBOX_LOG" 2>&1 &
IPID=$!
wait_ready "$IPID" "$INBOX_LOG" "^inbox on smtp://$INBOX_SMTP" "the inbox (smtp-sink.py)"

# shellcheck disable=SC2086
"$BIN/tocsin-notify" $NOTIFY_ARGS </dev/null >"$NOTIFY_LOG" 2>&1 &
NPID=$!
wait_ready "$NPID" "$NOTIFY_LOG" "tocsin-notify: started: " tocsin-notify

# Other ports than the tools' defaults: the hints say where.
TCTL="$BIN/tocsinctl"
TSUB="$BIN/tocsin-sub"
if [ "$BASE" != 7401 ]; then
    TCTL="$TCTL --api $API_EP"
    TSUB="$TSUB --api $API_EP --publish $PUBLISH_EP"
fi

cat <<EOF

tocsin is running on 127.0.0.1, CURVE-encrypted, keys in $KEYS:
  tocsin-coordinator  pid $CPID  agents $AGENTS_EP  api $API_EP  publish $PUBLISH_EP
                      data $VAR/coordinator, log $COORD_LOG
  tocsin-agent        pid $APID  id $id, config $VAR/agent.yaml
                      spool $VAR/agent-spool, log $AGENT_LOG
  tocsin-statuspage   pid $SPID  site $VAR/statuspage/site, log $STATUS_LOG
  tocsin-gateway      pid $GPID  http://$GATEWAY_HTTP/, spool $VAR/gateway, log $GATEWAY_LOG
  tocsin-notify       pid $NPID  config $VAR/notify.yaml, state $VAR/notify-state
                      log $NOTIFY_LOG
  the inbox           pid $IPID  smtp://$INBOX_SMTP, mails in $INBOX/, log $INBOX_LOG

The status page: http://$STATUS_HTTP/

Prometheus metrics (GET /metrics):
  tocsin-coordinator  http://$COORD_METRICS/metrics
  tocsin-statuspage   http://$STATUS_HTTP/metrics
  tocsin-gateway      http://$GATEWAY_HTTP/metrics
  tocsin-notify       http://$NOTIFY_METRICS/metrics

Alerts in through the gateway (integration "demo", token in $TOKEN_FILE):
  Alertmanager: a webhook receiver with url http://$GATEWAY_HTTP/v1/alertmanager
                and http_config.authorization.credentials: $TOKEN
  Events API v2 (what Grafana, Zabbix and PagerDuty clients send):
  curl -sS -X POST http://$GATEWAY_HTTP/v2/enqueue -H 'Content-Type: application/json' \\
    -d '{"routing_key":"$TOKEN","event_action":"trigger","dedup_key":"disk-web-01",
         "payload":{"summary":"disk full","source":"web-01","severity":"critical","group":"host"}}'

The agent watches the root disk, the load, the coordinator process, and a
demo web service on 127.0.0.1:$DEMO_PORT that is down: within about 15 s an
incident opens for "demo-web". Bring the service up and it resolves:
  python3 -m http.server $DEMO_PORT --bind 127.0.0.1

Try, in another terminal, from this directory (the tools find their keys
in ./var/keys):
  $TCTL status
  $TCTL incidents --all
  $TCTL log
  $TCTL audit
  $TSUB --from 1

After a minute the demo-web incident is declared and the "Website"
component turns red on the status page (or declare it now):
  $TCTL declare 1

Pages: alice is on call for demo-web (team web), and you ("local", the
operator key) are the incident commander. When the incident is declared
alice is paged as its SME and you as its IC, by e-mail; every mail lands
in the local inbox, one file each in $INBOX/:
  tail -f $INBOX_LOG     # to, subject and the acknowledgement link
Open alice's link in a browser: it shows the page and a button, and opening
it acknowledges nothing; the button (a POST) acknowledges her page, "via
link" in the timeline. Or from here:
  curl -sS -X POST http://$GATEWAY_HTTP/ack/TOKEN
  $TCTL timeline 1
  $TCTL pages            # pages delivered per person, acknowledged by link
Unacknowledged, a page is repeated every 2 minutes and, after 2 minutes,
escalates to carol.

Tell customers (the incident commander approves external updates; you are
the IC, and the update reaches customers@example.com in the inbox):
  $TCTL update 1 draft --title "Website unavailable"
  $TCTL update 1 approve 1
  $TCTL update 1 publish 1
  $TCTL drill            # a DRILL incident through the whole plan

Ctrl-C stops everything.
EOF

# Wait for a signal, watching the children: if one dies, say so and stop.
while :; do
    if ! alive "$CPID"; then
        wait "$CPID" 2>/dev/null
        log_tail "$COORD_LOG"
        fail "tocsin-coordinator stopped unexpectedly: $(reason "$COORD_LOG")"
    fi
    if ! alive "$APID"; then
        wait "$APID" 2>/dev/null
        log_tail "$AGENT_LOG"
        fail "tocsin-agent stopped unexpectedly: $(reason "$AGENT_LOG")"
    fi
    if ! alive "$SPID"; then
        wait "$SPID" 2>/dev/null
        log_tail "$STATUS_LOG"
        fail "tocsin-statuspage stopped unexpectedly: $(reason "$STATUS_LOG")"
    fi
    if ! alive "$GPID"; then
        wait "$GPID" 2>/dev/null
        log_tail "$GATEWAY_LOG"
        fail "tocsin-gateway stopped unexpectedly: $(reason "$GATEWAY_LOG")"
    fi
    if ! alive "$NPID"; then
        wait "$NPID" 2>/dev/null
        log_tail "$NOTIFY_LOG"
        fail "tocsin-notify stopped unexpectedly: $(reason "$NOTIFY_LOG")"
    fi
    if ! alive "$IPID"; then
        wait "$IPID" 2>/dev/null
        log_tail "$INBOX_LOG"
        fail "the inbox (smtp-sink.py) stopped unexpectedly: $(reason "$INBOX_LOG")"
    fi
    sleep 1 &
    wait $! 2>/dev/null
done
