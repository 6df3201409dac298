// Builds tests/fixtures/picomatch3.json: every glob below against every path
// below, answered by real picomatch 3.x exactly the way Infisical's `$glob`
// condition calls it: picomatch.isMatch(path, glob, { strictSlashes: false }).
//
// Run by hand (see README.md); the output is committed and is the spec the
// Rust matcher is tested against.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const picomatch = require('picomatch');
const { version } = JSON.parse(
  readFileSync(new URL('./node_modules/picomatch/package.json', import.meta.url), 'utf8'),
);
if (!version.startsWith('3.')) {
  throw new Error(`expected picomatch 3.x, found ${version}`);
}
const OPTIONS = { strictSlashes: false };

// Hand-picked globs, grouped by the feature they exercise.
const curated = [
  // literals, trailing and double slashes
  '/x', '/x/', '//x', '/x//y', '/x//', '/X', '/x/a.c', '/x/a/b',
  // single stars
  '/*', '/x/*', '/x/*/y', '/x/a*', '/x/*b', '/x/a*c', '/*/*', '/x*', '/*.c', '/x/*/',
  '/x/*.*', '/x/**.c', '//*', '/x//*',
  // globstars
  '/**', '/x/**', '/x/**/y', '/**/y', '/x/*/**', '/x/**/*', '/x/***', '/x/a**', '/x/**b',
  '/x/**/**', '/x/**/', '/**/**/y', '//**', '/x//**', '/**/x/**', '/x/**/a/**', '/x/**/**/y',
  // question marks
  '/?', '/x/?', '/x/??', '/x/a?c', '/x/?/**', '/?x', '/x/???', '/x/?*',
  // braces and ranges
  '/{x,y}', '/{x,y}/**', '/x/{a,b}/*', '/{x,}', '/{,x}', '/x/{a,b,c}', '/{x,y}{1,2}',
  '/x/{a,{b,c}}', '/x/{a}', '/x/{a,b', '/x/{1..3}', '/x/{a..c}', '/a.c/{1..3}', '/x/{3..1}',
  '/x/{1..10}', '/x/a{1..3}', '/x.y/{a..c}/**', '/x/{..}', '/{x,y}.c', '/x/{.a,b}', '/x/{*,a}',
  '/x/{a,b}*', '/x/{a,b}/**', '/{x,y}/{a,b}', '/x/{,a}b', '/x/{a..c}{1..2}', '/x/a.b/{1..3}',
  '/x/{0..3}', '/x/{a,b}.c', '/x/{a/b,y}',
  // character classes
  '/[xy]', '/x/[abc]', '/x/[!a]', '/x/[^a]', '/x/[a-c]', '/x/[a-c]*', '/x/[.]a', '/x/[]',
  '/x/[', '/x/]', '/x/[a-]', '/x/[-a]', '/x/[c-a]', '/x/[ä]', '/x/[/]', '/x/[*]', '/x/[!]',
  '/x/[^]', '/x/[a-c]/**', '/[!x]/**', '/x/[]a]', '/x/[$^]', '/x/[A-Z]', '/x/[0-9]',
  // negation
  '!/x/**', '!/x', '!/x/*', '!!/x', '!/**', '!!!/x/*', '!/x/{a,b}', '!/.x',
  // dots
  '/.x', '/x/.*', '/x/.?', '/x/*.c', '/x/.a/**', '/x/**/.a', '/.**', '/x/.a', '/x/..', '/x/.',
  '/x/a.*', '/x/*.', '/x/.a*',
  // case
  '/X/**', '/x/A*', '/x/[A]',
  // unicode
  '/ü/**', '/日本/*', '/x/😀', '/x/é*', '/x/[😀]', '/é?', '/x/*😀', '/ü', '/x/?😀',
  // spaces
  '/a b/**', '/x/a *', '/ /*', '/x/ ', '/x/a b',
  // other punctuation
  '/x/a+b', '/x/$', '/x/a^b', '/x/@', '/x/a,b', '/x/a!b', '/x/a:b', '/x/a=b', '/x/~',
  '/x/a#b', '/x/a+', '/x/!',
  // picomatch rebuilds its output from tokens after a range or `***`, and
  // merged text tokens then lose their first piece and their escaping
  '/x/@a.c/{1..3}', '/x/a@b.c/{1..3}', '/@3]//***', '/x/a.b.c/***', '/x/a$b.c/{1..2}',
  // syntax the Rust matcher refuses (asserted as refusals there)
  '/x/(a)', '/x/@(a|b)', '/x/a\\*', '/x/"a"', '/x/[[:alpha:]]', '/x/[a]+', '/x/a|b',
  '/x/+(a)', '/x/!(a)', 'x/**', '**',
];

// Systematic part: every pair of these segment shapes as a two-level glob.
const shapes = ['x', 'a', '*', '**', '?', '{a,b}', '[ab]', 'a*', '.a', '{1..3}', '*.c', '[!a]'];
const combos = [];
for (const s1 of shapes) {
  for (const s2 of shapes) combos.push(`/${s1}/${s2}`);
}

const globs = [...new Set([...curated, ...combos])];

const paths = [
  '', '/', '//', 'x', 'x/a', '/x', '/x/', '/x//', '//x', '/X', '/xy', '/y', '/y/x', '/y/y',
  '/x/a', '/x/a/', '/x/b', '/x/c', '/x/d', '/x/ab', '/x/abc', '/x/acb', '/x/a.c', '/x/a.b',
  '/x/aXc', '/x/a/b', '/x/a/b/c', '/x/a//b', '/x//a', '/x/a/y', '/x/y', '/x/y/y', '/x/y/z',
  '/x/y/z/w', '/x/a/b/y', '/x/b/y', '/a', '/a/a', '/a/b', '/a/x', '/b/a', '/a/1', '/b/c.c',
  '/x/.a', '/x/a/.b', '/x/.a/b', '/x/.a/y', '/.x', '/.x/a', '/x/..', '/x/.', '/x/../y',
  '/x/./a', '/x/.b.c', '/.a/.a', '/a/.a',
  '/x/1', '/x/2', '/x/3', '/x/10', '/x/0', '/x/a1', '/x/a2', '/x/a4', '/x/b1',
  '/a.c/1', '/abc/1', '/a.c/2', '/aXc/3', '/.c/1', '/a.c/4', '/x.y/b', '/x.y/b/c',
  '/x/a.b/1', '/x/aXb/2', '/x.c', '/y.c', '/x/b.c', '/x/.c',
  '/x/[abc]', '/x/[a-c]', '/x/!', '/x/^', '/x/-', '/x/]', '/x/[', '/x/[]', '/x/{a}', '/x/*',
  '/x/?', '/x/a,b', '/x/a+b', '/x/aab', '/x/$', '/x/a^b', '/x/@', '/x/a!b', '/x/a:b',
  '/x/a=b', '/x/~', '/x/a#b', '/x/(a)', '/x/a|b',
  '/x/a b', '/a b/c', '/a b', '/ /x', '/ ', '/x/ ', '/x/a ',
  '/ü/x', '/ü', '/日本/x', '/日本', '/x/😀', '/x/é', '/x/éa', '/x/ä', '/éa', '/é', '/x/a😀',
  '/x/@a.c/1', '/x/Xc/1', '/x/a.c/1', '/x/@.c/2', '/3]//a', '/@3]//a', '/x/a.b.c/d',
  '/x/aXbXc/d', '/x/.b.c/d', '/x/$b.c/1', '/x/aXb.c/2',
  '/x/A', '/X/a', '/X/A', '/x/Z', '/x/a\\b', '/x/%2F', '/x\ny', '/x/a\u0000',
];

const cases = [];
let total = 0;
for (const glob of globs) {
  let bits = '';
  for (const path of paths) {
    bits += picomatch.isMatch(path, glob, OPTIONS) ? '1' : '0';
  }
  // picomatch short-circuits when the input equals the glob; keep that case too.
  const self = picomatch.isMatch(glob, glob, OPTIONS) ? 1 : 0;
  cases.push([glob, bits, self]);
  total += paths.length + 1;
}

const out = {
  about:
    'picomatch.isMatch(path, glob, {strictSlashes:false}) for every glob x path; ' +
    'cases: [glob, one 0/1 per path in order, glob-as-its-own-path]. ' +
    'Generated by tools/picomatch-fixtures/generate.mjs; do not edit.',
  picomatch: version,
  options: OPTIONS,
  total,
  paths,
  cases,
};
const target = new URL('../../tests/fixtures/picomatch3.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(out, null, 0).replace(/\],\[/g, '],\n[')}\n`);
console.log(`picomatch ${version}: ${globs.length} globs x ${paths.length + 1} paths = ${total} cases`);
