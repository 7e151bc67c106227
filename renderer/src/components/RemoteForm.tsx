// The remote server of this project (project admins only): base URL and either a bearer token or a
// client id + secret. Tokens and secrets are write-only: the host never sends them back, the fields start
// empty, and they are cleared once sent.
import { useState, type FormEvent } from 'react';
import type { ActionAnswer, RemoteInput, SyncRemote } from '../stores/sync.ts';
import { ErrorMessage, Field, Notice } from './common.tsx';

interface Props {
  remote?: SyncRemote;
  /** The answer to the last save or removal. */
  result?: ActionAnswer;
  onSave(input: RemoteInput): Promise<ActionAnswer>;
  onRemove(): Promise<ActionAnswer>;
}

type Errors = Partial<Record<'baseUrl' | 'token' | 'clientId' | 'clientSecret' | 'tokenUrl', string>>;

function urlProblem(value: string): string | undefined {
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'Use an http:// or https:// address';
  } catch {
    return value.trim() ? 'Not a valid address' : 'Required';
  }
}

export function RemoteForm({ remote, result, onSave, onRemove }: Props) {
  const [baseUrl, setBaseUrl] = useState(remote?.baseUrl ?? '');
  const [auth, setAuth] = useState<SyncRemote['auth']>(remote?.auth ?? 'token');
  const [token, setToken] = useState('');
  const [clientId, setClientId] = useState(remote?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [tokenUrl, setTokenUrl] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [saving, setSaving] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const secretHint = remote ? 'A secret is stored but never shown: enter it again to save a change.' : undefined;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const found: Errors = { baseUrl: urlProblem(baseUrl) };
    if (auth === 'token' && !token.trim()) found.token = 'Required';
    if (auth === 'client-credentials' && !clientId.trim()) found.clientId = 'Required';
    if (auth === 'client-credentials' && !clientSecret) found.clientSecret = 'Required';
    if (auth === 'client-credentials' && tokenUrl.trim()) found.tokenUrl = urlProblem(tokenUrl);
    const problems = Object.fromEntries(Object.entries(found).filter(([, v]) => v)) as Errors;
    setErrors(problems);
    if (Object.keys(problems).length) return;
    setSaving(true);
    const input: RemoteInput =
      auth === 'token'
        ? { baseUrl: baseUrl.trim(), token: token.trim() }
        : { baseUrl: baseUrl.trim(), clientId: clientId.trim(), clientSecret, ...(tokenUrl.trim() ? { tokenUrl: tokenUrl.trim() } : {}) };
    // Secrets leave the form as they are sent, whatever the answer: the host never gives them back.
    setToken('');
    setClientSecret('');
    await onSave(input);
    setSaving(false);
  };

  const remove = async (): Promise<void> => {
    setConfirmRemove(false);
    setSaving(true);
    await onRemove();
    setSaving(false);
  };

  return (
    <form className="panel" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="remote-title" data-testid="remote-form">
      <h2 id="remote-title">Remote server</h2>
      <p className="muted">Where this project's changes are sent and updates come from (project administrators only).</p>
      <div className="form-grid">
        <Field label="Server base URL" type="url" value={baseUrl} onChange={setBaseUrl} required error={errors.baseUrl} placeholder="https://fhir.example.org/fhir/R4/" autoComplete="off" />
      </div>
      <fieldset className="auth-choice">
        <legend>Sign in to the server with</legend>
        <label>
          <input type="radio" name="remote-auth" value="token" checked={auth === 'token'} onChange={() => setAuth('token')} /> An access token
        </label>
        <label>
          <input type="radio" name="remote-auth" value="client-credentials" checked={auth === 'client-credentials'} onChange={() => setAuth('client-credentials')} /> A client id and secret
        </label>
      </fieldset>
      <div className="form-grid">
        {auth === 'token' ? (
          <Field label="Access token" type="password" value={token} onChange={setToken} required error={errors.token} autoComplete="off" placeholder={remote?.auth === 'token' ? 'stored — enter a new one to replace it' : ''} />
        ) : (
          <>
            <Field label="Client id" value={clientId} onChange={setClientId} required error={errors.clientId} autoComplete="off" />
            <Field label="Client secret" type="password" value={clientSecret} onChange={setClientSecret} required error={errors.clientSecret} autoComplete="off" placeholder={remote?.auth === 'client-credentials' ? 'stored — never shown' : ''} />
            <Field label="Token URL (optional)" type="url" value={tokenUrl} onChange={setTokenUrl} error={errors.tokenUrl} autoComplete="off" placeholder="default: the server's /oauth2/token" />
          </>
        )}
      </div>
      {secretHint ? <p className="muted small">{secretHint}</p> : null}
      {result?.ok ? <Notice tone="success">{result.message}</Notice> : <ErrorMessage title="Not saved" error={result?.error} />}
      <div className="actions">
        <button type="submit" disabled={saving}>
          {saving ? 'Saving…' : 'Save remote'}
        </button>
        {remote ? (
          confirmRemove ? (
            <>
              <button type="button" className="danger" onClick={() => void remove()}>
                Remove the remote
              </button>
              <button type="button" className="secondary" onClick={() => setConfirmRemove(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="secondary" disabled={saving} onClick={() => setConfirmRemove(true)}>
              Remove remote…
            </button>
          )
        ) : null}
      </div>
    </form>
  );
}
