/* Built as a non-PIE executable (tests.mk) that takes malloc's address: the link
 * gives it a canonical PLT entry, an undefined `malloc` whose value is its PLT slot
 * (so that &malloc is the same address in every object), as Debian's python3 and
 * node have. It defines no malloc: the shim sees its calls and must stay silent. */
#include <stdio.h>
#include <stdlib.h>

void *(*volatile allocate)(size_t);

int main(void)
{
    allocate = malloc; /* an absolute address in the code: the link makes the PLT slot malloc's address */
    char *p = allocate(100);
    printf("canonical plt %s\n", p ? "works" : "failed");
    free(p);
    return 0;
}
