// Rebuilds the FileDescriptorSet of the flyteidl2 IDL from the descriptors
// embedded in the npm package's generated TypeScript (the package ships no
// .proto files). Run with tsx; writes the set to the path given as argv[2].
import { readdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";

const require = createRequire(import.meta.url);
const pkgRoot = dirname(require.resolve("@flyteorg/flyteidl2/package.json"));

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (entry.endsWith("_pb.ts")) out.push(full);
  }
  return out;
}

function isDescFile(value: unknown): value is DescFile {
  return typeof value === "object" && value !== null && (value as DescFile).kind === "file";
}

const files = new Map<string, DescFile>();
for (const path of walk(pkgRoot, []).sort()) {
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  for (const value of Object.values(mod)) {
    if (isDescFile(value)) files.set(value.proto.name, value);
  }
}

// Dependencies before dependents, each file once: a valid buf image.
const ordered: FileDescriptorProto[] = [];
const seen = new Set<string>();
function visit(file: DescFile): void {
  if (seen.has(file.proto.name)) return;
  seen.add(file.proto.name);
  for (const dep of file.dependencies) visit(dep);
  ordered.push(file.proto);
}
for (const file of files.values()) visit(file);

const out = process.argv[2];
if (!out) throw new Error("usage: extract-descriptors <out.binpb>");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered })));
console.log(`wrote ${ordered.length} files from ${relative(process.cwd(), pkgRoot)} to ${out}`);
