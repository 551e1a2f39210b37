import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { validationInterceptor } from "../../src/server/interceptors/validation.js";

// The handler records what reached it; the interceptor must stop invalid requests before that.
function setup() {
  const reached: string[] = [];
  const transport = createRouterTransport(
    (router) =>
      router.service(RunService, {
        abortRun: (req) => {
          reached.push(req.runId?.name ?? "");
          return {};
        },
      }),
    { router: { interceptors: [validationInterceptor()] } },
  );
  return { client: createClient(RunService, transport), reached };
}

describe("validation interceptor", () => {
  it("rejects a request that breaks the IDL's buf.validate rules with InvalidArgument naming the field", async () => {
    const { client, reached } = setup();
    const error = await client
      .abortRun({ runId: { project: "p", domain: "d", name: "x".repeat(31) } })
      .catch((e) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/run_id\.name/);
    expect((error as ConnectError).details.length).toBe(1);
    expect(reached).toEqual([]);
  });

  it("rejects a missing required message", async () => {
    const { client, reached } = setup();
    const error = await client.abortRun({}).catch((e) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/run_id/);
    expect(reached).toEqual([]);
  });

  it("lets a valid request through", async () => {
    const { client, reached } = setup();
    await client.abortRun({ runId: { org: "o", project: "p", domain: "d", name: "r1" } });
    expect(reached).toEqual(["r1"]);
  });

  it("does not require org, which the service neither stores nor returns, but still checks the rest", async () => {
    const { client, reached } = setup();
    await client.abortRun({ runId: { org: "", project: "p", domain: "d", name: "r2" } });
    expect(reached).toEqual(["r2"]);
    const error = await client.abortRun({ runId: { org: "", project: "", domain: "d", name: "r3" } }).catch((e) => ConnectError.from(e));
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/run_id\.project/);
    expect((error as ConnectError).rawMessage).not.toMatch(/org/);
  });
});
