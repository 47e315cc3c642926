/* C++ names in the inline stack, demangled inside the failing process without malloc:
 * libiberty's callback demangler keeps its work on the stack (variable-length arrays of
 * about 40 bytes a character of the mangled name) and writes the name through a callback,
 * here into the caller's buffer. Its copy is linked with malloc, realloc and free renamed
 * to stubs that fail (Makefile, build/shim/demangle.o), so no path of it can allocate. */
#ifndef OVERSHIM_DEMANGLE_H
#define OVERSHIM_DEMANGLE_H

#include <stddef.h>

/* Names longer than this stay mangled: their work would take too much of the report stack. */
#define DEMANGLE_MAX_IN 400

/* 1 and out filled (cut with "..." when it does not fit) if name is a mangled C++ name;
 * 0 (out empty) otherwise. */
int osh_demangle(const char *name, char *out, size_t cap);

#endif
