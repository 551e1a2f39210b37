import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A local S3-compatible server for tests: s3rver (the maintained
 * @20minutes fork), a Koa HTTP server that speaks the S3 REST API, checks
 * SigV2/SigV4 signatures and keeps objects in a folder. It listens on
 * 127.0.0.1 on a free port, with its data in a fresh temp folder.
 */

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  /** Off: the Host header never names a bucket, so only path-style requests (`/bucket/key`) find one. */
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
  allowMismatchedSignatures: boolean;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
}
interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}

const require = createRequire(import.meta.url);
const S3rver = require("@20minutes/s3rver") as new (options: S3rverOptions) => S3rverInstance;
const { DUMMY_ACCOUNT } = require("@20minutes/s3rver/lib/models/account.js") as { DUMMY_ACCOUNT: AwsAccount };

export interface SeenRequest {
  method: string;
  host: string;
  url: string;
  authorization: string;
}

export interface TestS3Server {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Every request the server received, in order. */
  requests: SeenRequest[];
  stop(): Promise<void>;
}

export interface S3ServerOptions {
  /** Buckets that exist from the start. */
  buckets?: string[];
  /**
   * Accept requests whose signature does not match (s3rver still requires a
   * known access key). Needed only for bucket-level calls: s3rver signs the
   * bucket path without the trailing slash the SDK sends ("/bucket/").
   */
  allowMismatchedSignatures?: boolean;
}

/** Starts a fresh server with the given buckets and one key pair of its own. */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<TestS3Server> {
  const directory = mkdtempSync(join(tmpdir(), "runs-s3-"));
  const accessKeyId = `test-${process.pid}-${Date.now()}`;
  const secretAccessKey = "test-secret-key";
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
    allowMismatchedSignatures: opts.allowMismatchedSignatures ?? false,
  });
  const address = await server.run();
  const requests: SeenRequest[] = [];
  server.httpServer.on("request", (req: IncomingMessage) => {
    requests.push({
      method: req.method ?? "",
      host: req.headers.host ?? "",
      url: req.url ?? "",
      authorization: String(req.headers.authorization ?? ""),
    });
  });

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId,
    secretAccessKey,
    requests,
    async stop() {
      server.httpServer.closeAllConnections?.();
      await server.close();
      DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
