import { promisify } from 'node:util';
import zlib from 'node:zlib';

// Reads a request body within a size limit, before and after decompression (spec §2.5).

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

const decoders = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
} as const;

export async function readBody(request: Request, maxBytes: number): Promise<Buffer> {
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && !(encoding in decoders)) {
    throw new BodyError(415, `unsupported content encoding: ${encoding}`);
  }
  const raw = await readLimited(request, maxBytes);
  if (encoding === 'identity') return raw;
  try {
    return await decoders[encoding as keyof typeof decoders](raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (
      error instanceof RangeError ||
      (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
    ) {
      throw new BodyError(413, `envelope exceeds ${maxBytes} bytes once decompressed`);
    }
    throw new BodyError(400, `body is not valid ${encoding}`);
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length'));
  if (declared > maxBytes) throw new BodyError(413, `envelope exceeds ${maxBytes} bytes`);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyError(413, `envelope exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
