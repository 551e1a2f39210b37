// Attributes the self time of a V8 .cpuprofile to source files and packages,
// mapping bundle frames (dist/main.js) through the bundle's source map.
// Usage: node bench/tools/profile-by-source.mjs FILE.cpuprofile [BUNDLE.js] [N]
import { readFileSync, existsSync } from "node:fs";
import { SourceMap } from "node:module";

const [file, bundle = "dist/main.js", nArg = "40"] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, "utf8"));
const map = existsSync(`${bundle}.map`) ? new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, "utf8"))) : undefined;
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const byFile = new Map();
const byPkg = new Map();
let total = 0;
for (const node of prof.nodes) {
  const t = dt.get(node.id) ?? 0;
  if (!t) continue;
  total += t;
  const f = node.callFrame;
  let src = f.url || `(${f.functionName || "native"})`;
  if (map && f.url.endsWith(bundle.split("/").pop())) {
    const e = map.findEntry(f.lineNumber, f.columnNumber);
    src = e?.originalSource ?? src;
  }
  src = src.replace(/^.*?\/(node_modules|src|gen)\//, "$1/");
  const pkg = src.startsWith("node_modules/")
    ? src.split("/").slice(0, src.split("/")[1].startsWith("@") ? 3 : 2).join("/")
    : src.startsWith("node:")
      ? src.split("/").slice(0, 2).join("/")
      : src.startsWith("src/")
        ? src.split("/").slice(0, 2).join("/")
        : src;
  byFile.set(src, (byFile.get(src) ?? 0) + t);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t);
}
const show = (title, m, n) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, t]) => console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`));
};
show("by package / area", byPkg, Number(nArg));
show("by file", byFile, Number(nArg));
