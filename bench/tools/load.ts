// Development aid: drive CreateRun against a running server (and serve the
// ActionsService stub on STUB_PORT) without the full bench.
// Usage: npx tsx bench/tools/load.ts URL PID [concurrency] [seconds] [json]
import { startActionsStubOn } from "../lib/actions-stub.js";
import { runLoad } from "../lib/load.js";
import { runNamer } from "../lib/request.js";

const [url, pid, c = "16", s = "5", codec = "proto"] = process.argv.slice(2);
const stub = process.env.STUB_PORT ? await startActionsStubOn(Number(process.env.STUB_PORT)) : undefined;
const r = await runLoad({
  baseUrl: url,
  pid: Number(pid),
  json: codec === "json",
  concurrency: Number(c),
  seconds: Number(s),
  warmupSeconds: 1,
  nextRunName: runNamer(Date.now().toString(36)),
});
console.log(JSON.stringify(r));
await stub?.close();
