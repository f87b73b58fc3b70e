#!/bin/sh
# tocsin-healthcheck - the images' HEALTHCHECK: finds the tocsin daemon this
# container runs and checks it in the way it can be asked.
#   tocsin-coordinator  answers "status" on its API, asked with the operator
#                       key $TOCSIN_HEALTH_KEY; without that key, only that
#                       the process is there (a bare TCP probe would be
#                       refused and audited as a failed handshake)
#   tocsin-statuspage   serves api/v2/status.json on port 7404
#   tocsin-gateway      answers GET /healthz on port 7405 with 200 (its
#                       spool takes alerts)
#   tocsin-agent, tocsin-notify  the process is there (they serve nothing)
set -eu

# The kernel keeps the first 15 bytes of a program's name in comm
# (tocsin-coordina, tocsin-statuspa): compare those.
running() {
    want=$(printf '%.15s' "$1")
    for c in /proc/[0-9]*/comm; do
        [ "$(cat "$c" 2>/dev/null)" = "$want" ] && return 0
    done
    return 1
}

if running tocsin-coordinator; then
    if [ -n "${TOCSIN_HEALTH_KEY:-}" ] && [ -f "$TOCSIN_HEALTH_KEY" ]; then
        exec tocsinctl --api tcp://127.0.0.1:7402 --timeout 2s --key "$TOCSIN_HEALTH_KEY" \
            --server-key "${TOCSIN_HEALTH_SERVER_KEY:-/var/lib/tocsin/keys/coordinator.cert}" \
            status >/dev/null
    fi
    exit 0
fi
if running tocsin-statuspage; then
    exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/7404 &&
        printf "GET /api/v2/status.json HTTP/1.0\r\n\r\n" >&3 &&
        head -n 1 <&3 | grep -q " 200 "'
fi
if running tocsin-gateway; then
    exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/7405 &&
        printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 &&
        head -n 1 <&3 | grep -q " 200 "'
fi
running tocsin-agent || running tocsin-notify
