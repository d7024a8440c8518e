// Reads a request body, keeping at most the limit in memory.
import type { IncomingMessage } from 'node:http';

export type Body =
  | { kind: 'bytes'; bytes: Buffer }
  /** Over the limit: what was read is dropped, the rest is left to Node, which discards it. */
  | { kind: 'too-large' }
  /** The client went away (or the stream failed) before the end of the body. */
  | { kind: 'closed' };

const TOO_LARGE: Body = { kind: 'too-large' };
const CLOSED: Body = { kind: 'closed' };

/** `limit` in bytes; 0 or undefined means none, as tRPC's `maxBodySize`. */
export function readBody(req: IncomingMessage, limit: number | undefined): Promise<Body> {
  const max = limit || Infinity;
  // A declared length over the limit is refused before reading a byte; a chunked body is counted as it comes.
  if (Number(req.headers['content-length']) > max) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: Body): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClosed);
      req.off('close', onClosed);
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) finish(TOO_LARGE);
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: 'bytes', bytes: Buffer.concat(chunks, size) });
    const onClosed = (): void => finish(CLOSED);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onClosed);
    req.on('close', onClosed);
  });
}

const decoder = new TextDecoder();

/**
 * The body's text as fetch's `Request.json()` (undici) reads it, which is what tRPC's handler parses: one
 * leading UTF-8 byte order mark dropped, then decoded with the replacement character for malformed bytes
 * (TextDecoder, which drops a second mark).
 */
export function bodyText(bytes: Buffer): string {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return decoder.decode(start === 0 ? bytes : bytes.subarray(start));
}
