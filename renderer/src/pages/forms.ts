// The four editable types as flat forms: which fields, how a resource fills them, how they become a
// resource again (keeping every field the form does not show), and the checks before saving.
import type { Condition, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import { codeWords, humaneUnit } from '../components/clinical.ts';
import type { EditableType } from '../router.ts';

export interface FieldSpec {
  key: string;
  label: string;
  /** The FHIR path the field writes (matched against readonlyFields / hiddenFields). */
  path: string;
  type?: 'text' | 'date' | 'datetime-local' | 'number' | 'select';
  required?: boolean;
  options?: { value: string; label: string }[];
}

export type Values = Record<string, string>;

export const VITALS: { code: string; display: string; unit: string; ucum: string; min: number; max: number }[] = [
  { code: '8867-4', display: 'Heart rate', unit: '/min', ucum: '/min', min: 10, max: 300 },
  { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', ucum: 'mm[Hg]', min: 30, max: 300 },
  { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', ucum: 'mm[Hg]', min: 10, max: 200 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel', min: 25, max: 45 },
  { code: '9279-1', display: 'Respiratory rate', unit: '/min', ucum: '/min', min: 1, max: 100 },
  { code: '59408-5', display: 'Oxygen saturation', unit: '%', ucum: '%', min: 0, max: 100 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', min: 0.2, max: 500 },
  { code: '8302-2', display: 'Body height', unit: 'cm', ucum: 'cm', min: 20, max: 260 },
  { code: '39156-5', display: 'Body mass index', unit: 'kg/m2', ucum: 'kg/m2', min: 5, max: 100 },
  { code: '2339-0', display: 'Glucose', unit: 'mg/dL', ucum: 'mg/dL', min: 0, max: 2000 },
];

const opts = (values: string[]): { value: string; label: string }[] => values.map((v) => ({ value: v, label: codeWords(v) }));

/** A vital's unit as people write it (mmHg, °C). */
export const vitalUnit = (vital: { ucum: string }): string => humaneUnit({ system: 'http://unitsofmeasure.org', code: vital.ucum });

export const FIELDS: Record<EditableType, FieldSpec[]> = {
  Patient: [
    { key: 'given', label: 'Given name', path: 'name', required: true },
    { key: 'family', label: 'Family name', path: 'name', required: true },
    { key: 'gender', label: 'Sex', path: 'gender', type: 'select', options: [{ value: '', label: 'Not given' }, ...opts(['female', 'male', 'other', 'unknown'])] },
    { key: 'birthDate', label: 'Birth date', path: 'birthDate', type: 'date', required: true },
    { key: 'identifier', label: 'Medical record number', path: 'identifier' },
    { key: 'phone', label: 'Phone', path: 'telecom' },
    { key: 'city', label: 'City', path: 'address' },
  ],
  Observation: [
    { key: 'code', label: 'Measurement', path: 'code', type: 'select', required: true, options: [{ value: '', label: 'Choose…' }, ...VITALS.map((v) => ({ value: v.code, label: `${v.display} (${vitalUnit(v)})` }))] },
    { key: 'value', label: 'Value', path: 'valueQuantity', type: 'number', required: true },
    { key: 'effective', label: 'Date and time', path: 'effectiveDateTime', type: 'datetime-local', required: true },
    { key: 'status', label: 'Status', path: 'status', type: 'select', required: true, options: opts(['final', 'preliminary', 'amended', 'corrected', 'entered-in-error']) },
  ],
  Encounter: [
    { key: 'status', label: 'Status', path: 'status', type: 'select', required: true, options: opts(['planned', 'arrived', 'triaged', 'in-progress', 'onleave', 'finished', 'cancelled']) },
    {
      key: 'class',
      label: 'Class',
      path: 'class',
      type: 'select',
      required: true,
      options: [
        { value: 'AMB', label: 'Ambulatory' },
        { value: 'IMP', label: 'Inpatient' },
        { value: 'EMER', label: 'Emergency' },
        { value: 'HH', label: 'Home health' },
        { value: 'VR', label: 'Virtual' },
      ],
    },
    { key: 'type', label: 'Type', path: 'type' },
    { key: 'start', label: 'Start', path: 'period', type: 'datetime-local', required: true },
    { key: 'end', label: 'End', path: 'period', type: 'datetime-local' },
    { key: 'reason', label: 'Reason', path: 'reasonCode' },
  ],
  Condition: [
    { key: 'code', label: 'Condition', path: 'code', required: true },
    { key: 'clinicalStatus', label: 'Clinical status', path: 'clinicalStatus', type: 'select', required: true, options: opts(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved']) },
    { key: 'verificationStatus', label: 'Verification', path: 'verificationStatus', type: 'select', options: opts(['confirmed', 'provisional', 'differential', 'unconfirmed', 'refuted', 'entered-in-error']) },
    { key: 'onset', label: 'Onset date', path: 'onsetDateTime', type: 'date' },
    { key: 'note', label: 'Note', path: 'note' },
  ],
};

/** 'YYYY-MM-DDTHH:mm' of an instant, in local time (what datetime-local inputs take). */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const code = (c: { coding?: { code?: string }[] } | undefined): string => c?.coding?.[0]?.code ?? '';

export function valuesOf(type: EditableType, r: Resource | undefined): Values {
  switch (type) {
    case 'Patient': {
      const p = r as Patient | undefined;
      return {
        given: p?.name?.[0]?.given?.join(' ') ?? '',
        family: p?.name?.[0]?.family ?? '',
        gender: p?.gender ?? '',
        birthDate: p?.birthDate ?? '',
        identifier: p?.identifier?.[0]?.value ?? '',
        phone: p?.telecom?.find((t) => t.system === 'phone')?.value ?? '',
        city: p?.address?.[0]?.city ?? '',
      };
    }
    case 'Observation': {
      const o = r as Observation | undefined;
      return { code: code(o?.code), value: o?.valueQuantity?.value?.toString() ?? '', effective: toLocalInput(o?.effectiveDateTime ?? new Date().toISOString()), status: o?.status ?? 'final' };
    }
    case 'Encounter': {
      const e = r as Encounter | undefined;
      return {
        status: e?.status ?? 'in-progress',
        class: e?.class?.code ?? 'AMB',
        type: e?.type?.[0]?.text ?? e?.type?.[0]?.coding?.[0]?.display ?? '',
        start: toLocalInput(e?.period?.start ?? new Date().toISOString()),
        end: toLocalInput(e?.period?.end),
        reason: e?.reasonCode?.[0]?.text ?? e?.reasonCode?.[0]?.coding?.[0]?.display ?? '',
      };
    }
    case 'Condition': {
      const c = r as Condition | undefined;
      return {
        code: c?.code?.text ?? c?.code?.coding?.[0]?.display ?? '',
        clinicalStatus: code(c?.clinicalStatus) || 'active',
        verificationStatus: code(c?.verificationStatus) || 'confirmed',
        onset: c?.onsetDateTime?.slice(0, 10) ?? '',
        note: c?.note?.[0]?.text ?? '',
      };
    }
  }
}

export function validate(type: EditableType, v: Values, locked: (path: string) => boolean): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of FIELDS[type]) {
    if (f.required && !locked(f.path) && !v[f.key]?.trim()) errors[f.key] = `${f.label} is required`;
  }
  const today = new Date().toISOString().slice(0, 10);
  if (type === 'Patient' && v.birthDate && v.birthDate > today) errors.birthDate = 'Birth date cannot be in the future';
  if (type === 'Observation' && v.value) {
    const n = Number(v.value);
    const vital = VITALS.find((x) => x.code === v.code);
    if (!Number.isFinite(n)) errors.value = 'Enter a number';
    else if (vital && (n < vital.min || n > vital.max)) errors.value = `${vital.display} must be between ${vital.min} and ${vital.max} ${vitalUnit(vital)}`;
  }
  if (type === 'Observation' && v.effective && new Date(v.effective).getTime() > Date.now() + 5 * 60_000) errors.effective = 'The date cannot be in the future';
  if (type === 'Encounter' && v.start && v.end && v.end < v.start) errors.end = 'End must be after start';
  if (type === 'Condition' && v.onset && v.onset > today) errors.onset = 'Onset cannot be in the future';
  return errors;
}

const cc = (system: string, c: string): { coding: { system: string; code: string }[] } => ({ coding: [{ system, code: c }] });

/** The resource to save: the original with the form's fields written over it (locked fields left as they were). */
export function toResource(type: EditableType, original: Resource | undefined, v: Values, patientId: string | undefined, locked: (path: string) => boolean): Resource {
  const put = <T extends Record<string, unknown>>(target: T, path: string, value: unknown): void => {
    if (locked(path)) return;
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) delete target[path];
    else (target as Record<string, unknown>)[path] = value;
  };
  switch (type) {
    case 'Patient': {
      const p: Patient = { ...(original as Patient | undefined), resourceType: 'Patient' };
      const rest = p.name?.slice(1) ?? [];
      put(p as never, 'name', [{ ...p.name?.[0], given: v.given.trim().split(/\s+/).filter(Boolean), family: v.family.trim() }, ...rest]);
      put(p as never, 'gender', v.gender || undefined);
      put(p as never, 'birthDate', v.birthDate || undefined);
      const ids = p.identifier?.slice(1) ?? [];
      put(p as never, 'identifier', v.identifier.trim() ? [{ ...(p.identifier?.[0] ?? { system: 'https://outpost.local/mrn' }), value: v.identifier.trim() }, ...ids] : ids);
      const telecom = (p.telecom ?? []).filter((t) => t.system !== 'phone');
      put(p as never, 'telecom', v.phone.trim() ? [{ system: 'phone', value: v.phone.trim() }, ...telecom] : telecom);
      const addresses = p.address?.slice(1) ?? [];
      put(p as never, 'address', v.city.trim() ? [{ ...p.address?.[0], city: v.city.trim() }, ...addresses] : addresses);
      return p;
    }
    case 'Observation': {
      const o: Observation = { ...(original as Observation | undefined), resourceType: 'Observation', status: (locked('status') ? (original as Observation)?.status : v.status) as Observation['status'], code: (original as Observation)?.code ?? { text: '' } };
      const vital = VITALS.find((x) => x.code === v.code);
      if (!locked('code') && vital) {
        o.code = { coding: [{ system: 'http://loinc.org', code: vital.code, display: vital.display }], text: vital.display };
        o.category ??= [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital signs' }] }];
      }
      put(o as never, 'valueQuantity', vital && v.value ? { value: Number(v.value), unit: vitalUnit(vital), system: 'http://unitsofmeasure.org', code: vital.ucum } : undefined);
      put(o as never, 'effectiveDateTime', fromLocalInput(v.effective));
      if (!original && patientId) o.subject = { reference: `Patient/${patientId}` };
      return o;
    }
    case 'Encounter': {
      const e: Encounter = { ...(original as Encounter | undefined), resourceType: 'Encounter', status: v.status as Encounter['status'], class: (original as Encounter)?.class ?? { code: 'AMB' } };
      if (locked('status')) e.status = (original as Encounter).status;
      if (!locked('class')) e.class = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: v.class, display: FIELDS.Encounter[1].options?.find((x) => x.value === v.class)?.label };
      put(e as never, 'type', v.type.trim() ? [{ text: v.type.trim() }] : undefined);
      put(e as never, 'period', { start: fromLocalInput(v.start), ...(v.end ? { end: fromLocalInput(v.end) } : {}) });
      put(e as never, 'reasonCode', v.reason.trim() ? [{ text: v.reason.trim() }] : undefined);
      if (!original && patientId) e.subject = { reference: `Patient/${patientId}` };
      return e;
    }
    case 'Condition': {
      const c: Condition = { ...(original as Condition | undefined), resourceType: 'Condition' } as Condition;
      const oldText = (original as Condition | undefined)?.code?.text ?? (original as Condition | undefined)?.code?.coding?.[0]?.display;
      put(c as never, 'code', oldText === v.code.trim() ? (original as Condition).code : { text: v.code.trim() });
      put(c as never, 'clinicalStatus', cc('http://terminology.hl7.org/CodeSystem/condition-clinical', v.clinicalStatus));
      put(c as never, 'verificationStatus', v.verificationStatus ? cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', v.verificationStatus) : undefined);
      put(c as never, 'onsetDateTime', v.onset || undefined);
      put(c as never, 'note', v.note.trim() ? [{ text: v.note.trim() }] : undefined);
      if (!original && patientId) c.subject = { reference: `Patient/${patientId}` };
      return c;
    }
  }
}
