// Entry: picks the transport (IPC in Electron, same-origin HTTP in browser mode), makes the one client
// and the stores, wires the bridge's events, and renders the app.
import { ClientStorage } from '@medplum/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { OutpostBridge } from '../../shared/contract/bridge.ts';
import { createOutpostClient } from './api/client.ts';
import { createLockGate } from './api/lock-gate.ts';
import { SESSION_ENDED_MESSAGE } from './api/session-guard.ts';
import { loadSearchIndex } from './api/search-index.ts';
import { pickTransport } from './api/transport.ts';
import { App } from './App.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { StoresContext } from './context.ts';
import { createStores, type Stores } from './stores/index.ts';

declare global {
  interface Window {
    outpost?: OutpostBridge;
  }
}

function boot(): Stores {
  const transport = pickTransport(window);
  const gate = createLockGate();
  const storage = new ClientStorage(window.sessionStorage);
  // The client is made before the stores that use it; its callback reaches them once they exist.
  const late: { stores?: Stores } = {};
  const medplum = createOutpostClient({
    transport,
    gate,
    storage,
    onUnauthenticated: () => late.stores?.session.getState().ended(SESSION_ENDED_MESSAGE),
  });
  // A new role (sign-in, role switch, another window's switch) and sign-out open on the home page: never
  // on the last page of the previous role or person. replaceState keeps that page out of the history.
  const goHome = (hash = '#/patients'): void => {
    if (window.location.hash !== hash) {
      window.history.replaceState(null, '', hash);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    }
  };
  const ready = createStores(medplum, gate, { goHome, storage });
  late.stores = ready;
  transport.bridge?.on('lock', () => ready.session.getState().lock());
  transport.bridge?.on('sync-progress', (progress) => ready.sync.getState().setProgress(progress));
  // Another window (or the host) changed the role: the next request answers for the new one.
  transport.bridge?.on('role-change', () => void ready.session.getState().refreshRole());
  return ready;
}

// The policy's criteria are read in the browser (what actions to offer): their search parameters first.
await loadSearchIndex();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary>
        <StoresContext.Provider value={boot()}>
          <App />
        </StoresContext.Provider>
      </ErrorBoundary>
    </StrictMode>
  );
}
