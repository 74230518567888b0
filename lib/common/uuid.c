/* Random bytes from the operating system and UUID v4 generation and checking. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#include <windows.h>
#include <bcrypt.h>
#else
#include <sys/random.h>
#endif

int dlv__random_bytes(void *buf, size_t len)
{
#if defined(_WIN32)
    if (BCryptGenRandom(NULL, buf, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
        return DLV_EIO;
    return DLV_OK;
#else
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return DLV_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return DLV_OK;
#endif
}

int dlv__uuid_v4(char out[37])
{
    unsigned char b[16];
    int rc = dlv__random_bytes(b, sizeof b);
    if (rc != DLV_OK)
        return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return DLV_OK;
}

bool dlv__uuid_valid(const char *s)
{
    if (!s)
        return false;
    /* Hex digits tested inline (not isxdigit, a call per character): every order carries a
     * dozen UUIDs (issue 20, ingest). A NUL before the end fails the test. */
    for (int i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s[i], lower = (unsigned char)(c | 0x20);
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'f'))) {
            return false;
        }
    }
    return s[36] == '\0';
}
