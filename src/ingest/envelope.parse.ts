// Sentry's envelope wire format (spec §2.1): a JSON header line, then items, each a JSON header
// line and a payload that is `length` bytes long, or runs to the next newline when `length` is
// absent. Only a broken frame fails the whole envelope; a bad payload is the item's problem.
//
// The parser is fed chunk by chunk as the body arrives and keeps only the payloads of the item
// types it is asked for: an envelope of events and attachments costs a scan, not its size in
// memory. It can stop after the envelope header, so that the header's `dsn` authenticates the
// request before the rest is read.

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
  /** The items of the kept types, in order. */
  items: EnvelopeItem[];
  /** Items of the kept types whose payload passed `maxItemBytes`: skipped, not kept. */
  oversized: number;
}

/** A broken frame: 400. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** Too large (a header line, an item's length, too many kept items): 413. */
export class EnvelopeSizeError extends Error {
  override name = 'EnvelopeSizeError';
}

export interface ParserOptions {
  /** Item types whose payloads are kept; the others are skipped by length or to their newline. */
  keep: (type: string) => boolean;
  /** The whole envelope's limit, so that an item `length` past it is refused at once. */
  maxBytes: number;
  /** Longest envelope or item header line. */
  maxLineBytes: number;
  /** Longest kept payload; a longer one is skipped and counted in `oversized`. */
  maxItemBytes: number;
  /** Most kept items per envelope (Relay's 100 session items). */
  maxItems: number;
  /** Called with the bytes of each kept payload before it is copied; may throw to refuse it. */
  retain: (bytes: number) => void;
}

type State = 'header' | 'itemHeader' | 'lengthPayload' | 'afterPayload' | 'linePayload';

export class EnvelopeParser {
  header: EnvelopeHeader | null = null;
  private readonly items: EnvelopeItem[] = [];
  private oversized = 0;
  private state: State = 'header';
  private position = 0;
  /** A header line that spans chunks, in parts. */
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** The item whose payload is being read. */
  private itemType = '';
  private keeping = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private remaining = 0;
  /** What came after the envelope header, held until `resume()`. */
  private held: Buffer | null = null;
  private pausedAfterHeader: boolean;

  constructor(
    private readonly options: ParserOptions,
    { pauseAfterHeader = false } = {},
  ) {
    this.pausedAfterHeader = pauseAfterHeader;
  }

  /** Parses `chunk`; when paused after the header, keeps what follows it for `resume()`. */
  feed(chunk: Buffer): void {
    if (this.held) {
      this.held = Buffer.concat([this.held, chunk]);
      return;
    }
    this.parse(chunk, 0);
  }

  /** Goes on past the envelope header, with what arrived after it. */
  resume(): void {
    this.pausedAfterHeader = false;
    const held = this.held;
    this.held = null;
    if (held) this.parse(held, 0);
  }

  /** Ends the body: completes a last line or payload, or finds the frame cut short. */
  end(): Envelope {
    if (this.held) this.resume();
    switch (this.state) {
      case 'header':
        if (this.lineBytes === 0) throw new EnvelopeError('empty envelope');
        this.completeLine();
        break;
      case 'itemHeader':
        if (this.lineBytes > 0) {
          this.completeLine();
          // A header at the very end: its payload is empty, which only a length of 0 allows.
          this.parse(Buffer.alloc(0), 0);
          // completeLine() moved on from the item header (TypeScript keeps the narrowed state).
          const next = this.state as State;
          if (next === 'lengthPayload') {
            throw new EnvelopeError(
              `item ${this.itemNumber()} is truncated: length says ${this.remaining} bytes`,
            );
          }
          if (next === 'linePayload') this.finishItem();
        }
        break;
      case 'lengthPayload':
        throw new EnvelopeError(`item ${this.itemNumber()} is truncated`);
      case 'linePayload':
        this.finishItem();
        break;
      case 'afterPayload':
        break;
    }
    if (!this.header) throw new EnvelopeError('empty envelope');
    return { header: this.header, items: this.items, oversized: this.oversized };
  }

  private itemCount = 0;

  private itemNumber(): number {
    return this.itemCount;
  }

  private parse(chunk: Buffer, from: number): void {
    let at = from;
    const length = chunk.length;
    while (at < length) {
      switch (this.state) {
        case 'header':
        case 'itemHeader': {
          const newline = chunk.indexOf(NEWLINE, at);
          const end = newline === -1 ? length : newline;
          if (this.lineBytes + end - at > this.options.maxLineBytes) {
            throw new EnvelopeSizeError(
              `${this.state === 'header' ? 'envelope' : 'item'} header exceeds ${this.options.maxLineBytes} bytes`,
            );
          }
          if (end > at) {
            this.line.push(chunk.subarray(at, end));
            this.lineBytes += end - at;
          }
          this.position += end - at;
          if (newline === -1) return;
          at = newline + 1;
          this.position += 1;
          // Blank lines between items carry nothing.
          if (this.state === 'itemHeader' && this.lineBytes === 0) continue;
          this.completeLine();
          if (this.header && this.pausedAfterHeader && this.state === 'itemHeader') {
            this.held = chunk.subarray(at);
            return;
          }
          break;
        }
        case 'lengthPayload': {
          const take = Math.min(this.remaining, length - at);
          if (this.keeping) this.keepPart(chunk, at, at + take);
          this.remaining -= take;
          this.position += take;
          at += take;
          if (this.remaining === 0) {
            this.finishItem();
            this.state = 'afterPayload';
          }
          break;
        }
        case 'afterPayload': {
          if (chunk[at] !== NEWLINE) {
            throw new EnvelopeError(`item ${this.itemNumber()} is longer than its length`);
          }
          at += 1;
          this.position += 1;
          this.state = 'itemHeader';
          break;
        }
        case 'linePayload': {
          const newline = chunk.indexOf(NEWLINE, at);
          const end = newline === -1 ? length : newline;
          if (this.keeping) {
            if (this.partBytes + end - at > this.options.maxItemBytes) this.dropOversized();
            else this.keepPart(chunk, at, end);
          }
          this.position += end - at;
          if (newline === -1) return;
          at = newline + 1;
          this.position += 1;
          this.finishItem();
          this.state = 'itemHeader';
          break;
        }
      }
    }
    // A zero-length payload completes without a byte of it arriving.
    if (this.state === 'lengthPayload' && this.remaining === 0) {
      this.finishItem();
      this.state = 'afterPayload';
    }
  }

  /** Parses the header line just read and moves to what follows it. */
  private completeLine(): void {
    const bytes =
      this.line.length === 1 ? (this.line[0] as Buffer) : Buffer.concat(this.line, this.lineBytes);
    this.line = [];
    this.lineBytes = 0;
    if (this.state === 'header') {
      this.header = parseHeader(bytes, 'envelope header');
      this.state = 'itemHeader';
      return;
    }
    this.itemCount += 1;
    const { type, length } = parseItemHeader(bytes, this.itemCount);
    this.itemType = type;
    this.keeping = this.options.keep(type);
    if (this.keeping && this.items.length + this.oversized >= this.options.maxItems) {
      throw new EnvelopeSizeError(
        `too many ${type} items: at most ${this.options.maxItems} per envelope`,
      );
    }
    if (length === undefined) {
      this.state = 'linePayload';
      return;
    }
    if (this.position + length > this.options.maxBytes) {
      throw new EnvelopeSizeError(`envelope exceeds ${this.options.maxBytes} bytes`);
    }
    if (this.keeping && length > this.options.maxItemBytes) this.dropOversized();
    this.remaining = length;
    this.state = 'lengthPayload';
  }

  private keepPart(chunk: Buffer, from: number, to: number): void {
    if (to === from) return;
    this.options.retain(to - from);
    // A copy: a view would hold the whole chunk for a payload of a few hundred bytes.
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
    this.partBytes += to - from;
  }

  /** The kept payload passed its limit: skip the rest and count the item. */
  private dropOversized(): void {
    this.keeping = false;
    this.parts = [];
    this.partBytes = 0;
    this.oversized += 1;
  }

  private finishItem(): void {
    if (this.keeping) {
      const payload =
        this.parts.length === 1
          ? (this.parts[0] as Buffer)
          : Buffer.concat(this.parts, this.partBytes);
      this.items.push({ type: this.itemType, payload });
    }
    this.keeping = false;
    this.parts = [];
    this.partBytes = 0;
  }
}

// The headers SDKs write, matched without JSON.parse: an envelope of many small items that
// Vigil skips is mostly header lines, and JSON.parse took most of its time.
const SIMPLE_ITEM_HEADER = /^\{"type":"([a-z_]{1,32})"(?:,"length":(0|[1-9]\d{0,14}))?\}$/;

function parseItemHeader(bytes: Buffer, n: number): { type: string; length: number | undefined } {
  if (bytes.length <= 64) {
    const simple = SIMPLE_ITEM_HEADER.exec(bytes.toString('latin1'));
    if (simple) {
      return { type: simple[1] as string, length: simple[2] ? Number(simple[2]) : undefined };
    }
  }
  const { type, length } = parseHeader(bytes, `item ${n} header`);
  if (typeof type !== 'string' || type === '') {
    throw new EnvelopeError(`item ${n} header has no type`);
  }
  if (length === undefined || length === null) return { type, length: undefined };
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new EnvelopeError(`item ${n} has an invalid length`);
  }
  return { type, length };
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
