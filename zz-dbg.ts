import { createClient, ConnectError } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { startTestServer, MAX_REQUEST_BYTES } from "/work/main/test/server/http-test-utils.js";
const ts = await startTestServer();
const baseUrl = ts.baseUrl;
const which = process.argv[2];
const big = which === "gw" ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }) : createConnectTransport({ baseUrl, httpVersion: "1.1" });
let t0 = Date.now();
try { await createClient(ProjectService, big).listProjects({ filters: "x".repeat(MAX_REQUEST_BYTES + 10) }); } catch (e) { console.log("big", String(e), Date.now()-t0); }
for (let i = 0; i < 3; i++) {
  t0 = Date.now();
  try { const r = await createClient(ProjectService, createConnectTransport({ baseUrl, httpVersion: "1.1" })).listProjects({}); console.log("ok", Date.now()-t0); }
  catch (e) { console.log("err", String(e), Date.now()-t0); }
}
await ts.stop(100);
process.exit(0);
