/* delivery-iikocloud: a sandbox of iikoCloud (iikoTransport) for delivery terminals.
 *
 *   delivery-iikocloud [--listen 127.0.0.1:8080] [--db iikocloud.db] [--port-file PATH]
 *                      [--api-login LOGIN] [--token-ttl SECONDS] [--apply-delay-ms MS]
 *                      [--organization UUID] [--terminal-group UUID] [--seed-orders N]
 *                      [--start-revision N]
 *
 * Serves the /api/1/ operations a delivery terminal uses and an admin API under /admin/
 * (loopback clients only); docs/iikocloud-sandbox.md describes both. Runs until SIGINT or
 * SIGTERM. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: delivery-iikocloud [--listen HOST:PORT] [--db FILE] [--port-file PATH]\n"
                "         [--api-login LOGIN] [--token-ttl SECONDS] [--apply-delay-ms MS]\n"
                "         [--organization UUID] [--terminal-group UUID] [--seed-orders N]\n"
                "         [--start-revision N]\n"
                "Listens on 127.0.0.1:8080 by default; port 0 picks a free port (printed).\n");
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
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((unsigned short)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:8080", *port_file = NULL;
    ik_options opts = {.db_path = "iikocloud.db",
                       .api_login = "sandbox-api-login",
                       .token_ttl_seconds = 3600,
                       .start_revision = 4294967296LL};
    int seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
            fprintf(stderr, "delivery-iikocloud: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--listen") == 0)
            listen = v;
        else if (strcmp(a, "--db") == 0)
            opts.db_path = v;
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--api-login") == 0)
            opts.api_login = v;
        else if (strcmp(a, "--token-ttl") == 0)
            opts.token_ttl_seconds = atoi(v);
        else if (strcmp(a, "--apply-delay-ms") == 0)
            opts.apply_delay_ms = atoi(v);
        else if (strcmp(a, "--organization") == 0)
            opts.organization_id = v;
        else if (strcmp(a, "--terminal-group") == 0)
            opts.terminal_group_id = v;
        else if (strcmp(a, "--seed-orders") == 0)
            seed = atoi(v);
        else if (strcmp(a, "--start-revision") == 0)
            opts.start_revision = strtoll(v, NULL, 10);
        else {
            fprintf(stderr, "delivery-iikocloud: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    struct sockaddr_storage addr;
    if (parse_listen(listen, &addr) != 0) {
        fprintf(stderr, "delivery-iikocloud: --listen %s: expected IPv4-HOST:PORT\n", listen);
        return 2;
    }
    if (opts.token_ttl_seconds < 1 || opts.apply_delay_ms < 0 || opts.start_revision < 0) {
        fprintf(stderr, "delivery-iikocloud: --token-ttl >= 1, --apply-delay-ms >= 0, "
                        "--start-revision >= 0\n");
        return 2;
    }
    char err[512];
    ik_state *st = ik_state_open(&opts, err, sizeof err);
    if (!st) {
        fprintf(stderr, "delivery-iikocloud: %s\n", err);
        return 1;
    }
    if (seed > 0) {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddNumberToObject(body, "count", seed);
        ik_reply r = {0};
        ik_admin_generate(st, body, &r);
        cJSON_Delete(r.body);
        cJSON_Delete(body);
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* server threads inherit the mask */
    signal(SIGPIPE, SIG_IGN);

    ik_server *srv = ik_server_start(st, (const struct sockaddr *)&addr, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "delivery-iikocloud: --listen %s: %s\n", listen, err);
        ik_state_close(st);
        return 1;
    }
    char host[64];
    inet_ntop(AF_INET, &((const struct sockaddr_in *)&addr)->sin_addr, host, sizeof host);
    printf("delivery-iikocloud listening on http://%s:%u/api/1/\n"
           "  apiLogin %s, organization %s, terminal group %s\n",
           host, ik_server_port(srv), opts.api_login, ik_state_organization(st),
           ik_state_terminal_group(st));
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%u\n", ik_server_port(srv));
            fclose(f);
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "delivery-iikocloud: stopping (signal %d)\n", sig);
    ik_server_stop(srv);
    ik_state_close(st);
    return 0;
}
