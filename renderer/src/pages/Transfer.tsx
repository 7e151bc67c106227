// Import (file picker or drop: FHIR Bundles, NDJSON, .gz) with a progress bar, and export to NDJSON.
import { useState, type DragEvent } from 'react';
import { mayImport } from '../api/access.ts';
import { ErrorMessage, Notice } from '../components/common.tsx';
import { useApp } from '../context.ts';

export function TransferPage() {
  const transfer = useApp('transfer');
  const policy = useApp('session').me?.accessPolicy;
  // Importing creates records: offered only to a role that may create some.
  const canImport = mayImport(policy);
  const [dragging, setDragging] = useState(false);
  const [force, setForce] = useState(false);
  const start = (files: FileList | null): void => {
    if (files?.length) void transfer.importFiles([...files], { force });
  };
  const drop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    start(e.dataTransfer.files);
  };
  const p = transfer.progress;
  return (
    <main className="page">
      <h1>{canImport ? 'Import and export' : 'Export'}</h1>
      {canImport ? (
      <section className="panel" aria-labelledby="import-title">
        <h2 id="import-title">Import</h2>
        <div
          className={`drop-zone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
        >
          <p>Drop FHIR Bundles or NDJSON files here (.json, .ndjson, .gz), or</p>
          <label htmlFor="import-files" className="button">
            Choose files
          </label>
          <input id="import-files" className="visually-hidden-input" type="file" multiple accept=".json,.ndjson,.gz,application/json" disabled={transfer.importing} onChange={(e) => start(e.target.files)} />
        </div>
        <div className="field checkbox">
          <input id="import-force" type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} disabled={transfer.importing} />
          <label htmlFor="import-force">Import again files imported before (otherwise they are skipped; an import cut short goes on where it stopped)</label>
        </div>
        {p ? (
          <div className="progress-row">
            <label htmlFor="import-progress">{transfer.importing ? `Importing ${p.file}…` : 'Import finished'}</label>
            <progress id="import-progress" max={Math.max(1, p.total)} value={p.done}>
              {p.done} of {p.total}
            </progress>
            <span>
              {p.done} of {p.total} files
            </span>
          </div>
        ) : null}
        {transfer.importSummary ? (
          <Notice>
            {transfer.importSummary.resources} resources imported
            {transfer.importSummary.failed ? `, ${transfer.importSummary.failed} failed` : ''}.
          </Notice>
        ) : null}
        {transfer.importSummary?.notes.map((m) => <Notice key={m}>{m}</Notice>)}
        {transfer.importSummary?.messages.map((m) => <ErrorMessage key={m} error={m} />)}
      </section>
      ) : null}
      <section className="panel" aria-labelledby="export-title">
        <h2 id="export-title">Export</h2>
        <p>Everything your role can see, as one NDJSON file.</p>
        <button type="button" onClick={() => void transfer.exportAll()} disabled={transfer.exporting}>
          {transfer.exporting ? 'Exporting…' : 'Export'}
        </button>
        {transfer.exportProgress ? <span className="inline-status" aria-live="polite">{transfer.exportProgress}</span> : null}
        {transfer.exportUrl ? (
          <p>
            <a className="button secondary" href={transfer.exportUrl} download={transfer.exportName}>
              Download {transfer.exportName}
            </a>
          </p>
        ) : null}
        <ErrorMessage error={transfer.error} />
      </section>
    </main>
  );
}
