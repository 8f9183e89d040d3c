import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, type ReactNode } from 'react';
import { api, ApiError, type Locale, type User } from './api';

interface Session {
  user: User | null;
  loading: boolean;
  signIn(email: string, password: string): Promise<User>;
  /** Ends the Palier session; after single sign-on, the browser then leaves for the provider's sign-out. */
  signOut(): Promise<void>;
  /** Saves the language in the user's profile (the page has already switched). */
  setLocale(locale: Locale): void;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const me = useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        return await api<User>('GET', '/users/me');
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: Infinity,
    retry: false,
  });
  const setLocale = useCallback(
    (locale: Locale) => {
      void api<{ locale: Locale }>('PATCH', '/users/me', { locale })
        .then(() => client.setQueryData<User | null>(['me'], (me) => (me ? { ...me, locale } : me)))
        .catch(() => undefined); // the page stays in the chosen language; the profile keeps the old one
    },
    [client],
  );
  const value: Session = {
    setLocale,
    user: me.data ?? null,
    loading: me.isPending,
    async signIn(email, password) {
      await api<{ user: User }>('POST', '/auth/session', { email, password });
      const full = await api<User>('GET', '/users/me');
      // Another person may have used this tab: forget everything but who is signed in now.
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      client.setQueryData(['me'], full);
      return full;
    },
    async signOut() {
      const ended = await api<{ providerSignOutUrl: string | null }>('DELETE', '/auth/session').catch(() => undefined);
      client.setQueryData(['me'], null);
      client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
      // The provider ends its own session, then sends the browser back to the sign-in page.
      if (ended?.providerSignOutUrl) window.location.assign(ended.providerSignOutUrl);
    },
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}
