// Two rules that keep the data behind the access layer where an import rule cannot see it:
//
// outpost/no-raw-store   `x.rawStore` (the host's raw store, for tests) is read only in test/ and in
//                        electron/host/host.ts, which makes it; production code takes a Repository.
// outpost/resource-sql   SQL over the store's tables (resource, resource_history, the idx_* index
//                        tables, compartment) is written only in electron/host/store/, search/ and db/:
//                        anywhere else a string holding `FROM resource` and its kind reads or writes
//                        rows around every policy. A domain's own tables (auth_session, sync_outbox...)
//                        are its own business.
import path from 'node:path';

const RESOURCE_SQL = /\b(?:from|join|into|update)\s+(?:resource|resource_history|compartment|idx_[a-z_]+)\b/i;
const SQL_HOMES = ['electron/host/store/', 'electron/host/search/', 'electron/host/db/'];

function relativeOf(context) {
  const root = path.resolve(context.options[0]?.root ?? context.cwd);
  return path.relative(root, path.resolve(root, context.filename)).split(path.sep).join('/');
}

const rootOption = [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }];

/** @type {import('eslint').Rule.RuleModule} */
export const noRawStore = {
  meta: {
    type: 'problem',
    docs: { description: 'The raw store (host.rawStore) is for tests and the composition root only.' },
    schema: rootOption,
    messages: { rawStore: 'host.rawStore reaches the data around every policy: take a Repository from host.access instead.' },
  },
  create(context) {
    const file = relativeOf(context);
    if (file.startsWith('test/') || file === 'electron/host/host.ts') {
      return {};
    }
    return {
      MemberExpression(node) {
        const name = node.property.type === 'Identifier' ? node.property.name : node.property.type === 'Literal' ? node.property.value : undefined;
        if (name === 'rawStore') {
          context.report({ node, messageId: 'rawStore' });
        }
      },
    };
  },
};

/** @type {import('eslint').Rule.RuleModule} */
export const resourceSql = {
  meta: {
    type: 'problem',
    docs: { description: "SQL over the store's tables lives only in electron/host/store/, search/ and db/." },
    schema: rootOption,
    messages: { sql: "SQL over the store's tables ({{table}}) belongs in electron/host/store/, search/ or db/ (a db-first query function): elsewhere it reads around the access layer." },
  },
  create(context) {
    const file = relativeOf(context);
    if (!file.startsWith('electron/host/') || SQL_HOMES.some((home) => file.startsWith(home))) {
      return {};
    }
    const check = (node, text) => {
      const match = RESOURCE_SQL.exec(text);
      if (match) {
        context.report({ node, messageId: 'sql', data: { table: match[0] } });
      }
    };
    return {
      Literal(node) {
        if (typeof node.value === 'string') check(node, node.value);
      },
      TemplateLiteral(node) {
        check(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join('${}'));
      },
    };
  },
};
