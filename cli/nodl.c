/* The command is linked statically (Makefile): one executable for glibc 2.17 and later,
 * with no NEEDED library and no glibc symbol version. A static program cannot load a
 * shared library built against another glibc than the one it was linked with, so the
 * only use of the dynamic loader in what it links, libdw's dlopen of libdebuginfod.so
 * (tried when DEBUGINFOD_URLS is set), is renamed to these (objcopy --redefine-sym on a
 * copy of libdw.a): libdw is told that no debuginfod client is there and goes on with
 * the debug files on disk, found by build-id. */
#include <stddef.h>

void *overshim_cli_dlopen(const char *file, int mode);
void *overshim_cli_dlsym(void *handle, const char *name);
int overshim_cli_dlclose(void *handle);

void *overshim_cli_dlopen(const char *file, int mode)
{
    (void)file, (void)mode;
    return NULL;
}

void *overshim_cli_dlsym(void *handle, const char *name)
{
    (void)handle, (void)name;
    return NULL;
}

int overshim_cli_dlclose(void *handle)
{
    (void)handle;
    return -1;
}
