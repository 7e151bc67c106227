// Entry: picks the transport (IPC in Electron, same-origin HTTP in browser mode), makes the one client
// and the stores, wires the bridge's events, and renders the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { OutpostBridge } from '../../shared/contract/bridge.ts';
import { createOutpostClient } from './api/client.ts';
import { createLockGate } from './api/lock-gate.ts';
import { SESSION_ENDED_MESSAGE } from './api/session-guard.ts';
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
  // The client is made before the stores that use it; its callback reaches them once they exist.
  const late: { stores?: Stores } = {};
  const medplum = createOutpostClient({
    transport,
    gate,
    onUnauthenticated: () => late.stores?.session.getState().ended(SESSION_ENDED_MESSAGE),
  });
  const ready = createStores(medplum, gate);
  late.stores = ready;
  transport.bridge?.on('lock', () => ready.session.getState().lock());
  transport.bridge?.on('sync-progress', (progress) => ready.sync.getState().setProgress(progress));
  // Another window (or the host) changed the role: the next request answers for the new one.
  transport.bridge?.on('role-change', () => void ready.session.getState().refreshRole());
  return ready;
}

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
