/* The library's own memcpy: every memcpy of the shim's objects, its libunwind and its
 * demangler (the compiler's own calls included) binds here, hidden, not to glibc's
 * memcpy@GLIBC_2.14, whose version would cost every process start a version check and
 * which glibc 2.13 and older lack. In asm: written in C, the compiler turns the body
 * back into a call to memcpy (itself). */
#include <stddef.h>

__attribute__((visibility("hidden"))) void *memcpy(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}
