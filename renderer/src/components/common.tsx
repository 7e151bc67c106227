// Small shared pieces: loading and empty states, error messages, labelled fields, hidden values.
import { useId, type ReactNode } from 'react';
import { HIDDEN_TEXT } from '../api/access.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function ErrorMessage({ error, title }: { error?: string; title?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {error}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' }) {
  return (
    <div className={tone === 'success' ? 'notice success' : 'notice'} role="status">
      {children}
    </div>
  );
}

/** A value the access policy hid: said in words, never left blank. */
export function Hidden() {
  return <span className="hidden-value">{HIDDEN_TEXT}</span>;
}

/** A read-only value: the text, "hidden by access policy" when hidden, a dash when truly absent. */
export function Value({ hidden, children }: { hidden?: boolean; children?: ReactNode }) {
  if (hidden) return <Hidden />;
  if (children === undefined || children === null || children === '') return <span className="absent">—</span>;
  return <>{children}</>;
}

interface FieldProps {
  label: string;
  value: string;
  onChange(value: string): void;
  type?: string;
  required?: boolean;
  error?: string;
  /** Disabled with this reason shown next to the field. */
  lockedReason?: string;
  hidden?: boolean;
  options?: { value: string; label: string }[];
  placeholder?: string;
  autoComplete?: string;
  step?: string;
  inputMode?: 'numeric' | 'decimal' | 'text';
}

export function Field(props: FieldProps) {
  const id = useId();
  const describedBy = [props.error ? `${id}-error` : '', props.lockedReason ? `${id}-reason` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': props.required || undefined,
    disabled: Boolean(props.lockedReason) || props.hidden,
  };
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {props.label}
        {props.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {props.hidden ? (
        <input {...common} value={HIDDEN_TEXT} readOnly className="hidden-input" />
      ) : props.options ? (
        <select {...common} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          type={props.type ?? 'text'}
          value={props.value}
          placeholder={props.placeholder}
          autoComplete={props.autoComplete}
          step={props.step}
          inputMode={props.inputMode}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.lockedReason ? (
        <span className="field-reason" id={`${id}-reason`}>
          {props.lockedReason}
        </span>
      ) : null}
      {props.error ? (
        <span className="field-error" id={`${id}-error`}>
          {props.error}
        </span>
      ) : null}
    </div>
  );
}
