/* Reading a snapshot file (snapfile.h). */
#include "snapfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int snapshot_file_read(const char *path, struct snapshot *sn, char *err, size_t errcap)
{
    static char text[1 << 20];
    FILE *f = fopen(path, "r");
    if (!f) return snprintf(err, errcap, "cannot read '%s': %s", path, strerror(errno)), -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    int big = n == sizeof text - 1 && fgetc(f) != EOF;
    fclose(f);
    text[n] = 0;
    if (big) return snprintf(err, errcap, "%s: larger than 1 MiB", path), -1;
    char why[256];
    if (snapshot_parse(text, sn, why, sizeof why) != 0) return snprintf(err, errcap, "%s: %s", path, why), -1;
    return 0;
}
