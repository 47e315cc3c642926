/* libFuzzer: OVERSHIM_OPTIONS parsing never crashes and always leaves a NUL-terminated
 * one-line error or a valid struct. */
#include <stdint.h>
#include <string.h>

#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[4096];
    if (size >= sizeof text) size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = 0;
    struct osh_options o;
    char err[400];
    options_defaults(&o);
    if (options_parse(&o, text, err, sizeof err) != 0 && (strlen(err) == 0 || strchr(err, '\n'))) __builtin_trap();
    return 0;
}
