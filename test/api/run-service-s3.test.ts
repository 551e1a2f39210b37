import { fromBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputsSchema } from "#gen/flyteidl2/task/common_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createBlobStore } from "../../src/storage/index.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { quietLogger, testDialects } from "../support/databases.js";
import { startS3Server, type TestS3Server } from "../storage/s3-server.js";

const BUCKET = "flyte-data";

describe.each(await testDialects())("CreateRun and GetActionData on s3:// storage (%s)", (kind) => {
  let s3: TestS3Server;
  let t: TestApp;
  let storage: ReturnType<typeof storageConfig>;

  function storageConfig() {
    return {
      type: "minio",
      container: BUCKET,
      enableMulticontainer: false,
      stow: {
        kind: "s3",
        config: {
          auth_type: "accesskey",
          access_key_id: s3.accessKeyId,
          secret_key: s3.secretAccessKey,
          region: "us-east-1",
          endpoint: s3.endpoint,
          disable_ssl: "true",
        },
      },
    };
  }

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
    storage = storageConfig();
    t = await startTestApp(kind, (c) => {
      c.runs.storagePrefix = `s3://${BUCKET}`;
      Object.assign(c.storage, storage);
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it("writes inputs.pb to the bucket where the reference puts it and reads it back", async () => {
    const client = createClient(RunService, t.transports["connect-h2"]);
    const runId = { org: "o", project: "flytesnacks", domain: "development", name: "s3-run" };
    await client.createRun({
      id: { case: "runId", value: runId },
      task: {
        case: "taskSpec",
        value: { taskTemplate: { id: { project: "flytesnacks", domain: "development", name: "t", version: "1" }, type: "python" } },
      },
      inputWrapper: {
        case: "inputs",
        value: { literals: [{ name: "x", value: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: 7n } } } } } } }] },
      },
    });
    const uri = `s3://${BUCKET}/flytesnacks/development/s3-run/inputs/inputs.pb`;
    expect(s3.requests.some((r) => r.method === "PUT" && r.url.includes("/flytesnacks/development/s3-run/inputs/inputs.pb"))).toBe(true);

    const store = createBlobStore({ ...t.config.storage }, { logger: quietLogger });
    const stored = fromBinary(InputsSchema, await store.read(uri));
    expect(stored.literals.map((l) => l.name)).toEqual(["x"]);
    await store.close?.();

    const data = await client.getActionData({ actionId: { run: runId, name: "a0" } });
    expect(data.inputs?.literals[0]?.name).toBe("x");
  });
});
