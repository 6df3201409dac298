// Differential check beyond the committed table: random globs x random paths,
// answered by picomatch, written in the fixture format to the given file.
// Usage: node random.mjs OUT.json [seed] [globs] [paths]
// then: PICOMATCH_EXTRA_FIXTURE=OUT.json cargo test --test scope_fixtures -- --ignored
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const picomatch = createRequire(import.meta.url)('picomatch');
const [out, seedArg = '1', nGlobs = '2000', nPaths = '200'] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0 || 1;
const rand = n => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
};
const pick = xs => xs[rand(xs.length)];
const word = (alphabet, max) => Array.from({ length: 1 + rand(max) }, () => pick(alphabet)).join('');

const globBits = ['a', 'b', 'x', '.', '*', '**', '?', '{', '}', ',', '[', ']', '!', '^', '-',
  '1', '3', '..', '/', '/', '/', '$', '+', '@', ' ', 'é', '😀', 'A', '{a,b}', '{1..3}', '[ab]',
  '[!a]', '/**', '/*'];
const pathBits = ['a', 'b', 'x', '.', '/', '/', '/', '1', '2', '3', '-', '!', 'A', 'é', '😀',
  ' ', 'c', '[', ']', '{', '}', ',', '^', '$', '+', '@', 'ab', '..'];

const globs = new Set();
while (globs.size < Number(nGlobs)) globs.add((rand(8) === 0 ? '!' : '') + '/' + word(globBits, 7));
const paths = new Set(['/', '']);
while (paths.size < Number(nPaths)) paths.add('/' + word(pathBits, 7));
const pathList = [...paths];

let total = 0;
const cases = [...globs].map(glob => {
  let bits = '';
  for (const p of pathList) bits += picomatch.isMatch(p, glob, { strictSlashes: false }) ? '1' : '0';
  total += pathList.length + 1;
  return [glob, bits, picomatch.isMatch(glob, glob, { strictSlashes: false }) ? 1 : 0];
});
writeFileSync(out, JSON.stringify({ picomatch: 'random', total, paths: pathList, cases }));
console.log(`${cases.length} globs x ${pathList.length + 1} paths = ${total} cases -> ${out}`);
