// Tabs as the WAI-ARIA pattern has them: one tab stop, arrow keys (Home/End too) move the focus and the
// selection together, the panel labelled by its tab.
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface TabItem<K extends string> {
  key: K;
  label: string;
  /** Shown after the label (a count). */
  badge?: ReactNode;
}

export function Tabs<K extends string>({ items, selected, onSelect, label, idPrefix, panelId }: { items: TabItem<K>[]; selected: K; onSelect(key: K): void; label: string; idPrefix: string; panelId: string }) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const move = (e: KeyboardEvent<HTMLButtonElement>, index: number): void => {
    const last = items.length - 1;
    const next = e.key === 'ArrowRight' ? (index === last ? 0 : index + 1) : e.key === 'ArrowLeft' ? (index === 0 ? last : index - 1) : e.key === 'Home' ? 0 : e.key === 'End' ? last : undefined;
    if (next === undefined) return;
    e.preventDefault();
    const key = items[next].key;
    onSelect(key);
    refs.current.get(key)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {items.map((t, i) => (
        <button
          key={t.key}
          ref={(el) => {
            if (el) refs.current.set(t.key, el);
            else refs.current.delete(t.key);
          }}
          type="button"
          role="tab"
          id={`${idPrefix}-${t.key}`}
          aria-selected={selected === t.key}
          aria-controls={panelId}
          tabIndex={selected === t.key ? 0 : -1}
          className={selected === t.key ? 'tab active' : 'tab'}
          onClick={() => onSelect(t.key)}
          onKeyDown={(e) => move(e, i)}
        >
          {t.label}
          {t.badge !== undefined ? <span className="count">{t.badge}</span> : null}
        </button>
      ))}
    </div>
  );
}
