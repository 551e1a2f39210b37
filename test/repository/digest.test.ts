import { create, createFileRegistry, fromBinary, createRegistry, type DescMessage } from "@bufbuild/protobuf";
import {
  anyPack,
  AnySchema,
  DurationSchema,
  FloatValueSchema,
  Int64ValueSchema,
  StructSchema,
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_duration,
  file_google_protobuf_timestamp,
  TimestampSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { TaskSpecSchema, TraceSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { TaskSpecStorer } from "../../src/repository/transformers/task-spec.js";
import {
  commonJsonHash,
  jsonpbValue,
  normalizeFloat,
  objectHash,
  protoDigest,
  taskSpecDigest,
  traceSpecDigest,
} from "../../src/repository/digest.js";

describe("objecthash (Common JSON)", () => {
  // Vectors from benlaurie/objecthash common_json.test, the library pbhash uses.
  const vectors: [string, string][] = [
    ["[]", "acac86c0e609ca906f632b0e2dacccb2b77d22b0621f20ebece1a4835b93f6f0"],
    ['["foo"]', "268bc27d4974d9d576222e4cdbb8f7c6bd6791894098645a19eeca9c102d0964"],
    ['["foo", "bar"]', "32ae896c413cfdc79eec68be9139c86ded8b279238467c216cf2bec4d5f1e4a2"],
    ["[123]", "2e72db006266ed9cdaa353aa22b9213e8a3c69c838349437c06896b1b34cee36"],
    ["[1, 2, 3]", "925d474ac71f6e8cb35dd951d123944f7cabc5cda9a043cf38cd638cc0158db0"],
    ["[123456789012345]", "f446de5475e2f24c0a2b0cd87350927f0a2870d1bb9cbaa794e789806e4c0836"],
    ["{}", "18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4"],
    ['{"foo": "bar"}', "7ef5237c3027d6c58100afadf37796b3d351025cf28038280147d42fdc53b960"],
    ['{"foo": ["bar", "baz"], "qux": ["norf"]}', "f1a9389f27558538a064f3cc250f8686a0cebb85f1cab7f4d4dcc416ceda3c92"],
    ["[null]", "5fb858ed3ef4275e64c2d5c44b77534181f7722b7765288e76924ce2f9f7f7db"],
    ["true", "7dc96f776c8423e57a2785489a3f9c43fb6e756876d6ad9a9cac4aa4e72ec193"],
    ["false", "c02c0b965e023abee808f2b548d8d5193a8b5229be6f3121a6f16e2d41a449b3"],
    ["0.0", "60101d8c9cb988411468e38909571f357daa67bff5a7b0a3f9ae295cd4aba33d"],
    ["1.2345", "844e08b1195a93563db4e5d4faa59759ba0e0397caf065f3b6bc0825499754e0"],
    ["-10.1234", "59b49ae24998519925833e3ff56727e5d4868aba4ecf4c53653638ebff53c366"],
    ['["foo", {"bar": ["baz", null, 1.0, 1.5, 0.0001, 1000.0, 2.0, -23.1234, 2.0]}]', "783a423b094307bcb28d005bc2f026ff44204442ef3513585e7e73b66e3c2213"],
    ['["foo", {"b4r": ["baz", null, 1, 1.5, 0.0001, 1000, 2, -23.1234, 2]}]', "7e01f8b45da35386e4f9531ff1678147a215b8d2b1d047e690fd9ade6151e431"],
    ['{"k2": "v2", "k1": "v1", "k3": "v3"}', "ddd65f1f7568269a30df7cafc26044537dc2f02a1a0d830da61762fc3e687057"],
    ['"ԱԲաբ"', "2a2a4485a4e338d8df683971956b1090d2f5d33955a81ecaad1a75125f7a316c"],
    ['"\\u03d3"', "f72826713a01881404f34975447bd6edcb8de40b191dc57097ebf4f5417a554d"],
    ['"\\u03d2\\u0301"', "42d5b13fb064849a988a86eb7650a22881c0a9ecf77057a1b07ab0dad385889c"],
  ];
  it.each(vectors)("hashes %s like the reference library", (json, hex) => {
    expect(commonJsonHash(json).toString("hex")).toBe(hex);
  });

  it("normalises floats to sign, binary exponent and mantissa bits", () => {
    expect(normalizeFloat(0)).toBe("+0:");
    expect(normalizeFloat(1)).toBe("+0:1");
    expect(normalizeFloat(1.5)).toBe("+1:011");
    expect(normalizeFloat(-0.75)).toBe("-0:011");
    expect(normalizeFloat(2)).toBe("+1:1");
  });

  it("does not depend on key order", () => {
    expect(objectHash({ a: 1, b: [true, null] }).equals(objectHash({ b: [true, null], a: 1 }))).toBe(true);
    expect(objectHash({ a: 1 }).equals(objectHash({ a: "1" }))).toBe(false);
  });
});

/**
 * The message of flytestdlib/pbhash/pbhash_test.go (mockProtoMessage), built
 * at run time. The expected digests below are the ones that Go test asserts,
 * i.e. values computed by the reference implementation itself.
 */
function mockMessage(): DescMessage {
  const field = (name: string, number: number, type: Type, jsonName: string, extra: object = {}) => ({
    name,
    number,
    type,
    jsonName,
    label: Label.OPTIONAL,
    ...extra,
  });
  const file = create(FileDescriptorProtoSchema, {
    name: "pbhash_mock.proto",
    package: "pbhash",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"],
    messageType: [
      {
        name: "Mock",
        field: [
          field("integer", 1, Type.INT64, "integer"),
          field("float_value", 2, Type.DOUBLE, "floatValue"),
          field("string_value", 3, Type.STRING, "stringValue"),
          field("boolean", 4, Type.BOOL, "boolean"),
          field("datetime", 5, Type.MESSAGE, "datetime", { typeName: ".google.protobuf.Timestamp" }),
          field("duration", 6, Type.MESSAGE, "duration", { typeName: ".google.protobuf.Duration" }),
          field("map_value", 7, Type.MESSAGE, "mapValue", { typeName: ".pbhash.Mock.MapValueEntry", label: Label.REPEATED }),
          field("collections", 8, Type.STRING, "collections", { label: Label.REPEATED }),
        ],
        nestedType: [
          {
            name: "MapValueEntry",
            field: [field("key", 1, Type.STRING, "key"), field("value", 2, Type.STRING, "value")],
            options: { mapEntry: true },
          },
        ],
      },
    ],
  });
  const deps = new Map([
    ["google/protobuf/timestamp.proto", file_google_protobuf_timestamp],
    ["google/protobuf/duration.proto", file_google_protobuf_duration],
  ]);
  return createFileRegistry(file, (name) => deps.get(name)).getMessage("pbhash.Mock")!;
}

describe("protoDigest matches flytestdlib/pbhash", () => {
  const Mock = mockMessage();

  it("full message (Go: YpWyLCP1NW0DVk3Hj64tK70H/9t+5fQlj7yyDK2lSEQ=)", () => {
    const msg = create(Mock, {
      integer: 18n,
      floatValue: 1.3,
      stringValue: "lets test this",
      boolean: true,
      datetime: create(TimestampSchema, { seconds: BigInt(Date.UTC(2019, 2, 29, 12) / 1000) }),
      duration: create(DurationSchema, { nanos: 1_000_000 }),
      mapValue: { z: "last", a: "first" },
      collections: ["1", "2", "3"],
    } as never);
    expect(jsonpbValue(Mock, msg)).toEqual({
      integer: "18",
      floatValue: 1.3,
      stringValue: "lets test this",
      boolean: true,
      datetime: "2019-03-29T12:00:00Z",
      duration: "0.001s",
      mapValue: { a: "first", z: "last" },
      collections: ["1", "2", "3"],
    });
    expect(protoDigest(Mock, msg)).toBe("YpWyLCP1NW0DVk3Hj64tK70H/9t+5fQlj7yyDK2lSEQ=");
  });

  it("partially filled message (Go: GhPMTKvJfUPHK8U3vEmoi/wdVBx7IQSPqyjGXAZzquI=)", () => {
    const msg = create(Mock, { integer: 18n, floatValue: 1.3, stringValue: "lets test this", boolean: true } as never);
    expect(protoDigest(Mock, msg)).toBe("GhPMTKvJfUPHK8U3vEmoi/wdVBx7IQSPqyjGXAZzquI=");
  });
});

describe("jsonpb rendering of well-known types", () => {
  it("renders Any, wrappers and float32 the way Go reads jsonpb output back", () => {
    const registry = createRegistry(DurationSchema, StructSchema);
    const dur = anyPack(DurationSchema, create(DurationSchema, { seconds: 1n, nanos: 500_000_000 }));
    expect(jsonpbValue(AnySchema, dur, registry)).toEqual({ "@type": "type.googleapis.com/google.protobuf.Duration", value: "1.500s" });
    const struct = anyPack(StructSchema, create(StructSchema, { fields: { k: { kind: { case: "boolValue", value: true } } } }));
    expect(jsonpbValue(AnySchema, struct, registry)).toEqual({ "@type": "type.googleapis.com/google.protobuf.Struct", value: { k: true } });
    expect(() => jsonpbValue(AnySchema, anyPack(Int64ValueSchema, create(Int64ValueSchema, { value: 5n })), registry)).toThrow(/cannot resolve/);
    expect(jsonpbValue(Int64ValueSchema, create(Int64ValueSchema, { value: 5n }))).toBe("5");
    // float32 0.1 is written as "0.1" by Go's json.Marshal and read back as the float64 0.1.
    expect(jsonpbValue(FloatValueSchema, create(FloatValueSchema, { value: Math.fround(0.1) }))).toBe(0.1);
    expect(jsonpbValue(DurationSchema, create(DurationSchema, { seconds: -2n, nanos: -5000 }))).toBe("-2.000005s");
  });
});

describe("TaskSpec digest", () => {
  const spec = () =>
    create(TaskSpecSchema, {
      taskTemplate: {
        id: { resourceType: 1, project: "p", domain: "d", name: "env.fn", version: "v1" },
        type: "python",
        metadata: { retries: { retries: 3 }, timeout: { seconds: 90n }, discoveryVersion: "" },
        config: { b: "2", a: "1" },
        custom: { n: 1.5, list: [true, "s"], none: null, nested: { k: "v" } },
      },
      shortName: "fn",
      environment: { name: "env", description: "desc" },
    });

  /** What jsonpb writes for spec(), typed by hand from the proto definitions. */
  const expectedJson = JSON.stringify({
    taskTemplate: {
      id: { resourceType: "TASK", project: "p", domain: "d", name: "env.fn", version: "v1" },
      type: "python",
      metadata: { retries: { retries: 3 }, timeout: "90s" },
      config: { a: "1", b: "2" },
      custom: { n: 1.5, list: [true, "s"], none: null, nested: { k: "v" } },
    },
    shortName: "fn",
    environment: { name: "env", description: "desc" },
  });

  it("equals the objecthash of the hand-written jsonpb JSON", () => {
    expect(taskSpecDigest(spec())).toBe(commonJsonHash(expectedJson).toString("base64"));
  });

  it("is pinned", () => {
    expect(taskSpecDigest(spec())).toBe(PINNED_TASK_SPEC_DIGEST);
    expect(taskSpecDigest(spec())).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it("changes with the content and ignores unset fields", () => {
    const a = spec();
    const b = spec();
    b.shortName = "other";
    expect(taskSpecDigest(a)).not.toBe(taskSpecDigest(b));
    const c = spec();
    c.documentation = undefined;
    c.defaultInputs = [];
    expect(taskSpecDigest(c)).toBe(taskSpecDigest(a));
  });

  it("TaskSpecStorer computes a spec's digest once and answers repeats from memory, never mixing specs up", () => {
    const storer = new TaskSpecStorer(2);
    const a = storer.toStored(spec());
    expect(a.digest).toBe(PINNED_TASK_SPEC_DIGEST);
    expect(fromBinary(TaskSpecSchema, a.spec)).toEqual(spec());
    expect(storer.toStored(spec()).digest).toBe(PINNED_TASK_SPEC_DIGEST);
    expect(storer.computed).toBe(1);
    const other = spec();
    other.shortName = "other";
    expect(storer.toStored(other).digest).toBe(taskSpecDigest(other));
    expect(storer.computed).toBe(2);
    // Bounded: a third spec pushes the oldest out, which is then computed again (and still right).
    const third = spec();
    third.shortName = "third";
    storer.toStored(third);
    expect(storer.toStored(spec()).digest).toBe(PINNED_TASK_SPEC_DIGEST);
    expect(storer.computed).toBe(4);
  });

  it("digests an empty TraceSpec like an empty object", () => {
    expect(traceSpecDigest(create(TraceSpecSchema, {}))).toBe(commonJsonHash("{}").toString("base64"));
    expect(traceSpecDigest(create(TraceSpecSchema, { interface: {} }))).toBe(
      commonJsonHash('{"interface":{}}').toString("base64"),
    );
  });
});

/** Recorded from the implementation after the two checks above agreed; guards against regressions. */
const PINNED_TASK_SPEC_DIGEST = "aJE3OyCEkDgXKQud/L4KOdnQ5HB9FtluHUG6zYtwYT0=";
