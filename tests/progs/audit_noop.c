/* An rtld audit module that does nothing (LD_AUDIT=libaudit_noop.so): with one loaded,
 * glibc sets up TLS before it loads the preloads, so the shim's initial-exec TLS block
 * has to fit the static TLS surplus (tests/integ/test_host_malloc.c). */
#include <link.h>

unsigned int la_version(unsigned int version) { return version < LAV_CURRENT ? version : LAV_CURRENT; }
