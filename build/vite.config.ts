// Vite build of the renderer: root renderer/, output dist/renderer. Relative asset URLs ('./') so the
// same bundle loads from Electron's app:// protocol and from browser mode's loopback server. No inline
// scripts or styles end up in index.html, so the strict CSP (script-src 'self'; style-src 'self') holds.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: `${repoRoot}renderer`,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: `${repoRoot}dist/renderer`,
    emptyOutDir: true,
    // Inlined assets would become data: URLs; keep every asset a file served under 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
  },
});
