// The stores reach components through React context (made once in main.tsx, never module-level).
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { Stores } from './stores/index.ts';

export const StoresContext = createContext<Stores | null>(null);

export function useStores(): Stores {
  const stores = useContext(StoresContext);
  if (!stores) {
    throw new Error('Stores are not provided');
  }
  return stores;
}

/** Subscribes to one store by name: `const session = useApp('session')`. */
export function useApp<K extends keyof Stores>(name: K): Stores[K] extends StoreApi<infer S> ? S : never {
  const store = useStores()[name] as StoreApi<unknown>;
  return useStore(store) as never;
}
