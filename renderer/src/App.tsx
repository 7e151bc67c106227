// The application frame: setup or login until signed in, then the header and the routed page; the
// lock screen covers everything while the session is locked. Pages are keyed on the session epoch so a
// role switch reloads every view at once.
import { useEffect } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { Header } from './components/Header.tsx';
import { Loading } from './components/common.tsx';
import { useApp } from './context.ts';
import { AdminPage } from './pages/admin/Admin.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { ChartPage } from './pages/Chart.tsx';
import { EditPage } from './pages/Edit.tsx';
import { LockScreen } from './pages/Lock.tsx';
import { LoginPage } from './pages/Login.tsx';
import { PatientsPage } from './pages/Patients.tsx';
import { SetupPage } from './pages/Setup.tsx';
import { SyncPage } from './pages/Sync.tsx';
import { TransferPage } from './pages/Transfer.tsx';
import { useRoute, type Route } from './router.ts';

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'patients':
      return <PatientsPage />;
    case 'chart':
      return <ChartPage id={route.id} />;
    case 'edit':
      return <EditPage type={route.type} id={route.id} patientId={route.patientId} />;
    case 'admin':
      return <AdminPage tab={route.tab} />;
    case 'audit':
      return <AuditPage />;
    case 'transfer':
      return <TransferPage />;
    case 'sync':
      return <SyncPage />;
  }
}

export function App() {
  const session = useApp('session');
  const route = useRoute();
  const start = session.start;
  useEffect(() => {
    void start();
  }, [start]);

  if (session.phase === 'starting') {
    // A reload of a locked session asks for the password before anything else shows.
    return session.locked ? <LockScreen /> : <Loading label="Starting Outpost…" />;
  }
  if (session.phase === 'setup') {
    return (
      <ErrorBoundary>
        <SetupPage />
      </ErrorBoundary>
    );
  }
  if (session.phase !== 'ready') {
    return (
      <ErrorBoundary>
        <LoginPage />
      </ErrorBoundary>
    );
  }
  return (
    <>
      {/* Locked: the record is not drawn at all (hidden, not merely covered), yet kept mounted so an
          edit in progress survives the lock. */}
      <div className="app" hidden={session.locked || undefined} aria-hidden={session.locked || undefined} inert={session.locked || undefined}>
        <a className="skip-link" href="#main-content">
          Skip to content
        </a>
        <Header route={route} />
        <div id="main-content" tabIndex={-1}>
          <ErrorBoundary resetKey={JSON.stringify(route)}>
            <Page key={session.epoch} route={route} />
          </ErrorBoundary>
        </div>
      </div>
      {session.locked ? <LockScreen /> : null}
    </>
  );
}
