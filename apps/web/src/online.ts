import { createStore, useStore } from './store';

// navigator.onLine is only a hint (true can still mean no route to us), so failed requests are
// reported separately by describeError; this drives the offline banner.
const onlineStore = createStore(typeof navigator === 'undefined' ? true : navigator.onLine);
if (typeof window !== 'undefined') {
  window.addEventListener('online', () => onlineStore.set(true));
  window.addEventListener('offline', () => onlineStore.set(false));
}

export function useOnline(): boolean {
  return useStore(onlineStore);
}
