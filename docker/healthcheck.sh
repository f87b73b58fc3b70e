#!/bin/sh
# tocsin-healthcheck - the images' HEALTHCHECK: finds the tocsin daemon this
# container runs and checks it in the way it can be asked.
#   tocsin-coordinator  answers GET /healthz on its metrics listener,
#                       port 7406 (docker/coordinator.yaml): no key, no
#                       audit record
#   tocsin-statuspage   serves api/v2/status.json on port 7404
#   tocsin-gateway      answers GET /healthz on port 7405 with 200 (its
#                       spool takes alerts)
#   tocsin-notify       answers GET /healthz on its metrics listener, port 7407
#   tocsin-agent        answers GET /healthz on its metrics listener, port 7409
#                       (docker/agent.yaml)
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

# GET /healthz on 127.0.0.1:PORT answers 200.
healthz() {
    exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"' &&
        printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 &&
        head -n 1 <&3 | grep -q " 200 "'
}

if running tocsin-coordinator; then
    healthz 7406
fi
if running tocsin-statuspage; then
    exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/7404 &&
        printf "GET /api/v2/status.json HTTP/1.0\r\n\r\n" >&3 &&
        head -n 1 <&3 | grep -q " 200 "'
fi
if running tocsin-gateway; then
    healthz 7405
fi
if running tocsin-notify; then
    healthz 7407
fi
if running tocsin-agent; then
    healthz 7409
fi
exit 1
