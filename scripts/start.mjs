// `npm start`: Vigil from one esbuild bundle of src/, not through tsx. Loading the modules
// through tsx's hooks cost more than the rest of a restart (docs/design.md § Start-up). The bundle
// lives in node_modules/.cache/vigil/build/, named by a hash of every file under src/: a source
// that changed names another bundle, which is built then, so a stale one is never run, whatever
// the clocks say.
// Plain JavaScript, so that nothing has to be compiled before the check. `--build` only builds
// (postinstall); `npm run dev` still runs src/ through tsx.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'vigil', 'build');

/**
 * What the bundle is of: every file under src/ with its contents, how this script builds, and
 * where the checkout is (the bundle holds its sources' absolute URLs, so a moved copy rebuilds).
 */
function sourcesHash() {
  const hash = createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .update(`\0${ROOT}`);
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(`\0${relative(ROOT, path)}\0`).update(readFileSync(path));
    }
  };
  walk(SRC);
  return hash.digest('hex');
}

/**
 * Bundles src/main.ts with packages left to Node (they resolve their own files, wasm included).
 * Each source's `import.meta.url` becomes its own file's URL, so the paths it builds (migrations,
 * dashboards, the PGlite snapshot cache) are the same as when run from src/.
 */
async function build(bundle) {
  const { build: esbuild } = await import('esbuild');
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replaceAll(
          'import.meta.url',
          JSON.stringify(pathToFileURL(args.path).href),
        ),
        loader: 'ts',
      }));
    },
  };
  mkdirSync(OUT_DIR, { recursive: true });
  // Written aside and renamed: processes starting together never run half a bundle.
  const partial = `${bundle}.${process.pid}.partial.mjs`;
  await esbuild({
    entryPoints: [join(SRC, 'main.ts')],
    outfile: partial,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [ownUrl],
  });
  renameSync(partial, bundle);
  // Older bundles are of sources that are gone. (One another process runs stays open there.)
  for (const name of readdirSync(OUT_DIR)) {
    if (name.startsWith('main-') && join(OUT_DIR, name) !== bundle && !name.includes('.partial')) {
      rmSync(join(OUT_DIR, name), { force: true });
    }
  }
}

const bundle = join(OUT_DIR, `main-${sourcesHash().slice(0, 16)}.mjs`);
if (!existsSync(bundle)) await build(bundle);
if (!process.argv.includes('--build')) {
  // Stack traces name src/ files and lines.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle).href);
}
