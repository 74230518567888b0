/* delivery-preview: shows what a receipt printer would put on paper. Reads ESC/POS bytes (a file
 * printer's output), drops the printer commands, converts the CP866 text to UTF-8 and marks the
 * cuts, so a person can read an invoice or service check without a printer.
 *
 *   delivery-preview FILE */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
