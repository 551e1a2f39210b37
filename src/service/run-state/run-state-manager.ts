/**
 * The state behind one WatchActions stream: the run's actions as a tree,
 * per-node counts of descendants by phase, and which nodes the client should
 * show under the stream's filters.
 *
 * A node is shown ("visible") when it matches the filters itself, or when it
 * is an ancestor of a node that does, so that the path from the root to every
 * match stays on screen. Each call to upsertActions reports the nodes whose
 * shown state changed, with meets_filter = true for nodes to show (again)
 * and false for nodes to hide.
 *
 * Pure and synchronous: no I/O; rows go in, updates come out.
 */
import { displayName, matchesFilters, NO_FILTERS, type ActionFilters } from "./filters.js";
import type { TreeRow } from "./types.js";

const UNSPECIFIED_PHASE = 0;

/** The row a node keeps by default: the columns the tree reads (callers pick a richer Row). */
export type StateRow = TreeRow;

/** Shared by every node without children / counts yet (never written: replaced on first use). */
const NO_CHILDREN: readonly never[] = Object.freeze([]);
const NO_COUNTS: ReadonlyMap<number, number> = new Map();

export interface RunStateNode<Row extends TreeRow = TreeRow> {
  readonly name: string;
  /** Undefined for a root (an action without parent_action_name). */
  readonly parent: RunStateNode<Row> | undefined;
  /** The latest row seen (the caller must not modify it). */
  readonly row: Row;
  readonly children: readonly RunStateNode<Row>[];
  /**
   * Phase → number of descendants (all levels) in that phase. Phase 0 is
   * never counted; a phase whose count drops to 0 keeps its entry.
   */
  readonly childPhaseCounts: ReadonlyMap<number, number>;
  /** Descendants (all levels) that match the filters themselves. */
  readonly matchingDescendantCount: number;
}

export interface NodeUpdate<Row extends TreeRow = TreeRow> {
  node: RunStateNode<Row>;
  /** true: show the node (it matches, or leads to a match); false: hide it. */
  meetsFilter: boolean;
}

/** An action whose parent is not in the tree; the action is not kept. */
export class MissingParentError extends Error {
  override name = "MissingParentError";
  constructor(
    readonly parentName: string,
    readonly actionName: string,
  ) {
    super(`parent node [${parentName}] not found for action [${actionName}]`);
  }
}

interface MutableNode<Row extends TreeRow> {
  name: string;
  parent: MutableNode<Row> | undefined;
  row: Row;
  /** NO_CHILDREN until the first child (most nodes of a big run are leaves). */
  children: readonly MutableNode<Row>[];
  /** NO_COUNTS until the first descendant is counted. */
  childPhaseCounts: ReadonlyMap<number, number>;
  matchingDescendantCount: number;
  /** displayName(row), kept with the row. */
  label: string;
  /** Matches the filters itself (not only through descendants). */
  matching: boolean;
  /** Shown: matches, or leads to a node that does. */
  visible: boolean;
}

export class RunStateManager<Row extends TreeRow = TreeRow> {
  // Match and visibility are flags on the nodes: no per-tree sets of names.
  private readonly nodes = new Map<string, MutableNode<Row>>();

  constructor(private readonly filters: ActionFilters = NO_FILTERS) {}

  get size(): number {
    return this.nodes.size;
  }

  get(name: string): RunStateNode<Row> | undefined {
    return this.nodes.get(name);
  }

  has(name: string): boolean {
    return this.nodes.has(name);
  }

  isVisible(name: string): boolean {
    return this.nodes.get(name)?.visible ?? false;
  }

  /** Whether the node matches the filters itself (not just through descendants). */
  isDirectMatch(name: string): boolean {
    return this.nodes.get(name)?.matching ?? false;
  }

  /**
   * Inserts new actions and replaces known ones (rows in order: a parent
   * before its children), then returns the nodes whose shown state changed,
   * ordered by created_at (then name). A child whose parent is neither in the
   * tree nor earlier in `rows` throws MissingParentError; the rows before it
   * stay applied.
   */
  upsertActions(rows: readonly (Row | undefined | null)[]): NodeUpdate<Row>[] {
    // 1. Tree and phase counts; collect every node whose state changed.
    const changed = new Set<string>();
    for (const row of rows) {
      if (row) this.upsertAction(row, changed);
    }

    // 2. Direct matches, and the matching-descendant counts of the ancestors.
    for (const name of changed) {
      const node = this.nodes.get(name);
      if (!node) continue;
      const matches = matchesFilters(this.filters, node.row.phase, node.label);
      if (matches && !node.matching) {
        node.matching = true;
        addToAncestors(node.parent, 1);
      } else if (!matches && node.matching) {
        node.matching = false;
        addToAncestors(node.parent, -1);
      }
    }

    // 3. Visibility, from the settled match state.
    const result = new Map<string, boolean>();
    for (const name of changed) {
      const node = this.nodes.get(name);
      if (!node || result.has(name)) continue;
      if (node.matching) {
        node.visible = true;
        for (let up = node.parent; up; up = up.parent) {
          if (!up.visible) {
            up.visible = true;
            result.set(up.name, true);
          }
        }
        result.set(name, true);
      } else if (node.visible) {
        if (node.matchingDescendantCount > 0) {
          result.set(name, true);
        } else {
          node.visible = false;
          result.set(name, false);
          this.pruneAncestors(node.parent, result);
        }
      }
    }

    const out: NodeUpdate<Row>[] = [];
    for (const [name, meetsFilter] of result) {
      const node = this.nodes.get(name);
      if (node) out.push({ node, meetsFilter });
    }
    out.sort((a, b) => compareCreated(a.node.row, b.node.row));
    return out;
  }

  private upsertAction(row: Row, changed: Set<string>): void {
    const current = this.nodes.get(row.name);
    if (!current) {
      const parentName = row.parent_action_name;
      const parent = parentName ? this.nodes.get(parentName) : undefined;
      if (parentName && !parent) throw new MissingParentError(parentName, row.name);
      const node: MutableNode<Row> = {
        name: row.name,
        parent,
        row,
        children: NO_CHILDREN,
        childPhaseCounts: NO_COUNTS,
        matchingDescendantCount: 0,
        label: displayName(row),
        matching: false,
        visible: false,
      };
      this.nodes.set(row.name, node);
      changed.add(row.name);
      if (parent) {
        if (parent.children === NO_CHILDREN) parent.children = [node];
        else (parent.children as MutableNode<Row>[]).push(node);
        countPhase(parent, row.phase, UNSPECIFIED_PHASE, changed);
      }
      return;
    }
    // A node keeps the parent it was inserted under.
    const previous = current.row;
    const oldPhase = previous.phase;
    current.row = row;
    // A slim row's label only depends on columns a status update never changes.
    if (
      row.action_spec !== undefined ||
      previous.action_type !== row.action_type ||
      previous.task_name !== row.task_name ||
      previous.task_short_name !== row.task_short_name
    ) {
      current.label = displayName(row);
    }
    countPhase(current.parent, row.phase, oldPhase, changed);
    changed.add(row.name);
  }

  /** Hides visible ancestors that no longer lead to a match, from `start` up to the first one still needed. */
  private pruneAncestors(start: MutableNode<Row> | undefined, result: Map<string, boolean>): void {
    for (let node = start; node; node = node.parent) {
      if (!node.visible) break;
      if (node.matchingDescendantCount > 0 || node.matching) break;
      node.visible = false;
      if (!result.has(node.name)) result.set(node.name, false);
    }
  }
}

/** Moves one count from `from` to `to` in `start` and every ancestor (phase 0 is not counted), marking them changed. */
function countPhase(start: MutableNode<TreeRow> | undefined, to: number, from: number, changed: Set<string>): void {
  for (let node = start; node; node = node.parent) {
    if (node.childPhaseCounts === NO_COUNTS) node.childPhaseCounts = new Map();
    const counts = node.childPhaseCounts as Map<number, number>;
    if (to !== UNSPECIFIED_PHASE) counts.set(to, (counts.get(to) ?? 0) + 1);
    if (from !== UNSPECIFIED_PHASE) counts.set(from, Math.max(0, (counts.get(from) ?? 0) - 1));
    changed.add(node.name);
  }
}

function addToAncestors(start: MutableNode<TreeRow> | undefined, delta: number): void {
  for (let node = start; node; node = node.parent) node.matchingDescendantCount += delta;
}

/** created_at (canonical text sorts chronologically), then name. */
export function compareCreated(a: Pick<TreeRow, "created_at" | "name">, b: Pick<TreeRow, "created_at" | "name">): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
