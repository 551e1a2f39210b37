// Builds dist/main.js: one ESM bundle of src/ and the generated code, run
// with plain `node`. Native and worker-based packages stay external.
// --if-stale: do nothing when dist/main.js is newer than every input.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
// --entry/--out build another entry point (the integration client) the same way.
const entry = join(root, arg("--entry", "src/main.ts"));
const out = join(root, arg("--out", "dist/main.js"));

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

if (process.argv.includes("--if-stale") && existsSync(out)) {
  const inputs = ["src", "proto", "package-lock.json", "buf.gen.yaml", "scripts"].map((p) => join(root, p));
  if (inputs.every((p) => newest(p) <= statSync(out).mtimeMs)) process.exit(0);
}

execFileSync(process.execPath, [join(root, "scripts/gen.mjs")], { cwd: root, stdio: "inherit" });

await build({
  // Split so that code only reached through import() (the S3 store and the
  // AWS SDK) is a chunk of its own, read from disk only when first used.
  entryPoints: { [basename(out, ".js")]: entry },
  outdir: dirname(out),
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  sourcemap: true,
  external: ["better-sqlite3", "pg", "pg-native", "pino", "pino-pretty", "kysely"],
  banner: {
    // Bundled CommonJS dependencies may call require().
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
console.log(`built ${out.slice(root.length + 1)}`);
