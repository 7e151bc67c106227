// Import (Bundles, NDJSON, gzip) with progress, and export to an NDJSON file. Transaction and batch
// Bundles go to the host as they are; loose resources are sent in batches of BATCH_SIZE.
import type { MedplumClient } from '@medplum/core';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorText } from '../api/outcome.ts';

const BATCH_SIZE = 100;

/** The host's list of what the session's export holds: the CLI's `outpost export` list for this role. */
export const EXPORT_TYPES_PATH = 'outpost/export/types';
const EXPORT_PAGE = 500;

export interface TransferState {
  importing: boolean;
  progress?: { done: number; total: number; file: string };
  importSummary?: { resources: number; failed: number; messages: string[] };
  exporting: boolean;
  exportProgress?: string;
  exportUrl?: string;
  exportName?: string;
  error?: string;
  importFiles(files: File[]): Promise<void>;
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

/** The Bundles to send for one file's text. */
export function unitsOf(text: string): Bundle[] {
  const trimmed = text.trim();
  let resources: Resource[];
  if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
    const parsed = JSON.parse(trimmed) as Resource;
    if (parsed.resourceType === 'Bundle' && (parsed.type === 'transaction' || parsed.type === 'batch')) {
      return [parsed];
    }
    resources = parsed.resourceType === 'Bundle' ? (parsed.entry ?? []).map((e) => e.resource).filter((r): r is Resource => Boolean(r)) : [parsed];
  } else {
    resources = trimmed.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Resource);
  }
  const units: Bundle[] = [];
  for (let i = 0; i < resources.length; i += BATCH_SIZE) {
    const entry: BundleEntry[] = resources.slice(i, i + BATCH_SIZE).map((resource) => ({
      resource,
      request: resource.id ? { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } : { method: 'POST', url: resource.resourceType },
    }));
    units.push({ resourceType: 'Bundle', type: 'batch', entry });
  }
  return units;
}

export function createTransferStore(medplum: MedplumClient): StoreApi<TransferState> {
  return createStore<TransferState>((set, get) => ({
    importing: false,
    exporting: false,

    async importFiles(files) {
      set({ importing: true, error: undefined, importSummary: undefined, progress: { done: 0, total: files.length, file: '' } });
      let resources = 0;
      let failed = 0;
      const messages: string[] = [];
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        set({ progress: { done: i, total: files.length, file: file.name } });
        try {
          for (const unit of unitsOf(await fileText(file))) {
            const reply = (await medplum.executeBatch(unit)) as Bundle;
            for (const e of reply.entry ?? []) {
              if (e.response?.status?.startsWith('2')) resources++;
              else failed++;
            }
          }
        } catch (err) {
          failed++;
          messages.push(`${file.name}: ${errorText(err)}`);
        }
      }
      set({ importing: false, progress: { done: files.length, total: files.length, file: '' }, importSummary: { resources, failed, messages } });
    },

    async exportAll() {
      const previous = get().exportUrl;
      if (previous) URL.revokeObjectURL(previous);
      set({ exporting: true, error: undefined, exportUrl: undefined });
      const lines: string[] = [];
      try {
        // Every type the role may search, paged in a stable order, exactly as `outpost export` does.
        const { types } = (await medplum.get(EXPORT_TYPES_PATH, { cache: 'no-cache' })) as { types: string[] };
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
