/* A small strict JSON reader (overshim symbolize, and the tests): parses a document into a tree and
 * looks values up by path ("verdict.terms.0.pages"). */
#ifndef TESTS_JSON_H
#define TESTS_JSON_H

#include <stddef.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype t;
    double num;
    long long inum;
    int boolean;
    char *str;
    struct jval **items; /* arrays and object values */
    char **keys;         /* objects */
    size_t n;
};

/* NULL on a syntax error (err gets a message with the offset). */
struct jval *json_parse(const char *text, char *err, size_t errcap);
void json_free(struct jval *v);
/* Path lookup: dot-separated keys, numbers index arrays. NULL when absent. */
const struct jval *json_at(const struct jval *v, const char *path);
long long json_int(const struct jval *v, const char *path, long long def);
const char *json_str(const struct jval *v, const char *path);
/* Parse every line of a JSON Lines file; returns the count, -1 if a line fails. */
int json_lines(const char *path, struct jval **out, int max, char *err, size_t errcap);
/* First event of that kind in an array of parsed lines. */
const struct jval *json_event(struct jval **ev, int n, const char *kind);

#endif
