/*
 * avl.c -- intrusive AVL tree: see avl.h.
 */
#include "avl.h"

#include <errno.h>

static int height(const struct avl_node *n)
{
	return n ? n->height : 0;
}

static void update(struct avl_node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = (l > r ? l : r) + 1;
}

/* Make child take parent p's place under p's parent (or at the root). */
static void replace_child(struct avl_tree *t, struct avl_node *p,
			  struct avl_node *old, struct avl_node *child)
{
	if (!p)
		t->root = child;
	else if (p->left == old)
		p->left = child;
	else
		p->right = child;
	if (child)
		child->parent = p;
}

static struct avl_node *rotate_left(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	replace_child(t, x->parent, x, y);
	y->left = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

static struct avl_node *rotate_right(struct avl_tree *t, struct avl_node *x)
{
	struct avl_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	replace_child(t, x->parent, x, y);
	y->right = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

/* Restore balance from n up to the root. */
static void rebalance(struct avl_tree *t, struct avl_node *n)
{
	while (n) {
		int bf;

		update(n);
		bf = height(n->left) - height(n->right);
		if (bf > 1) {
			if (height(n->left->left) < height(n->left->right))
				rotate_left(t, n->left);
			n = rotate_right(t, n);
		} else if (bf < -1) {
			if (height(n->right->right) < height(n->right->left))
				rotate_right(t, n->right);
			n = rotate_left(t, n);
		}
		n = n->parent;
	}
}

struct avl_node *avl_find(const struct avl_tree *t, const void *key)
{
	struct avl_node *n = t->root;

	while (n) {
		int c = t->cmp(key, n);

		if (c == 0)
			return n;
		n = c < 0 ? n->left : n->right;
	}
	return NULL;
}

struct avl_node *avl_lower_bound(const struct avl_tree *t, const void *key)
{
	struct avl_node *n = t->root, *best = NULL;

	while (n) {
		if (t->cmp(key, n) <= 0) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct avl_node *avl_upper_bound(const struct avl_tree *t, const void *key)
{
	struct avl_node *n = t->root, *best = NULL;

	while (n) {
		if (t->cmp(key, n) < 0) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct avl_node *avl_before(const struct avl_tree *t, const void *key)
{
	struct avl_node *n = t->root, *best = NULL;

	while (n) {
		if (t->cmp(key, n) > 0) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

int avl_insert(struct avl_tree *t, struct avl_node *n, const void *key)
{
	struct avl_node *p = NULL, **link = &t->root;

	while (*link) {
		int c = t->cmp(key, *link);

		if (c == 0)
			return -EEXIST;
		p = *link;
		link = c < 0 ? &p->left : &p->right;
	}
	n->left = n->right = NULL;
	n->parent = p;
	n->height = 1;
	*link = n;
	t->count++;
	rebalance(t, p);
	return 0;
}

void avl_remove(struct avl_tree *t, struct avl_node *n)
{
	struct avl_node *from;

	if (n->left && n->right) {
		/* Put the successor s (leftmost of the right subtree, no left
		 * child) in n's place, then unlink n from s's old place. */
		struct avl_node *s = n->right;

		while (s->left)
			s = s->left;
		if (s->parent == n) {
			from = s;
		} else {
			from = s->parent;
			from->left = s->right;
			if (s->right)
				s->right->parent = from;
			s->right = n->right;
			s->right->parent = s;
		}
		s->left = n->left;
		s->left->parent = s;
		replace_child(t, n->parent, n, s);
		s->height = n->height;
	} else {
		struct avl_node *child = n->left ? n->left : n->right;

		from = n->parent;
		replace_child(t, n->parent, n, child);
	}
	n->left = n->right = n->parent = NULL;
	t->count--;
	rebalance(t, from);
}

struct avl_node *avl_first(const struct avl_tree *t)
{
	struct avl_node *n = t->root;

	while (n && n->left)
		n = n->left;
	return n;
}

struct avl_node *avl_last(const struct avl_tree *t)
{
	struct avl_node *n = t->root;

	while (n && n->right)
		n = n->right;
	return n;
}

struct avl_node *avl_next(const struct avl_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct avl_node *)n;
	}
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

struct avl_node *avl_prev(const struct avl_node *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct avl_node *)n;
	}
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return n->parent;
}

/* Returns the subtree's height, or -1 on a violation; counts nodes. */
static int check_node(const struct avl_node *n, const struct avl_node *parent,
		      size_t *count)
{
	int l, r;

	if (!n)
		return 0;
	if (n->parent != parent)
		return -1;
	(*count)++;
	l = check_node(n->left, n, count);
	r = check_node(n->right, n, count);
	if (l < 0 || r < 0 || l - r > 1 || r - l > 1)
		return -1;
	if (n->height != (l > r ? l : r) + 1)
		return -1;
	return n->height;
}

int avl_check(const struct avl_tree *t,
	      int (*node_cmp)(const struct avl_node *a,
			      const struct avl_node *b))
{
	const struct avl_node *n, *prev = NULL;
	size_t count = 0;

	if (check_node(t->root, NULL, &count) < 0 || count != t->count)
		return -EINVAL;
	for (n = avl_first(t); n; n = avl_next(n)) {
		if (prev && node_cmp(prev, n) >= 0)
			return -EINVAL;
		prev = n;
	}
	return 0;
}
