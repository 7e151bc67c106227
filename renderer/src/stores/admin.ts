// Project administration: memberships (with their users and policies), access policies, invitations,
// deactivation, policy review and "view as".
import type { MedplumClient } from '@medplum/core';
import type { AccessPolicy, Patient, ProjectMembership } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { contract, type PolicyReview } from '../../../shared/contract/index.ts';
import type { HostApi } from '../api/host-api.ts';
import { referencesIn, resolveNames } from '../api/names.ts';
import { errorText, issuePaths } from '../api/outcome.ts';

export type { PolicyReview };

export interface InviteInput {
  resourceType: 'Practitioner' | 'Patient' | 'RelatedPerson';
  firstName: string;
  lastName: string;
  email: string;
  password?: string;
  accessPolicy?: string;
  admin: boolean;
  /** A related person's patient (Patient/<id>): the membership parameter `patient` of their policy. */
  patient?: string;
}

export interface ActionResult {
  ok: boolean;
  error?: string;
  paths?: string[];
  message?: string;
}

export interface AdminState {
  memberships: ProjectMembership[];
  policies: AccessPolicy[];
  loading: boolean;
  error?: string;
  review?: PolicyReview;
  reviewError?: string;
  reviewing: boolean;
  /** Reference -> name, for the patients and people the memberships and reviews name. */
  names: Record<string, string>;
  load(): Promise<void>;
  /** Patients matching a name (the patient picker). */
  findPatients(text: string): Promise<Patient[]>;
  /** Names the references (kept in `names`). */
  nameAll(references: string[]): Promise<void>;
  invite(projectId: string, input: InviteInput): Promise<ActionResult>;
  setMembershipActive(membership: ProjectMembership, active: boolean): Promise<ActionResult>;
  saveMembership(membership: ProjectMembership): Promise<ActionResult>;
  resetPassword(projectId: string, membershipId: string, password: string): Promise<ActionResult>;
  unlockSignIn(projectId: string, membershipId: string): Promise<ActionResult>;
  savePolicy(policy: AccessPolicy): Promise<ActionResult & { policy?: AccessPolicy }>;
  loadReview(membershipId: string): Promise<void>;
  reset(): void;
}

export function createAdminStore(medplum: MedplumClient, api: HostApi): StoreApi<AdminState> {
  const refresh = async (): Promise<void> => {
    const [memberships, policies] = await Promise.all([
      medplum.searchResources('ProjectMembership', new URLSearchParams({ _count: '200' })),
      medplum.searchResources('AccessPolicy', new URLSearchParams({ _count: '200' })),
    ]);
    store.setState({ memberships: [...memberships], policies: [...policies] });
    const references = memberships.flatMap((m) => (m.access ?? []).flatMap((a) => (a.parameter ?? []).map((p) => p.valueReference?.reference ?? '')));
    await store.getState().nameAll(references);
  };
  const act = async (fn: () => Promise<unknown>, message?: string): Promise<ActionResult> => {
    try {
      await fn();
      await refresh().catch(() => undefined);
      return { ok: true, message };
    } catch (err) {
      return { ok: false, error: errorText(err), paths: issuePaths(err) };
    }
  };

  const store = createStore<AdminState>((set) => ({
    memberships: [],
    policies: [],
    loading: false,
    reviewing: false,
    names: {},

    async findPatients(text) {
      const params = new URLSearchParams({ _count: '10', _sort: 'family' });
      if (text.trim()) params.set('name', text.trim());
      try {
        return [...(await medplum.searchResources('Patient', params))];
      } catch {
        return [];
      }
    },

    async nameAll(references) {
      const found = await resolveNames(medplum, references, store.getState().names);
      if (Object.keys(found).length) store.setState({ names: { ...store.getState().names, ...found } });
    },

    async load() {
      set({ loading: true, error: undefined });
      try {
        await refresh();
        set({ loading: false });
      } catch (err) {
        set({ loading: false, error: errorText(err) });
      }
    },

    invite(projectId, input) {
      const policy = input.accessPolicy ? { reference: input.accessPolicy } : undefined;
      // A related person acts for one patient: the policy is given with that patient as its `patient` parameter.
      const patient = input.resourceType === 'RelatedPerson' ? input.patient : undefined;
      const membership =
        patient && policy
          ? { access: [{ policy, parameter: [{ name: 'patient', valueReference: { reference: patient } }] }], admin: input.admin }
          : { accessPolicy: policy, admin: input.admin };
      return act(
        () =>
          api.call(contract.admin.invite, {
            params: { projectId },
            body: {
              resourceType: input.resourceType,
              firstName: input.firstName,
              lastName: input.lastName,
              email: input.email,
              password: input.password || undefined,
              sendEmail: false,
              membership,
            },
          }),
        `Invited ${input.email}`
      );
    },

    setMembershipActive(membership, active) {
      return act(() => medplum.updateResource({ ...membership, active }), active ? 'Membership reactivated' : 'Membership deactivated');
    },

    saveMembership(membership) {
      return act(() => medplum.updateResource(membership), 'Membership saved');
    },

    resetPassword(projectId, membershipId, password) {
      return act(() => api.call(contract.admin.resetPassword, { params: { projectId, membershipId }, body: { password } }), 'Password changed');
    },

    unlockSignIn(projectId, membershipId) {
      return act(() => api.call(contract.admin.unlockMember, { params: { projectId, membershipId } }), 'Sign-in unlocked: failed attempts forgotten');
    },

    async savePolicy(policy) {
      try {
        const saved = policy.id ? await medplum.updateResource(policy) : await medplum.createResource(policy);
        await refresh().catch(() => undefined);
        return { ok: true, policy: saved, message: 'Policy saved' };
      } catch (err) {
        return { ok: false, error: errorText(err), paths: issuePaths(err) };
      }
    },

    async loadReview(membershipId) {
      set({ reviewing: true, reviewError: undefined, review: undefined });
      try {
        const answer = await api.call(contract.admin.policyReview, { query: { membership: membershipId } });
        const review = Array.isArray(answer) ? answer.find((r) => r.membership?.endsWith(membershipId)) ?? answer[0] : answer;
        // The review's words name records by reference: name them before showing it.
        await store.getState().nameAll([...(review?.lines ?? []), ...(review?.warnings ?? []).map((w) => w.message)].flatMap(referencesIn));
        set({ review, reviewing: false });
      } catch (err) {
        set({ reviewError: errorText(err), reviewing: false });
      }
    },

    reset() {
      set({ memberships: [], policies: [], loading: false, error: undefined, review: undefined, reviewError: undefined, reviewing: false, names: {} });
    },
  }));
  return store;
}
