import http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { startTestServer } from "/work/main/test/server/http-test-utils.js";
const orig = http2.createServer;
let srv: any;
(http2 as any).createServer = (...a: any[]) => { srv = (orig as any)(...a); return srv; };
const ts = await startTestServer();
const open = new Set<any>();
srv.on("stream", (s: any) => { open.add(s); s.on("close", () => { console.log("server stream close", s.id, s.rstCode); open.delete(s); }); });
const t = createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "2" });
try { await createClient(ProjectService, t).listProjects({ filters: "x".repeat(2000000) }); } catch (e) { console.log(String(e)); }
await new Promise(r => setTimeout(r, 200));
console.log("open streams", [...open].map(s => ({ id: s.id, closed: s.closed, destroyed: s.destroyed, readableEnded: s.readableEnded, writableEnded: s.writableEnded, state: s.state })));
const t0 = Date.now(); await ts.stop(1000); console.log("stop", Date.now() - t0);
process.exit(0);
