import { InvalidBlobUriError } from "./blob-store.js";

export interface ParsedUri {
  /** Lower-cased scheme; "file" for a plain absolute path. */
  scheme: string;
  /** What stands between `//` and the next `/` (the bucket for s3://); "" for none. */
  authority: string;
  /** The rest, still percent-encoded; starts with "/" unless empty. */
  path: string;
}

const SCHEME_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/s;

/** Splits `scheme://authority/path`; a plain absolute path counts as file://. */
export function parseUri(uri: string): ParsedUri {
  if (uri.startsWith("/")) return { scheme: "file", authority: "", path: uri };
  const match = SCHEME_URI.exec(uri);
  if (!match) throw new InvalidBlobUriError(uri, "expected scheme://… or an absolute path");
  return { scheme: match[1].toLowerCase(), authority: match[2], path: match[3] };
}

/** Percent-decodes one URI component, refusing malformed escapes. */
export function decodeComponent(uri: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidBlobUriError(uri, "malformed percent-encoding");
  }
}

/** `s3://bucket/key` → bucket and decoded key (leading and trailing slashes trimmed, as the reference does). */
export function parseBucketKey(uri: string): { bucket: string; key: string } {
  const { authority, path } = parseUri(uri);
  // Like the reference, ignore any user-info before the bucket (s3://id:secret@bucket/key).
  const bucket = authority.slice(authority.lastIndexOf("@") + 1);
  if (bucket === "") throw new InvalidBlobUriError(uri, "no bucket");
  const key = decodeComponent(uri, path).replace(/^\/+|\/+$/g, "");
  if (key === "") throw new InvalidBlobUriError(uri, "no object key");
  return { bucket, key };
}
