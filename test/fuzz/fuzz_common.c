#include "fuzz_common.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch_dir[512];

static void remove_scratch(void)
{
    char cmd[600];
    if (scratch_dir[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch_dir) < (int)sizeof cmd)
        (void)!system(cmd);
}

const char *fuzz_scratch_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[700];
    if (!scratch_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch_dir, sizeof scratch_dir, "%s/dlv-fuzz-%ld", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        if (mkdir(scratch_dir, 0700) != 0 && access(scratch_dir, W_OK) != 0) {
            perror(scratch_dir);
            abort();
        }
        atexit(remove_scratch);
    }
    snprintf(path, sizeof path, "%s/%s", scratch_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

static char *read_fixture(const char *name, size_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/order/%s", DLV_FUZZ_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        abort();
    }
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    char *copy = malloc(n + 1);
    memcpy(copy, buf, n);
    copy[n] = '\0';
    *len = n;
    return copy;
}

const dlv__order *fuzz_order(size_t index)
{
    static const char *const names[FUZZ_ORDER_COUNT] = {"order_courier.json", "order_pickup.json",
                                                        "order_anonymous.json"};
    static dlv__order *orders[FUZZ_ORDER_COUNT];
    if (index >= FUZZ_ORDER_COUNT)
        return NULL;
    if (!orders[index]) {
        size_t len;
        char *text = read_fixture(names[index], &len);
        dlv_error err = {0};
        if (dlv__order_from_json(text, len, 0, &orders[index], &err) != DLV_OK) {
            fprintf(stderr, "fixture %s does not decode: %s\n", names[index], err.message);
            abort();
        }
        free(text);
    }
    return orders[index];
}

static void silent(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    (void)fmt;
}

void fuzz_quiet_libxml(void)
{
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, silent);
}
