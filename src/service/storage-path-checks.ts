/**
 * Identifiers that become segments of a storage path: project, domain, run
 * and action names (`<storagePrefix>/<project>/<domain>/<run>/…`, and the
 * executor's output paths below the run). A value that could leave its folder
 * or confuse a storage backend is refused with InvalidArgument naming the
 * field, before anything is written. Reads never call this, so rows stored
 * before the check existed stay readable.
 */
import { Code, ConnectError } from "@connectrpc/connect";

// C0 controls (NUL included), DEL and the C1 controls.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `value` cannot be one storage path segment, or undefined when it can. */
export function pathSegmentProblem(value: string): string | undefined {
  if (value.includes("/") || value.includes("\\")) return "holds a path separator";
  if (value.includes("..") || value === ".") return "holds a relative path (`.` or `..`)";
  if (CONTROL_CHARACTER.test(value)) return "holds a control character";
  return undefined;
}

/**
 * Throws InvalidArgument for the first field (in order) whose value cannot be
 * a storage path segment. Keys are the fields' request paths, e.g.
 * `run_id.project`; empty values are left to the required-field checks.
 */
export function requirePathSegments(fields: Record<string, string>): void {
  for (const [path, value] of Object.entries(fields)) {
    const problem = pathSegmentProblem(value);
    if (problem) {
      throw new ConnectError(
        `${path} ${JSON.stringify(value)} ${problem}; it becomes part of a storage path, so it may not contain '/', '\\', '..' or control characters`,
        Code.InvalidArgument,
      );
    }
  }
}
