export interface ReceivedEvent {
  event: string;
  // Test code reads fields freely; the schema tests check shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

/**
 * Posts a message over a real socket and yields the backend's SSE events as they
 * arrive. Our backend writes one `event:` and one `data:` line per event.
 */
export async function* postMessage(
  baseUrl: string,
  cookie: string,
  conversationId: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): AsyncGenerator<ReceivedEvent> {
  const response = await fetch(`${baseUrl}/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok || !response.body) {
    throw new Error(`expected a stream, got ${response.status}: ${await response.text()}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue;
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      yield { event, data: data === undefined ? null : JSON.parse(data) };
    }
  }
}

export async function collect(events: AsyncIterable<ReceivedEvent>): Promise<ReceivedEvent[]> {
  const all: ReceivedEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}
