import type { Interceptor } from "@connectrpc/connect";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { checkMessage } from "../../rpc/check-message.js";

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
