/** Test helpers: split raw SSE text into comments and data payloads (tests only). */

export interface RawEvent {
  kind: 'comment' | 'data';
  text: string;
}

/** Splits well-formed SSE text (LF line endings, one field per event) into events. */
export function rawEvents(raw: string): RawEvent[] {
  return raw
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      if (block.startsWith(':')) return { kind: 'comment', text: block.slice(1).trim() };
      if (!block.startsWith('data: ')) throw new Error(`unexpected SSE block: ${block}`);
      return { kind: 'data', text: block.slice('data: '.length) };
    });
}

/** The JSON chunks of a raw stream (without comments and `[DONE]`). */
export function jsonChunks(raw: string): Record<string, unknown>[] {
  return rawEvents(raw)
    .filter((e) => e.kind === 'data' && e.text !== '[DONE]')
    .map((e) => JSON.parse(e.text) as Record<string, unknown>);
}
