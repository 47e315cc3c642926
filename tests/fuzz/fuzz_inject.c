/* libFuzzer: injection rules, then matching a few calls against whatever parsed. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "inject.h"

static struct inject_set set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1024];
    if (size >= sizeof text) size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = 0;
    char err[300];
    if (inject_parse(&set, text, err, sizeof err) != 0) {
        if (strchr(err, '\n') || inject_active(&set)) __builtin_trap();
        return 0;
    }
    struct failed_call calls[] = {
        {.id = CALL_MMAP64, .a = {0, 1 << 29, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED}},
        {.id = CALL_MALLOC, .a = {100}},
        {.id = CALL_PTHREAD_CREATE, .a = {0, 8 << 20}},
    };
    const char *rule;
    unsigned long nth;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) (void)inject_match(&set, &calls[i], "main", &rule, &nth);
    return 0;
}
