/* libFuzzer: the /proc text parsers (meminfo-style lookups, zoneinfo). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    static const char *const keys[] = {"MemTotal", "MemFree", "Committed_AS", "VmSize", "Threads", "Uid"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) (void)meminfo_get(text, keys[i]);
    (void)zoneinfo_totalreserve(text);
    free(text);
    return 0;
}
