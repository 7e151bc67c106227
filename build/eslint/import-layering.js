// ESLint rule `outpost/import-layering`: imports only point down the layers of ARCHITECTURE.md.
//
//   renderer/          -> shared/ and browser-safe packages (no Node builtins, no electron/, no 'electron')
//   electron/*.ts      -> electron/host/, shared/, anything but renderer/
//   electron/host/     -> shared/ and Node; never 'electron', renderer/, electron/main|preload, DOM packages
//   shared/            -> shared/ and pure packages only (no Node builtins, no electron, no React/DOM, no native modules)
//   anything but test/ -> never test/
//
// Inside the host, the raw store is reachable only from the floors that hold it: store/ and search/
// (the store and its engine) may be imported only from store/, search/, db/, access/ (the enforcement
// point) and the composition root (host.ts, and parts/data.ts, which opens the store for the access
// service);
// every other domain (routes, admin, auth, audit, sync, transfer, seed, cli...) gets a Repository from
// access/. Of search/, only grammar.ts (what the engine answers) is open to all. The db floor's
// lookups of stored resources (db/resources.ts, db/identities.ts) are for those floors and for auth's
// identity directory.
//
// The layer of a file and of a relative import target comes from its path under the repository root
// (the `root` option, default ESLint's cwd).
import { builtinModules } from 'node:module';
import path from 'node:path';

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split('/')[0]]));

/** Packages that need a DOM or React: never in the host or in shared/. */
const DOM_PACKAGES = ['react', 'react-dom', '@medplum/react', '@medplum/react-hooks', 'zustand/react', '@testing-library'];
/** Packages that need Node or native code: never in shared/ or the renderer. */
const NODE_PACKAGES = ['better-sqlite3', 'better-sqlite3-multiple-ciphers', 'tsx', 'playwright-core', 'vitest', 'vite', '@medplum/fhir-router'];

function matchesPackage(specifier, list) {
  return list.some((name) => specifier === name || specifier.startsWith(name + '/'));
}

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]);
}

function isElectron(specifier) {
  return specifier === 'electron' || specifier.startsWith('electron/');
}

/** The layer of a repository-relative path (forward slashes). */
export function layerOf(relativePath) {
  if (relativePath.startsWith('shared/')) return 'shared';
  if (relativePath.startsWith('electron/host/')) return 'host';
  if (relativePath.startsWith('electron/')) return 'electron';
  if (relativePath.startsWith('renderer/')) return 'renderer';
  if (relativePath.startsWith('test/')) return 'test';
  return 'other';
}

const HOST = 'electron/host/';
/** Host folders (or files) that may hold the raw store: import store/ and search/. */
const RAW_STORE_HOLDERS = ['store/', 'search/', 'db/', 'access/', 'host.ts', 'parts/data.ts'];
/**
 * Host folders that may use the db floor's lookups of stored rows, whatever a session may see: the
 * layers below and in the access layer, auth's directory (sign-in comes before any session), audit
 * (routing an event to its project's admins) and sync (replication compares and applies versions).
 */
const ROW_LOOKUP_USERS = ['store/', 'search/', 'db/', 'access/', 'auth/', 'audit/', 'sync/'];
const OPEN_TO_ALL = ['search/grammar.ts'];
const ROW_LOOKUPS = ['db/resources.ts', 'db/identities.ts', 'db/replication.ts'];

/** Why a host file (`file`, relative to electron/host/) may not import the host file `target`, or undefined. */
function hostViolation(file, target) {
  const under = (path, folders) => folders.some((f) => path === f || path.startsWith(f));
  if ((target.startsWith('store/') || target.startsWith('search/')) && !OPEN_TO_ALL.includes(target) && !under(file, RAW_STORE_HOLDERS)) {
    return `the raw store (${target}) is reachable only from store/, search/, db/, access/ and the composition root (host.ts, parts/data.ts): take a Repository from access/`;
  }
  if (ROW_LOOKUPS.includes(target) && !under(file, ROW_LOOKUP_USERS)) {
    return `${target} reads stored rows around every policy: only store/, search/, db/, access/, auth's directory, audit routing and sync's replication use it`;
  }
  return undefined;
}

/** Why `specifier` may not be imported from a file of `layer`, or undefined when it may. */
function violation(layer, specifier, targetLayer) {
  if (targetLayer === 'test' && layer !== 'test') {
    return 'only tests may import from test/';
  }
  if (targetLayer !== undefined) {
    if (layer === 'shared' && targetLayer !== 'shared') return 'shared/ may import only shared/';
    if (layer === 'host' && (targetLayer === 'renderer' || targetLayer === 'electron')) {
      return 'electron/host/ may not import renderer/ or electron/main|preload';
    }
    if (layer === 'electron' && targetLayer === 'renderer') return 'electron/ may not import renderer/';
    if (layer === 'renderer' && (targetLayer === 'host' || targetLayer === 'electron')) return 'renderer/ may not import electron/';
    return undefined;
  }
  if (layer === 'shared') {
    if (isBuiltin(specifier)) return 'shared/ may not use Node builtins';
    if (isElectron(specifier)) return "shared/ may not import 'electron'";
    if (matchesPackage(specifier, DOM_PACKAGES)) return 'shared/ may not import React or DOM packages';
    if (matchesPackage(specifier, NODE_PACKAGES)) return 'shared/ may not import Node-only packages';
  }
  if (layer === 'host') {
    if (isElectron(specifier)) return "electron/host/ never imports 'electron'";
    if (matchesPackage(specifier, DOM_PACKAGES)) return 'electron/host/ may not import React or DOM packages';
  }
  if (layer === 'renderer') {
    if (isBuiltin(specifier)) return 'renderer/ may not use Node builtins';
    if (isElectron(specifier)) return "renderer/ may not import 'electron' (use the preload's request())";
    if (matchesPackage(specifier, NODE_PACKAGES)) return 'renderer/ may not import Node-only packages';
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const importLayering = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports point only down the layers: renderer -> shared, electron -> host -> shared; nothing imports test/.' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      upLayer: "Import of '{{specifier}}' points up a layer: {{reason}}.",
      aroundAccess: "Import of '{{specifier}}' reaches around the access layer: {{reason}}.",
    },
  },
  create(context) {
    const root = path.resolve(context.options[0]?.root ?? context.cwd);
    const filename = path.resolve(root, context.filename);
    const relativeFile = path.relative(root, filename).split(path.sep).join('/');
    const layer = layerOf(relativeFile);

    function check(node, specifier) {
      if (typeof specifier !== 'string') {
        return;
      }
      let targetLayer;
      let reason;
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = path.relative(root, path.resolve(path.dirname(filename), specifier)).split(path.sep).join('/');
        // The trailing '/' makes a bare folder ('shared') classify like its files ('shared/x.ts').
        targetLayer = target.startsWith('..') ? 'other' : layerOf(target + '/');
        if (layer === 'host' && targetLayer === 'host') {
          reason = hostViolation(relativeFile.slice(HOST.length), target.slice(HOST.length));
        }
      }
      if (reason) {
        context.report({ node, messageId: 'aroundAccess', data: { specifier, reason } });
        return;
      }
      reason = violation(layer, specifier, targetLayer);
      if (reason) {
        context.report({ node, messageId: 'upLayer', data: { specifier, reason } });
      }
    }

    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          check(node.arguments[0], node.arguments[0].value);
        }
      },
      TSImportType(node) {
        const arg = node.argument;
        const literal = arg?.type === 'TSLiteralType' ? arg.literal : arg;
        if (literal?.type === 'Literal') check(literal, literal.value);
      },
    };
  },
};
