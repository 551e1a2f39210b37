// buildRoutes: a method mounted with options of its own (compressMinBytes) is served with them; its service's
// other methods keep the router's.
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetProjectRequestSchema, ListProjectsRequestSchema, ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { buildRoutes, mount } from "../../src/server/routes.js";
import { h1Request, startTestServer, type TestServer } from "./http-test-utils.js";

/** A response well above connect's default 1 KiB compression threshold. */
const BIG = "x".repeat(20_000);

describe("buildRoutes with per-method options", () => {
  let s: TestServer;
  beforeAll(async () => {
    const routes = buildRoutes({
      services: [
        mount(
          ProjectService,
          {
            getProject: () => ({ project: { id: "p", name: "p", description: BIG } }),
            listProjects: () => ({ projects: { projects: [{ id: "p", name: "p", description: BIG }] } }),
          },
          { getProject: { compressMinBytes: 1024 * 1024 } },
        ),
      ],
      healthy: async () => true,
    });
    s = await startTestServer({ routes });
  });
  afterAll(async () => {
    await s?.stop();
  });

  const call = (method: string, body: Uint8Array) =>
    h1Request(s.baseUrl, `/flyteidl2.project.ProjectService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/proto", "accept-encoding": "gzip" },
      body,
    });

  it("the method with its own threshold answers uncompressed; its sibling, with the router's, compressed", async () => {
    const own = await call("GetProject", toBinary(GetProjectRequestSchema, create(GetProjectRequestSchema, { id: "p" })));
    expect(own.status, own.body.toString()).toBe(200);
    expect(own.headers["content-encoding"]).toBeUndefined();
    expect(own.body.toString("latin1")).toContain(BIG);
    const sibling = await call("ListProjects", toBinary(ListProjectsRequestSchema, create(ListProjectsRequestSchema, {})));
    expect(sibling.status).toBe(200);
    expect(sibling.headers["content-encoding"]).toBe("gzip");
  });
});
