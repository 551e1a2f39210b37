/**
 * Where a run's data lives and how CreateRun prepares its inputs.
 */
import { clone, create } from "@bufbuild/protobuf";
import { InputsSchema, NamedLiteralSchema, type Inputs, type NamedParameter } from "#gen/flyteidl2/task/common_pb.js";
import { TaskIdentifierSchema, type TaskIdentifier, type TaskSpec } from "#gen/flyteidl2/task/task_definition_pb.js";

export const INPUTS_FILE = "inputs.pb";

function trimSlashes(prefix: string): string {
  return prefix.replace(/\/+$/, "");
}

/** `<prefix>/<project>/<domain>/<run>/inputs` (no trailing slash). */
export function inputPrefix(storagePrefix: string, project: string, domain: string, run: string): string {
  return `${trimSlashes(storagePrefix)}/${project}/${domain}/${run}/inputs`;
}

/** `<prefix>/<project>/<domain>/<run>/` (trailing slash kept). */
export function runOutputBase(storagePrefix: string, project: string, domain: string, run: string): string {
  return `${trimSlashes(storagePrefix)}/${project}/${domain}/${run}/`;
}

/** The inputs file under an input prefix. */
export function inputsUri(prefix: string): string {
  return `${prefix}/${INPUTS_FILE}`;
}

/**
 * A copy of `inputs` (undefined ⇒ empty) with every default of the task that
 * the caller did not supply appended in declaration order. Supplied values
 * win; parameters without a default literal are skipped; a name listed twice
 * among the defaults is added once. The input is not modified.
 */
export function fillDefaultInputs(inputs: Inputs | undefined, defaults: readonly NamedParameter[] | undefined): Inputs {
  const out = inputs ? clone(InputsSchema, inputs) : create(InputsSchema);
  const present = new Set(out.literals.map((l) => l.name));
  for (const param of defaults ?? []) {
    if (present.has(param.name)) continue;
    const behavior = param.parameter?.behavior;
    if (behavior?.case !== "default") continue;
    out.literals.push(create(NamedLiteralSchema, { name: param.name, value: behavior.value }));
    present.add(param.name);
  }
  return out;
}

/** The task id a spec declares (its template id without org); undefined for no spec. */
export function taskIdFromTaskSpec(spec: TaskSpec | undefined): TaskIdentifier | undefined {
  if (!spec) return undefined;
  const id = spec.taskTemplate?.id;
  return create(TaskIdentifierSchema, {
    project: id?.project ?? "",
    domain: id?.domain ?? "",
    name: id?.name ?? "",
    version: id?.version ?? "",
  });
}
