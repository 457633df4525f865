import { Readable } from 'node:stream';
import zlib from 'node:zlib';

// A request body as a stream of decoded chunks, within a size limit before and after
// decompression (spec §2.5). Nothing here holds more than a chunk: inflating streams, so a
// compression bomb costs CPU up to the limit, never memory, and is refused the moment it passes.

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

const decoders = {
  gzip: zlib.createGunzip,
  'x-gzip': zlib.createGunzip,
  deflate: zlib.createInflate,
  br: zlib.createBrotliDecompress,
} as const;

type Encoding = keyof typeof decoders | 'identity';

/** The body's encoding, checked before anything is read; `415` when Vigil cannot decode it. */
export function bodyEncoding(request: Request): Encoding {
  const encoding = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
  // sentry-ruby sends an empty encoding and old Android SDKs "UTF-8", as Relay tolerates.
  if (encoding === '' || encoding === 'identity' || encoding === 'utf-8') return 'identity';
  if (encoding in decoders) return encoding as Encoding;
  throw new BodyError(415, `unsupported content encoding: ${encoding}`);
}

/**
 * The decoded body, chunk by chunk. When the caller stops early, decoding stops and the rest of
 * the raw body is read and dropped.
 */
export async function* bodyChunks(request: Request, maxBytes: number): AsyncGenerator<Buffer> {
  const encoding = bodyEncoding(request);
  const declared = Number(request.headers.get('content-length'));
  if (declared > maxBytes) throw new BodyError(413, `envelope exceeds ${maxBytes} bytes`);
  if (!request.body) return;
  const raw = rawChunks(request.body, maxBytes);
  if (encoding === 'identity') {
    yield* raw;
    return;
  }
  const input = Readable.from(raw, { objectMode: false });
  const decoder = decoders[encoding]();
  // The limit's error comes from reading the raw body; the decoder reports it.
  input.on('error', (error) => decoder.destroy(error));
  input.pipe(decoder);
  let size = 0;
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new BodyError(413, `envelope exceeds ${maxBytes} bytes once decompressed`);
      }
      yield chunk;
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError(400, `body is not valid ${encoding}`);
  } finally {
    input.destroy();
    decoder.destroy();
  }
}

async function* rawChunks(body: ReadableStream<Uint8Array>, maxBytes: number) {
  const reader = body.getReader();
  let size = 0;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      size += value.byteLength;
      if (size > maxBytes) {
        finished = true;
        // Past the limit the connection is not worth keeping: stop the upload.
        await reader.cancel().catch(() => {});
        throw new BodyError(413, `envelope exceeds ${maxBytes} bytes`);
      }
      yield Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  } finally {
    // Refused before its end: read the rest without decoding or keeping it, in the background,
    // so that the answer reaches the client and its connection can be used again.
    if (!finished) void discardRest(reader, maxBytes - size);
  }
}

async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, allowed: number) {
  try {
    for (let left = allowed; left >= 0; ) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to read.
  }
}

/** The decoded body whole, for a route that needs all of it: `maxBytes` at most, 413 past it. */
export async function readBody(request: Request, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bodyChunks(request, maxBytes)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads the body to its end within `maxBytes`, keeping none of it; its decoded size. */
export async function drainBody(request: Request, maxBytes: number): Promise<number> {
  let size = 0;
  for await (const chunk of bodyChunks(request, maxBytes)) size += chunk.length;
  return size;
}
