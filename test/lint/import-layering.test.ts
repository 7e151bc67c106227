// The layering rule fails an import pointing up a layer and passes legal ones, and the real tree is clean.
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

const rule = plugin.rules!['import-layering'];
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2024, sourceType: 'module' } });
const options = [{ root }];
const up = [{ messageId: 'upLayer' }];

tester.run('outpost/import-layering', rule, {
  valid: [
    { filename: file('shared/fhir/x.ts'), code: "import { errors } from '../errors.ts';", options },
    { filename: file('shared/x.ts'), code: "import { z } from 'zod'; import { allOk } from '@medplum/core';", options },
    { filename: file('shared/x.ts'), code: "import type { Patient } from '@medplum/fhirtypes';", options },
    { filename: file('electron/host/routes/x.ts'), code: "import { errors } from '../../../shared/errors.ts';", options },
    { filename: file('electron/host/x.ts'), code: "import { readFileSync } from 'node:fs'; import Database from 'better-sqlite3-multiple-ciphers';", options },
    { filename: file('electron/main.ts'), code: "import { app } from 'electron'; import { createHost } from './host/host.ts';", options },
    { filename: file('renderer/src/main.tsx'), code: "import { createRoot } from 'react-dom/client'; import { errors } from '../../shared/errors.ts';", options },
    { filename: file('test/host/x.test.ts'), code: "import { helper } from '../helpers/fixtures.ts'; import { createHost } from '../../electron/host/host.ts';", options },
    { filename: file('build/x.ts'), code: "import { execSync } from 'node:child_process';", options },
  ],
  invalid: [
    { filename: file('shared/x.ts'), code: "import { readFileSync } from 'node:fs';", options, errors: up },
    { filename: file('shared/x.ts'), code: "import path from 'path';", options, errors: up },
    { filename: file('shared/x.ts'), code: "import { app } from 'electron';", options, errors: up },
    { filename: file('shared/x.ts'), code: "import React from 'react';", options, errors: up },
    { filename: file('shared/x.ts'), code: "import { createHost } from '../electron/host/host.ts';", options, errors: up },
    { filename: file('shared/x.ts'), code: "export * from '../renderer/src/api.ts';", options, errors: up },
    { filename: file('shared/x.ts'), code: "const fs = await import('node:fs');", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import { ipcMain } from 'electron';", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import { App } from '../../renderer/src/App.tsx';", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import { win } from '../main.ts';", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import { useState } from 'react';", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import type { Thing } from '../../renderer/src/types.ts';", options, errors: up },
    { filename: file('renderer/src/x.ts'), code: "import { createHost } from '../../electron/host/host.ts';", options, errors: up },
    { filename: file('renderer/src/x.ts'), code: "import { readFileSync } from 'fs';", options, errors: up },
    { filename: file('renderer/src/x.ts'), code: "import { ipcRenderer } from 'electron';", options, errors: up },
    { filename: file('electron/main.ts'), code: "import { App } from '../renderer/src/App.tsx';", options, errors: up },
    { filename: file('electron/host/x.ts'), code: "import { fixture } from '../../test/helpers/fixtures.ts';", options, errors: up },
    { filename: file('shared/x.ts'), code: "const x = require('../test/helpers/x.ts');", options, errors: up },
  ],
});

describe('the project config (eslint.config.js)', () => {
  // `npm run lint` checks the whole tree; here the real config is shown to apply the rule by layer.
  const eslint = new ESLint({ cwd: root });
  const layeringMessages = async (relative: string, code: string) =>
    (await eslint.lintText(code, { filePath: file(relative) }))[0].messages.filter((m) => m.ruleId === 'outpost/import-layering');

  it('fails an import pointing up a layer', async () => {
    expect(await layeringMessages('shared/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toHaveLength(1);
    expect(await layeringMessages('electron/host/probe.ts', "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
    expect(await layeringMessages('renderer/src/probe.tsx', "import { createHost } from '../../electron/host/host.ts';\nexport const x = createHost;\n")).toHaveLength(1);
  });

  it('passes legal imports', async () => {
    expect(await layeringMessages('electron/host/probe.ts', "import { errors } from '../../shared/errors.ts';\nimport { readFileSync } from 'node:fs';\nexport const x = [errors, readFileSync];\n")).toEqual([]);
  });
});
