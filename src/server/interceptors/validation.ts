import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createValidator, violationsToProto, type Validator } from "@bufbuild/protovalidate";

/**
 * Checks every unary and server-streaming request against the IDL's
 * buf.validate rules before the handler runs. Invalid requests get
 * InvalidArgument naming each violated field; the violations also travel as
 * a `buf.validate.Violations` error detail. Client and bidi streams validate
 * their messages one by one in the handler, where a bad item must not end
 * the stream.
 */
export function validationInterceptor(validator: Validator = createValidator()): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      const result = validator.validate(req.method.input, req.message);
      if (result.kind === "invalid") {
        const [value, desc] = violationsToProto(result.violations);
        throw new ConnectError(
          `invalid request: ${result.violations.map((v) => v.toString()).join("; ")}`,
          Code.InvalidArgument,
          undefined,
          [{ desc, value }],
        );
      }
      if (result.kind === "error") {
        throw new ConnectError(`request validation failed: ${result.error.message}`, Code.Internal, undefined, undefined, result.error);
      }
    }
    return next(req);
  };
}
