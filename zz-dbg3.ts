import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { startTestServer, MAX_REQUEST_BYTES } from "/work/main/test/server/http-test-utils.js";
const ts = await startTestServer();
const baseUrl = ts.baseUrl;
const sizes = process.argv[3].split(",").map(Number);
const t = process.argv[2] === "c2" ? createConnectTransport({ baseUrl, httpVersion: "2" }) : createGrpcTransport({ baseUrl, nodeOptions: { maxSessionMemory: 200 } });
for (const size of sizes) {
  const t0 = Date.now();
  try { await createClient(ProjectService, t).listProjects({ filters: "x".repeat(size) }); console.log(size, "ok", Date.now()-t0); }
  catch (e) { console.log(size, String(e), Date.now()-t0); }
}
const t0 = Date.now(); await ts.stop(2000); console.log("stop", Date.now() - t0);
process.exit(0);
