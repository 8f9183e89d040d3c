import { useQuery, useQueryClient } from '@tanstack/react-query';
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
    const idsOf = (event: Event) => (JSON.parse((event as MessageEvent<string>).data) as { ids: number[] }).ids;
    const refetchLists = () => {
      void client.invalidateQueries({ queryKey: ['queue'] });
      void client.invalidateQueries({ queryKey: ['mine'] });
      void client.invalidateQueries({ queryKey: ['dashboard'] });
    };
    source.addEventListener('incidents', (event) => {
      refetchLists();
      for (const id of idsOf(event)) {
        // Seen again (handed back to the caller's tier, say): the page shows it once more.
        client.setQueryData(['gone', id], false);
        void client.invalidateQueries({ queryKey: ['incident', id] });
      }
    });
    // Incidents moved out of the caller's sight: lists drop them when refetched, and open pages say so.
    source.addEventListener('gone', (event) => {
      refetchLists();
      for (const id of idsOf(event)) client.setQueryData(['gone', id], true);
    });
    return () => {
      source.close();
      setConnected(false);
    };
  }, [enabled, client]);
  return connected;
}

/** Whether the live feed said this incident moved out of the caller's sight while a page showed it. */
export function useGoneIncident(id: number): boolean {
  const gone = useQuery({ queryKey: ['gone', id], queryFn: () => false, initialData: false, staleTime: Infinity });
  return gone.data;
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
