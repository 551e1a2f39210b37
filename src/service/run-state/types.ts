/**
 * The columns of an action the run-state tree reads: its place in the tree,
 * its phase and start (for ordering), and what the stream's NAME filter
 * looks at. Callers keep richer rows in the tree (RunStateManager is generic
 * over them); the tree itself depends only on these.
 */
export interface TreeRow {
  readonly name: string;
  /** null for a root action. */
  readonly parent_action_name: string | null;
  readonly phase: number;
  /** Microsecond timestamp text; orders the updates a call reports. */
  readonly created_at: string;
  /** ActionType number (the display name of a TASK action comes from its task columns). */
  readonly action_type?: number;
  readonly task_name?: string | null;
  readonly task_short_name?: string | null;
  /** The serialised ActionSpec, when the row carries it (then the display name is taken from it). */
  readonly action_spec?: Uint8Array | null;
}
