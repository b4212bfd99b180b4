/*
 * A node's children in one pass over its subtree.
 *
 * tree-sitter's public API reads a child by index (each read starts again from the first
 * child: a node of n children costs n*n/2 steps to list) or by cursor (whose steps cost more
 * than restarting, in 0.27). The walks list children of millions of nodes, so this lists them
 * the way tree-sitter's own `ts_node__child` finds one: each child in turn, with its position,
 * alias and visibility; a hidden child's relevant children are listed in its place.
 *
 * It reads tree-sitter's private structures, so it is compiled against the headers of the very
 * tree-sitter sources built into the binary (build.rs), and a unit test compares what it lists
 * with `named_child` and `child` on every node of real trees.
 */
#include <stdbool.h>
#include "./point.h"
#include "./subtree.h"
#include "./tree.h"
#include "./language.h"

/* Deepest nesting of hidden nodes followed; beyond it the caller lists the children itself. */
#define KNOCKON_MAX_HIDDEN_DEPTH 256u
/* Returned when the children could not be listed here. */
#define KNOCKON_NOT_LISTED 0xFFFFFFFFu

static bool knockon_is_relevant(const TSTree *tree, Subtree child, TSSymbol alias, bool named_only) {
  if (named_only) {
    return alias ? ts_language_symbol_metadata(tree->language, alias).named
                 : ts_subtree_visible(child) && ts_subtree_named(child);
  }
  return ts_subtree_visible(child) || alias;
}

static uint32_t knockon_relevant_count(Subtree child, bool named_only) {
  if (ts_subtree_child_count(child) == 0) return 0;
  return named_only ? child.ptr->named_child_count : child.ptr->visible_child_count;
}

static uint32_t knockon_collect(
  TSNode node, bool named_only, TSNode *out, uint32_t listed, uint32_t capacity, uint32_t depth
) {
  Subtree parent = *(const Subtree *)node.id;
  uint32_t count = ts_subtree_child_count(parent);
  if (count == 0) return listed;
  if (depth > KNOCKON_MAX_HIDDEN_DEPTH) return KNOCKON_NOT_LISTED;
  const TSSymbol *aliases = ts_language_alias_sequence(node.tree->language, parent.ptr->production_id);
  const Subtree *children = ts_subtree_children(parent);
  Length position = {node.context[0], {node.context[1], node.context[2]}};
  uint32_t structural_index = 0;
  for (uint32_t i = 0; i < count; i++) {
    const Subtree *child = &children[i];
    TSSymbol alias = 0;
    if (!ts_subtree_extra(*child)) {
      if (aliases) alias = aliases[structural_index];
      structural_index++;
    }
    if (i > 0) position = length_add(position, ts_subtree_padding(*child));
    TSNode child_node = {
      {position.bytes, position.extent.row, position.extent.column, alias}, child, node.tree
    };
    if (knockon_is_relevant(node.tree, *child, alias, named_only)) {
      if (listed >= capacity) return KNOCKON_NOT_LISTED;
      out[listed++] = child_node;
    } else if (knockon_relevant_count(*child, named_only) > 0) {
      listed = knockon_collect(child_node, named_only, out, listed, capacity, depth + 1);
      if (listed == KNOCKON_NOT_LISTED) return listed;
    }
    position = length_add(position, ts_subtree_size(*child));
  }
  return listed;
}

/*
 * Writes `node`'s children (its named ones only if `named_only`), in order, into `out`, which
 * has room for `capacity`; returns how many, or KNOCKON_NOT_LISTED if they did not fit or hidden
 * nodes nest too deep (then `out` holds nothing the caller may read).
 */
uint32_t knockon_ts_children(TSNode node, bool named_only, TSNode *out, uint32_t capacity) {
  if (node.id == NULL) return 0;
  return knockon_collect(node, named_only, out, 0, capacity, 0);
}
