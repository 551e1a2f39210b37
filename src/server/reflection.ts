// gRPC server reflection (grpc.reflection.v1 and grpc.reflection.v1alpha).
//
// Lets tools such as `buf curl`, grpcurl and grpcui discover the services a
// server mounts and fetch their schemas without local .proto files. The schema
// comes from the descriptors protobuf-es embeds in the generated code.
//
// Behaviour follows grpc-go's reflection service:
//  - list_services: the fully-qualified names of the mounted services;
//  - file_by_filename / file_containing_symbol / file_containing_extension:
//    the serialized FileDescriptorProto of the file, followed by all of its
//    transitive dependencies (each file once per response), so that a client
//    can build the complete schema from a single answer;
//  - all_extension_numbers_of_type: the numbers of all known extensions of a
//    message;
//  - unknown names yield an error_response with code NOT_FOUND (5);
//  - every response echoes valid_host and original_request.
//
// A note on embedded descriptors: protobuf-es strips `json_name` (when it is
// the default lowerCamelCase form), `dependency` and `source_code_info` from
// the descriptors it embeds, and restores `json_name` and `dependency` when
// it hydrates them (@bufbuild/protobuf codegenv2 fileDesc()). The protos we
// serialize therefore carry explicit json_name values and complete import
// lists; only comments (source_code_info) are missing, which clients do not
// need. google/protobuf/descriptor.proto itself is "booted" from a reduced
// form (no file options, reserved ranges or some field options); it still
// describes every message and field, which is all clients need to decode.

import { create, createFileRegistry, toBinary } from "@bufbuild/protobuf";
import type {
  DescEnum,
  DescFile,
  DescMessage,
  DescService,
  FileRegistry,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  ServerReflection as ServerReflectionV1,
  ServerReflectionResponseSchema as ResponseV1Schema,
} from "#gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionRequest as RequestV1 } from "#gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionResponseSchema as ResponseV1AlphaSchema,
} from "#gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServerReflectionRequest as RequestV1Alpha } from "#gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The part of a reflection request (either version) that we act on. */
export interface ReflectionRequestLike {
  messageRequest:
    | {
        case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices";
        value: string;
      }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The answer to one reflection request, independent of the protocol version. */
export type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/** Version-independent reflection logic over a fixed set of services. */
export interface ReflectionIndex {
  /** Fully-qualified names of the listed services, sorted. */
  readonly serviceNames: readonly string[];
  /** Registry of every file reachable from the services (incl. WKTs). */
  readonly registry: FileRegistry;
  /** Answer one request. Throws ConnectError(InvalidArgument) for an empty request. */
  answer(req: ReflectionRequestLike): ReflectionAnswer;
}

/**
 * Build the reflection index for the given services: their files, all
 * transitive dependencies, and every fully-qualified symbol defined in them.
 */
export function createReflectionIndex(services: readonly DescService[]): ReflectionIndex {
  // Collect each service's file and its transitive imports, once per name,
  // imports first (a FileDescriptorSet must be topologically ordered).
  const protos = new Map<string, FileDescriptorProto>();
  const visiting = new Set<string>();
  const collect = (file: DescFile): void => {
    const name = file.proto.name;
    if (protos.has(name) || visiting.has(name)) return;
    visiting.add(name);
    file.dependencies.forEach(collect);
    protos.set(name, file.proto);
  };
  const serviceNames = new Set<string>();
  for (const svc of services) {
    serviceNames.add(svc.typeName);
    collect(svc.file);
  }
  const registry = createFileRegistry(
    create(FileDescriptorSetSchema, { file: [...protos.values()] }),
  );

  // Every fully-qualified symbol => file defining it (as protoregistry's
  // FindDescriptorByName in grpc-go: messages, fields, oneofs, enums, enum
  // values, extensions, services, methods).
  const symbols = new Map<string, DescFile>();
  for (const file of registry.files) indexFile(file, symbols);

  const encoded = new Map<string, Uint8Array>();
  const encode = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file.proto.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.proto.name, bytes);
    }
    return bytes;
  };

  // The file first, then its imports breadth-first (as grpc-go), each once.
  const withDependencies = (file: DescFile): ReflectionAnswer => {
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    const queue: DescFile[] = [file];
    for (let f = queue.shift(); f; f = queue.shift()) {
      if (seen.has(f.proto.name)) continue;
      seen.add(f.proto.name);
      out.push(encode(f));
      queue.push(...f.dependencies);
    }
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  };

  const notFound = (message: string): ReflectionAnswer => ({
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage: message },
  });

  const sortedNames = [...serviceNames].sort();

  const answer = (req: ReflectionRequestLike): ReflectionAnswer => {
    const r = req.messageRequest;
    switch (r.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: sortedNames.map((name) => ({ name })) } };
      case "fileByFilename": {
        const file = registry.getFile(r.value);
        return file ? withDependencies(file) : notFound(`file not found: ${r.value}`);
      }
      case "fileContainingSymbol": {
        const file = symbols.get(stripDot(r.value));
        return file ? withDependencies(file) : notFound(`symbol not found: ${r.value}`);
      }
      case "fileContainingExtension": {
        const typeName = stripDot(r.value.containingType);
        const message = registry.getMessage(typeName);
        const ext = message ? registry.getExtensionFor(message, r.value.extensionNumber) : undefined;
        return ext
          ? withDependencies(ext.file)
          : notFound(`extension not found: ${typeName} ${r.value.extensionNumber}`);
      }
      case "allExtensionNumbersOfType": {
        const typeName = stripDot(r.value);
        if (!registry.getMessage(typeName)) return notFound(`message type not found: ${r.value}`);
        const numbers: number[] = [];
        for (const desc of registry) {
          if (desc.kind === "extension" && desc.extendee.typeName === typeName) numbers.push(desc.number);
        }
        numbers.sort((a, b) => a - b);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: typeName, extensionNumber: numbers } };
      }
      default:
        throw new ConnectError("invalid reflection request: no message_request set", Code.InvalidArgument);
    }
  };

  return { serviceNames: sortedNames, registry, answer };
}

/**
 * Mount grpc.reflection.v1.ServerReflection and
 * grpc.reflection.v1alpha.ServerReflection on the router.
 *
 * `services` should be every service the server mounts (including
 * grpc.health.v1.Health when mounted); both reflection services are added to
 * the listing automatically since this function mounts them.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const all = [...services];
  for (const svc of [ServerReflectionV1, ServerReflectionV1Alpha] as DescService[]) {
    if (!all.some((s) => s.typeName === svc.typeName)) all.push(svc);
  }
  const index = createReflectionIndex(all);

  router.service(ServerReflectionV1, {
    async *serverReflectionInfo(requests: AsyncIterable<RequestV1>) {
      for await (const req of requests) {
        yield create(ResponseV1Schema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: index.answer(req),
        });
      }
    },
  });

  router.service(ServerReflectionV1Alpha, {
    async *serverReflectionInfo(requests: AsyncIterable<RequestV1Alpha>) {
      for await (const req of requests) {
        yield create(ResponseV1AlphaSchema, {
          validHost: req.host,
          originalRequest: req,
          messageResponse: index.answer(req),
        });
      }
    },
  });
}

function stripDot(name: string): string {
  return name.startsWith(".") ? name.slice(1) : name;
}

function indexFile(file: DescFile, symbols: Map<string, DescFile>): void {
  const pkgPrefix = file.proto.package ? `${file.proto.package}.` : "";
  const add = (name: string) => {
    if (!symbols.has(name)) symbols.set(name, file);
  };
  const addEnum = (e: DescEnum) => {
    add(e.typeName);
    // Enum values are scoped as siblings of their enum (C++ scoping rules).
    const scope = e.parent ? `${e.parent.typeName}.` : pkgPrefix;
    for (const v of e.values) add(scope + v.name);
  };
  const addMessage = (m: DescMessage) => {
    add(m.typeName);
    for (const f of m.fields) add(`${m.typeName}.${f.name}`);
    // From the proto, so that synthetic proto3-optional oneofs count too.
    for (const o of m.proto.oneofDecl) add(`${m.typeName}.${o.name}`);
    for (const x of m.nestedExtensions) add(x.typeName);
    m.nestedEnums.forEach(addEnum);
    m.nestedMessages.forEach(addMessage);
  };
  for (const s of file.services) {
    add(s.typeName);
    for (const m of s.methods) add(`${s.typeName}.${m.name}`);
  }
  file.messages.forEach(addMessage);
  file.enums.forEach(addEnum);
  for (const x of file.extensions) add(x.typeName);
}
