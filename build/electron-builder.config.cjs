// electron-builder configuration: `npm run dist` (needs a machine that can download Electron and its
// headers; the machines that build and test Outpost cannot, so test/electron/builder-config.test.ts
// checks this file instead).
//
// What it packs: the built bundles only (the build pipeline writes them):
//   dist/electron/main.js      Electron main (ESM): windows, app:// protocol, keys, IPC checks
//   dist/electron/host-process.js  the host (ESM; store, search, access, auth, audit, sync bundled in),
//                              which main starts with utilityProcess.fork from inside app.asar: a
//                              process type of Electron's own, so `runAsNode` stays off in the fuses
//   dist/electron/preload.cjs  the sandboxed preload (CommonJS: sandboxed preloads cannot be ESM)
//   dist/renderer/**           the Vite build of the renderer (index.html + assets)
// plus package.json and the production `dependencies` that electron-builder collects itself (never a
// devDependency). No TypeScript sources, tests, source maps or fixtures.
//
// Native module: better-sqlite3-multiple-ciphers is unpacked from app.asar (a .node file cannot be
// loaded from inside an archive) and, with `npmRebuild: true`, rebuilt by electron-builder for the
// ABI of the bundled Electron (it uses @electron/rebuild, which fetches that Electron's headers, or the
// module's prebuilt binary for it). Set `npmRebuild: false` only when node_modules was already built
// for Electron (e.g. `npx electron-builder install-app-deps` ran first).
'use strict';
/* global module */

/** @type {import('electron-builder').Configuration} */
const config = {
  appId: 'org.outpost.desktop',
  productName: 'Outpost',
  copyright: 'Copyright © Outpost contributors. Apache-2.0',
  // Electron's entry in the packed package.json (the repository's own `main`, if any, is for Node).
  extraMetadata: {
    main: 'dist/electron/main.js',
  },
  directories: {
    output: 'release',
    buildResources: 'build',
  },
  files: [
    'package.json',
    'dist/electron/**/*',
    'dist/renderer/**/*',
    '!**/*.map',
    '!**/*.{ts,tsx,mts,cts}',
    '!**/{test,tests,__tests__}/**',
    // Runtime `dependencies` used only by the CLI (TypeScript runner and its native esbuild): not needed
    // by the bundled app.
    '!**/node_modules/{tsx,esbuild,@esbuild,get-tsconfig,resolve-pkg-maps}/**',
  ],
  asar: true,
  asarUnpack: ['**/node_modules/better-sqlite3-multiple-ciphers/**'],
  npmRebuild: true,
  nodeGypRebuild: false,
  buildDependenciesFromSource: false,
  // Electron fuses: no running the app binary as plain Node, no NODE_OPTIONS or --inspect, the app code
  // only from the (integrity-checked) app.asar, and file:// without extra privileges.
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    icon: 'build/icons',
    category: 'Office',
    synopsis: 'Offline-first FHIR client for clinics',
    description: 'Outpost: an offline-first desktop client for clinics, with a local encrypted FHIR R4 store.',
    maintainer: 'Outpost contributors',
  },
  deb: {
    // The OS keychain on Linux (safeStorage): without it Outpost falls back to a key file.
    recommends: ['libsecret-1-0'],
  },
  win: {
    target: ['nsis'],
    icon: 'build/icon.ico',
  },
  nsis: {
    oneClick: false,
    perMachine: false,
    allowToChangeInstallationDirectory: true,
    createDesktopShortcut: true,
  },
  mac: {
    target: ['dmg'],
    icon: 'build/icon.icns',
    category: 'public.app-category.medical',
    hardenedRuntime: true,
  },
  dmg: {
    title: 'Outpost ${version}',
  },
};

module.exports = config;
