import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createValidator, violationsToProto, type Validator, type Violation } from "@bufbuild/protovalidate";

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

/**
 * Checks every unary and server-streaming request against the IDL's
 * buf.validate rules before the handler runs. Invalid requests get
 * InvalidArgument naming each violated field. Client and bidi streams check
 * their messages one by one in the handler, where a bad item must not end
 * the stream.
 */
export function validationInterceptor(validator: Validator = createValidator()): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) checkMessage(validator, req.method.input, req.message);
    return next(req);
  };
}
