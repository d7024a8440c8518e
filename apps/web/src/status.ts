import { createStore } from './store';

export type Tone = 'info' | 'success' | 'error';
export interface Status {
  id: number;
  text: string;
  tone: Tone;
}

/** The one message shown in the page's aria-live region. */
export const statusStore = createStore<Status | null>(null);

let nextId = 1;
export function announce(text: string, tone: Tone = 'info'): void {
  statusStore.set({ id: nextId++, text, tone });
}

export function clearStatus(): void {
  statusStore.set(null);
}
