/*
 * bench_ingest - the coordinator's hot path and start-up, measured against
 * the transport it runs on, in one run (make bench).
 *
 * Every figure comes from the real tocsin-coordinator (from the same bin
 * directory) on 127.0.0.1 with a temporary data directory, driven by AGENTS
 * simulated agents on DEALER sockets that each keep up to WINDOW
 * unacknowledged check results in flight, as the agent's outbox does:
 *
 *   raw      the same sockets, frames and window against a receiver that
 *            decodes each envelope and acknowledges per batch without
 *            storing anything: the limit the transport sets;
 *   durable  the coordinator: every Ack after the fsync'd commit;
 *            both plaintext and CURVE, and their ratio;
 *   latency  at 10% of the measured durable rate: Ack latency of every
 *            event, and broadcast latency of a probe that flips its own
 *            check (send -> incident broadcast on PUB), p50 and p99;
 *   replay   start-up after REPLAY_EVENTS events, without a snapshot
 *            (the whole log) and with one;
 *   size     bytes per event on disk after that.
 *
 * usage: bench_ingest [AGENTS] [EVENTS_PER_AGENT] [WINDOW] [REPLAY_EVENTS]
 *        bench_ingest --raw-receiver PORT [KEYDIR]     (internal)
 * Bounded by construction: every phase sends a fixed number of events and
 * gives up after a deadline. The synthetic checks flip between OK and
 * CRITICAL every 7 events, so most events open, update or resolve an
 * incident: a worst case for the write path.
 */
#include "error.h"
#include "keys.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_DEADLINE_MS 180000

/* Microseconds on the monotonic clock (czmq's zclock_usecs). */
static int64_t s_usecs(void)
{
    return zclock_usecs();
}

typedef struct {
    char bin[PATH_MAX];  /* directory of the binaries */
    char self[PATH_MAX]; /* this program */
    char tmp[64];        /* scratch directory */
    int port;            /* agents port; api +1, pub +2 */
} s_env_t;

/* ---- processes ------------------------------------------------------------ */

static pid_t s_spawn(char *const argv[], const char *logpath)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (logpath && !freopen(logpath, "a", stderr))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* SIGTERM, and SIGKILL (said so) if it has not stopped within 30 s. */
static void s_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        zclock_sleep(100);
    }
    fprintf(stderr, "bench: process %d ignored SIGTERM for 30 s; killed\n", (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Starts the coordinator on env->port.. with `yaml` as its configuration
 * (written to DIR.yaml) and CURVE keys in `keydir` (NULL: plaintext). */
static pid_t s_coordinator(const s_env_t *env, const char *dir, const char *yaml,
                           const char *keydir, const char *logpath)
{
    char path[PATH_MAX + 32], cfg[PATH_MAX + 16], agents[64], api[64], pub[64];
    snprintf(path, sizeof path, "%s/tocsin-coordinator", env->bin);
    snprintf(cfg, sizeof cfg, "%s.yaml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return -1;
    fputs(yaml, f);
    fclose(f);
    /* A fresh log for each start, so that what is read from it is this
     * start's (the previous one is kept beside it). */
    char old[PATH_MAX + 16];
    snprintf(old, sizeof old, "%s.prev", logpath);
    rename(logpath, old);
    snprintf(agents, sizeof agents, "tcp://127.0.0.1:%d", env->port);
    snprintf(api, sizeof api, "tcp://127.0.0.1:%d", env->port + 1);
    snprintf(pub, sizeof pub, "tcp://127.0.0.1:%d", env->port + 2);
    char *argv[] = {path,
                    "--config",
                    cfg,
                    "--data",
                    (char *)dir,
                    "--agents",
                    agents,
                    "--api",
                    api,
                    "--publish",
                    pub,
                    keydir ? "--keys" : "--insecure",
                    (char *)(keydir ? keydir : NULL),
                    NULL};
    if (!keydir)
        argv[12] = NULL;
    return s_spawn(argv, logpath);
}

/* The last line of `logpath` matching `pattern` (grep -E), or "". */
static void s_grep(const char *logpath, const char *pattern, char *out, size_t cap)
{
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "grep -Eo '%s' %s 2>/dev/null | tail -1", pattern, logpath);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* Waits until the coordinator's log says it listens (start-up done). */
static bool s_wait_started(const char *logpath)
{
    char line[256];
    for (int i = 0; i < 1200; i++) {
        s_grep(logpath, "listening for subscribers", line, sizeof line);
        if (line[0])
            return true;
        zclock_sleep(50);
    }
    return false;
}

/* ---- the raw receiver ----------------------------------------------------- */

/* Acknowledges without storing: drains what is queued (up to 1024), decodes
 * and validates each envelope, then sends each sender one Ack with its
 * highest seq, as the coordinator's group commit does. */
static int s_raw_receiver(int port, const char *keydir)
{
    zsys_init();
    zsock_t *r = zsock_new(ZMQ_ROUTER);
    zsock_set_rcvhwm(r, 100000);
    zsock_set_linger(r, 0);
    char pub[TC_KEY_TXT], sec[TC_KEY_TXT];
    zactor_t *auth = NULL;
    if (keydir) {
        if (tc_keys_server(keydir, pub, sec) != 0)
            return 1;
        auth = zactor_new(zauth, NULL);
        zstr_sendx(auth, "CURVE", CURVE_ALLOW_ANY, NULL);
        zsock_wait(auth);
        zsock_set_curve_server(r, 1);
        zsock_set_curve_secretkey(r, sec);
        zsock_set_curve_publickey(r, pub);
    }
    if (zsock_bind(r, "tcp://127.0.0.1:%d", port) < 0)
        return 1;
    zhashx_t *last = zhashx_new(); /* sender -> highest seq (in the pointer) */
    zhashx_t *who = zhashx_new();  /* sender -> routing id */
    zhashx_set_destructor(who, (zhashx_destructor_fn *)zframe_destroy);
    tc_msg_t *m = malloc(sizeof *m);
    zpoller_t *poller = zpoller_new(r, NULL);
    while (!zsys_interrupted) {
        if (!zpoller_wait(poller, 500))
            continue;
        for (int n = 0; n < 1024 && (zsock_events(r) & ZMQ_POLLIN); n++) {
            zmsg_t *msg = zmsg_recv(r);
            if (!msg)
                break;
            zframe_t *id = zmsg_pop(msg), *body = zmsg_first(msg);
            char why[128];
            if (body && tc_wire_decode_msg(zframe_data(body), zframe_size(body), m) == 0 &&
                tc_msg_validate(m, why, sizeof why) == 0 && m->seq) {
                uintptr_t seq = (uintptr_t)zhashx_lookup(last, m->sender);
                if (m->seq > seq)
                    zhashx_update(last, m->sender, (void *)(uintptr_t)m->seq);
                zhashx_update(who, m->sender, zframe_dup(id));
            }
            zframe_destroy(&id);
            zmsg_destroy(&msg);
        }
        for (void *v = zhashx_first(last); v; v = zhashx_next(last)) {
            const char *sender = zhashx_cursor(last);
            tc_msg_t ack = {.version = TC_PROTOCOL_VERSION, .kind = TC_MSG_ACK};
            snprintf(ack.sender, sizeof ack.sender, TC_COORDINATOR_ID);
            ack.u.ack.seq = (uintptr_t)v;
            uint8_t *buf;
            size_t len;
            if (tc_wire_encode_msg(&ack, &buf, &len) != 0)
                continue;
            zframe_t *id = zhashx_lookup(who, sender);
            zmsg_t *out = zmsg_new();
            zmsg_append(out, &(zframe_t *){zframe_dup(id)});
            zmsg_addmem(out, buf, len);
            free(buf);
            zmsg_send(&out, r);
        }
    }
    free(m);
    zpoller_destroy(&poller);
    zhashx_destroy(&last);
    zhashx_destroy(&who);
    zsock_destroy(&r);
    zactor_destroy(&auth);
    return 0;
}

/* ---- simulated agents ----------------------------------------------------- */

typedef struct {
    int nagents, nevents, window;
    double rate;         /* events per second over all agents (0: as fast as acked) */
    const char *keydir;  /* CURVE client keys made here (NULL: plaintext) */
    bool probe;          /* and one agent flipping a check of its own */
    int64_t *ack_lat_us; /* latency samples (may be NULL) */
    size_t nack_lat, cap_ack_lat;
    int64_t *bcast_lat_us;
    size_t nbcast_lat, cap_bcast_lat;
    int64_t elapsed_ms;
    uint64_t done;
} s_drive_t;

/* Protobuf by hand: the sender must cost as little as possible, so that
 * the figures are the receiver's. */
static size_t s_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t s_field_str(uint8_t *p, unsigned field, const char *s)
{
    size_t len = strlen(s), n = 0;
    p[n++] = (uint8_t)(field << 3 | 2);
    n += s_varint(p + n, len);
    memcpy(p + n, s, len);
    return n + len;
}

static size_t s_field_u(uint8_t *p, unsigned field, uint64_t v)
{
    size_t n = 0;
    n += s_varint(p, (uint64_t)field << 3);
    return n + s_varint(p + n, v);
}

/* Sends one check result (an Envelope with a CheckResult, as an agent
 * sends it); false if the socket would have blocked (the caller sends it
 * again later). */
static bool s_send(zsock_t *s, const char *id, uint64_t seq, int state, const char *service,
                   const char *check)
{
    uint8_t cr[256], env[320];
    char output[48];
    snprintf(output, sizeof output, "synthetic result %llu", (unsigned long long)seq);
    size_t c = 0;
    c += s_field_str(cr + c, 1, check);
    c += s_field_str(cr + c, 2, service);
    c += s_field_str(cr + c, 3, id);
    c += s_field_u(cr + c, 4, state ? TC_STATE_CRITICAL : TC_STATE_OK);
    c += s_field_str(cr + c, 5, output);
    c += s_field_u(cr + c, 7, 1);
    c += s_field_u(cr + c, 8, 1);
    c += s_field_u(cr + c, 9, 1);
    size_t e = 0;
    e += s_field_u(env + e, 1, TC_PROTOCOL_VERSION);
    e += s_field_str(env + e, 2, id);
    e += s_field_u(env + e, 3, seq);
    e += s_field_u(env + e, 4, (uint64_t)tc_now_ms());
    env[e++] = 12 << 3 | 2;
    e += s_varint(env + e, c);
    memcpy(env + e, cr, c);
    e += c;
    /* Never blocks: a frame that cannot go yet is sent again later. */
    return zmq_send(zsock_resolve(s), env, e, ZMQ_DONTWAIT) >= 0;
}

static void s_sample(int64_t **arr, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *arr = realloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = v;
}

static zsock_t *s_dealer(const s_env_t *env, const char *keydir, const char *name)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    zsock_set_linger(s, 0);
    zsock_set_sndhwm(s, 100000);
    if (keydir) {
        char pair[PATH_MAX], server[PATH_MAX + 32], why[256];
        tc_client_keys_t k;
        snprintf(server, sizeof server, "%s/coordinator.cert", keydir);
        snprintf(pair, sizeof pair, "%s/private/agent.%s.cert", keydir, name);
        if (tc_client_keys_load(&k, pair, server, why, sizeof why) != 0) {
            fprintf(stderr, "bench: %s\n", why);
            return NULL;
        }
        tc_client_keys_apply(&k, s);
    }
    zsock_connect(s, "tcp://127.0.0.1:%d", env->port);
    return s;
}

/* The seq an Ack frame carries, or 0. */
static uint64_t s_ack_of(zframe_t *f, tc_msg_t *m)
{
    if (f && tc_wire_decode_msg(zframe_data(f), zframe_size(f), m) == 0 && m->kind == TC_MSG_ACK)
        return m->u.ack.seq;
    return 0;
}

static int s_drive(const s_env_t *env, s_drive_t *d)
{
    int n = d->nagents + (d->probe ? 1 : 0);
    zsock_t **socks = calloc((size_t)n, sizeof *socks);
    uint64_t *sent = calloc((size_t)n, sizeof *sent), *acked = calloc((size_t)n, sizeof *acked);
    int64_t **sent_us = calloc((size_t)n, sizeof *sent_us);
    tc_msg_t *m = malloc(sizeof *m);
    zpoller_t *poller = zpoller_new(NULL);
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, i < d->nagents ? "bench-%03d" : "probe", i);
        if (!(socks[i] = s_dealer(env, d->keydir, id)))
            return 1;
        zpoller_add(poller, socks[i]);
        if (d->ack_lat_us)
            sent_us[i] = calloc((size_t)d->nevents + 1, sizeof **sent_us);
    }
    zsock_t *sub = NULL;
    int64_t *probe_sent = NULL;
    size_t nprobe = 0, probe_seen = 0;
    if (d->probe) {
        sub = zsock_new(ZMQ_SUB);
        zsock_set_subscribe(sub, "incident.");
        zsock_connect(sub, "tcp://127.0.0.1:%d", env->port + 2);
        zpoller_add(poller, sub);
        probe_sent = calloc(100000, sizeof *probe_sent);
    }
    zclock_sleep(500); /* connections, handshakes */
    uint64_t total = (uint64_t)d->nagents * (uint64_t)d->nevents;
    d->done = 0;
    int64_t t0 = s_usecs(), deadline = tc_mono_ms() + S_DEADLINE_MS, next_probe = t0;
    while (d->done < total && tc_mono_ms() < deadline) {
        int64_t now = s_usecs();
        for (int i = 0; i < d->nagents; i++) {
            snprintf(id, sizeof id, "bench-%03d", i);
            /* Paced: agent i may have sent rate/nagents * elapsed events. */
            uint64_t allowed =
                d->rate ? (uint64_t)((double)(now - t0) / 1e6 * d->rate / (double)d->nagents) + 1
                        : UINT64_MAX;
            while (sent[i] < (uint64_t)d->nevents && sent[i] - acked[i] < (uint64_t)d->window &&
                   sent[i] < allowed) {
                uint64_t seq = sent[i] + 1;
                char svc[16], chk[16];
                snprintf(svc, sizeof svc, "svc-%llu", (unsigned long long)(seq % 10));
                snprintf(chk, sizeof chk, "check-%llu", (unsigned long long)(seq % 50));
                if (sent_us[i])
                    sent_us[i][seq] = s_usecs();
                if (!s_send(socks[i], id, seq, (int)(seq / 7 % 2), svc, chk))
                    break;
                sent[i] = seq;
            }
        }
        if (d->probe && now >= next_probe && nprobe < 100000) {
            int p = d->nagents;
            probe_sent[nprobe] = s_usecs();
            if (s_send(socks[p], "probe", sent[p] + 1, (int)((sent[p] + 1) % 2), "probe", "flip")) {
                sent[p]++;
                nprobe++;
            }
            next_probe = now + 20000; /* 50 flips a second */
        }
        zsock_t *which = zpoller_wait(poller, d->rate ? 1 : 100);
        (void)which;
        for (int i = 0; i < n; i++) {
            while (zsock_events(socks[i]) & ZMQ_POLLIN) {
                zframe_t *f = zframe_recv(socks[i]);
                uint64_t seq = s_ack_of(f, m);
                int64_t at = s_usecs();
                if (seq > acked[i]) {
                    if (i < d->nagents) {
                        for (uint64_t k = acked[i] + 1; sent_us[i] && k <= seq; k++)
                            s_sample(&d->ack_lat_us, &d->nack_lat, &d->cap_ack_lat,
                                     at - sent_us[i][k]);
                        d->done += seq - acked[i];
                    }
                    acked[i] = seq;
                }
                zframe_destroy(&f);
            }
        }
        while (sub && (zsock_events(sub) & ZMQ_POLLIN)) {
            zmsg_t *bm = zmsg_recv(sub);
            zframe_t *body = zmsg_last(bm);
            if (body && tc_wire_decode_msg(zframe_data(body), zframe_size(body), m) == 0 &&
                m->kind == TC_MSG_BROADCAST && !strcmp(m->u.bcast.incident.service, "probe") &&
                probe_seen < nprobe)
                s_sample(&d->bcast_lat_us, &d->nbcast_lat, &d->cap_bcast_lat,
                         s_usecs() - probe_sent[probe_seen++]);
            zmsg_destroy(&bm);
        }
    }
    d->elapsed_ms = (s_usecs() - t0) / 1000;
    for (int i = 0; i < n; i++) {
        zsock_destroy(&socks[i]);
        free(sent_us[i]);
    }
    zsock_destroy(&sub);
    zpoller_destroy(&poller);
    free(socks);
    free(sent);
    free(acked);
    free(sent_us);
    free(probe_sent);
    free(m);
    return d->done == total ? 0 : 1;
}

static int s_cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double s_pct(int64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, s_cmp64);
    size_t i = (size_t)(p / 100.0 * (double)(n - 1));
    return (double)v[i] / 1000.0;
}

/* ---- phases ---------------------------------------------------------------- */

static const char *S_FAST = "coordinator:\n  rate_limit: 0\n  missed_heartbeats: 1000\n"
                            "  snapshot_every: 0\n  snapshot_interval: 0\n";

/* Events per second acknowledged by a receiver: the raw one (durable =
 * false) or the coordinator. */
static double s_rate(s_env_t *env, bool durable, bool curve, int nagents, int nevents, int window)
{
    char dir[PATH_MAX], keydir[PATH_MAX], logpath[PATH_MAX + 8];
    static int run;
    snprintf(dir, sizeof dir, "%s/rate-%d", env->tmp, ++run);
    snprintf(keydir, sizeof keydir, "%s/keys-%d", env->tmp, run);
    snprintf(logpath, sizeof logpath, "%s.log", dir);
    if (curve && tc_keys_init_dir(keydir) != 0)
        return 0;
    if (curve) {
        /* Every key before the coordinator starts: a handshake it refuses
         * is not retried. */
        char p[TC_KEY_TXT], s[TC_KEY_TXT], pair[PATH_MAX], name[32];
        tc_keys_server(keydir, p, s);
        for (int i = 0; i < nagents; i++) {
            snprintf(name, sizeof name, "bench-%03d", i);
            tc_keys_new(keydir, TC_KEY_AGENT, name, pair, sizeof pair);
        }
    }
    env->port += 3;
    pid_t pid;
    if (durable) {
        pid = s_coordinator(env, dir, S_FAST, curve ? keydir : NULL, logpath);
    } else {
        char port[16];
        snprintf(port, sizeof port, "%d", env->port);
        char *argv[] = {env->self, "--raw-receiver", port, curve ? keydir : NULL, NULL};
        pid = s_spawn(argv, logpath);
    }
    if (durable && !s_wait_started(logpath)) {
        s_stop(pid);
        return 0;
    }
    zclock_sleep(durable ? 0 : 300);
    s_drive_t d = {
        .nagents = nagents, .nevents = nevents, .window = window, .keydir = curve ? keydir : NULL};
    int rc = s_drive(env, &d);
    s_stop(pid);
    if (rc)
        fprintf(stderr, "bench: %s %s: only %llu events acknowledged\n",
                durable ? "durable" : "raw", curve ? "CURVE" : "plaintext",
                (unsigned long long)d.done);
    return d.elapsed_ms ? 1000.0 * (double)d.done / (double)d.elapsed_ms : 0;
}

/* GET /metrics from 127.0.0.1:port into buf ("" on failure). */
static void s_scrape(int port, char *buf, size_t cap)
{
    buf[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const char *req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return;
    }
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
}

/* The smallest bucket bound of histogram `name` holding `pct` percent of
 * its observations, in ms (-1: not found). */
static double s_bucket_pct(const char *text, const char *name, double pct)
{
    char key[128];
    snprintf(key, sizeof key, "%s_count ", name);
    const char *c = strstr(text, key);
    if (!c)
        return -1;
    double total = atof(c + strlen(key));
    snprintf(key, sizeof key, "%s_bucket{le=\"", name);
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        double le = atof(p + strlen(key));
        const char *v = strchr(p, '}');
        if (v && total > 0 && atof(v + 1) >= total * pct / 100.0)
            return le * 1000.0;
    }
    return -1;
}

static void s_latency(s_env_t *env, double rate, int nagents)
{
    char dir[PATH_MAX], logpath[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/latency", env->tmp);
    snprintf(logpath, sizeof logpath, "%s.log", dir);
    env->port += 3;
    /* With its metrics on: the commit-time histogram says how much of the
     * latency is the storage's (fsync included). */
    char yaml[256];
    int mport = env->port + 3;
    snprintf(yaml, sizeof yaml,
             "coordinator:\n  missed_heartbeats: 1000\n  rate_limit: 0\n"
             "  metrics: 127.0.0.1:%d\n",
             mport);
    pid_t pid = s_coordinator(env, dir, yaml, NULL, logpath);
    if (!s_wait_started(logpath)) {
        s_stop(pid);
        return;
    }
    /* Ten seconds at `rate`. */
    int per_agent = (int)(rate * 10.0 / nagents);
    s_drive_t d = {.nagents = nagents,
                   .nevents = per_agent,
                   .window = 256,
                   .rate = rate,
                   .probe = true,
                   .ack_lat_us = NULL};
    d.ack_lat_us = malloc(sizeof *d.ack_lat_us); /* non-NULL: keep samples */
    d.cap_ack_lat = 1;
    s_drive(env, &d);
    static char metrics[1 << 17];
    s_scrape(mport, metrics, sizeof metrics);
    s_stop(pid);
    printf("latency at %.0f events/s (%d agents + a probe flipping a check 50 times a second, "
           "%.1f s):\n",
           rate, nagents, (double)d.elapsed_ms / 1000.0);
    printf("  ack:       p50 %.2f ms, p99 %.2f ms (%zu events)\n",
           s_pct(d.ack_lat_us, d.nack_lat, 50), s_pct(d.ack_lat_us, d.nack_lat, 99), d.nack_lat);
    printf("  broadcast: p50 %.2f ms, p99 %.2f ms (%zu probe changes, send to PUB)\n",
           s_pct(d.bcast_lat_us, d.nbcast_lat, 50), s_pct(d.bcast_lat_us, d.nbcast_lat, 99),
           d.nbcast_lat);
    double c50 = s_bucket_pct(metrics, "tocsin_coordinator_commit_seconds", 50);
    double c99 = s_bucket_pct(metrics, "tocsin_coordinator_commit_seconds", 99);
    if (c50 >= 0)
        printf("  commit (coordinator's /metrics, fsync included): p50 <= %.2f ms, p99 <= %.2f ms "
               "(histogram bounds)\n",
               c50, c99);
    free(d.ack_lat_us);
    free(d.bcast_lat_us);
}

static void s_replay(s_env_t *env, int nagents, int total)
{
    char dir[PATH_MAX], logpath[PATH_MAX + 8], line[256];
    snprintf(dir, sizeof dir, "%s/replay", env->tmp);
    snprintf(logpath, sizeof logpath, "%s.log", dir);
    env->port += 3;
    pid_t pid = s_coordinator(env, dir, S_FAST, NULL, logpath);
    if (!s_wait_started(logpath)) {
        s_stop(pid);
        return;
    }
    s_drive_t d = {.nagents = nagents, .nevents = total / nagents, .window = 256};
    s_drive(env, &d);
    s_stop(pid);
    printf("replay: %llu events stored at %.0f events/s\n", (unsigned long long)d.done,
           d.elapsed_ms ? 1000.0 * (double)d.done / (double)d.elapsed_ms : 0);
    /* Start-up without a snapshot: the whole log. */
    pid = s_coordinator(env, dir, S_FAST, NULL, logpath);
    s_wait_started(logpath);
    s_stop(pid);
    s_grep(logpath, "replayed [0-9]+ log records in [0-9]+ ms", line, sizeof line);
    printf("  start-up, whole log: %s\n", line[0] ? line : "(no replay line)");
    /* One more record makes a snapshot (snapshot_every: 1); then start-up
     * loads it. */
    pid = s_coordinator(env, dir,
                        "coordinator:\n  rate_limit: 0\n  missed_heartbeats: 1000\n"
                        "  snapshot_every: 1\n",
                        NULL, logpath);
    s_wait_started(logpath);
    s_drive_t one = {.nagents = 1, .nevents = 1, .window = 1};
    s_drive(env, &one);
    zclock_sleep(200);
    s_stop(pid);
    s_grep(logpath, "snapshot at log record [0-9]+: [0-9.]+ MiB in [0-9]+ ms", line, sizeof line);
    printf("  writing the snapshot: %s\n", line[0] ? line : "(no snapshot line)");
    pid = s_coordinator(env, dir, S_FAST, NULL, logpath);
    s_wait_started(logpath);
    s_stop(pid);
    s_grep(logpath,
           "loaded the snapshot at log record [0-9]+ and replayed [0-9]+ records after it in "
           "[0-9]+ ms",
           line, sizeof line);
    printf("  start-up with it: %s\n", line[0] ? line : "(no snapshot start-up line)");
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "du -sb %s | cut -f1", dir);
    FILE *p = popen(cmd, "r");
    unsigned long long bytes = 0;
    if (p && fscanf(p, "%llu", &bytes) == 1 && d.done)
        printf("  on disk: %.1f MB, %.0f bytes per event\n", (double)bytes / 1e6,
               (double)bytes / (double)d.done);
    if (p)
        pclose(p);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--raw-receiver"))
        return s_raw_receiver(atoi(argv[2]), argc > 3 ? argv[3] : NULL);
    int nagents = argc > 1 ? atoi(argv[1]) : 8;
    int nevents = argc > 2 ? atoi(argv[2]) : 5000;
    int window = argc > 3 ? atoi(argv[3]) : 256;
    int replay = argc > 4 ? atoi(argv[4]) : 1000000;
    if (nagents < 1 || nagents > 256 || nevents < 1 || window < 1 || replay < 0) {
        fprintf(stderr, "usage: bench_ingest [AGENTS 1..256] [EVENTS] [WINDOW] [REPLAY_EVENTS]\n");
        return 2;
    }
    s_env_t env = {0};
    ssize_t n = readlink("/proc/self/exe", env.self, sizeof env.self - 1);
    if (n < 0)
        return 1;
    env.self[n] = '\0';
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", env.self);
    snprintf(env.bin, sizeof env.bin, "%s", dirname(copy));
    snprintf(env.tmp, sizeof env.tmp, "/tmp/tocsin-bench-XXXXXX");
    if (!mkdtemp(env.tmp))
        return 1;
    env.port = 20000 + (int)(getpid() % 15000);
    zsys_init();
    zsys_set_logstream(NULL);

    /* BENCH_LATENCY=RATE: only the latency run, at RATE events/s;
     * BENCH_REPLAY_ONLY=1: only the replay run (its directory is kept). */
    const char *only = getenv("BENCH_LATENCY");
    if (only && atof(only) > 0) {
        s_latency(&env, atof(only), 20);
        char rm[PATH_MAX + 16];
        snprintf(rm, sizeof rm, "rm -rf %s", env.tmp);
        return system(rm) == 0 ? 0 : 1;
    }
    if (getenv("BENCH_REPLAY_ONLY")) {
        s_replay(&env, nagents, replay);
        return 0;
    }
    printf("%d agents x %d events, window %d\n", nagents, nevents, window);
    double raw = s_rate(&env, false, false, nagents, nevents, window);
    double dur = s_rate(&env, true, false, nagents, nevents, window);
    double raw_c = s_rate(&env, false, true, nagents, nevents, window);
    double dur_c = s_rate(&env, true, true, nagents, nevents, window);
    printf("plaintext: raw transport %.0f events/s, durable %.0f events/s, ratio %.2f\n", raw, dur,
           raw ? dur / raw : 0);
    printf("CURVE:     raw transport %.0f events/s, durable %.0f events/s, ratio %.2f\n", raw_c,
           dur_c, raw_c ? dur_c / raw_c : 0);
    if (dur > 0)
        s_latency(&env, dur / 10.0, 20);
    if (replay)
        s_replay(&env, nagents, replay);
    if (getenv("BENCH_KEEP")) {
        printf("kept %s\n", env.tmp);
        return 0;
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", env.tmp);
    return system(cmd) == 0 ? 0 : 1;
}
