// The leak crawl's clinic: the demo clinic over HTTP, with a unique canary planted in every field a demo
// role must not read, and resources out of scope for the roles:
// - Morgan Masked (confidential, Dr. Chen's patient, in the nurse's care team): canaries in telecom,
//   address and identifier, hidden from the nurse, out of reach of the patient portal, the caregiver
//   and the researcher;
// - a study-cohort patient in the nurse's care team (not Dr. Chen's): canaries in name, telecom, address
//   and identifier, hidden from the researcher, out of reach of Dr. Chen, the portal and the caregiver;
// - an outsider (no practitioner, no care team, no cohort) with an Observation, a Condition and a note:
//   every value a canary, every id out of scope for everyone but the administrator;
// - another project with a patient and its records: out of scope for everyone, the administrator too;
// - secrets: every demo User's password hash, a TOTP secret, a client application's secret.
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { DEFAULT_PROJECT_ID } from '../../electron/host/db/project.ts';
import { COHORT_TAG } from '../../electron/host/seed/index.ts';
import type { DemoDoor, DemoRole } from '../helpers/demo-door.ts';

export const ROLES: DemoRole[] = ['admin', 'chen', 'chenPatient', 'nurse', 'robert', 'researcher'];

export interface Canary {
  value: string;
  /** Where it was planted, for the failure report. */
  where: string;
  /** The roles that may read it (everyone else must never receive one byte of it). */
  readers: DemoRole[];
}

export interface CrawlFixture {
  canaries: Canary[];
  /** Ids each role must never receive (unless its request named them). */
  outOfScope: Record<DemoRole, string[]>;
  /** Ids to aim requests at: visible, masked, out of scope. */
  pools: { morgan: string; mary: string; cohort: string; outsider: string[]; otherProject: string[]; visible: Record<string, string[]> };
  /** A decoy of the same shape for each canary (the second half of an existence-oracle pair). */
  decoy(value: string): string;
}

const tag = (): string => randomBytes(6).toString('hex').toUpperCase();

export async function plantCanaries(d: DemoDoor): Promise<CrawlFixture> {
  const raw = d.host.rawStore;
  const db = raw.db;
  const canaries: Canary[] = [];
  const decoys = new Map<string, string>();
  const canary = (where: string, readers: DemoRole[], shape: 'text' | 'phone' = 'text'): string => {
    const value = shape === 'phone' ? `555-${tag().slice(0, 8)}` : `CANARY${tag()}`;
    canaries.push({ value, where, readers });
    decoys.set(value, shape === 'phone' ? `555-${tag().slice(0, 8)}` : `DECOY${tag()}`);
    return value;
  };
  const project = DEFAULT_PROJECT_ID;
  const read = <T extends Resource>(type: string, id: string): T => raw.read<T>(type, id);
  const write = <T extends Resource>(r: T): T => raw.update<T>(r, undefined, { project }).resource;

  // Morgan Masked: the nurse reads her with telecom, address and identifier hidden.
  const morgan = read<Resource & Record<string, unknown>>('Patient', d.ids.confidential);
  const morganReaders: DemoRole[] = ['admin', 'chen'];
  write({
    ...morgan,
    telecom: [{ system: 'phone', value: canary('Morgan.telecom', morganReaders, 'phone') }],
    address: [{ line: [canary('Morgan.address.line', morganReaders)], city: canary('Morgan.address.city', morganReaders) }],
    identifier: [{ system: 'https://outpost.local/mrn', value: canary('Morgan.identifier', morganReaders) }],
  } as Resource);

  // Morgan's chart: an Observation, so chains through her (patient.telecom=...) have something to find.
  raw.create({ resourceType: 'Observation', status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${d.ids.confidential}` }, valueQuantity: { value: 70, unit: '/min' } } as Resource, undefined, { project });

  // A cohort patient of the nurse's care team: the researcher reads it de-identified.
  const cohortIds = (db.prepare("SELECT id FROM resource WHERE type = 'Patient' AND deleted = 0 AND content LIKE ? ORDER BY rid").pluck().all(`%${COHORT_TAG.code}%`) as string[]);
  const careTeam = new Set(
    (db.prepare("SELECT content FROM resource WHERE type = 'CareTeam' AND deleted = 0").pluck().all() as string[]).map((c) => (JSON.parse(c) as { subject?: { reference?: string } }).subject?.reference?.split('/')[1]),
  );
  const chenPatients = new Set(
    (db.prepare("SELECT id, content FROM resource WHERE type = 'Patient' AND deleted = 0").all() as { id: string; content: string }[])
      .filter((r) => r.content.includes(`Practitioner/${d.ids.chenPractitioner}`))
      .map((r) => r.id),
  );
  const cohort = cohortIds.find((id) => careTeam.has(id) && !chenPatients.has(id) && id !== d.ids.confidential);
  if (!cohort) {
    throw new Error('crawl fixture: no cohort patient in the nurse care team');
  }
  const cohortReaders: DemoRole[] = ['admin', 'nurse'];
  const cohortPatient = read<Resource & Record<string, unknown>>('Patient', cohort);
  write({
    ...cohortPatient,
    name: [{ family: canary('Cohort.name.family', cohortReaders), given: [canary('Cohort.name.given', cohortReaders)] }],
    telecom: [{ system: 'phone', value: canary('Cohort.telecom', cohortReaders, 'phone') }],
    address: [{ line: [canary('Cohort.address', cohortReaders)] }],
    identifier: [{ system: 'https://outpost.local/mrn', value: canary('Cohort.identifier', cohortReaders) }],
  } as Resource);

  // The outsider: nobody's patient.
  const admins: DemoRole[] = ['admin'];
  const outsider = raw.create({
    resourceType: 'Patient',
    name: [{ family: canary('Outsider.name', admins), given: [canary('Outsider.given', admins)] }],
    telecom: [{ system: 'phone', value: canary('Outsider.telecom', admins, 'phone') }],
    identifier: [{ system: 'https://outpost.local/mrn', value: canary('Outsider.identifier', admins) }],
    birthDate: '1961-01-01',
    gender: 'female',
  } as Resource, undefined, { project }).resource;
  const subject = { reference: `Patient/${outsider.id}` };
  const outsiderObs = raw.create({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: canary('Outsider.Observation.code', admins) },
    subject,
    note: [{ text: canary('Outsider.Observation.note', admins) }],
    valueQuantity: { value: 61, unit: '/min' },
  } as Resource, undefined, { project }).resource;
  const outsiderCond = raw.create({
    resourceType: 'Condition',
    subject,
    code: { text: canary('Outsider.Condition.code', admins) },
  } as Resource, undefined, { project }).resource;

  // Another project: nobody here reads it, its administrator included.
  const other = 'crawl-other-project';
  raw.update({ resourceType: 'Project', id: other, name: canary('Other.Project.name', []) } as Resource, undefined, { project: other });
  const otherPatient = raw.create({ resourceType: 'Patient', name: [{ family: canary('Other.Patient.name', []) }], generalPractitioner: [{ reference: `Practitioner/${d.ids.chenPractitioner}` }] } as Resource, undefined, { project: other }).resource;
  const otherObs = raw.create({ resourceType: 'Observation', status: 'final', code: { text: canary('Other.Observation', []) }, subject: { reference: `Patient/${otherPatient.id}` } } as Resource, undefined, { project: other }).resource;

  // Secrets: password hashes, a TOTP secret, a client secret.
  for (const hash of db.prepare("SELECT json_extract(content, '$.passwordHash') FROM resource WHERE type = 'User' AND deleted = 0").pluck().all() as (string | null)[]) {
    if (hash) {
      canaries.push({ value: hash, where: 'User.passwordHash', readers: [] });
    }
  }
  const admin = (db.prepare("SELECT content FROM resource WHERE type = 'User' AND json_extract(content, '$.email') = 'admin@demo.outpost'").pluck().get() as string);
  const totp = `CANARYTOTP${tag()}`.replace(/[^A-Z2-7]/g, 'Q');
  canaries.push({ value: totp, where: 'User.mfaSecret', readers: [] });
  raw.update({ ...(JSON.parse(admin) as Resource), mfaSecret: totp } as Resource, undefined, { project });
  const clientSecret = `${canary('ClientApplication.secret', [])}${randomBytes(16).toString('hex')}`;
  canaries.push({ value: clientSecret, where: 'ClientApplication.secret (whole)', readers: [] });
  const client = await d.call('admin', 'POST', 'ClientApplication', { resourceType: 'ClientApplication', name: 'Crawl client', secret: clientSecret });
  if (client.status !== 201) {
    throw new Error(`crawl fixture: client ${client.status} ${client.text}`);
  }

  const visible: Record<string, string[]> = {};
  for (const type of ['Patient', 'Observation', 'Condition', 'Encounter', 'CareTeam', 'Practitioner', 'AllergyIntolerance']) {
    visible[type] = db.prepare('SELECT id FROM resource WHERE type = ? AND project = ? AND deleted = 0 ORDER BY rid LIMIT 12').pluck().all(type, project) as string[];
  }
  const outsiderIds = [outsider.id!, outsiderObs.id!, outsiderCond.id!];
  const otherIds = [other, otherPatient.id!, otherObs.id!];
  const outOfScope = Object.fromEntries(ROLES.map((role) => [role, role === 'admin' ? otherIds : [...outsiderIds, ...otherIds]])) as Record<DemoRole, string[]>;
  return {
    canaries,
    outOfScope,
    pools: { morgan: d.ids.confidential, mary: d.ids.mary, cohort, outsider: outsiderIds, otherProject: otherIds, visible },
    decoy: (value) => decoys.get(value) ?? `DECOY${tag()}`,
  };
}
