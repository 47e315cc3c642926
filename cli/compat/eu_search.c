/* elfutils 0.192 (trixie's libelf-dev 0.192-4) ships a libelf.a whose objects call the
 * search-tree helpers of its internal lib/eu-search.c, which neither libelf.a nor
 * libdw.a contains: a static link fails with "undefined reference to
 * eu_search_tree_init". Fixed upstream after 0.192; 0.188 and older do not use them.
 *
 * These are the helpers, written for this command from their documented meaning (each is
 * the <search.h> function on the tree's root; the tree is a struct whose first member is
 * that root, followed by a lock the command does not need: it calls libdw from one
 * thread). The Makefile puts them in an archive linked after libelf and libdw, so the
 * linker takes them only where libelf.a lacks its own. */
#include <search.h>
#include <stddef.h>

struct eu_search_tree {
    void *root; /* the rest of elfutils' search_tree (its lock) is never touched here */
};

typedef int (*eu_compare)(const void *, const void *);

void *eu_tsearch(const void *key, struct eu_search_tree *tree, eu_compare compare);
void *eu_tfind(const void *key, struct eu_search_tree *tree, eu_compare compare);
void *eu_tdelete(const void *key, struct eu_search_tree *tree, eu_compare compare);
void eu_tdestroy(struct eu_search_tree *tree, void (*free_node)(void *));
void eu_search_tree_init(struct eu_search_tree *tree);
void eu_search_tree_fini(struct eu_search_tree *tree, void (*free_node)(void *));

void *eu_tsearch(const void *key, struct eu_search_tree *tree, eu_compare compare)
{
    return tsearch(key, &tree->root, compare);
}

void *eu_tfind(const void *key, struct eu_search_tree *tree, eu_compare compare)
{
    return tfind(key, &tree->root, compare);
}

void *eu_tdelete(const void *key, struct eu_search_tree *tree, eu_compare compare)
{
    return tdelete(key, &tree->root, compare);
}

void eu_tdestroy(struct eu_search_tree *tree, void (*free_node)(void *))
{
    tdestroy(tree->root, free_node);
    tree->root = NULL;
}

void eu_search_tree_init(struct eu_search_tree *tree) { tree->root = NULL; }

void eu_search_tree_fini(struct eu_search_tree *tree, void (*free_node)(void *)) { eu_tdestroy(tree, free_node); }
