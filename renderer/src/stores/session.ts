// Who is signed in and as which role: login (email, password, TOTP), the membership chooser, role
// switch, lock/unlock, logout and first-run setup. Logout and role switch clear every other store.
import type { ClientStorage, LoginState, MedplumClient } from '@medplum/core';
import type { Reference } from '@medplum/fhirtypes';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { contract } from '../../../shared/contract/index.ts';
import type { Me, RouteReply, SetupBody } from '../../../shared/contract/index.ts';
import type { HostApi } from '../api/host-api.ts';
import type { LockGate } from '../api/lock-gate.ts';
import { errorText, outcomeOf } from '../api/outcome.ts';

export type { Me };

export interface MembershipChoice {
  id: string;
  project: Reference;
  profile: Reference;
  admin?: boolean;
}

const SESSION_ENDED_AFTER_PREVIEW = 'The preview ended, and so had your own session. Sign in again to continue.';

export type SessionPhase = 'starting' | 'setup' | 'login' | 'mfa' | 'choose' | 'ready';

export interface SessionState {
  phase: SessionPhase;
  busy: boolean;
  error?: string;
  /** Set when the error is a lockout (too many failed attempts): shown as an alert, not a field error. */
  lockedOut?: boolean;
  locked: boolean;
  unlockError?: string;
  /** Why the last session ended without the person signing out (shown on the sign-in screen). */
  endedMessage?: string;
  loginId?: string;
  /** Memberships offered at login; the role switcher offers the same list. */
  choices: MembershipChoice[];
  me?: Me;
  /** Bumped on every role switch: views keyed on it reload at once. */
  epoch: number;
  start(): Promise<void>;
  setup(input: SetupInput): Promise<void>;
  login(email: string, password: string): Promise<void>;
  verifyMfa(token: string): Promise<void>;
  choose(membershipId: string): Promise<void>;
  switchRole(membershipId: string): Promise<void>;
  /** The role changed elsewhere (another window, the host): reload who we are and every view. */
  refreshRole(): Promise<void>;
  lock(): void;
  unlock(password: string): Promise<void>;
  logout(): Promise<void>;
  /** The session ended on the host's side (expired, membership deactivated). */
  ended(message: string): void;
  /** An administrator previews the app as a membership (read-only, audited); the admin's own login is kept. */
  startViewAs(membershipId: string): Promise<void>;
  /** Ends the preview and returns to the administrator's own session. */
  endViewAs(): Promise<void>;
}

/** First-run setup: the first project and its administrator. */
export type SetupInput = SetupBody;

/** Each step of the login flow answers a code, the memberships to choose from, or an MFA step. */
type LoginAnswer = RouteReply<typeof contract.auth.login>;

export function profileName(me: Me | undefined): string {
  const name = me?.profile?.name?.[0];
  const text = name?.text ?? [...(name?.prefix ?? []), ...(name?.given ?? []), name?.family].filter(Boolean).join(' ');
  return text || [me?.user?.firstName, me?.user?.lastName].filter(Boolean).join(' ') || me?.user?.email || 'Unknown';
}

/** Where the role list is kept beside MedplumClient's login (the same storage: cleared with it). */
const CHOICES_KEY = 'outpost.choices';
/** The administrator's own login during a "view as" preview (the same storage: cleared with it). */
const VIEW_AS_KEY = 'outpost.viewAs.admin';

const READS = new Set(['read', 'vread', 'search', 'history']);

/** A preview's policy as the UI reads it: reads only, so no write action is ever offered. */
function readOnlyMe(me: Me): Me {
  if (!me.viewAs) return me;
  const resource = (me.accessPolicy?.resource ?? [{ resourceType: '*' }]).map((e) => ({ ...e, readonly: undefined, interaction: (e.interaction ?? ['read', 'vread', 'search', 'history']).filter((i) => READS.has(i)) }));
  return { ...me, membership: { ...me.membership, admin: false }, accessPolicy: { resourceType: 'AccessPolicy', ...me.accessPolicy, resource } };
}

export function createSessionStore(
  medplum: MedplumClient,
  api: HostApi,
  gate: LockGate,
  clearOthers: () => void,
  options: { goHome?: (hash?: string) => void; storage?: ClientStorage } = {}
): StoreApi<SessionState> {
  const goHome = options.goHome ?? (() => undefined);
  return createStore<SessionState>((set, get) => {
    const fail = (err: unknown): void => {
      const text = errorText(err);
      const code = outcomeOf(err)?.issue?.[0]?.code;
      set({ busy: false, error: text, lockedOut: code === 'throttled' || /locked/i.test(text) });
    };

    const loadMe = async (): Promise<Me> => readOnlyMe(await api.call(contract.auth.me));

    const finish = async (code: string): Promise<void> => {
      await medplum.processCode(code);
      const me = await loadMe();
      // Nothing of an earlier session (or of a request that failed as it ended) survives into this one.
      clearOthers();
      options.storage?.setObject(CHOICES_KEY, get().choices);
      set({ phase: 'ready', busy: false, error: undefined, lockedOut: false, me, loginId: undefined, epoch: get().epoch + 1 });
      goHome();
    };

    const next = async (answer: LoginAnswer): Promise<void> => {
      if (answer.memberships?.length) {
        set({ choices: answer.memberships.map(({ id, project, profile, admin }) => ({ id, project, profile, admin })) });
      }
      if (answer.code) {
        await finish(answer.code);
      } else if (answer.mfaRequired) {
        set({ phase: 'mfa', busy: false, loginId: answer.login, error: undefined });
      } else if (answer.memberships?.length) {
        set({ phase: 'choose', busy: false, loginId: answer.login, error: undefined });
      } else {
        throw new Error('The host answered the login without a code');
      }
    };

    const reset = (endedMessage?: string): void => {
      gate.abandon();
      medplum.clear();
      clearOthers();
      set({ phase: 'login', busy: false, locked: false, me: undefined, choices: [], loginId: undefined, error: undefined, endedMessage, lockedOut: false, unlockError: undefined, epoch: get().epoch + 1 });
      goHome();
    };

    gate.onLock(() => set({ locked: true, unlockError: undefined }));

    return {
      phase: 'starting',
      busy: false,
      locked: false,
      choices: [],
      epoch: 0,

      async start() {
        // A reload of a signed-in tab: the login kept in the tab's storage still holds when the host
        // knows the session (a locked one asks for the password first: the lock gate holds the request).
        if (medplum.getActiveLogin()) {
          try {
            const me = await loadMe();
            const choices = options.storage?.getObject<MembershipChoice[]>(CHOICES_KEY) ?? [];
            set({ phase: 'ready', me, choices, locked: false, epoch: get().epoch + 1 });
            return;
          } catch {
            // Ended meanwhile (expired, signed out elsewhere, deactivated): sign in again.
            gate.abandon();
            medplum.clear();
          }
        }
        try {
          const status = await api.call(contract.admin.setupNeeded);
          set({ phase: status.needed ? 'setup' : 'login' });
        } catch {
          // No setup endpoint (or the host says no): go to login.
          set({ phase: 'login' });
        }
      },

      async setup(input) {
        set({ busy: true, error: undefined });
        try {
          await api.call(contract.admin.setup, { body: input });
          set({ phase: 'login', busy: false });
          await get().login(input.email, input.password);
        } catch (err) {
          fail(err);
        }
      },

      async login(email, password) {
        set({ busy: true, error: undefined, endedMessage: undefined, lockedOut: false, choices: [] });
        try {
          // MedplumClient makes the PKCE challenge and keeps its verifier for the code exchange.
          await next(api.check(contract.auth.login, await medplum.startLogin({ email, password })));
        } catch (err) {
          fail(err);
        }
      },

      async verifyMfa(token) {
        set({ busy: true, error: undefined });
        try {
          await next(await api.call(contract.auth.verifyMfa, { body: { login: get().loginId ?? '', token } }));
        } catch (err) {
          fail(err);
        }
      },

      async choose(membershipId) {
        set({ busy: true, error: undefined });
        try {
          await next(await api.call(contract.auth.chooseProfile, { body: { login: get().loginId ?? '', profile: membershipId } }));
        } catch (err) {
          fail(err);
        }
      },

      async switchRole(membershipId) {
        set({ busy: true, error: undefined });
        try {
          const me = readOnlyMe(await api.call(contract.auth.switchRole, { body: { membership: membershipId } }));
          medplum.invalidateAll();
          clearOthers();
          set({ me, busy: false, epoch: get().epoch + 1 });
          goHome();
        } catch (err) {
          fail(err);
        }
      },

      async refreshRole() {
        try {
          const me = await loadMe();
          medplum.invalidateAll();
          clearOthers();
          set({ me, epoch: get().epoch + 1 });
          goHome();
        } catch (err) {
          set({ error: errorText(err) });
        }
      },

      lock() {
        // Locked at the host too: a reload or another tab cannot get past it (the lock call passes the gate).
        api.call(contract.auth.lock).catch(() => undefined);
        gate.lock();
      },

      async unlock(password) {
        set({ busy: true, unlockError: undefined });
        try {
          const me = readOnlyMe(await api.call(contract.auth.unlock, { body: { password } }));
          gate.unlock();
          set({ locked: false, busy: false, me });
        } catch (err) {
          set({ busy: false, unlockError: errorText(err) });
        }
      },

      async logout() {
        try {
          await api.call(contract.auth.logout);
        } catch {
          // Ended already: the local state is cleared either way.
        }
        reset();
      },

      async startViewAs(membershipId) {
        const adminLogin = medplum.getActiveLogin();
        if (!adminLogin) return;
        set({ busy: true, error: undefined });
        try {
          const tokens = await api.call(contract.admin.viewAs, { body: { membership: membershipId } });
          options.storage?.setObject(VIEW_AS_KEY, { login: adminLogin, choices: get().choices });
          await medplum.setActiveLogin({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token ?? '', project: tokens.project, profile: tokens.profile });
          const me = await loadMe();
          clearOthers();
          set({ me, choices: [], busy: false, epoch: get().epoch + 1 });
          goHome();
        } catch (err) {
          fail(err);
        }
      },

      async endViewAs() {
        const saved = options.storage?.getObject<{ login: LoginState; choices: MembershipChoice[] }>(VIEW_AS_KEY);
        try {
          await api.call(contract.auth.logout);
        } catch {
          // Ended already (the admin's session ended): the admin's login decides below.
        }
        options.storage?.setString(VIEW_AS_KEY, undefined);
        gate.unlock();
        if (!saved) {
          reset();
          return;
        }
        try {
          await medplum.setActiveLogin(saved.login);
          const me = await loadMe();
          clearOthers();
          // Medplum's storage drops empty lists: no saved list is no list.
          const choices = saved.choices ?? [];
          options.storage?.setObject(CHOICES_KEY, choices);
          set({ me, choices, locked: false, busy: false, epoch: get().epoch + 1 });
          goHome('#/admin/users'); // back where the preview was started
        } catch {
          reset(SESSION_ENDED_AFTER_PREVIEW);
        }
      },

      ended(message) {
        // Only a signed-in session can end: a 401 during sign-in (a wrong code) is that step's own error.
        if (get().phase === 'ready') {
          reset(message);
        }
      },
    };
  });
}
