/* delivery-preview: shows what a receipt printer would put on paper. Reads ESC/POS bytes (a file
 * printer's output), drops the printer commands, converts the CP866 text to UTF-8 and marks the
 * cuts, so a person can read an invoice or service check without a printer.
 *
 *   delivery-preview FILE */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/version.h"

static const char preview_help[] =
    "usage: delivery-preview FILE\n"
    "Shows what a receipt printer would put on paper: reads the ESC/POS bytes of FILE (a file\n"
    "printer's output), drops the printer commands, converts the CP866 text to UTF-8 and marks\n"
    "the cuts.\n"
    "\n"
    "  -h, --help                show this help and exit\n"
    "  --version                 show the version and exit\n"
    "\n"
    "See delivery-preview(1).\n";

/* --help and --version; the option list above is the man page's (man/delivery-preview.1, kept
 * in step by the man_options test). */
static int help_or_version(const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        fputs(preview_help, stdout);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("delivery-preview %d.%d.%d\n", DLV_VERSION_MAJOR, DLV_VERSION_MINOR,
               DLV_VERSION_PATCH);
        return 1;
    }
    return 0;
}

/* Bytes each command takes after its introducer (ESC x / GS x), for the commands we emit and
 * the common ones; unknown ones take one. */
static int esc_args(int c)
{
    switch (c) {
    case '@':
        return 0;
    case 'J':
    case 'd':
    case 't':
    case '!':
    case 'E':
    case 'a':
    case 'M':
    case '-':
    case 'G':
    case 'R':
    case 'e':
        return 1;
    case 'p':
        return 3;
    default:
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && help_or_version(argv[1]))
        return 0;
    if (argc != 2) {
        fprintf(stderr, "usage: delivery-preview FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    iconv_t cd = iconv_open("UTF-8", "CP866");
    if (cd == (iconv_t)-1) {
        perror("iconv");
        return 1;
    }
    char text[4096];
    size_t n = 0;
    int c, cuts = 0;
#define FLUSH()                                                                                    \
    do {                                                                                           \
        char *in = text, out[16384], *o = out;                                                     \
        size_t il = n, ol = sizeof out;                                                            \
        iconv(cd, &in, &il, &o, &ol);                                                              \
        fwrite(out, 1, sizeof out - ol, stdout);                                                   \
        n = 0;                                                                                     \
    } while (0)
    while ((c = fgetc(f)) != EOF) {
        if (c == 0x1b) { /* ESC x args */
            int cmd = fgetc(f);
            for (int i = 0; i < esc_args(cmd); i++)
                fgetc(f);
        } else if (c == 0x1d) { /* GS x args */
            int cmd = fgetc(f);
            if (cmd == 'V') {
                int m = fgetc(f);
                if (m == 65 || m == 66)
                    fgetc(f);
                if (n)
                    FLUSH();
                printf("- - - - - - - - - - - - - ✂ - - - - - - - - - - - - -\n");
                cuts++;
            } else {
                fgetc(f);
            }
        } else if (c == 0x10) { /* DLE EOT n: a status query */
            fgetc(f);
            fgetc(f);
        } else if (c == '\n' || c >= 0x20) {
            text[n++] = (char)c;
            if (c == '\n' || n == sizeof text)
                FLUSH();
        }
    }
    if (n)
        FLUSH();
    iconv_close(cd);
    fclose(f);
    printf("(%d cut%s)\n", cuts, cuts == 1 ? "" : "s");
    return 0;
}
