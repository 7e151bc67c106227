// Sign in: email and password, then the TOTP code when enrolled, then the membership chooser when the
// user has several. Lockouts are shown as an alert in words.
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from '../components/common.tsx';
import { useApp } from '../context.ts';

export function LoginPage() {
  const session = useApp('session');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');

  if (session.phase === 'mfa') {
    const submit = (e: FormEvent): void => {
      e.preventDefault();
      void session.verifyMfa(code.trim());
    };
    return (
      <main className="auth-card">
        <h1>Two-step verification</h1>
        <form onSubmit={submit} aria-busy={session.busy}>
          <label htmlFor="totp">Code from your authenticator app</label>
          <input id="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
          <ErrorMessage error={session.error} />
          <button type="submit" disabled={session.busy}>
            {session.busy ? 'Checking…' : 'Verify'}
          </button>
        </form>
      </main>
    );
  }

  if (session.phase === 'choose') {
    return (
      <main className="auth-card">
        <h1>Choose a role</h1>
        <p>Your account has several memberships. Pick the one you are working as now; you can switch later.</p>
        <ul className="choices" aria-label="Memberships">
          {session.choices.map((c) => (
            <li key={c.id}>
              <button type="button" className="choice" disabled={session.busy} onClick={() => void session.choose(c.id)}>
                <span className="choice-name">{c.profile.display ?? c.profile.reference}</span>
                <span className="badge">{c.profile.reference?.split('/')[0]}</span>
                <span className="choice-project">{c.project.display ?? c.project.reference}</span>
              </button>
            </li>
          ))}
        </ul>
        <ErrorMessage error={session.error} />
      </main>
    );
  }

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    void session.login(email.trim(), password);
  };
  return (
    <main className="auth-card">
      <h1>Sign in to Outpost</h1>
      {session.endedMessage ? (
        <div className="notice session-ended" role="alert" data-testid="session-ended">
          <strong>Your session has ended. </strong>
          {session.endedMessage.replace(/^Your session has ended\.\s*/, '')}
        </div>
      ) : null}
      <form onSubmit={submit} aria-busy={session.busy} noValidate>
        <label htmlFor="email">Email</label>
        <input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {session.lockedOut ? (
          <div className="error lockout" role="alert" data-testid="lockout">
            <strong>Account locked. </strong>
            {session.error}
          </div>
        ) : (
          <ErrorMessage error={session.error} />
        )}
        <button type="submit" disabled={session.busy || !email || !password}>
          {session.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
