/**
 * Calls RunService.CreateRun in process, so the scheduler goes through the
 * very same CreateRun logic as an RPC client (the reference's scheduler
 * calls it over HTTP). Domain errors come back as the ConnectErrors a
 * client would see (NotFound, Unavailable, …).
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import type { Run } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { CreateRunResponseSchema, RunService, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { toConnectError, type ErrorMappingOptions } from "../rpc/connect-errors.js";
import type { RunServiceHandlers } from "../service/run-service/index.js";

/** Creates a run (or returns the existing run of that name). */
export type CreateRunFn = (request: CreateRunRequest) => Promise<Run>;

const PROCEDURE = `/${RunService.typeName}/${RunService.method.createRun.name}`;

export function inProcessCreateRun(impl: Pick<RunServiceHandlers, "createRun">, errors: ErrorMappingOptions): CreateRunFn {
  const handler = impl.createRun;
  if (!handler) throw new Error("RunService implementation has no createRun");
  return async (request) => {
    const context = createHandlerContext({
      service: RunService,
      method: RunService.method.createRun,
      protocolName: "in-process",
      requestMethod: "POST",
      url: `in-process:${PROCEDURE}`,
    });
    let response;
    try {
      response = create(CreateRunResponseSchema, await handler(request, context));
    } catch (error) {
      throw toConnectError(error, errors, PROCEDURE);
    }
    if (!response.run) throw new ConnectError("CreateRun returned no run", Code.Internal);
    return response.run;
  };
}
