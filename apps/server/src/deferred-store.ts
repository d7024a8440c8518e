// A store that may still be opening, so that createApp can return at once: every call waits for the opening,
// then goes straight to the store once it is open.
import type { AccountStore } from '@lending/accounts';

export function deferredStore(kind: AccountStore['kind'], opening: Promise<AccountStore>): AccountStore {
  let open: AccountStore | null = null;
  opening.then(
    (store) => (open = store),
    () => undefined,
  );
  const methods = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  return new Proxy({} as AccountStore, {
    get(_target, property) {
      if (property === 'kind') return kind;
      if (property === 'then') return undefined; // not a thenable
      let method = methods.get(property);
      if (method === undefined) {
        const call = (store: AccountStore, args: unknown[]) =>
          (Reflect.get(store, property) as (...a: unknown[]) => unknown).apply(store, args);
        method = (...args: unknown[]) =>
          open ? call(open, args) : opening.then((store) => call(store, args));
        methods.set(property, method);
      }
      return method;
    },
  });
}
