// Sentry's envelope wire format (spec §2.1): a JSON header line, then items, each a JSON header
// line and a payload that is `length` bytes long, or runs to the next newline when `length` is
// absent. Only a broken frame fails the whole envelope; a bad payload is the item's problem.

const NEWLINE = 0x0a;

export interface EnvelopeHeader {
  sent_at?: unknown;
  event_id?: unknown;
  dsn?: unknown;
  [key: string]: unknown;
}

export interface EnvelopeItem {
  type: string;
  payload: Buffer;
}

export interface Envelope {
  header: EnvelopeHeader;
  items: EnvelopeItem[];
}

export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

export function parseEnvelope(body: Buffer): Envelope {
  if (body.length === 0) throw new EnvelopeError('empty envelope');
  let end = lineEnd(body, 0);
  const header = parseHeader(body.subarray(0, end), 'envelope header');
  const items: EnvelopeItem[] = [];
  let at = end + 1;
  while (at < body.length) {
    end = lineEnd(body, at);
    // A trailing newline, or blank lines between items, carry nothing.
    if (end === at) {
      at += 1;
      continue;
    }
    const itemHeader = parseHeader(body.subarray(at, end), `item ${items.length + 1} header`);
    const { type, length } = itemHeader;
    if (typeof type !== 'string' || type === '') {
      throw new EnvelopeError(`item ${items.length + 1} header has no type`);
    }
    at = end + 1;
    let payload: Buffer;
    if (length === undefined || length === null) {
      end = lineEnd(body, at);
      payload = body.subarray(at, end);
      at = end + 1;
    } else {
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
        throw new EnvelopeError(`item ${items.length + 1} has an invalid length`);
      }
      if (at + length > body.length) {
        throw new EnvelopeError(
          `item ${items.length + 1} is truncated: length says ${length} bytes`,
        );
      }
      payload = body.subarray(at, at + length);
      at += length;
      if (at < body.length && body[at] !== NEWLINE) {
        throw new EnvelopeError(`item ${items.length + 1} is longer than its length of ${length}`);
      }
      at += 1;
    }
    items.push({ type, payload });
  }
  return { header, items };
}

function lineEnd(body: Buffer, from: number): number {
  const i = body.indexOf(NEWLINE, from);
  return i === -1 ? body.length : i;
}

function parseHeader(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new EnvelopeError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvelopeError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
