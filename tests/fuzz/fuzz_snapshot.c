/* libFuzzer: snapshot files (and the zoneinfo, meminfo and kernel-release parsing
 * they contain), then the model on whatever parsed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmodel.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    struct snapshot s;
    char err[300];
    if (snapshot_parse(text, &s, err, sizeof err) == 0) {
        struct kmodel_input in;
        snapshot_input(&s, &in);
        struct kverdict v;
        for (int mode = 0; mode < 3; mode++) {
            in.overcommit_memory = mode;
            kmodel_vm_enough_memory(&s.k, &in, 131072, 1000, &v);
        }
    } else if (strchr(err, '\n')) {
        __builtin_trap();
    }
    free(text);
    return 0;
}
