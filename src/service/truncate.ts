/** Byte limits the reference applies to descriptions before storing them. */
export const MAX_SHORT_DESCRIPTION_BYTES = 255;
export const MAX_LONG_DESCRIPTION_BYTES = 2048;

/**
 * Cuts `text` to at most `maxBytes` bytes of UTF-8, never inside a character
 * (the reference slices bytes and can split one).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}
