// Hash routes (#/patients/123): they work the same under app:// and browser mode, and a URL typed or
// pasted by a person (or a test) is routed without reloading the page, so the session survives.
import { useSyncExternalStore } from 'react';

export type Route =
  | { name: 'patients' }
  | { name: 'chart'; id: string }
  | { name: 'edit'; type: EditableType; id?: string; patientId?: string }
  | { name: 'admin'; tab: 'users' | 'policies' | 'review' }
  | { name: 'audit' }
  | { name: 'transfer' }
  | { name: 'sync' };

export const EDITABLE_TYPES = ['Patient', 'Observation', 'Encounter', 'Condition'] as const;
export type EditableType = (typeof EDITABLE_TYPES)[number];

export function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'patients' && parts[1]) return { name: 'chart', id: parts[1] };
  if (parts[0] === 'edit' && (EDITABLE_TYPES as readonly string[]).includes(parts[1])) {
    return { name: 'edit', type: parts[1] as EditableType, id: parts[2], patientId: params.get('patient') ?? undefined };
  }
  if (parts[0] === 'admin') {
    const tab = parts[1] === 'policies' || parts[1] === 'review' ? parts[1] : 'users';
    return { name: 'admin', tab };
  }
  if (parts[0] === 'audit') return { name: 'audit' };
  if (parts[0] === 'transfer') return { name: 'transfer' };
  if (parts[0] === 'sync') return { name: 'sync' };
  return { name: 'patients' };
}

export function href(route: Route): string {
  switch (route.name) {
    case 'patients':
      return '#/patients';
    case 'chart':
      return `#/patients/${encodeURIComponent(route.id)}`;
    case 'edit':
      return `#/edit/${route.type}${route.id ? `/${encodeURIComponent(route.id)}` : ''}${route.patientId ? `?patient=${encodeURIComponent(route.patientId)}` : ''}`;
    case 'admin':
      return `#/admin/${route.tab}`;
    default:
      return `#/${route.name}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

function subscribe(callback: () => void): () => void {
  window.addEventListener('hashchange', callback);
  return () => window.removeEventListener('hashchange', callback);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
