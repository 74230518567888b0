/* delivery-callcenter: a call-center server for terminals to develop and test against.
 *
 *   delivery-callcenter [--listen 127.0.0.1:8080] [--base /resto] [--db callcenter.db]
 *                       [--accept-any-terminal] [--terminal UUID]... [--seed-demo-orders N]
 *                       [--session-ttl SECONDS] [--port-file PATH] [--protocol-minor 0|1]
 *
 * Serves protocol v1 under {base}/delivery/v1/ and an admin API under {base}/admin/ (loopback
 * clients only). Runs until SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/version.h"
#include "http.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: delivery-callcenter [--listen HOST:PORT] [--base /resto] [--db FILE]\n"
                "         [--accept-any-terminal] [--terminal UUID]... [--seed-demo-orders N]\n"
                "         [--session-ttl SECONDS] [--port-file PATH]\n"
                "         [--protocol-minor 0|1]\n"
                "Listens on 127.0.0.1:8080 by default; port 0 picks a free port (printed).\n"
                "--protocol-minor 0 plays a 1.0 server (default 1: protocol 1.1).\n");
}

static const char callcenter_help[] =
    "usage: delivery-callcenter [OPTION]...\n"
    "A call-center server for terminals to develop and test against: protocol v1 under\n"
    "BASE/delivery/v1/, an admin API under BASE/admin/ (loopback clients only). Runs until\n"
    "SIGINT or SIGTERM.\n"
    "\n"
    "  --listen HOST:PORT        address to listen on (default 127.0.0.1:8080; port 0: any free)\n"
    "  --base PATH               URL prefix, starting with / (default /resto)\n"
    "  --db FILE                 the emulator's SQLite database (default callcenter.db)\n"
    "  --accept-any-terminal     register every terminal that asks\n"
    "  --terminal UUID           register this terminal (repeatable)\n"
    "  --seed-demo-orders N      generate N orders at start\n"
    "  --session-ttl SECONDS     session lifetime (default 3600)\n"
    "  --port-file PATH          write the port listened on to PATH\n"
    "  --protocol-minor 0|1      0 plays a 1.0 server (default 1: protocol 1.1)\n"
    "  -h, --help                show this help and exit\n"
    "  --version                 show the version and exit\n"
    "\n"
    "See delivery-callcenter(1).\n";

/* --help and --version; the option list above is the man page's (man/delivery-callcenter.1,
 * kept in step by the man_options test). The emulator ships with the library's release number. */
static int help_or_version(const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(callcenter_help, stdout);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("delivery-callcenter %d.%d.%d\n", DLV_VERSION_MAJOR, DLV_VERSION_MINOR,
               DLV_VERSION_PATCH);
        return 1;
    }
    return 0;
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof host)
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return -1;
        host[n - 1] = '\0';
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((unsigned short)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:8080", *base = "/resto", *port_file = NULL;
    cc_options opts = {
        .db_path = "callcenter.db", .session_ttl_seconds = 3600, .protocol_minor = 1};
    int seed = 0;
    const char *terminals[64];
    int terminal_count = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--accept-any-terminal") == 0) {
            opts.accept_any_terminal = true;
            continue;
        }
        if (help_or_version(a))
            return 0;
        if (!v) {
            fprintf(stderr, "delivery-callcenter: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--listen") == 0)
            listen = v;
        else if (strcmp(a, "--base") == 0)
            base = v;
        else if (strcmp(a, "--db") == 0)
            opts.db_path = v;
        else if (strcmp(a, "--seed-demo-orders") == 0)
            seed = atoi(v);
        else if (strcmp(a, "--session-ttl") == 0)
            opts.session_ttl_seconds = atoi(v);
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--protocol-minor") == 0 && (strcmp(v, "0") == 0 || strcmp(v, "1") == 0))
            opts.protocol_minor = atoi(v);
        else if (strcmp(a, "--terminal") == 0 && terminal_count < 64)
            terminals[terminal_count++] = v;
        else {
            fprintf(stderr, "delivery-callcenter: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    struct sockaddr_storage addr;
    if (parse_listen(listen, &addr) != 0) {
        fprintf(stderr, "delivery-callcenter: --listen %s: expected HOST:PORT\n", listen);
        return 2;
    }
    if (base[0] != '/') {
        fprintf(stderr, "delivery-callcenter: --base must start with '/'\n");
        return 2;
    }
    char err[512];
    cc_state *st = cc_state_open(&opts, err, sizeof err);
    if (!st) {
        fprintf(stderr, "delivery-callcenter: %s\n", err);
        return 1;
    }
    for (int i = 0; i < terminal_count; i++) {
        cc_reply r = {0};
        cc_admin_terminal(st, terminals[i], true, &r);
        if (r.status != 200) {
            fprintf(stderr, "delivery-callcenter: --terminal %s: not a UUID\n", terminals[i]);
            cJSON_Delete(r.body);
            cc_state_close(st);
            return 2;
        }
        cJSON_Delete(r.body);
    }
    if (seed > 0)
        cc_admin_seed(st, seed, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* server threads inherit the mask */
    signal(SIGPIPE, SIG_IGN);

    cc_server *srv = cc_server_start(st, (const struct sockaddr *)&addr, base, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "delivery-callcenter: --listen %s: %s\n", listen, err);
        cc_state_close(st);
        return 1;
    }
    char host[64];
    const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
    if (addr.ss_family == AF_INET)
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    else
        snprintf(host, sizeof host, "[::1]");
    printf("delivery-callcenter listening on http://%s:%u%s\n", host, cc_server_port(srv), base);
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%u\n", cc_server_port(srv));
            fclose(f);
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "delivery-callcenter: stopping (signal %d)\n", sig);
    cc_server_stop(srv);
    cc_state_close(st);
    return 0;
}
