// Prints the heaviest frames of a V8 .cpuprofile (from `node --cpu-prof`):
// self time by function, and inclusive time by function.
// Usage: node bench/tools/profile-top.mjs FILE.cpuprofile [N] [--filter substring]
import { readFileSync } from "node:fs";

const file = process.argv[2];
const n = Number(process.argv[3] ?? 40);
const fi = process.argv.indexOf("--filter");
const filter = fi > 0 ? process.argv[fi + 1] : undefined;
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

// Sample time per node.
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const label = (node) => {
  const f = node.callFrame;
  const url = f.url.replace(/^.*\/(node_modules\/|dist\/|src\/)/, "$1");
  return `${f.functionName || "(anonymous)"} ${url}:${f.lineNumber + 1}`;
};
const self = new Map();
const incl = new Map();
for (const [id, t] of dt) {
  const node = byId.get(id);
  const l = label(node);
  self.set(l, (self.get(l) ?? 0) + t);
  // Inclusive: each distinct label on the stack once.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cl = label(byId.get(cur));
    if (seen.has(cl)) continue;
    seen.add(cl);
    incl.set(cl, (incl.get(cl) ?? 0) + t);
  }
}
const show = (title, map) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  [...map.entries()]
    .filter(([l]) => !filter || l.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .forEach(([l, t]) => console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${l}`));
};
show("self", self);
show("inclusive", incl);
