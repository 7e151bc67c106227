// Nothing but the floors that hold it reaches the raw store: the import-layering rule refuses an import
// of store/ or search/ (grammar.ts aside) from any other host folder, and of the db floor's row lookups
// from anything but store/search/db/access/auth; outpost/no-raw-store refuses `host.rawStore` outside
// tests and the composition root; outpost/resource-sql refuses SQL over the store's tables outside
// store/, search/ and db/. Each is shown failing a planted bypass, passing the legal forms, and applied
// by the project's own config.
import { ESLint, RuleTester } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import plugin from '../../build/eslint/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = (relative: string): string => path.join(root, relative);

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2024, sourceType: 'module' } });
const options = [{ root }];
const around = [{ messageId: 'aroundAccess' }];

tester.run('outpost/import-layering: the raw store stays behind the access layer', plugin.rules!['import-layering'], {
  valid: [
    { filename: file('electron/host/access/repository.ts'), code: "import type { Store } from '../store/types.ts';", options },
    { filename: file('electron/host/access/x.ts'), code: "import { searchResources } from '../search/search.ts';", options },
    { filename: file('electron/host/store/x.ts'), code: "import { createSearchIndexer } from '../search/index.ts';", options },
    { filename: file('electron/host/host.ts'), code: "import { createStore } from './store/index.ts';", options },
    { filename: file('electron/host/fhir-api/capability.ts'), code: "import { answeredSearchParams } from '../search/grammar.ts';", options },
    { filename: file('electron/host/sync/push.ts'), code: "import type { Repository } from '../access/index.ts';", options },
    { filename: file('electron/host/auth/directory.ts'), code: "import { usersByEmail } from '../db/identities.ts';", options },
    { filename: file('electron/host/audit/log.ts'), code: "import { membershipsOfUser } from '../db/identities.ts';", options },
    { filename: file('electron/host/sync/pull.ts'), code: "import { exchangedTypes } from '../db/replication.ts';", options },
    { filename: file('electron/host/sync/outbox.ts'), code: "import type { Db } from '../db/types.ts';", options },
    { filename: file('test/sync/x.test.ts'), code: "import { createStore } from '../../electron/host/store/index.ts';", options },
  ],
  invalid: [
    { filename: file('electron/host/sync/push.ts'), code: "import type { Store } from '../store/types.ts';", options, errors: around },
    { filename: file('electron/host/admin/review.ts'), code: "import { createStore } from '../store/index.ts';", options, errors: around },
    { filename: file('electron/host/fhir-api/routes.ts'), code: "import { searchResources } from '../search/search.ts';", options, errors: around },
    { filename: file('electron/host/transfer/import.ts'), code: "import { findRids } from '../search/index.ts';", options, errors: around },
    { filename: file('electron/host/seed/demo.ts'), code: "export { createStore } from '../store/store.ts';", options, errors: around },
    { filename: file('electron/host/cli/x.ts'), code: "const m = await import('../store/index.ts');", options, errors: around },
    { filename: file('electron/host/admin/x.ts'), code: "import { liveResource } from '../db/resources.ts';", options, errors: around },
    { filename: file('electron/host/routes/x.ts'), code: "import { usersByEmail } from '../db/identities.ts';", options, errors: around },
    { filename: file('electron/host/transfer/x.ts'), code: "import { mappedRows } from '../db/replication.ts';", options, errors: around },
    { filename: file('electron/host/sync/x.ts'), code: "import { createReplica } from '../access/replica.ts';\nimport { createStore } from '../store/index.ts';", options, errors: around },
  ],
});

tester.run('outpost/no-raw-store', plugin.rules!['no-raw-store'], {
  valid: [
    { filename: file('test/host/x.test.ts'), code: 'host.rawStore.create(p);', options },
    { filename: file('electron/host/host.ts'), code: 'const host = { rawStore: store }; host.rawStore.db;', options },
    { filename: file('electron/host/cli/commands.ts'), code: 'host.access.system(project).create(p);', options },
  ],
  invalid: [
    { filename: file('electron/host/cli/commands.ts'), code: 'host.rawStore.create(p);', options, errors: [{ messageId: 'rawStore' }] },
    { filename: file('electron/main.ts'), code: "const s = host['rawStore'];", options, errors: [{ messageId: 'rawStore' }] },
  ],
});

tester.run('outpost/resource-sql', plugin.rules!['resource-sql'], {
  valid: [
    { filename: file('electron/host/db/resources.ts'), code: "db.prepare('SELECT content FROM resource WHERE rid = ?');", options },
    { filename: file('electron/host/search/x.ts'), code: 'db.prepare(`SELECT 1 FROM idx_token WHERE pid = ?`);', options },
    { filename: file('electron/host/sync/outbox.ts'), code: "db.prepare('SELECT * FROM sync_outbox WHERE type = ?');", options },
    { filename: file('electron/host/auth/schema.ts'), code: "db.exec(\"CREATE INDEX auth_user_email ON resource(lower(json_extract(content, '$.email'))) WHERE type = 'User'\");", options },
    { filename: file('test/sync/x.test.ts'), code: "db.prepare('SELECT count(*) FROM resource');", options },
    { filename: file('electron/host/admin/x.ts'), code: "const text = 'Choose a resource from the list';", options },
  ],
  invalid: [
    { filename: file('electron/host/admin/x.ts'), code: "db.prepare('SELECT content FROM resource WHERE id = ?');", options, errors: [{ messageId: 'sql' }] },
    { filename: file('electron/host/sync/x.ts'), code: 'db.prepare(`SELECT x.* FROM sync_outbox x LEFT JOIN resource r ON r.id = x.id`);', options, errors: [{ messageId: 'sql' }] },
    { filename: file('electron/host/audit/x.ts'), code: "db.prepare('INSERT INTO resource_history (rid) VALUES (?)');", options, errors: [{ messageId: 'sql' }] },
    { filename: file('electron/host/routes/x.ts'), code: 'db.prepare(`DELETE FROM idx_string WHERE rid = ${rid}`);', options, errors: [{ messageId: 'sql' }] },
    { filename: file('electron/host/sync/x.ts'), code: "db.prepare('SELECT ref_id FROM compartment WHERE rid = ?');", options, errors: [{ messageId: 'sql' }] },
  ],
});

describe('the project config applies them', () => {
  const eslint = new ESLint({ cwd: root });
  const messages = async (relative: string, code: string) => (await eslint.lintText(code, { filePath: file(relative) }))[0].messages.map((m) => m.ruleId);

  it('a forbidden import of the raw store fails lint', async () => {
    expect(await messages('electron/host/admin/probe.ts', "import type { Store } from '../store/types.ts';\nexport type X = Store;\n")).toContain('outpost/import-layering');
  });

  it('host.rawStore and SQL over resource in a domain fail lint; a Repository passes', async () => {
    expect(await messages('electron/host/sync/probe.ts', 'export const read = (host: { rawStore: unknown }) => host.rawStore;\n')).toContain('outpost/no-raw-store');
    expect(await messages('electron/host/sync/probe.ts', "export const sql = 'SELECT content FROM resource WHERE id = ?';\n")).toContain('outpost/resource-sql');
    expect(await messages('electron/host/sync/probe.ts', "import type { Repository } from '../access/index.ts';\nexport const read = (repo: Repository) => repo.read('Patient', 'x');\n")).toEqual([]);
  });
});
