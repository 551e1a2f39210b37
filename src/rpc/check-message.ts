/** The IDL's buf.validate rules as this service enforces them, shared by the validation interceptor and stream handlers. */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { violationsToProto, type Validator, type Violation } from "@bufbuild/protovalidate";

/**
 * The IDL requires a non-empty `org` / `organization` in identifiers, but the
 * service neither stores nor returns it (answers carry "", as in the
 * reference). Requiring it would reject ids the service itself handed out,
 * so that one rule is not enforced.
 */
const OPTIONAL_ORG_FIELDS = new Set(["org", "organization"]);

export function enforced(violation: Violation): boolean {
  const last = violation.field[violation.field.length - 1];
  const name = last && "kind" in last && last.kind === "field" ? last.name : undefined;
  return !(violation.ruleId === "string.min_len" && name !== undefined && OPTIONAL_ORG_FIELDS.has(name));
}

/**
 * Throws InvalidArgument (with a buf.validate.Violations detail) when `message`
 * breaks an enforced rule of the IDL; used by the interceptor and by stream
 * handlers that check each item themselves.
 */
export function checkMessage<Desc extends DescMessage>(validator: Validator, schema: Desc, message: MessageShape<Desc>): void {
  const result = validator.validate(schema, message);
  const violations = result.kind === "invalid" ? result.violations.filter(enforced) : [];
  if (violations.length > 0) {
    const [value, desc] = violationsToProto(violations);
    throw new ConnectError(
      `invalid request: ${violations.map((v) => v.toString()).join("; ")}`,
      Code.InvalidArgument,
      undefined,
      [{ desc, value }],
    );
  }
  if (result.kind === "error") {
    throw new ConnectError(`request validation failed: ${result.error.message}`, Code.Internal, undefined, undefined, result.error);
  }
}
