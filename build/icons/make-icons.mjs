// Generates Outpost's placeholder icons (a white cross on a teal rounded square) with no image tools:
// PNGs for Linux (build/icons/NxN.png) and the master build/icon.png (512 px), build/icon.ico (Windows,
// PNG-compressed entries 16-256 px) and build/icon.icns (macOS, PNG entries 128-1024 px).
// Run: node build/icons/make-icons.mjs   (deterministic; the outputs are committed)
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(here, '..');

const TEAL = [15, 118, 110];
const WHITE = [255, 255, 255];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Coverage of the unit square point (u, v) by the shape: 0 outside, 1 background, 2 cross. */
function shapeAt(u, v) {
  const radius = 0.2;
  const cx = Math.min(Math.max(u, radius), 1 - radius);
  const cy = Math.min(Math.max(v, radius), 1 - radius);
  if ((u - cx) ** 2 + (v - cy) ** 2 > radius ** 2) {
    return 0;
  }
  const arm = 0.11;
  const reach = 0.3;
  const inVertical = Math.abs(u - 0.5) <= arm && Math.abs(v - 0.5) <= reach;
  const inHorizontal = Math.abs(v - 0.5) <= arm && Math.abs(u - 0.5) <= reach;
  return inVertical || inHorizontal ? 2 : 1;
}

function render(size, samples = 4) {
  const rgba = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let alpha = 0;
      let white = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const shape = shapeAt((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          alpha += shape > 0 ? 1 : 0;
          white += shape === 2 ? 1 : 0;
        }
      }
      const i = (y * size + x) * 4;
      const mix = alpha > 0 ? white / alpha : 0;
      for (let c = 0; c < 3; c++) {
        rgba[i + c] = Math.round(TEAL[c] * (1 - mix) + WHITE[c] * mix);
      }
      rgba[i + 3] = Math.round((255 * alpha) / (samples * samples));
    }
  }
  return encodePng(size, rgba);
}

function encodeIco(pngs) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(pngs.length, 4);
  let offset = 6 + 16 * pngs.length;
  const entries = pngs.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size;
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4); // planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...pngs.map(({ png }) => png)]);
}

function encodeIcns(entries) {
  const parts = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

const sizes = [16, 32, 48, 64, 128, 256, 512, 1024];
const pngs = new Map(sizes.map((size) => [size, render(size, size >= 512 ? 2 : 4)]));

mkdirSync(here, { recursive: true });
for (const size of sizes.filter((s) => s <= 512)) {
  writeFileSync(path.join(here, `${size}x${size}.png`), pngs.get(size));
}
writeFileSync(path.join(buildDir, 'icon.png'), pngs.get(512));
writeFileSync(path.join(buildDir, 'icon.ico'), encodeIco([16, 32, 48, 64, 128, 256].map((size) => ({ size, png: pngs.get(size) }))));
// The renderer's favicon (served at /favicon.ico in browser mode; Vite copies renderer/public/).
const publicDir = path.resolve(buildDir, '..', 'renderer', 'public');
mkdirSync(publicDir, { recursive: true });
writeFileSync(path.join(publicDir, 'favicon.ico'), encodeIco([16, 32, 48].map((size) => ({ size, png: pngs.get(size) }))));
writeFileSync(
  path.join(buildDir, 'icon.icns'),
  encodeIcns([
    { type: 'ic07', png: pngs.get(128) },
    { type: 'ic08', png: pngs.get(256) },
    { type: 'ic09', png: pngs.get(512) },
    { type: 'ic10', png: pngs.get(1024) },
  ]),
);
console.log('icons written to', buildDir);
