// Outpost's local ESLint plugin (used by eslint.config.js as `outpost/...`).
import { importLayering } from './import-layering.js';
import { noRawStore, resourceSql } from './raw-data.js';

const plugin = {
  meta: { name: 'eslint-plugin-outpost', version: '0.1.0' },
  rules: { 'import-layering': importLayering, 'no-raw-store': noRawStore, 'resource-sql': resourceSql },
};

export default plugin;
