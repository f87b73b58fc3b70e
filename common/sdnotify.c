/*
 * sdnotify.c - the sd_notify(3) datagram protocol (see sdnotify.h).
 */
#include "sdnotify.h"

#include "error.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct tc_sdnotify {
    int fd; /* -1: not enabled */
    struct sockaddr_un addr;
    socklen_t addrlen;
    int64_t watchdog_ms; /* ping interval; 0: no watchdog */
    int64_t last_ping_mono;
    bool warned;
};

/* Fills self->addr from $NOTIFY_SOCKET. Returns false if it is unusable. */
static bool s_address(tc_sdnotify_t *self, const char *path)
{
    size_t len = strlen(path);
    /* A path or an abstract name ('@'); anything else (vsock:...) is a
     * transport tocsin does not speak. */
    if (len < 2 || (path[0] != '/' && path[0] != '@') || len >= sizeof self->addr.sun_path)
        return false;
    memset(&self->addr, 0, sizeof self->addr);
    self->addr.sun_family = AF_UNIX;
    memcpy(self->addr.sun_path, path, len);
    if (path[0] == '@')
        self->addr.sun_path[0] = '\0';
    self->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    return true;
}

/* $WATCHDOG_USEC, if it is meant for this process ($WATCHDOG_PID, when
 * set, names the process the watchdog watches). */
static int64_t s_watchdog_ms(const char *usec, const char *pid)
{
    if (!usec)
        return 0;
    if (pid) {
        uint64_t p;
        if (tc_u64_parse(pid, UINT32_MAX, &p) != 0 || p != (uint64_t)getpid())
            return 0;
    }
    uint64_t us;
    if (tc_u64_parse(usec, UINT64_MAX / 2, &us) != 0 || us == 0)
        return 0;
    int64_t ms = (int64_t)(us / 2000);
    return ms > 0 ? ms : 1;
}

tc_sdnotify_t *tc_sdnotify_new(void)
{
    tc_sdnotify_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = -1;
    const char *path = getenv("NOTIFY_SOCKET");
    if (path && s_address(self, path)) {
        self->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (self->fd >= 0)
            self->watchdog_ms = s_watchdog_ms(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"));
    }
    self->last_ping_mono = tc_mono_ms();
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return self;
}

void tc_sdnotify_destroy(tc_sdnotify_t **pself)
{
    if (!pself || !*pself)
        return;
    if ((*pself)->fd >= 0)
        close((*pself)->fd);
    free(*pself);
    *pself = NULL;
}

bool tc_sdnotify_enabled(const tc_sdnotify_t *self)
{
    return self && self->fd >= 0;
}

int tc_sdnotify_send(tc_sdnotify_t *self, const char *state)
{
    if (!tc_sdnotify_enabled(self))
        return 0;
    ssize_t n = sendto(self->fd, state, strlen(state), MSG_NOSIGNAL,
                       (const struct sockaddr *)&self->addr, self->addrlen);
    if (n >= 0)
        return 0;
    if (!self->warned) {
        int e = errno;
        tc_warn("cannot notify systemd (%s): %s", state, strerror(e));
        errno = e;
        self->warned = true;
    }
    return TC_ESYS;
}

int tc_sdnotify_ready(tc_sdnotify_t *self, const char *status)
{
    char msg[512];
    snprintf(msg, sizeof msg, "READY=1%s%.480s", status ? "\nSTATUS=" : "", status ? status : "");
    return tc_sdnotify_send(self, msg);
}

int tc_sdnotify_stopping(tc_sdnotify_t *self)
{
    return tc_sdnotify_send(self, "STOPPING=1\nSTATUS=stopping");
}

int64_t tc_sdnotify_watchdog_ms(const tc_sdnotify_t *self)
{
    return tc_sdnotify_enabled(self) ? self->watchdog_ms : 0;
}

int tc_sdnotify_tick(tc_sdnotify_t *self)
{
    int64_t every = tc_sdnotify_watchdog_ms(self);
    if (!every)
        return 0;
    int64_t now = tc_mono_ms();
    if (now - self->last_ping_mono < every)
        return 0;
    self->last_ping_mono = now;
    return tc_sdnotify_send(self, "WATCHDOG=1");
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    tc_sdnotify_t *self = arg;
    self->last_ping_mono = tc_mono_ms();
    tc_sdnotify_send(self, "WATCHDOG=1");
    return 0;
}

int tc_sdnotify_watch(tc_sdnotify_t *self, zloop_t *loop)
{
    int64_t every = tc_sdnotify_watchdog_ms(self);
    if (!every)
        return 0;
    return zloop_timer(loop, (size_t)every, 0, s_on_timer, self) < 0 ? TC_ENOMEM : 0;
}
