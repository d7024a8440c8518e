import { createStore, useStore } from './store';

export type Route = 'catalogue' | 'loans' | 'history';

export const ROUTES: { route: Route; href: string; label: string }[] = [
  { route: 'catalogue', href: '#/', label: 'Catalogue' },
  { route: 'loans', href: '#/loans', label: 'My loans' },
  { route: 'history', href: '#/history', label: 'History' },
];

function parse(hash: string): Route {
  if (hash.startsWith('#/loans')) return 'loans';
  if (hash.startsWith('#/history')) return 'history';
  return 'catalogue';
}

// Hash routes: the server only has to serve index.html at /, and reloads keep the screen.
const routeStore = createStore<Route>(typeof location === 'undefined' ? 'catalogue' : parse(location.hash));
if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => routeStore.set(parse(location.hash)));
}

export function useRoute(): Route {
  return useStore(routeStore);
}
