import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import {
  BlobNotFoundError,
  BlobTooLargeError,
  InvalidBlobUriError,
  checkSize,
  effectiveLimit,
  wrapError,
  type ClosableBlobStore,
  type ReadOptions,
} from "./blob-store.js";
import type { S3Settings } from "./s3-settings.js";
import { parseBucketKey } from "./uri.js";

/** An S3 client for the given settings (the official AWS SDK v3). */
export function createS3Client(settings: S3Settings): S3Client {
  const custom = settings.endpoint !== undefined;
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      settings.credentials.kind === "static"
        ? {
            accessKeyId: settings.credentials.accessKeyId,
            secretAccessKey: settings.credentials.secretAccessKey,
            sessionToken: settings.credentials.sessionToken,
          }
        : undefined,
    // S3-compatible servers do not all accept the SDK's default (optional)
    // CRC checksums; against them send and verify checksums only when an
    // operation requires it.
    requestChecksumCalculation: custom ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
    responseChecksumValidation: custom ? "WHEN_REQUIRED" : "WHEN_SUPPORTED",
  });
}

export interface S3BlobStoreOptions {
  client: S3Client;
  logger: Logger;
  /** Region used as the LocationConstraint when a missing bucket is created. */
  region: string;
  /** Read limit in bytes; 0 (the default) means none. */
  maxBytes?: number;
  /**
   * storage.container. When set and `multiContainer` is off, URIs naming any
   * other bucket are refused, as in the reference.
   */
  container?: string;
  multiContainer?: boolean;
}

interface AwsErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function errorName(error: unknown): string | undefined {
  return (error as AwsErrorShape | undefined)?.name;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  if (name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket") return true;
  return (error as AwsErrorShape | undefined)?.$metadata?.httpStatusCode === 404;
}

type BodyStream = AsyncIterable<Uint8Array> & { destroy?: () => void };

/** `s3://bucket/key` objects through an S3 (or S3-compatible) API. */
export function createS3BlobStore(opts: S3BlobStoreOptions): ClosableBlobStore {
  const { client, logger } = opts;
  const storeLimit = opts.maxBytes ?? 0;
  const container = opts.container ?? "";

  function locate(uri: string): { bucket: string; key: string } {
    const located = parseBucketKey(uri);
    if (container !== "" && !opts.multiContainer && located.bucket !== container) {
      throw new InvalidBlobUriError(
        uri,
        `bucket ${located.bucket} is not storage.container (${container}); set storage.enable-multicontainer to use other buckets`,
      );
    }
    return located;
  }

  async function createBucket(bucket: string): Promise<void> {
    const constraint = opts.region !== "" && opts.region !== "us-east-1" ? opts.region : undefined;
    try {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: constraint
            ? { LocationConstraint: constraint as BucketLocationConstraint }
            : undefined,
        }),
      );
      logger.info({ bucket }, "created missing bucket");
    } catch (error) {
      // A concurrent write created it first. (Some servers say BucketAlreadyExists
      // even to the owner; if someone else owns it, the retried put fails instead.)
      const name = errorName(error);
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw error;
    }
  }

  async function put(bucket: string, key: string, data: Uint8Array): Promise<void> {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.byteLength }));
  }

  return {
    async write(uri, data) {
      const { bucket, key } = locate(uri);
      try {
        try {
          await put(bucket, key, data);
        } catch (error) {
          // Like the reference: a write to a missing bucket creates it (and, unlike it, then retries).
          if (errorName(error) !== "NoSuchBucket") throw error;
          await createBucket(bucket);
          await put(bucket, key, data);
        }
        logger.debug({ uri, bytes: data.byteLength }, "wrote object");
      } catch (error) {
        throw wrapError("write", uri, error);
      }
    },

    async read(uri, readOpts?: ReadOptions) {
      const { bucket, key } = locate(uri);
      const limit = effectiveLimit(readOpts, storeLimit);
      let body: BodyStream | undefined;
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        body = response.Body as unknown as BodyStream | undefined;
        if (response.ContentLength !== undefined) checkSize(uri, response.ContentLength, limit);
        const chunks: Uint8Array[] = [];
        let total = 0;
        if (body) {
          for await (const chunk of body) {
            total += chunk.byteLength;
            if (limit > 0 && total > limit) throw new BlobTooLargeError(uri, total, limit);
            chunks.push(chunk);
          }
        }
        const out = new Uint8Array(total);
        let offset = 0;
        for (const chunk of chunks) {
          out.set(chunk, offset);
          offset += chunk.byteLength;
        }
        return out;
      } catch (error) {
        body?.destroy?.();
        if (isNotFound(error)) throw new BlobNotFoundError(uri, { cause: error });
        throw wrapError("read", uri, error);
      }
    },

    async exists(uri) {
      const { bucket, key } = locate(uri);
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw wrapError("check", uri, error);
      }
    },

    close() {
      client.destroy();
    },
  };
}
