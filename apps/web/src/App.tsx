import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, type ReactNode } from 'react';
import { CatalogueScreen } from './CatalogueScreen';
import { describeError } from './errors';
import { HistoryScreen } from './HistoryScreen';
import { LoansScreen } from './LoansScreen';
import { LoginScreen } from './LoginScreen';
import { useOnline } from './online';
import { ROUTES, useRoute } from './route';
import { announce, clearStatus } from './status';
import { endSession, trpc } from './trpc';
import type { Me } from './types';
import { LoadError, Loading, Screen, StatusLine, Waiting } from './ui';

export function App() {
  const me = useQuery(trpc.account.me.queryOptions());
  const route = useRoute();
  // A message belongs to the screen it was said on.
  useEffect(() => clearStatus(), [route]);

  if (me.data === undefined) {
    return (
      <Frame me={null}>
        <Screen title="Lending">
          {me.isError ? (
            <LoadError error={me.error} onRetry={() => void me.refetch()} what="your account" />
          ) : me.fetchStatus === 'paused' ? (
            <Waiting what="The library" />
          ) : (
            <Loading label="Opening the library…" rows={2} />
          )}
        </Screen>
      </Frame>
    );
  }
  if (me.data === null) {
    return (
      <Frame me={null}>
        <LoginScreen />
      </Frame>
    );
  }
  return (
    <Frame me={me.data}>
      {route === 'loans' ? <LoansScreen /> : route === 'history' ? <HistoryScreen /> : <CatalogueScreen />}
    </Frame>
  );
}

function Frame({ me, children }: { me: Me | null; children: ReactNode }) {
  const online = useOnline();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <div className="bar">
          <a className="brand" href="#/">
            Lending
          </a>
          {me && <Account me={me} />}
        </div>
        {me && <Nav />}
      </header>
      {!online && (
        <p className="offline-banner">
          You are offline. What you see may be out of date, and borrowing needs a connection.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <StatusLine />
        {children}
      </main>
    </>
  );
}

function Nav() {
  const route = useRoute();
  return (
    <nav aria-label="Main">
      <ul className="nav">
        {ROUTES.map((item) => (
          <li key={item.route}>
            <a href={item.href} aria-current={item.route === route ? 'page' : undefined}>
              {item.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function Account({ me }: { me: Me }) {
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSuccess: () => {
        endSession(null);
        announce('You have logged out.', 'success');
      },
      onError: (error) => announce(describeError(error).message, 'error'),
    }),
  );
  // Ends every session of the patron, on every device (a lost phone, a shared computer), this one included.
  const everywhere = useMutation(
    trpc.auth.logoutEverywhere.mutationOptions({
      onSuccess: () => {
        endSession(null);
        announce('You have logged out on every device.', 'success');
      },
      onError: (error) => announce(describeError(error).message, 'error'),
    }),
  );
  const busy = logout.isPending || everywhere.isPending;
  return (
    <div className="account">
      <span className="who">
        <span className="visually-hidden">Logged in as </span>
        {me.displayName}
      </span>
      {me.printDisabled && (
        <span className="badge" title="You may borrow books lent only to print-disabled readers">
          Print-disabled access
        </span>
      )}
      <button type="button" className="secondary" onClick={() => logout.mutate()} disabled={busy}>
        {logout.isPending ? 'Logging out…' : 'Log out'}
      </button>
      <button type="button" className="secondary" onClick={() => everywhere.mutate()} disabled={busy}>
        {everywhere.isPending ? 'Logging out everywhere…' : 'Log out everywhere'}
      </button>
    </div>
  );
}
