// Splits the self time of a V8 .cpuprofile (node --cpu-prof) of the port into
// the parts of a CreateRun: each sample goes to the first frame, walking from
// the leaf towards the root, that matches a rule below (bundle frames are
// mapped to their sources through the bundle's source map).
// Usage: node bench/tools/profile-categories.mjs FILE.cpuprofile [BUNDLE.js] [REQUESTS]
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const [file, bundle = "dist/main.js", requestsArg] = process.argv.slice(2);
// Operations: a sample belongs to the operation nearest to its leaf, so work
// done for an operation (protobuf reflection inside the digest, fs calls
// inside the blob write) counts for it.
const OPERATIONS = [
  ["inputs blob write (file store)", (fn, src) => /src\/storage\/file-store/.test(src)],
  ["Enqueue call (ActionsService client, HTTP/1.1)", (fn, src) => /src\/service\/actions-client|connect-node\/dist\/esm\/node-universal-client|node:_http_(client|agent|common|outgoing|incoming)/.test(src)],
  ["task spec digest + encode", (fn, src) => /src\/repository\/(digest|objecthash)|src\/repository\/transformers\/task-spec/.test(src)],
  ["request validation (protovalidate)", (fn, src) => /protovalidate|@bufbuild\/cel|src\/server\/interceptors\/validation/.test(src)],
  ["database driver (SQLite statements run here)", (fn, src) => /better-sqlite3|src\/repository\/dialect|node_modules\/pg(-protocol|-pool)?\//.test(src)],
  ["Kysely (query building, executor)", (fn, src) => /node_modules\/kysely/.test(src)],
  ["event bus", (fn, src) => /src\/events\//.test(src)],
  ["repository code", (fn, src) => /src\/repository\//.test(src)],
  ["CreateRun handler (ids, row, ActionSpec/RunInfo encode)", (fn, src) => /src\/service\/run-service\//.test(src)],
];
// Otherwise by the leaf.
const GENERIC = [
  ["idle", (fn) => fn === "(idle)"],
  ["GC", (fn) => fn === "(garbage collector)"],
  ["protobuf in Connect (request decode, response encode)", (fn, src) => /@bufbuild\/protobuf/.test(src)],
  ["HTTP/2 server + Connect protocol", (fn, src) => /node:internal\/http2|@connectrpc\/connect|src\/server\//.test(src)],
  ["start-up (module loading, compile)", (fn, src) => /node:internal\/modules/.test(src) || fn === "(program)"],
];
const prof = JSON.parse(readFileSync(file, "utf8"));
const map = existsSync(`${bundle}.map`) ? new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8"))) : undefined;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const srcCache = new Map();
function source(n) {
  if (srcCache.has(n.id)) return srcCache.get(n.id);
  const f = n.callFrame;
  let src = f.url;
  if (map && f.url.endsWith(bundle.split("/").pop())) src = map.findEntry(f.lineNumber, f.columnNumber)?.originalSource ?? src;
  srcCache.set(n.id, src);
  return src;
}
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const cats = new Map();
let total = 0;
for (const [id, t] of dt) {
  total += t;
  let cat;
  for (let cur = id; cur !== undefined && !cat; cur = parent.get(cur)) {
    const n = byId.get(cur);
    cat = OPERATIONS.find(([, test]) => test(n.callFrame.functionName, source(n)))?.[0];
  }
  if (!cat) {
    const leaf = byId.get(id);
    cat = GENERIC.find(([, test]) => test(leaf.callFrame.functionName, source(leaf)))?.[0] ?? "other (Node internals: streams, events, timers …)";
  }
  cats.set(cat, (cats.get(cat) ?? 0) + t);
}
const busy = total - (cats.get("idle") ?? 0);
const requests = Number(requestsArg ?? 0);
console.log(`main thread: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy${requests ? `, ${requests} requests` : ""}`);
for (const [cat, t] of [...cats].sort((a, b) => b[1] - a[1])) {
  if (cat === "idle") continue;
  const per = requests ? `  ${(t / requests).toFixed(0).padStart(5)} µs/req` : "";
  console.log(`${((t / busy) * 100).toFixed(1).padStart(5)}% of busy ${(t / 1000).toFixed(0).padStart(6)} ms${per}  ${cat}`);
}
