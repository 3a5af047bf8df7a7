/* SPDX-License-Identifier: MIT */
/*
 * replay.c - runs a libFuzzer target over files, without libFuzzer, so that
 * `make check` (gcc, optionally ASan/UBSan) replays every committed corpus.
 * Usage: replay_NAME FILE...   Exit status 0 when every input ran.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
    int n = 0;

    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char *buf;
        long sz;
        if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0) {
            perror(argv[i]);
            return 1;
        }
        buf = malloc((size_t)sz + 1);
        if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
            perror(argv[i]);
            return 1;
        }
        fclose(f);
        (void)LLVMFuzzerTestOneInput(buf, (size_t)sz);
        free(buf);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
