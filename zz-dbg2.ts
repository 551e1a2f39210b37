import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { startTestServer, MAX_REQUEST_BYTES } from "/work/main/test/server/http-test-utils.js";
const ts = await startTestServer();
const baseUrl = ts.baseUrl;
for (const [n, t] of [["grpc", createGrpcTransport({ baseUrl, nodeOptions: { maxSessionMemory: 200 } })], ["grpc-default", createGrpcTransport({ baseUrl })], ["c2", createConnectTransport({ baseUrl, httpVersion: "2" })], ["gw2", createGrpcWebTransport({ baseUrl, httpVersion: "2" })]] as const) {
  for (const size of [MAX_REQUEST_BYTES + 10, 10 * MAX_REQUEST_BYTES, 10, 10]) {
    const t0 = Date.now();
    try { await createClient(ProjectService, t).listProjects({ filters: "x".repeat(size) }); console.log(n, size, "ok", Date.now()-t0); }
    catch (e) { console.log(n, size, String(e), Date.now()-t0); }
  }
}
const t0 = Date.now(); await ts.stop(3000); console.log("stop", Date.now() - t0);
process.exit(0);
