// The lock screen: the session is kept, the data is covered until the password is entered again.
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/common.tsx';
import { useApp } from '../context.ts';
import { profileName } from '../stores/session.ts';

export function LockScreen() {
  const session = useApp('session');
  const [password, setPassword] = useState('');
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void session.unlock(password).then(() => setPassword(''));
  };
  return (
    <div className="lock-overlay" role="dialog" aria-modal="true" aria-labelledby="lock-title">
      <main className="auth-card">
        <h1 id="lock-title">Session locked</h1>
        <p>{session.me ? `${profileName(session.me)} (${session.me.user?.email ?? ''}). ` : ''}Enter your password to continue.</p>
        <form onSubmit={submit} aria-busy={session.busy}>
          <label htmlFor="unlock-password">Password</label>
          <input id="unlock-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
          <ErrorMessage error={session.unlockError} />
          <div className="actions">
            <button type="submit" disabled={session.busy || !password}>
              Unlock
            </button>
            {session.me?.viewAs ? (
              <button type="button" className="secondary" onClick={() => void session.endViewAs()}>
                End preview
              </button>
            ) : (
              <button type="button" className="secondary" onClick={() => void session.logout()}>
                Sign out
              </button>
            )}
          </div>
        </form>
      </main>
    </div>
  );
}
