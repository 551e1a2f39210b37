/**
 * Where an action's data lives (GetActionDataURIs), the data itself
 * (GetActionData, read from the blob store: a standalone service has no
 * DataProxy to delegate to) and where its logs are (GetActionLogContext).
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { InputsSchema, OutputsSchema, type Inputs, type Outputs } from "#gen/flyteidl2/task/common_pb.js";
import { ActionType } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import {
  GetActionDataResponseSchema,
  GetActionDataURIsResponseSchema,
  GetActionLogContextResponseSchema,
} from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { ActionKey } from "../../repository/interfaces/action.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { attemptsFromEvents, rowToActionEvent } from "../../repository/transformers/action-events.js";
import { BlobNotFoundError, BlobTooLargeError } from "../../storage/index.js";
import { MAX_EVENTS_PER_ACTION } from "./get-details.js";
import { actionKeyOf, describeKey, type RunServiceDeps, type RunServiceHandlers } from "./index.js";

export interface DataUris {
  inputsUri: string;
  /** "" until the action has succeeded. */
  outputsUri: string;
}

export function getDataHandlers(
  deps: RunServiceDeps,
): Pick<RunServiceHandlers, "getActionDataURIs" | "getActionData" | "getActionLogContext"> {
  const { actions, blobStore } = deps;
  const log = deps.logger.child({ rpc: "GetActionData" });

  async function dataUris(key: ActionKey, row: ActionRow): Promise<DataUris> {
    if (!row.detailed_info || row.detailed_info.length === 0) throw new NotFoundError("run data not available");
    let info;
    try {
      info = fromBinary(RunInfoSchema, row.detailed_info);
    } catch (error) {
      throw new Error(`action ${describeKey(key)}: stored detailed_info does not decode: ${(error as Error).message}`, { cause: error });
    }
    const uris: DataUris = { inputsUri: info.inputsUri, outputsUri: "" };
    if (row.phase !== ActionPhase.SUCCEEDED) return uris;
    if (row.action_type === ActionType.TRACE) return { ...uris, outputsUri: info.outputsUri };
    // A condition's value is kept inline in RunInfo, never in an outputs.pb.
    if (row.action_type === ActionType.CONDITION) return uris;
    const attempts = attemptsFromEvents(await actions.listEvents(key, MAX_EVENTS_PER_ACTION));
    if (attempts.length === 0) throw new NotFoundError("outputs not available, no attempts for action");
    const outputUri = attempts[attempts.length - 1].outputs?.outputUri ?? "";
    if (outputUri === "") throw new NotFoundError("outputs not available");
    return { ...uris, outputsUri: outputUri };
  }

  /** Reads a literal list stored at `uri` (Inputs and Outputs share the wire format of their literals). */
  async function readLiterals(what: "inputs" | "outputs", uri: string): Promise<Inputs> {
    let bytes: Uint8Array;
    try {
      bytes = await blobStore.read(uri);
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new NotFoundError(`${what} not found at ${uri}`, { cause: error });
      if (error instanceof BlobTooLargeError) {
        throw new ConnectError(error.message, Code.ResourceExhausted, undefined, undefined, error);
      }
      log.error({ uri, err: (error as Error).message }, `failed to read ${what}`);
      throw new ConnectError(`failed to read ${what} from ${uri}: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
    }
    try {
      return fromBinary(InputsSchema, bytes);
    } catch (error) {
      throw new ConnectError(`${what} at ${uri} do not decode: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
    }
  }

  return {
    async getActionDataURIs(req) {
      const key = actionKeyOf(req.actionId);
      const uris = await dataUris(key, await actions.getAction(key));
      return create(GetActionDataURIsResponseSchema, uris);
    },

    async getActionData(req) {
      const key = actionKeyOf(req.actionId);
      const uris = await dataUris(key, await actions.getAction(key));
      const [inputs, outputs] = await Promise.all([
        uris.inputsUri !== "" ? readLiterals("inputs", uris.inputsUri) : Promise.resolve(create(InputsSchema)),
        uris.outputsUri !== ""
          ? readLiterals("outputs", uris.outputsUri).then((read): Outputs => create(OutputsSchema, { literals: read.literals }))
          : Promise.resolve(create(OutputsSchema)),
      ]);
      return create(GetActionDataResponseSchema, { inputs, outputs });
    },

    async getActionLogContext(req) {
      const key = actionKeyOf(req.actionId);
      const row = await actions.getLatestEventByAttempt(key, req.attempt);
      if (!row) throw new NotFoundError(`no event found for action ${describeKey(key)} attempt ${req.attempt}`);
      let event;
      try {
        event = rowToActionEvent(row);
      } catch (error) {
        throw new ConnectError(`failed to deserialize event: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
      }
      if (!event.logContext) throw new NotFoundError(`no log context found for action ${describeKey(key)} attempt ${req.attempt}`);
      return create(GetActionLogContextResponseSchema, { logContext: event.logContext, cluster: event.cluster });
    },
  };
}
