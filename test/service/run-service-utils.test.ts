import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LiteralMapSchema, LiteralSchema, type Literal } from "#gen/flyteidl2/core/literals_pb.js";
import { TaskTemplateSchema, type TaskTemplate } from "#gen/flyteidl2/core/tasks_pb.js";
import { InputsSchema, NamedParameterSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  computeFilteredInputsHash,
  deterministicBinary,
  generateCacheKey,
  hashInterface,
  isDiscoverable,
} from "../../src/service/run-service/cache-key.js";
import { fillDefaultInputs, inputPrefix, inputsUri, runOutputBase, taskIdFromTaskSpec } from "../../src/service/run-service/inputs.js";
import {
  RUN_NAME_ALPHABET,
  generateRunName,
  seededRandomIndex,
} from "../../src/service/run-service/run-names.js";

const str = (s: string): Literal =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: s } } } } } });
const int = (n: bigint): Literal =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: n } } } } } });
const stringOf = (l: Literal | undefined) => {
  const p = l?.value.case === "scalar" && l.value.value.value.case === "primitive" ? l.value.value.value.value.value : undefined;
  return p?.case === "stringValue" ? p.value : undefined;
};
const withDefault = (name: string, value?: Literal) =>
  create(NamedParameterSchema, { name, parameter: value ? { behavior: { case: "default", value } } : {} });
const inputs = (...pairs: [string, Literal][]): Inputs => create(InputsSchema, { literals: pairs.map(([name, value]) => ({ name, value })) });

describe("fillDefaultInputs", () => {
  it("gives missing inputs their defaults", () => {
    const out = fillDefaultInputs(undefined, [withDefault("x", str("default_val"))]);
    expect(out.literals.map((l) => l.name)).toEqual(["x"]);
  });

  it("keeps a value the caller supplied", () => {
    const out = fillDefaultInputs(inputs(["x", str("user_val")]), [withDefault("x", str("default_val"))]);
    expect(out.literals).toHaveLength(1);
    expect(stringOf(out.literals[0].value)).toBe("user_val");
  });

  it("appends defaults after the supplied inputs, in declaration order", () => {
    const out = fillDefaultInputs(inputs(["x", str("user_val")]), [withDefault("y", int(42n)), withDefault("z", int(1n))]);
    expect(out.literals.map((l) => l.name)).toEqual(["x", "y", "z"]);
  });

  it("skips parameters without a default and leaves inputs alone without defaults", () => {
    expect(fillDefaultInputs(create(InputsSchema), [withDefault("z")]).literals).toEqual([]);
    expect(fillDefaultInputs(inputs(["a", str("val")]), undefined).literals.map((l) => l.name)).toEqual(["a"]);
  });

  it("adds a default listed twice only once and does not modify its argument", () => {
    const given = inputs(["a", str("v")]);
    const out = fillDefaultInputs(given, [withDefault("b", str("1")), withDefault("b", str("2"))]);
    expect(out.literals.map((l) => [l.name, stringOf(l.value)])).toEqual([["a", "v"], ["b", "1"]]);
    expect(given.literals).toHaveLength(1);
  });

  it("keeps the input context", () => {
    const given = create(InputsSchema, { context: [{ key: "trace", value: "abc" }] });
    expect(fillDefaultInputs(given, []).context).toEqual(given.context);
  });
});

describe("taskIdFromTaskSpec", () => {
  it("is undefined without a spec", () => {
    expect(taskIdFromTaskSpec(undefined)).toBeUndefined();
  });

  it("copies the template id without its org", () => {
    const spec = create(TaskSpecSchema, { taskTemplate: { id: { org: "org1", project: "proj1", domain: "dev", name: "my-task", version: "v1" } } });
    expect(taskIdFromTaskSpec(spec)).toMatchObject({ org: "", project: "proj1", domain: "dev", name: "my-task", version: "v1" });
  });

  it("is an empty id for a spec without template", () => {
    expect(taskIdFromTaskSpec(create(TaskSpecSchema))).toMatchObject({ project: "", domain: "", name: "", version: "" });
  });
});

describe("storage paths", () => {
  it("trims trailing slashes of the prefix", () => {
    expect(inputsUri(inputPrefix("s3://flyte-data/", "proj", "dev", "rctx-123"))).toBe("s3://flyte-data/proj/dev/rctx-123/inputs/inputs.pb");
    expect(runOutputBase("s3://flyte-data//", "proj", "dev", "r1")).toBe("s3://flyte-data/proj/dev/r1/");
  });
});

describe("cache keys", () => {
  const template = (extra: { discoverable?: boolean; discoveryVersion?: string; cacheIgnoreInputVars?: string[] } = {}): TaskTemplate =>
    create(TaskTemplateSchema, {
      id: { name: "my-task" },
      type: "python",
      metadata: { discoverable: true, discoveryVersion: "1.0", ...extra },
      interface: {},
    });

  it("is deterministic", () => {
    const t = template();
    const a = generateCacheKey(t, computeFilteredInputsHash(t, inputs(["x", str("hello")])));
    const b = generateCacheKey(t, computeFilteredInputsHash(t, inputs(["x", str("hello")])));
    expect(a).toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("differs for different inputs, names, versions and interfaces", () => {
    const t = template();
    const base = generateCacheKey(t, computeFilteredInputsHash(t, inputs(["x", str("hello")])));
    expect(generateCacheKey(t, computeFilteredInputsHash(t, inputs(["x", str("world")])))).not.toBe(base);
    const h = computeFilteredInputsHash(t, inputs(["x", str("hello")]));
    expect(generateCacheKey(template({ discoveryVersion: "2.0" }), h)).not.toBe(base);
    const renamed = template();
    renamed.id!.name = "other";
    expect(generateCacheKey(renamed, h)).not.toBe(base);
    const noInterface = template();
    noInterface.interface = undefined;
    expect(hashInterface(noInterface)).toBe("");
    expect(generateCacheKey(noInterface, h)).not.toBe(base);
  });

  it("ignores the inputs listed in cache_ignore_input_vars and the input context", () => {
    const t = template({ cacheIgnoreInputVars: ["y"] });
    const withIgnored = computeFilteredInputsHash(t, inputs(["x", str("hello")], ["y", str("ignored")]));
    const without = computeFilteredInputsHash(t, inputs(["x", str("hello")]));
    expect(withIgnored).toBe(without);
    const withContext = create(InputsSchema, { literals: inputs(["x", str("hello")]).literals, context: [{ key: "k", value: "v" }] });
    expect(computeFilteredInputsHash(t, withContext)).toBe(without);
  });

  it("still produces a key without inputs", () => {
    const t = template();
    expect(computeFilteredInputsHash(t, undefined)).toBe(computeFilteredInputsHash(t, create(InputsSchema)));
    expect(generateCacheKey(t, computeFilteredInputsHash(t, undefined))).not.toBe("");
  });

  it("is only computed for discoverable templates", () => {
    expect(isDiscoverable(template())).toBe(true);
    expect(isDiscoverable(template({ discoverable: false }))).toBe(false);
    expect(isDiscoverable(undefined)).toBe(false);
  });
});

describe("deterministic binary encoding", () => {
  it("matches the library encoding for messages without maps", () => {
    const msg = inputs(["x", str("hello")], ["y", int(7n)]);
    expect(deterministicBinary(InputsSchema, msg)).toEqual(toBinary(InputsSchema, msg));
  });

  it("orders map entries by key whatever the insertion order, as Go does (bytewise for strings)", () => {
    const a = create(LiteralMapSchema, { literals: { b: str("2"), a: str("1"), "10": str("x"), "9": str("y") } });
    const b = create(LiteralMapSchema, { literals: { "9": str("y"), a: str("1"), "10": str("x"), b: str("2") } });
    const bytes = deterministicBinary(LiteralMapSchema, a);
    expect(bytes).toEqual(deterministicBinary(LiteralMapSchema, b));
    // Decodes to the same content, keys in Go's order: "10" < "9" < "a" < "b".
    const back = fromBinary(LiteralMapSchema, bytes);
    expect(back).toEqual(fromBinary(LiteralMapSchema, toBinary(LiteralMapSchema, a)));
    const order: string[] = [];
    for (let i = 0; i < bytes.length; ) {
      // Each entry: tag 0x0a, length, then key (tag 0x0a, length, bytes) ...
      const len = bytes[i + 1];
      const keyLen = bytes[i + 3];
      order.push(Buffer.from(bytes.subarray(i + 4, i + 4 + keyLen)).toString());
      i += 2 + len;
    }
    expect(order).toEqual(["10", "9", "a", "b"]);
  });

  it("sorts maps nested inside lists and oneofs", () => {
    const nested = (order: string[]) =>
      create(InputsSchema, {
        literals: [
          {
            name: "m",
            value: { value: { case: "map", value: { literals: Object.fromEntries(order.map((k) => [k, str(k)])) } } },
          },
        ],
      });
    expect(deterministicBinary(InputsSchema, nested(["b", "a"]))).toEqual(deterministicBinary(InputsSchema, nested(["a", "b"])));
    expect(deterministicBinary(InputsSchema, nested(["b", "a"]))).not.toEqual(toBinary(InputsSchema, nested(["b", "a"])));
  });
});

describe("run names", () => {
  it("are 'r' plus 19 characters of the Kubernetes alphabet", () => {
    for (let i = 0; i < 50; i++) {
      const name = generateRunName();
      expect(name).toHaveLength(20);
      expect(name.startsWith("r")).toBe(true);
      for (const c of name.slice(1)) expect(RUN_NAME_ALPHABET).toContain(c);
    }
  });

  it("are the same for the same seed and differ across seeds", () => {
    const seed = 1_700_000_000_123_456_789n;
    expect(generateRunName(seededRandomIndex(seed))).toBe(generateRunName(seededRandomIndex(seed)));
    expect(generateRunName(seededRandomIndex(seed))).not.toBe(generateRunName(seededRandomIndex(seed + 1n)));
    expect(generateRunName(seededRandomIndex(1))).not.toBe(generateRunName(seededRandomIndex(2)));
  });
});

describe("Inputs wire compatibility", () => {
  it("round-trips with its context", () => {
    const given = create(InputsSchema, { literals: inputs(["x", str("a")]).literals, context: [{ key: "k", value: "v" }] });
    expect(fromBinary(InputsSchema, toBinary(InputsSchema, given))).toEqual(given);
  });

  it("decodes as core.LiteralMap and the other way round", () => {
    const given = inputs(["x", str("a")], ["y", int(3n)]);
    const asMap = fromBinary(LiteralMapSchema, toBinary(InputsSchema, given));
    expect(Object.keys(asMap.literals)).toEqual(["x", "y"]);
    expect(stringOf(asMap.literals.x)).toBe("a");
    const back = fromBinary(InputsSchema, toBinary(LiteralMapSchema, asMap));
    expect(back.literals.map((l) => l.name)).toEqual(["x", "y"]);
  });
});
