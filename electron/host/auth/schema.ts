// Protected internals of authentication (migration 10). These are NOT FHIR resources: no route, search,
// history, export or sync reads these tables, and every secret in them is a SHA-256 hash of a random
// value (codes, tokens, client secrets), never the value itself. Times are epoch milliseconds.
//
// auth_login          a login in progress: from POST /auth/login until its code is exchanged
// auth_session        a signed-in session (User or ClientApplication + one membership)
// auth_refresh_token  refresh tokens; rotated on use, a reused one ends its session
// auth_login_failure  consecutive failed logins per (lower-cased) email, and the lockout they cause;
//                     keyed by email, not user, so unknown emails lock out the same way (no oracle)
// auth_account        per-User state that is not part of the User resource (disabled flag, MFA
//                     enrolment in progress, last TOTP step used so a code cannot be replayed)
// auth_client_secret  hashes of ClientApplication secrets for the client_credentials grant
import type { Migration } from '../db/types.ts';
import { viewAsMigration } from './previews.ts';

export const authMigration: Migration = {
  version: 10,
  name: 'auth: logins, sessions, refresh tokens, lockouts, client secrets',
  up(db) {
    db.exec(`
      CREATE TABLE auth_login (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        email TEXT NOT NULL,
        project_id TEXT,                 -- projectId the client asked for, restricting the memberships
        client_id TEXT,
        code_challenge TEXT NOT NULL,
        code_challenge_method TEXT NOT NULL CHECK (code_challenge_method IN ('S256', 'plain')),
        membership_id TEXT,              -- chosen (or only) membership
        mfa_required INTEGER NOT NULL,
        mfa_verified INTEGER NOT NULL DEFAULT 0,
        code_hash TEXT UNIQUE,
        code_expires INTEGER,
        code_used INTEGER NOT NULL DEFAULT 0,
        session_id TEXT,                 -- the session its code created (revoked if the code is replayed)
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
      );
      CREATE INDEX auth_login_expires ON auth_login(expires);

      CREATE TABLE auth_session (
        id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,           -- 'User/<id>' or 'ClientApplication/<id>'
        user_id TEXT,                    -- set for people (User), NULL for programs
        membership_id TEXT NOT NULL,
        auth_method TEXT NOT NULL CHECK (auth_method IN ('password', 'client_credentials')),
        client_id TEXT,
        access_hash TEXT NOT NULL UNIQUE,
        access_expires INTEGER NOT NULL,
        created INTEGER NOT NULL,
        last_activity INTEGER NOT NULL,
        expires INTEGER NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0,
        ended INTEGER,
        end_reason TEXT
      );
      CREATE INDEX auth_session_membership ON auth_session(membership_id) WHERE ended IS NULL;
      CREATE INDEX auth_session_user ON auth_session(user_id) WHERE ended IS NULL;

      CREATE TABLE auth_refresh_token (
        token_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        expires INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX auth_refresh_session ON auth_refresh_token(session_id);

      CREATE TABLE auth_login_failure (
        email TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        locked_until INTEGER,
        last_failure INTEGER NOT NULL
      );

      CREATE TABLE auth_account (
        user_id TEXT PRIMARY KEY,
        disabled INTEGER NOT NULL DEFAULT 0,
        mfa_pending_secret TEXT,
        mfa_last_step INTEGER
      );

      CREATE TABLE auth_client_secret (
        client_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created INTEGER NOT NULL
      );

      -- Login looks Users up by email and memberships by user on every attempt: expression indexes on
      -- the store's resource table (additive; partial, so they cost nothing for other types).
      CREATE INDEX auth_user_email ON resource(lower(json_extract(content, '$.email'))) WHERE type = 'User';
      CREATE INDEX auth_membership_user ON resource(json_extract(content, '$.user.reference')) WHERE type = 'ProjectMembership';
      CREATE INDEX auth_membership_profile ON resource(json_extract(content, '$.profile.reference')) WHERE type = 'ProjectMembership';
    `);
  },
};

export const authMigrations: readonly Migration[] = [authMigration, viewAsMigration];
