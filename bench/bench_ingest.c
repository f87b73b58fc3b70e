/*
 * bench_ingest - end-to-end ingest benchmark for tocsin-coordinator.
 *
 * Starts the real coordinator (from the same bin directory) on 127.0.0.1
 * with a temporary data directory, then N simulated agents on DEALER
 * sockets each send M check results with a bounded window of unacked
 * events, exactly as an agent's spool would. Reports acknowledged events per
 * second (every Ack is sent only after the LMDB commit), then restarts the
 * coordinator and reports how long replaying the log took.
 *
 * usage: bench_ingest [AGENTS] [EVENTS_PER_AGENT] [WINDOW]
 * Bounded by construction: it sends exactly AGENTS * EVENTS events.
 */
#include "error.h"
#include "util.h"
#include "wire.h"

#include <czmq.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t s_start(const char *bin, const char *dir, int port, const char *logpath)
{
    char agents[64], api[64], pub[64];
    snprintf(agents, sizeof agents, "tcp://127.0.0.1:%d", port);
    snprintf(api, sizeof api, "tcp://127.0.0.1:%d", port + 1);
    snprintf(pub, sizeof pub, "tcp://127.0.0.1:%d", port + 2);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(logpath, "a", stderr);
        (void)f;
        execl(bin, "tocsin-coordinator", "--insecure", "--data", dir, "--agents", agents, "--api",
              api, "--publish", pub, "--missed-heartbeats", "1000", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void s_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static void s_send(zsock_t *s, const char *id, uint64_t seq, int state)
{
    tc_msg_t m = {.version = TC_PROTOCOL_VERSION, .seq = seq, .kind = TC_MSG_CHECK_RESULT};
    snprintf(m.sender, sizeof m.sender, "%s", id);
    m.time_ms = tc_now_ms();
    tc_check_result_t *c = &m.u.check;
    snprintf(c->check, sizeof c->check, "check-%llu", (unsigned long long)(seq % 50));
    snprintf(c->service, sizeof c->service, "svc-%llu", (unsigned long long)(seq % 10));
    snprintf(c->host, sizeof c->host, "%s", id);
    c->state = state ? TC_STATE_CRITICAL : TC_STATE_OK;
    snprintf(c->output, sizeof c->output, "synthetic result %llu", (unsigned long long)seq);
    c->attempt = c->max_attempts = 1;
    c->hard = true;
    uint8_t *buf;
    size_t len;
    if (tc_wire_encode_msg(&m, &buf, &len) == 0) {
        zsock_send(s, "b", buf, len);
        free(buf);
    }
}

int main(int argc, char **argv)
{
    int nagents = argc > 1 ? atoi(argv[1]) : 8;
    int nevents = argc > 2 ? atoi(argv[2]) : 5000;
    int window = argc > 3 ? atoi(argv[3]) : 256;
    if (nagents < 1 || nagents > 256 || nevents < 1 || window < 1) {
        fprintf(stderr, "usage: bench_ingest [AGENTS 1..256] [EVENTS] [WINDOW]\n");
        return 2;
    }
    char self[PATH_MAX], bin[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return 1;
    self[n] = '\0';
    snprintf(bin, sizeof bin, "%s/tocsin-coordinator", dirname(self));
    char dir[] = "/tmp/tocsin-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char logpath[PATH_MAX];
    snprintf(logpath, sizeof logpath, "%s.log", dir);
    int port = 20000 + (int)(getpid() % 20000);

    zsys_init();
    pid_t pid = s_start(bin, dir, port, logpath);
    zsock_t **socks = calloc((size_t)nagents, sizeof *socks);
    uint64_t *sent = calloc((size_t)nagents, sizeof *sent);
    uint64_t *acked = calloc((size_t)nagents, sizeof *acked);
    zpoller_t *poller = zpoller_new(NULL);
    for (int i = 0; i < nagents; i++) {
        socks[i] = zsock_new_dealer(NULL);
        zsock_connect(socks[i], "tcp://127.0.0.1:%d", port);
        zpoller_add(poller, socks[i]);
    }
    zclock_sleep(300); /* let the coordinator bind */
    int64_t t0 = tc_mono_ms(), deadline = t0 + 120000;
    uint64_t total = (uint64_t)nagents * (uint64_t)nevents, done = 0;
    while (done < total && tc_mono_ms() < deadline) {
        for (int i = 0; i < nagents; i++) {
            char id[32];
            snprintf(id, sizeof id, "bench-%03d", i);
            while (sent[i] < (uint64_t)nevents && sent[i] - acked[i] < (uint64_t)window) {
                sent[i]++;
                s_send(socks[i], id, sent[i], (int)(sent[i] / 7 % 2));
            }
        }
        zsock_t *which = zpoller_wait(poller, 1000);
        if (!which)
            continue;
        for (int i = 0; i < nagents; i++) {
            while (zsock_events(socks[i]) & ZMQ_POLLIN) {
                zframe_t *f = zframe_recv(socks[i]);
                tc_msg_t m;
                if (f && tc_wire_decode_msg(zframe_data(f), zframe_size(f), &m) == 0 &&
                    m.kind == TC_MSG_ACK && m.u.ack.seq > acked[i]) {
                    done += m.u.ack.seq - acked[i];
                    acked[i] = m.u.ack.seq;
                }
                zframe_destroy(&f);
            }
        }
    }
    int64_t elapsed = tc_mono_ms() - t0;
    printf("ingest: %d agents x %d events, window %d: %llu acked in %lld ms = %.0f events/s\n",
           nagents, nevents, window, (unsigned long long)done, (long long)elapsed,
           elapsed ? 1000.0 * (double)done / (double)elapsed : 0.0);
    for (int i = 0; i < nagents; i++)
        zsock_destroy(&socks[i]);
    zpoller_destroy(&poller);
    s_stop(pid);

    /* Restart: the log is replayed; the coordinator logs how long it took. */
    pid = s_start(bin, dir, port, logpath);
    zclock_sleep(100);
    for (int i = 0; i < 600; i++) {
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof cmd, "grep -q 'listening for subscribers' %s", logpath);
        if (system(cmd) == 0)
            break;
        zclock_sleep(100);
    }
    s_stop(pid);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "grep -o 'replayed [0-9]* log records in [0-9]* ms' %s | tail -1",
             logpath);
    printf("restart: ");
    fflush(stdout);
    if (system(cmd) != 0)
        printf("(no replay line found in %s)\n", logpath);
    snprintf(cmd, sizeof cmd, "du -sh %s | cut -f1", dir);
    printf("data size: ");
    fflush(stdout);
    if (system(cmd) != 0)
        printf("?\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, logpath);
    if (system(cmd) != 0)
        return 1;
    free(socks);
    free(sent);
    free(acked);
    return done == total ? 0 : 1;
}
