/* See printer_emulator.h. One thread polls the listening socket, the connections and a wake-up
 * pipe; state lives under one mutex. */
#define _GNU_SOURCE
#include "printer_emulator.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 16

typedef struct conn {
    int fd;
    int dle; /* 0: none, 1: saw DLE, 2: saw DLE EOT */
    long job_bytes;
} conn;

struct printer_emulator {
    pthread_t thread;
    pthread_mutex_t lock;
    int listen_fd; /* -1 in fd mode */
    int port;
    int wake[2];
    conn conns[MAX_CONN];
    size_t nconn;
    pe_state state;
    long close_after;
    unsigned char *bytes;
    size_t len, cap;
    unsigned queries, connections;
    bool stop;
};

static void record(printer_emulator *pe, const unsigned char *b, size_t n)
{
    if (pe->len + n > pe->cap) {
        size_t cap = pe->cap ? pe->cap : 4096;
        while (cap < pe->len + n)
            cap *= 2;
        unsigned char *nb = realloc(pe->bytes, cap);
        if (!nb)
            abort();
        pe->bytes = nb;
        pe->cap = cap;
    }
    memcpy(pe->bytes + pe->len, b, n);
    pe->len += n;
}

static unsigned char answer(pe_state s, unsigned char n)
{
    switch (s) {
    case PE_PAPER_OUT:
        return n == 1 ? 0x1A : n == 2 ? 0x32 : n == 4 ? 0x72 : 0x12;
    case PE_COVER_OPEN:
        return n == 1 ? 0x1A : n == 2 ? 0x16 : 0x12;
    case PE_OFFLINE:
        return n == 1 ? 0x1A : 0x12;
    case PE_GARBAGE:
        return 0xFF;
    default:
        return 0x12;
    }
}

static void drop(printer_emulator *pe, size_t i)
{
    close(pe->conns[i].fd);
    pe->conns[i] = pe->conns[--pe->nconn];
}

/* Feeds received bytes through the DLE EOT recogniser; false when the connection must close. */
static bool feed(printer_emulator *pe, conn *c, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = b[i];
        if (c->dle == 0 && x == 0x10) {
            c->dle = 1;
            continue;
        }
        if (c->dle == 1 && x == 0x04) {
            c->dle = 2;
            continue;
        }
        if (c->dle == 2 && x >= 1 && x <= 4) {
            c->dle = 0;
            pe->queries++;
            if (pe->state != PE_SILENT) {
                unsigned char a = answer(pe->state, x);
                if (send(c->fd, &a, 1, MSG_NOSIGNAL) < 0 && write(c->fd, &a, 1) < 0)
                    return false;
            }
            continue;
        }
        /* Not a status request: whatever was held back is job data. */
        static const unsigned char held[] = {0x10, 0x04};
        if (c->dle > 0) {
            record(pe, held, (size_t)c->dle);
            c->job_bytes += c->dle;
            c->dle = 0;
            if (x == 0x10) {
                c->dle = 1;
                continue;
            }
        }
        if (pe->close_after >= 0 && c->job_bytes >= pe->close_after)
            return false;
        record(pe, &x, 1);
        c->job_bytes++;
        if (pe->close_after >= 0 && c->job_bytes >= pe->close_after)
            return false;
    }
    return true;
}

static void *run(void *arg)
{
    printer_emulator *pe = arg;
    for (;;) {
        struct pollfd fds[MAX_CONN + 2];
        nfds_t n = 0;
        pthread_mutex_lock(&pe->lock);
        if (pe->stop) {
            pthread_mutex_unlock(&pe->lock);
            break;
        }
        fds[n++] = (struct pollfd){.fd = pe->wake[0], .events = POLLIN};
        if (pe->listen_fd >= 0)
            fds[n++] = (struct pollfd){.fd = pe->listen_fd, .events = POLLIN};
        size_t first = n;
        for (size_t i = 0; i < pe->nconn; i++)
            fds[n++] = (struct pollfd){.fd = pe->conns[i].fd, .events = POLLIN};
        pthread_mutex_unlock(&pe->lock);
        if (poll(fds, n, 1000) < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&pe->lock);
        if (fds[0].revents) {
            char buf[16];
            while (read(pe->wake[0], buf, sizeof buf) > 0)
                ;
        }
        if (pe->listen_fd >= 0 && fds[1].revents & POLLIN) {
            int fd = accept4(pe->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && pe->nconn < MAX_CONN) {
                pe->conns[pe->nconn++] = (conn){.fd = fd};
                pe->connections++;
            } else if (fd >= 0) {
                close(fd);
            }
        }
        /* Walk backwards so dropping a connection does not skip one. */
        for (size_t k = n; k > first; k--) {
            struct pollfd *p = &fds[k - 1];
            if (!p->revents)
                continue;
            size_t i;
            for (i = 0; i < pe->nconn && pe->conns[i].fd != p->fd; i++)
                ;
            if (i == pe->nconn)
                continue;
            unsigned char buf[4096];
            ssize_t r = read(p->fd, buf, sizeof buf);
            if (r > 0 && feed(pe, &pe->conns[i], buf, (size_t)r))
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (pe->listen_fd < 0 && r <= 0) {
                /* A pty reads EIO while no slave is open: wait for the next writer. */
                pthread_mutex_unlock(&pe->lock);
                usleep(10000);
                pthread_mutex_lock(&pe->lock);
                if (r == 0 || errno == EIO)
                    continue;
            }
            drop(pe, i);
        }
        pthread_mutex_unlock(&pe->lock);
    }
    return NULL;
}

static printer_emulator *create(void)
{
    printer_emulator *pe = calloc(1, sizeof *pe);
    if (!pe)
        return NULL;
    pthread_mutex_init(&pe->lock, NULL);
    pe->listen_fd = -1;
    pe->close_after = -1;
    if (pipe2(pe->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(pe);
        return NULL;
    }
    return pe;
}

printer_emulator *printer_emulator_start(void)
{
    printer_emulator *pe = create();
    if (!pe)
        return NULL;
    pe->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int one = 1;
    setsockopt(pe->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(pe->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(pe->listen_fd, 16) != 0 ||
        getsockname(pe->listen_fd, (struct sockaddr *)&a, &al) != 0) {
        printer_emulator_stop(pe);
        return NULL;
    }
    pe->port = ntohs(a.sin_port);
    if (pthread_create(&pe->thread, NULL, run, pe) != 0) {
        pe->thread = 0;
        printer_emulator_stop(pe);
        return NULL;
    }
    return pe;
}

printer_emulator *printer_emulator_start_fd(int fd)
{
    printer_emulator *pe = create();
    if (!pe)
        return NULL;
    pe->conns[pe->nconn++] = (conn){.fd = fd};
    if (pthread_create(&pe->thread, NULL, run, pe) != 0) {
        pe->thread = 0;
        printer_emulator_stop(pe);
        return NULL;
    }
    return pe;
}

int printer_emulator_port(const printer_emulator *pe)
{
    return pe->port;
}

void printer_emulator_set_state(printer_emulator *pe, pe_state state)
{
    pthread_mutex_lock(&pe->lock);
    pe->state = state;
    pthread_mutex_unlock(&pe->lock);
}

void printer_emulator_close_after(printer_emulator *pe, long job_bytes)
{
    pthread_mutex_lock(&pe->lock);
    pe->close_after = job_bytes;
    pthread_mutex_unlock(&pe->lock);
}

size_t printer_emulator_job_bytes(printer_emulator *pe, unsigned char **copy)
{
    pthread_mutex_lock(&pe->lock);
    size_t n = pe->len;
    if (copy) {
        *copy = malloc(n ? n : 1);
        if (*copy && n)
            memcpy(*copy, pe->bytes, n);
    }
    pthread_mutex_unlock(&pe->lock);
    return n;
}

unsigned printer_emulator_status_queries(printer_emulator *pe)
{
    pthread_mutex_lock(&pe->lock);
    unsigned n = pe->queries;
    pthread_mutex_unlock(&pe->lock);
    return n;
}

unsigned printer_emulator_connections(printer_emulator *pe)
{
    pthread_mutex_lock(&pe->lock);
    unsigned n = pe->connections;
    pthread_mutex_unlock(&pe->lock);
    return n;
}

void printer_emulator_reset(printer_emulator *pe)
{
    pthread_mutex_lock(&pe->lock);
    pe->len = 0;
    pe->queries = 0;
    pe->connections = 0;
    pthread_mutex_unlock(&pe->lock);
}

void printer_emulator_stop(printer_emulator *pe)
{
    if (!pe)
        return;
    pthread_mutex_lock(&pe->lock);
    pe->stop = true;
    pthread_mutex_unlock(&pe->lock);
    if (write(pe->wake[1], "x", 1) < 0) {
        /* the thread still wakes within its poll timeout */
    }
    if (pe->thread)
        pthread_join(pe->thread, NULL);
    for (size_t i = 0; i < pe->nconn; i++)
        close(pe->conns[i].fd);
    if (pe->listen_fd >= 0)
        close(pe->listen_fd);
    close(pe->wake[0]);
    close(pe->wake[1]);
    pthread_mutex_destroy(&pe->lock);
    free(pe->bytes);
    free(pe);
}
