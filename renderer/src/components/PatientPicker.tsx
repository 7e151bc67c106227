// Picks a patient by name: type part of the name, choose from the matches (name, birth date, MRN). The
// value is a reference (Patient/<id>); the chosen patient is shown by name, never by id.
import type { Patient } from '@medplum/fhirtypes';
import { useEffect, useId, useState } from 'react';
import { formatWhen, personName } from './clinical.ts';
import { mrnOf } from './PatientBanner.tsx';

export interface PatientPickerProps {
  label: string;
  /** Patient/<id>, or '' when none is chosen. */
  value: string;
  /** The chosen patient's name, when known. */
  valueName?: string;
  onChange(reference: string, name: string): void;
  find(text: string): Promise<Patient[]>;
  error?: string;
  required?: boolean;
}

export function PatientPicker({ label, value, valueName, onChange, find, error, required }: PatientPickerProps) {
  const id = useId();
  const [text, setText] = useState('');
  const [matches, setMatches] = useState<Patient[] | undefined>();
  const [searching, setSearching] = useState(false);
  const [editing, setEditing] = useState(!value);

  useEffect(() => {
    if (!editing || text.trim().length < 2) {
      setMatches(undefined);
      return undefined;
    }
    let alive = true;
    setSearching(true);
    // A short pause so each keystroke does not send a search.
    const timer = setTimeout(() => {
      void find(text).then((found) => {
        if (alive) {
          setMatches(found);
          setSearching(false);
        }
      });
    }, 250);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [text, editing, find]);

  if (!editing && value) {
    return (
      <div className="field patient-picker">
        <span className="picker-label" id={`${id}-label`}>
          {label}
        </span>
        <div className="picker-chosen" aria-labelledby={`${id}-label`}>
          <strong>{valueName ?? 'Chosen patient'}</strong>
          <button type="button" className="secondary small" onClick={() => setEditing(true)} aria-label={`Change ${label.toLowerCase()}`}>
            Change
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className={`field patient-picker${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input id={id} type="search" placeholder="Type part of the patient's name" value={text} onChange={(e) => setText(e.target.value)} aria-describedby={error ? `${id}-error` : undefined} aria-invalid={error ? true : undefined} autoComplete="off" />
      <div aria-live="polite" className="picker-status">
        {searching ? 'Searching…' : matches && matches.length === 0 ? 'No patient matches.' : ''}
      </div>
      {matches && matches.length > 0 ? (
        <ul className="picker-results" aria-label={`Patients matching "${text}"`}>
          {matches.map((p) => {
            const name = personName(p.name) || 'Unnamed patient';
            const mrn = mrnOf(p)?.value;
            return (
              <li key={p.id}>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => {
                    onChange(`Patient/${p.id}`, name);
                    setEditing(false);
                    setText('');
                  }}
                >
                  {name}
                  <span className="muted">
                    {' '}
                    {p.birthDate ? `born ${formatWhen(p.birthDate)}` : ''}
                    {mrn ? ` · MRN ${mrn}` : ''}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
      {error ? (
        <span className="field-error" id={`${id}-error`}>
          {error}
        </span>
      ) : null}
    </div>
  );
}
