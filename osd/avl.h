/*
 * avl.h -- an intrusive ordered tree (AVL, with parent links) for the
 * shard store's indexes: lookups, ordered walks from any key (SHARD_LIST
 * resumes "strictly after" a cursor), inserts and removals in O(log n),
 * and no allocation of its own (the node lives inside the caller's
 * struct).
 *
 * Invariants (checked by avl_check()): in-order walk is strictly
 * increasing under the tree's comparison; every node's height is one more
 * than its taller child's and the two children's heights differ by at most
 * one; parent links mirror child links; count is the number of nodes.
 */
#ifndef STORE_OSD_AVL_H
#define STORE_OSD_AVL_H

#include <stddef.h>

struct avl_node {
	struct avl_node *left, *right, *parent;
	int height;
};

/* Compare a search key with a node: <0, 0, >0 as key sorts before, equal
 * to, or after the node. */
typedef int (*avl_cmp_fn)(const void *key, const struct avl_node *n);

struct avl_tree {
	struct avl_node *root;
	size_t count;
	avl_cmp_fn cmp;
};

#define avl_entry(ptr, type, member)                                           \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void avl_init(struct avl_tree *t, avl_cmp_fn cmp)
{
	t->root = NULL;
	t->count = 0;
	t->cmp = cmp;
}

/* The node equal to key, or NULL. */
struct avl_node *avl_find(const struct avl_tree *t, const void *key);

/* The first node >= key (or > key with avl_upper_bound), or NULL. */
struct avl_node *avl_lower_bound(const struct avl_tree *t, const void *key);
struct avl_node *avl_upper_bound(const struct avl_tree *t, const void *key);

/* The last node < key, or NULL. */
struct avl_node *avl_before(const struct avl_tree *t, const void *key);

/* Insert node n under key (the key of n itself).  Returns 0, or -EEXIST
 * (tree unchanged) if an equal node is present. */
int avl_insert(struct avl_tree *t, struct avl_node *n, const void *key);

/* Remove a node that is in the tree. */
void avl_remove(struct avl_tree *t, struct avl_node *n);

struct avl_node *avl_first(const struct avl_tree *t);
struct avl_node *avl_last(const struct avl_tree *t);
struct avl_node *avl_next(const struct avl_node *n);
struct avl_node *avl_prev(const struct avl_node *n);

/* Check the invariants.  node_cmp orders two nodes (for the strict order
 * check).  Returns 0 or -EINVAL. */
int avl_check(const struct avl_tree *t,
	      int (*node_cmp)(const struct avl_node *a,
			      const struct avl_node *b));

#endif
