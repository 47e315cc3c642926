#include "jout.h"

#include "failure.h"

void jout_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

const char *jout_call_name(int id) { return id >= 0 && id < CALL__COUNT ? call_name((enum call_id)id) : "?"; }
