// Where a hot frame is called from: for every sample whose leaf function
// matches NAME, the stack above it (bundle frames mapped through the source
// map), aggregated. Usage: node bench/tools/profile-callers.mjs FILE.cpuprofile NAME [BUNDLE.js] [DEPTH]
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const [file, name, bundle = "dist/main.js", depthArg = "8"] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, "utf8"));
const map = existsSync(`${bundle}.map`) ? new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8"))) : undefined;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const f = n.callFrame;
  let where = f.url.replace(/^.*\//, "");
  if (map && f.url.endsWith(bundle.split("/").pop())) {
    const e = map.findEntry(f.lineNumber, f.columnNumber);
    if (e?.originalSource) where = `${e.originalSource.replace(/^.*?\/(node_modules|src)\//, "$1/")}:${e.originalLine + 1}`;
  }
  return `${f.functionName || "(anon)"} ${where}`;
};
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const stacks = new Map();
let total = 0;
for (const [id, t] of dt) {
  const n = byId.get(id);
  if (n.callFrame.functionName !== name) continue;
  total += t;
  const chain = [];
  for (let cur = parent.get(id); cur !== undefined && chain.length < Number(depthArg); cur = parent.get(cur)) chain.push(label(byId.get(cur)));
  const key = chain.join("\n    <- ");
  stacks.set(key, (stacks.get(key) ?? 0) + t);
}
console.log(`${name}: ${(total / 1000).toFixed(0)} ms`);
[...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8).forEach(([k, t]) => console.log(`\n${(t / 1000).toFixed(0)} ms\n    <- ${k}`));
