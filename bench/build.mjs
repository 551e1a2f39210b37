// Bundles the bench's driver and baseline server into bench/.build/ with the
// options scripts/build.mjs uses for the service (ESM bundle for node22, the
// same externals), so baselines and port run the same way: plain `node` on a
// bundle. Run after `make build` (which generates gen/).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: { baseline: join(root, "bench/baseline.ts"), driver: join(root, "bench/driver.ts") },
  outdir: join(root, "bench/.build"),
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  sourcemap: true,
  external: ["better-sqlite3", "pg", "pg-native", "pino", "kysely"],
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: "warning",
});
console.log("built bench/.build/{baseline,driver}.js");
