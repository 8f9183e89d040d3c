import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

/**
 * Listens to the server's incident feed and refetches what changed: the lists, and the pages of
 * the incidents named. EventSource reconnects by itself after a network failure.
 */
export function useLiveIncidents(enabled: boolean): boolean {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource('/api/v1/stream');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('incidents', (event) => {
      const { ids } = JSON.parse((event as MessageEvent<string>).data) as { ids: number[] };
      void client.invalidateQueries({ queryKey: ['queue'] });
      void client.invalidateQueries({ queryKey: ['mine'] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
      for (const id of ids) void client.invalidateQueries({ queryKey: ['incident', id] });
    });
    return () => {
      source.close();
      setConnected(false);
    };
  }, [enabled, client]);
  return connected;
}

/** The current time, ticking every second, for countdowns. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
