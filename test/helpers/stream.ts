/** One server-sent event of the live stream, its data as sent. */
export interface StreamEvent {
  type: string;
  data: string;
}

/**
 * Subscribes to GET /api/v1/stream as a token holder and records every event it receives:
 * `received` gathers the ids of `incidents` events, `events` keeps each event as sent.
 */
export async function openStream(url: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/stream`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  const received: number[] = [];
  const events: StreamEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!type || data === undefined) continue;
          events.push({ type, data });
          if (type === 'incidents') received.push(...(JSON.parse(data) as { ids: number[] }).ids);
        }
      }
    } catch {
      /* aborted */
    }
  })();
  /** The ids named by events of this type. */
  const idsOf = (type: string) => events.filter((e) => e.type === type).flatMap((e) => (JSON.parse(e.data) as { ids: number[] }).ids);
  return { res, received, events, idsOf, close: () => controller.abort() };
}
