// Unit tests for the response rewrite on shapes the live server rarely
// produces (compressed error bodies, trailers-only gRPC responses).
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  isRequestParseError,
  rewriteParseErrorResponse,
  wireProtocolOf,
} from "../../src/server/parse-error-code.js";
import { envelope, parseEnvelopes, parseGrpcWebTrailer } from "./http-test-utils.js";

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}
async function drain(res: UniversalServerResponse): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of res.body ?? chunks()) out.push(c);
  return Buffer.concat(out);
}
const notReached = () => ({ implementationReached: false });
const PARSE_MSG = "parse binary: premature EOF";

describe("wireProtocolOf", () => {
  it.each([
    ["application/json", "connect-unary"],
    ["application/proto", "connect-unary"],
    [null, "connect-unary"],
    ["application/connect+proto", "connect-stream"],
    ["application/grpc", "grpc"],
    ["application/grpc+proto", "grpc"],
    ["application/grpc-web", "grpc-web"],
    ["application/grpc-web+json", "grpc-web"],
  ] as const)("%s ⇒ %s", (ct, expected) => {
    expect(wireProtocolOf(ct)).toBe(expected);
  });
});

describe("isRequestParseError", () => {
  it("matches only Internal errors starting with 'parse binary:'", () => {
    expect(isRequestParseError(new ConnectError(PARSE_MSG, Code.Internal))).toBe(true);
    expect(isRequestParseError(new ConnectError(PARSE_MSG, Code.Unknown))).toBe(false);
    expect(isRequestParseError(new ConnectError("serialize binary: x", Code.Internal))).toBe(false);
    expect(isRequestParseError(new Error(PARSE_MSG))).toBe(false);
  });
});

describe("rewriteParseErrorResponse", () => {
  it("rewrites a gzip-compressed Connect unary error body", async () => {
    const json = Buffer.from(JSON.stringify({ code: "internal", message: PARSE_MSG }));
    const res = await rewriteParseErrorResponse(
      {
        status: 500,
        header: new Headers({ "content-type": "application/json", "content-encoding": "gzip" }),
        body: chunks(zlib.gzipSync(json)),
      },
      "application/proto",
      notReached(),
    );
    expect(res.status).toBe(400);
    expect(res.header?.get("content-encoding")).toBeNull();
    const body = await drain(res);
    expect(res.header?.get("content-length")).toBe(String(body.length));
    expect(JSON.parse(body.toString())).toEqual({ code: "invalid_argument", message: PARSE_MSG });
  });

  it("keeps other Connect unary errors byte for byte", async () => {
    const json = Buffer.from(JSON.stringify({ code: "internal", message: "boom" }));
    const res = await rewriteParseErrorResponse(
      { status: 500, header: new Headers({ "content-type": "application/json" }), body: chunks(json) },
      "application/json",
      notReached(),
    );
    expect(res.status).toBe(500);
    expect((await drain(res)).equals(json)).toBe(true);
  });

  it("leaves responses alone once the implementation was reached", async () => {
    const json = Buffer.from(JSON.stringify({ code: "internal", message: PARSE_MSG }));
    const original: UniversalServerResponse = {
      status: 500,
      header: new Headers({ "content-type": "application/json" }),
      body: chunks(json),
    };
    const res = await rewriteParseErrorResponse(original, "application/proto", { implementationReached: true });
    expect(res).toBe(original);
  });

  it("rewrites grpc-status in a trailers-only gRPC response and in trailers", async () => {
    const header = new Headers({
      "content-type": "application/grpc",
      "grpc-status": "13",
      "grpc-message": encodeURIComponent(PARSE_MSG),
    });
    const trailer = new Headers({ "grpc-status": "0" });
    const res = await rewriteParseErrorResponse(
      { status: 200, header, body: chunks(), trailer },
      "application/grpc",
      notReached(),
    );
    await drain(res);
    expect(res.header?.get("grpc-status")).toBe("3");

    const trailer2 = new Headers();
    const res2 = await rewriteParseErrorResponse(
      {
        status: 200,
        header: new Headers({ "content-type": "application/grpc" }),
        body: (async function* () {
          // the protocol handler fills the trailer while the body is produced
          trailer2.set("grpc-status", "13");
          trailer2.set("grpc-message", encodeURIComponent(PARSE_MSG));
        })(),
        trailer: trailer2,
      },
      "application/grpc+proto",
      notReached(),
    );
    await drain(res2);
    expect(trailer2.get("grpc-status")).toBe("3");
    expect(decodeURIComponent(trailer2.get("grpc-message") ?? "")).toBe(PARSE_MSG);
  });

  it("rewrites a compressed gRPC-Web trailer frame split across chunks", async () => {
    const text = `grpc-status: 13\r\ngrpc-message: ${encodeURIComponent(PARSE_MSG)}\r\n`;
    const frame = envelope(0x81, zlib.gzipSync(Buffer.from(text)));
    const res = await rewriteParseErrorResponse(
      {
        status: 200,
        header: new Headers({ "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip" }),
        body: chunks(frame.subarray(0, 3), frame.subarray(3)),
      },
      "application/grpc-web+proto",
      notReached(),
    );
    const frames = parseEnvelopes(await drain(res));
    expect(frames).toHaveLength(1);
    expect(frames[0].flags).toBe(0x80);
    const t = parseGrpcWebTrailer(frames[0].data);
    expect(t["grpc-status"]).toBe("3");
    expect(decodeURIComponent(t["grpc-message"])).toBe(PARSE_MSG);
  });

  it("keeps gRPC-Web trailers with another status unchanged", async () => {
    const frame = envelope(0x80, Buffer.from("grpc-status: 5\r\ngrpc-message: nope\r\n"));
    const res = await rewriteParseErrorResponse(
      { status: 200, header: new Headers(), body: chunks(frame) },
      "application/grpc-web",
      notReached(),
    );
    expect((await drain(res)).equals(frame)).toBe(true);
  });
});
