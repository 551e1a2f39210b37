// Generates gen/es (JavaScript + .d.ts) from the flyteidl2 npm package and
// from proto/. Skips the work when the outputs are newer than the inputs.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const image = join(root, "gen/flyteidl2.binpb");
const marker = join(root, "gen/es/flyteidl2/workflow/run_service_pb.js");

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

const inputs = [
  join(root, "node_modules/@flyteorg/flyteidl2/package.json"),
  join(root, "proto"),
  join(root, "buf.gen.yaml"),
  join(root, "scripts/extract-descriptors.ts"),
];
const force = process.argv.includes("--force");
if (!force && existsSync(marker) && existsSync(image)) {
  const built = statSync(marker).mtimeMs;
  if (inputs.every((p) => newest(p) <= built)) process.exit(0);
}

const bin = (name) => join(root, "node_modules/.bin", name);
// buf finds the local protoc-gen-es plugin on PATH.
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}` };
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit", env });
run(bin("tsx"), ["scripts/extract-descriptors.ts", "gen/flyteidl2.binpb"]);
run(bin("buf"), ["generate"]);
console.log("generated gen/es");
