import type { QueryClient } from '@tanstack/react-query';
import { api, setCsrfToken } from '../api/client.js';

/**
 * The one-time password typed at sign-in, kept in memory only until it is replaced, so that the
 * first-run admin (or an invited staff member) is not asked for it a second time.
 */
let oneTimePassword: string | undefined;

export function rememberOneTimePassword(password: string | undefined): void {
  oneTimePassword = password;
}

export function takeOneTimePassword(): string | undefined {
  return oneTimePassword;
}

/** The session changed: ask the server who we are now (the stage decides the next page). */
export async function sessionChanged(queryClient: QueryClient): Promise<void> {
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
  await queryClient.invalidateQueries({ queryKey: ['me'] });
}

export async function signOut(queryClient: QueryClient): Promise<void> {
  try {
    await api('POST', '/api/v1/auth/logout');
  } finally {
    setCsrfToken(undefined);
    rememberOneTimePassword(undefined);
    queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
    queryClient.setQueryData(['me'], null);
  }
}
