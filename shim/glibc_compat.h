/* One library for glibc 2.17 and later (issue 12). Every libc symbol the shim uses
 * is bound to the oldest version glibc has it under: glibc 2.34 moved libdl and
 * libpthread into libc under new default versions and still defines the old ones,
 * so these bindings hold on both sides of 2.34. Before 2.34 the functions below live
 * in libdl.so.2 and libpthread.so.0, which a program need not have loaded, so the
 * references are weak and every caller checks for NULL (the shim then does without:
 * no dlsym means its own symbol lookup, elfsym.c; no pthread_key_create means no
 * threads to watch). pthread_getattr_default_np (2.18) is looked up at run time.
 * Included into every shim object by the Makefile (-include), ahead of any use; a
 * test checks that no version above GLIBC_2.17 remains. */
#ifndef OVERSHIM_GLIBC_COMPAT_H
#define OVERSHIM_GLIBC_COMPAT_H

#include <dlfcn.h>
#include <pthread.h>

/* Built against glibc 2.34 or later, where these names have newer default versions. An
 * older glibc has only the old versions, in libdl and libpthread, which the linker drops
 * (--as-needed: weak references do not make a library needed); a versioned reference
 * would then have no library to name ("no symbol version section"), so it stays
 * unversioned there and binds to the one version glibc has. */
#if defined(__x86_64__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dladdr1,dladdr1@GLIBC_2.3.3");
__asm__(".symver pthread_attr_getstack,pthread_attr_getstack@GLIBC_2.2.5");
__asm__(".symver pthread_attr_getstacksize,pthread_attr_getstacksize@GLIBC_2.2.5");
__asm__(".symver pthread_attr_getguardsize,pthread_attr_getguardsize@GLIBC_2.2.5");
__asm__(".symver pthread_key_create,pthread_key_create@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_timedlock,pthread_mutex_timedlock@GLIBC_2.2.5");
__asm__(".symver pthread_setspecific,pthread_setspecific@GLIBC_2.2.5");
__asm__(".symver pthread_getattr_np,pthread_getattr_np@GLIBC_2.2.5");
#endif
#pragma weak dlsym
#pragma weak dladdr1
#pragma weak pthread_attr_getstack
#pragma weak pthread_attr_getstacksize
#pragma weak pthread_attr_getguardsize
#pragma weak pthread_key_create
#pragma weak pthread_mutex_timedlock
#pragma weak pthread_setspecific
#pragma weak pthread_getattr_np

#endif
