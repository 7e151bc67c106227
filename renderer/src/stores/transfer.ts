// Import (Bundles, NDJSON, gzip) with progress, and export to an NDJSON file. Each file goes to the
// host's import route (outpost/import), the importer of `outpost import`: a file imported before is
// skipped and said so (a re-run after a crash goes on where it stopped), unless "Import again" is on.
import type { MedplumClient } from '@medplum/core';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { contract } from '../../../shared/contract/index.ts';
import type { HostApi } from '../api/host-api.ts';
import { errorText } from '../api/outcome.ts';

const EXPORT_PAGE = 500;

export interface TransferState {
  importing: boolean;
  progress?: { done: number; total: number; file: string };
  importSummary?: { resources: number; failed: number; messages: string[]; notes: string[] };
  exporting: boolean;
  exportProgress?: string;
  exportUrl?: string;
  exportName?: string;
  error?: string;
  /** `force`: import again files the host says were imported before. */
  importFiles(files: File[], options?: { force?: boolean }): Promise<void>;
  exportAll(): Promise<void>;
  reset(): void;
}

async function fileText(file: File): Promise<string> {
  if (/\.gz$/i.test(file.name)) {
    const stream = file.stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text();
  }
  return file.text();
}

export function createTransferStore(medplum: MedplumClient, api: HostApi): StoreApi<TransferState> {
  return createStore<TransferState>((set, get) => ({
    importing: false,
    exporting: false,

    async importFiles(files, options = {}) {
      set({ importing: true, error: undefined, importSummary: undefined, progress: { done: 0, total: files.length, file: '' } });
      let resources = 0;
      let failed = 0;
      const messages: string[] = [];
      const notes: string[] = [];
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        set({ progress: { done: i, total: files.length, file: file.name } });
        try {
          const ndjson = /\.ndjson(\.gz)?$/i.test(file.name);
          const answer = await api.call(contract.transfer.import, {
            // Named without `.gz`: the host gets the decompressed text.
            query: { name: file.name.replace(/\.gz$/i, ''), force: options.force ? 'true' : undefined },
            body: await fileText(file),
            contentType: ndjson ? 'application/fhir+ndjson' : 'application/fhir+json',
          });
          resources += answer.resources;
          failed += answer.failed;
          if (answer.skippedFiles.length || answer.skippedUnits) {
            notes.push(`${file.name}: ${answer.message}`);
          }
        } catch (err) {
          failed++;
          messages.push(`${file.name}: ${errorText(err)}`);
        }
      }
      set({ importing: false, progress: { done: files.length, total: files.length, file: '' }, importSummary: { resources, failed, messages, notes } });
    },

    async exportAll() {
      const previous = get().exportUrl;
      if (previous) URL.revokeObjectURL(previous);
      set({ exporting: true, error: undefined, exportUrl: undefined });
      const lines: string[] = [];
      try {
        // Every type the role may search, paged in a stable order, exactly as `outpost export` does.
        const { types } = await api.call(contract.transfer.exportTypes);
        const exported = new Set<string>();
        for (const type of types) {
          set({ exportProgress: `Exporting ${type}…` });
          for (let offset = 0; ; offset += EXPORT_PAGE) {
            const page = await medplum.searchResources(type as 'Patient', new URLSearchParams({ _count: String(EXPORT_PAGE), _offset: String(offset), _sort: '_id', _total: 'none' }));
            page.forEach((r) => lines.push(JSON.stringify(r)));
            if (page.length) exported.add(type);
            if (page.length < EXPORT_PAGE) break;
          }
        }
        const blob = new Blob([lines.join('\n') + '\n'], { type: 'application/fhir+ndjson' });
        set({ exporting: false, exportProgress: `${lines.length} resources of ${exported.size} types exported`, exportUrl: URL.createObjectURL(blob), exportName: `outpost-export-${new Date().toISOString().slice(0, 10)}.ndjson` });
      } catch (err) {
        set({ exporting: false, exportProgress: undefined, error: errorText(err) });
      }
    },

    reset() {
      const url = get().exportUrl;
      if (url) URL.revokeObjectURL(url);
      set({ importing: false, progress: undefined, importSummary: undefined, exporting: false, exportProgress: undefined, exportUrl: undefined, error: undefined });
    },
  }));
}
