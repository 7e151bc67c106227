// Access policies: a form per entry and a JSON view validated as you type; the host's errors are shown
// at the entry they name.
import type { AccessPolicy, AccessPolicyResource } from '@medplum/fhirtypes';
import { useState } from 'react';
import { ErrorMessage, Notice } from '../../components/common.tsx';
import { useApp } from '../../context.ts';
import { checkPolicyJson, entryOfError } from './policy-json.ts';

const INTERACTIONS: { code: AccessPolicyInteractionCode; label: string }[] = [
  { code: 'read', label: 'Read' },
  { code: 'vread', label: 'Read old versions' },
  { code: 'search', label: 'Search' },
  { code: 'history', label: 'History' },
  { code: 'create', label: 'Create' },
  { code: 'update', label: 'Update' },
  { code: 'delete', label: 'Delete' },
];
type AccessPolicyInteractionCode = NonNullable<AccessPolicyResource['interaction']>[number];
const READ_ONLY: AccessPolicyInteractionCode[] = ['read', 'vread', 'search', 'history'];

/** What an entry allows, as the host reads it: its interaction list, else legacy readonly, else everything. */
export function allowedInteractions(entry: AccessPolicyResource): Set<AccessPolicyInteractionCode> {
  if (entry.interaction) return new Set(entry.interaction);
  return new Set(entry.readonly ? READ_ONLY : INTERACTIONS.map((i) => i.code));
}

/** The interactions of one entry as checkboxes (and a "read only" shortcut); writes an explicit list. */
function Interactions({ index, entry, onChange }: { index: number; entry: AccessPolicyResource; onChange(entry: AccessPolicyResource): void }) {
  const allowed = allowedInteractions(entry);
  const set = (codes: AccessPolicyInteractionCode[]): void => {
    const { readonly: _legacy, ...rest } = entry;
    onChange({ ...rest, interaction: INTERACTIONS.map((i) => i.code).filter((c) => codes.includes(c)) });
  };
  const readOnly = [...allowed].every((c) => READ_ONLY.includes(c)) && allowed.size > 0;
  return (
    <fieldset className="interactions" data-testid={`entry-${index + 1}-interactions`}>
      <legend>Allowed interactions</legend>
      {INTERACTIONS.map((it) => (
        <label key={it.code}>
          <input type="checkbox" checked={allowed.has(it.code)} onChange={(e) => set(e.target.checked ? [...allowed, it.code] : [...allowed].filter((c) => c !== it.code))} />
          {it.label}
        </label>
      ))}
      <label>
        <input type="checkbox" checked={readOnly} onChange={(e) => set(e.target.checked ? READ_ONLY : INTERACTIONS.map((i) => i.code))} />
        Read only
      </label>
    </fieldset>
  );
}

const NEW_POLICY: AccessPolicy = { resourceType: 'AccessPolicy', name: 'New policy', resource: [{ resourceType: 'Patient' }] };
const list = (v: string): string[] | undefined => {
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
};

export function PoliciesTab() {
  const admin = useApp('admin');
  const [editing, setEditing] = useState<AccessPolicy | undefined>();
  const [view, setView] = useState<'form' | 'json'>('form');
  const [json, setJson] = useState('');
  const [result, setResult] = useState<{ error?: string; entry?: number; message?: string }>({});
  const [saving, setSaving] = useState(false);

  const open = (p: AccessPolicy): void => {
    setEditing(structuredClone(p));
    setJson(JSON.stringify(p, null, 2));
    setResult({});
  };
  const check = view === 'json' ? checkPolicyJson(json) : undefined;
  const update = (next: AccessPolicy): void => {
    setEditing(next);
    setJson(JSON.stringify(next, null, 2));
  };
  const setEntry = (i: number, entry: AccessPolicyResource): void => {
    if (!editing) return;
    const resource = [...(editing.resource ?? [])];
    resource[i] = entry;
    update({ ...editing, resource });
  };
  const showForm = (): void => {
    const parsed = checkPolicyJson(json).policy;
    if (parsed) setEditing(parsed);
    setView('form');
  };
  const save = async (): Promise<void> => {
    const policy = view === 'json' ? check?.policy : editing;
    if (!policy) return;
    setSaving(true);
    const answer = await admin.savePolicy(policy);
    setSaving(false);
    if (answer.ok && answer.policy) {
      open(answer.policy);
      setResult({ message: answer.message });
    } else {
      setResult({ error: answer.error, entry: entryOfError(answer.error, answer.paths) });
    }
  };

  return (
    <div className="split">
      <div className="panel list-panel">
        <h2>Policies</h2>
        <ul className="plain-list">
          {admin.policies.map((p) => (
            <li key={p.id}>
              <button type="button" className={`link-button${editing?.id === p.id ? ' selected' : ''}`} onClick={() => open(p)}>
                {p.name ?? p.id}
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="secondary" onClick={() => open(NEW_POLICY)}>
          New policy
        </button>
      </div>
      <div className="panel editor-panel">
        {!editing ? (
          <p className="empty">Choose a policy to edit it, or create a new one.</p>
        ) : (
          <>
            <div className="page-head">
              <h2>{editing.id ? `Edit ${editing.name ?? 'policy'}` : 'New policy'}</h2>
              <div className="segmented" role="group" aria-label="Editor view">
                <button type="button" aria-pressed={view === 'form'} className={view === 'form' ? 'active' : ''} onClick={showForm} disabled={view === 'json' && !check?.policy}>
                  Form
                </button>
                <button type="button" aria-pressed={view === 'json'} className={view === 'json' ? 'active' : ''} onClick={() => setView('json')}>
                  JSON
                </button>
              </div>
            </div>
            {view === 'json' ? (
              <div className="field">
                <label htmlFor="policy-json">Policy JSON</label>
                <textarea
                  id="policy-json"
                  className="code"
                  rows={18}
                  spellCheck={false}
                  value={json}
                  onChange={(e) => setJson(e.target.value)}
                  aria-invalid={check?.problems.length ? true : undefined}
                  aria-describedby="policy-json-status"
                />
                <div id="policy-json-status" aria-live="polite" data-testid="policy-json-status">
                  {check?.problems.length ? (
                    <ul className="problems">
                      {check.problems.map((p, i) => (
                        <li key={i} className="field-error">
                          {p.message}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="ok">Valid policy JSON</span>
                  )}
                </div>
              </div>
            ) : (
              <div>
                <div className="field">
                  <label htmlFor="policy-name">Name</label>
                  <input id="policy-name" value={editing.name ?? ''} onChange={(e) => update({ ...editing, name: e.target.value })} />
                </div>
                {(editing.resource ?? []).map((entry, i) => (
                  <fieldset key={i} className={`entry${result.entry === i ? ' entry-error' : ''}`}>
                    <legend>Entry {i + 1}</legend>
                    <div className="form-grid">
                      <div className="field">
                        <label htmlFor={`e${i}-type`}>Resource type</label>
                        <input id={`e${i}-type`} value={entry.resourceType} onChange={(e) => setEntry(i, { ...entry, resourceType: e.target.value })} />
                      </div>
                      <div className="field wide">
                        <label htmlFor={`e${i}-criteria`}>Criteria</label>
                        <input id={`e${i}-criteria`} value={entry.criteria ?? ''} placeholder={`${entry.resourceType}?...`} onChange={(e) => setEntry(i, { ...entry, criteria: e.target.value || undefined })} />
                      </div>
                      <div className="field">
                        <label htmlFor={`e${i}-hidden`}>Hidden fields</label>
                        <input id={`e${i}-hidden`} value={entry.hiddenFields?.join(', ') ?? ''} placeholder="name, telecom" onChange={(e) => setEntry(i, { ...entry, hiddenFields: list(e.target.value) })} />
                      </div>
                      <div className="field">
                        <label htmlFor={`e${i}-readonlyf`}>Read-only fields</label>
                        <input id={`e${i}-readonlyf`} value={entry.readonlyFields?.join(', ') ?? ''} onChange={(e) => setEntry(i, { ...entry, readonlyFields: list(e.target.value) })} />
                      </div>
                      <div className="field wide">
                        <label htmlFor={`e${i}-wc`}>Write constraint (FHIRPath)</label>
                        <input
                          id={`e${i}-wc`}
                          value={entry.writeConstraint?.[0]?.expression ?? ''}
                          onChange={(e) => setEntry(i, { ...entry, writeConstraint: e.target.value ? [{ language: 'text/fhirpath', expression: e.target.value }] : undefined })}
                        />
                      </div>
                    </div>
                    <Interactions index={i} entry={entry} onChange={(next) => setEntry(i, next)} />
                    {result.entry === i ? <ErrorMessage error={result.error} /> : null}
                    <button type="button" className="secondary small" onClick={() => update({ ...editing, resource: (editing.resource ?? []).filter((_, j) => j !== i) })}>
                      Remove entry {i + 1}
                    </button>
                  </fieldset>
                ))}
                <button type="button" className="secondary" onClick={() => update({ ...editing, resource: [...(editing.resource ?? []), { resourceType: 'Observation' }] })}>
                  Add entry
                </button>
              </div>
            )}
            {result.error && result.entry === undefined ? <ErrorMessage title="Not saved" error={result.error} /> : null}
            {result.message ? <Notice tone="success">{result.message}</Notice> : null}
            <div className="actions">
              <button type="button" onClick={() => void save()} disabled={saving || (view === 'json' && !check?.policy)}>
                {saving ? 'Saving…' : 'Save policy'}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
