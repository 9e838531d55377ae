// What an installation relies on (docs/operations.md): the manual pages, the bash completion and
// the default configuration file generated from latchkey's own tables (read here from the
// binary's --help, so that a drift between them fails), the CLI finding the database through
// the configuration file, and root acting as the database's owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, run, tempDir } from './lib.mjs';
import { cli, startServer } from './server-lib.mjs';

const DIST = path.join(path.dirname(BIN), 'dist');

function folder(t) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const help = (...args) => {
  const r = run([...args, '--help']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
// the two-column section of a help text that starts with `heading`: its first words
const section = (text, heading) => {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `"${heading}" in:\n${text}`);
  const out = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^ {2}\S/.test(line)) break;
    out.push(line.trim().split(/\s+/)[0]);
  }
  return out;
};
const nouns = () => section(help(), 'Commands:');
const verbs = (noun) => section(help(noun), 'Verbs:');
const options = (...cmd) => {
  const text = help(...cmd);
  return text.includes('\nOptions:\n') ? section(text, 'Options:') : [];
};
const serveOptions = () => help('serve').split('\n').filter((l) => /^ {2}--\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);

// the page rendered as a reader sees it; groff's warnings are failures
function render(page) {
  const file = path.join(DIST, page);
  assert.ok(fs.existsSync(file), `${file} was generated`);
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P-cbou', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', `${page}: groff warns`);
  return r.stdout.replace(/\u2010/g, '-').replace(/\s+/g, ' ');
}

test('a manual page per command group, holding every verb and option the binary knows', () => {
  const all = nouns();
  assert.ok(all.includes('backup') && all.includes('serve') && all.includes('user'));
  const main = render('latchkey.1');
  for (const n of all) assert.ok(main.includes(`latchkey-${n}(1)`), `latchkey(1) lists latchkey-${n}(1)`);
  assert.match(main, /Exit status: 0 success; 1 bad input/);
  for (const n of all) {
    const page = render(`latchkey-${n}.1`);
    assert.match(page, new RegExp(`^LATCHKEY-${n.toUpperCase()}\\(1\\)`), `${n}: its title`);
    assert.match(page, new RegExp(`NAME latchkey-${n} - `), `${n}: NAME line (whatis)`);
    if (n === 'serve') {
      for (const o of serveOptions()) assert.ok(page.includes(o), `latchkey-serve(1) documents ${o}`);
      continue;
    }
    const vs = help(n).includes('\nVerbs:\n') ? verbs(n) : [null];
    for (const v of vs) {
      const cmd = v ? [n, v] : [n];
      assert.ok(page.includes(`latchkey ${cmd.join(' ')}`), `latchkey-${n}(1) has the synopsis of ${cmd.join(' ')}`);
      for (const o of options(...cmd)) assert.ok(page.includes(o), `latchkey-${n}(1) documents ${cmd.join(' ')} ${o}`);
    }
  }
  const pages = fs.readdirSync(DIST).filter((f) => f.endsWith('.1')).sort();
  assert.deepEqual(pages, ['latchkey.1', ...all.map((n) => `latchkey-${n}.1`)].sort(), 'no page for a command that is gone');
});

// COMPREPLY for a command line; the cursor is at the end of the last word
function complete(...words) {
  const script = `. ${JSON.stringify(path.join(DIST, 'latchkey'))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_latchkey; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', cwd: DIST });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completion: every noun, verb and option the binary knows, and files where files go', () => {
  const globals = ['--db', '--json', '--help', '--version'];
  assert.deepEqual(complete('latchkey', ''), nouns());
  assert.deepEqual(complete('latchkey', '-'), globals);
  assert.deepEqual(complete('latchkey', '--db', '/tmp/x.db', 'ro'), ['role', 'route']);
  for (const n of nouns()) {
    if (n === 'serve') {
      assert.deepEqual(complete('latchkey', 'serve', '--').sort(), ['--config', ...serveOptions(), ...globals].sort());
      continue;
    }
    if (!help(n).includes('\nVerbs:\n')) {
      assert.deepEqual(complete('latchkey', n, '--').sort(), [...options(n), ...globals].filter((o) => o.startsWith('--')).sort());
      continue;
    }
    assert.deepEqual(complete('latchkey', n, ''), verbs(n), `the verbs of ${n}`);
    for (const v of verbs(n))
      assert.deepEqual(complete('latchkey', n, v, '--').sort(), [...options(n, v), ...globals].sort(), `the options of ${n} ${v}`);
  }
  // after an option that takes a value nothing is offered; after --db, file names
  assert.deepEqual(complete('latchkey', 'user', 'invite', '--email', ''), []);
  assert.ok(complete('latchkey', '--db', 'latchkey.c').includes('latchkey.conf'), 'file names after --db');
  assert.ok(complete('latchkey', 'restore', 'latchkey.c').includes('latchkey.conf'), 'file names for FILE');
  assert.deepEqual(complete('latchkey', 'user', 'invite', '--api-only', '--la'), ['--last', '--lang']);
});

// the configuration file as an installation ships it, every line uncommented
function uncommented(t) {
  const text = fs.readFileSync(path.join(DIST, 'latchkey.conf'), 'utf8');
  const lines = text.split('\n');
  assert.ok(lines.every((l) => l === '' || l.startsWith('#')), 'the shipped file changes nothing: every line is a comment');
  const settings = lines.filter((l) => /^#[a-z_]+ =/.test(l)).map((l) => l.slice(1));
  const file = path.join(folder(t), 'all.conf');
  fs.writeFileSync(file, settings.join('\n') + '\n');
  return { settings, file };
}

test('the default configuration file lists every option with its default, and loads as it is', async (t) => {
  const { settings, file } = uncommented(t);
  const keys = settings.map((l) => l.split(' ')[0]);
  assert.deepEqual(keys.map((k) => `--${k.replace(/_/g, '-')}`), serveOptions().filter((o) => o !== '--config'),
    'every option of serve --help, in the same order');
  // serve --help shows each default; the file must say the same
  const lines = help('serve').split('\n');
  for (const line of settings) {
    const [key, value] = line.split(/ = ?/);
    const at = lines.findIndex((l) => l.startsWith(`  --${key.replace(/_/g, '-')} `));
    const shown = /^\s+default (.*?)(?:, from -?\d+ to -?\d+)?$/.exec(lines[at + 1])[1];
    assert.equal(value, shown === '(none)' ? '' : shown, `${key}: the file's default is serve's`);
  }
  // with every line in force, serve starts on the defaults (its database given by flag)
  const dir = folder(t);
  const srv = await startServer(t, path.join(dir, 'latchkey.db'), [], { env: { LATCHKEY_CONFIG: file } });
  assert.match(srv.stderr(), /listening on http:\/\/127\.0\.0\.1:\d+/);
  await srv.stop();
});

test('the CLI finds the database as serve does: --db, then LATCHKEY_DB, then the configuration file', (t) => {
  const dir = folder(t);
  const conf = path.join(dir, 'latchkey.conf');
  const fromFile = path.join(dir, 'file', 'latchkey.db');
  fs.writeFileSync(conf, `db = ${fromFile}\n`);
  const role = (name, env, extra = []) => {
    const r = run([...extra, 'role', 'create', '--name', name, '--permission', 'Read-Only Lead'], { env, cwd: dir });
    assert.equal(r.status, 0, r.stderr);
  };
  role('From File', { LATCHKEY_CONFIG: conf });
  const fromEnv = path.join(dir, 'env', 'latchkey.db');
  role('From Env', { LATCHKEY_CONFIG: conf, LATCHKEY_DB: fromEnv });
  const fromFlag = path.join(dir, 'flag.db');
  role('From Flag', { LATCHKEY_CONFIG: conf, LATCHKEY_DB: fromEnv }, ['--db', fromFlag]);
  const names = (db) => cli(db, 'role', 'list').roles.map((r) => r.name).filter((n) => n !== 'Admin');
  assert.deepEqual(names(fromFile), ['From File']);
  assert.deepEqual(names(fromEnv), ['From Env']);
  assert.deepEqual(names(fromFlag), ['From Flag']);
  assert.ok(!fs.existsSync(path.join(dir, 'data')), 'the built-in default was not used');

  fs.writeFileSync(conf, 'smtp_security = maybe\n');
  const r = run(['role', 'list', '--json'], { env: { LATCHKEY_CONFIG: conf }, cwd: dir });
  assert.equal(r.status, 1, 'a broken configuration is reported, not ignored');
  assert.match(r.json.error.message, /smtp_security: must be starttls, tls or none/);
});

const isRoot = process.getuid && process.getuid() === 0;
const NOBODY = 65534;

test('root working on a database another user owns acts as that user: every file stays theirs', { skip: !isRoot && 'needs root' }, async (t) => {
  const dir = folder(t);
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, 'state');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.chownSync(home, NOBODY, NOBODY);
  const db = path.join(home, 'latchkey.db');
  const r = run(['--db', db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const owners = () => fs.readdirSync(home).map((f) => [f, fs.statSync(path.join(home, f)).uid]);
  assert.ok(owners().length > 0);
  for (const [f, uid] of owners()) assert.equal(uid, NOBODY, `${f} belongs to the folder's owner`);
  const audit = cli(db, 'audit', 'list').events[0];
  assert.equal(audit.actor, 'cli:root', 'the audit trail names who ran the command');

  const srv = await startServer(t, db);
  const status = fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}\\s+${NOBODY}$`, 'm'), 'serve runs as the owner');
  await srv.stop();
  for (const [f, uid] of owners()) assert.equal(uid, NOBODY, `${f} belongs to the folder's owner after serve`);

  const copy = path.join(home, 'copy.db');
  assert.equal(run(['--db', db, 'backup', copy]).status, 0);
  assert.equal(fs.statSync(copy).uid, NOBODY, 'the backup belongs to the owner too');
  const rootOnly = folder(t);   // mode 0700, root's
  const denied = run(['--db', db, 'backup', path.join(rootOnly, 'x.db'), '--json']);
  assert.equal(denied.status, 3, 'the copy is written as the owner, who cannot write into root\'s folder');
  assert.match(denied.json.error.message, /cannot create .*x\.db\.partial-\w+: Permission denied/);
});

// The Debian package builds on a clean builder only with every package the build uses
// named in Build-Depends; `make deps` installs the same list (scripts/deps.sh BUILD_DEPS).
test('debian/control Build-Depends names what meson.build uses, and is what scripts/deps.sh installs for the build', () => {
  const control = fs.readFileSync(path.join(ROOT, 'debian/control'), 'utf8');
  const field = /^Build-Depends:((?:.*\n)(?:[ \t].*\n)*)/m.exec(control);
  assert.ok(field, 'debian/control has Build-Depends');
  // names only: no version, architecture or profile restrictions
  const buildDepends = field[1].split(',').map((d) => d.replace(/\(.*?\)|\[.*?\]|<.*?>|:\w+/g, '').trim()).filter(Boolean);
  const deps = fs.readFileSync(path.join(ROOT, 'scripts/deps.sh'), 'utf8').replace(/\\\n/g, ' ');
  const list = (re) => {
    const m = re.exec(deps);
    assert.ok(m, `scripts/deps.sh has ${re}`);
    return m[1].split(/\s+/).filter(Boolean);
  };
  const buildDeps = list(/^BUILD_DEPS="([^"]*)"/m);
  assert.deepEqual([...buildDepends].filter((d) => d !== 'debhelper-compat').sort(), [...buildDeps].sort(),
    'Build-Depends (but debhelper-compat) is BUILD_DEPS of scripts/deps.sh');
  assert.ok(buildDepends.includes('debhelper-compat'));
  assert.ok(list(/^\s+package\)\s*(?:#.*\n\s*)?PACKAGES="([^"]*)"/m).includes('debhelper'), 'deps.sh package installs debhelper');
  assert.ok(list(/^\s+""\)\s*PACKAGES="([^"]*)"/m).includes('$BUILD_DEPS'), 'deps.sh installs BUILD_DEPS');

  // every library meson.build looks for, and the tools its build steps run
  const meson = fs.readFileSync(path.join(ROOT, 'meson.build'), 'utf8');
  const debianPackage = {
    sqlite3: 'libsqlite3-dev', libpq: 'libpq-dev', libsodium: 'libsodium-dev', jansson: 'libjansson-dev',
    libmicrohttpd: 'libmicrohttpd-dev', gnutls: 'libgnutls28-dev', libcurl: 'libcurl4-openssl-dev',
  };
  const notPackaged = ['threads', 'cmocka']; // the C library's; the unit tests' (the package builds -Dtests=disabled)
  const libs = [...meson.matchAll(/dependency\('([^']+)'/g)].map((m) => m[1]).filter((d) => !notPackaged.includes(d));
  assert.ok(libs.length >= 7, `meson.build's dependencies: ${libs}`);
  for (const d of libs) {
    assert.ok(debianPackage[d], `meson.build's dependency('${d}'): name its Debian package here and in Build-Depends`);
    assert.ok(buildDepends.includes(debianPackage[d]), `Build-Depends has ${debianPackage[d]} (meson.build: dependency('${d}'))`);
  }
  assert.ok(/find_program\('python3'\)/.test(meson) && /tools\/yaml2json\.py/.test(meson), 'the build runs tools/yaml2json.py');
  for (const p of ['meson', 'ninja-build', 'pkgconf', 'python3', 'python3-yaml'])
    assert.ok(buildDepends.includes(p), `Build-Depends has ${p}`);
});

// dh_shlibdeps makes the package depend on the Debian packages of the binary's shared
// libraries; docs/operations.md names them, found here from the binary as it is built
test('docs/operations.md names the package of every shared library the binary needs', () => {
  const needed = [...spawnSync('readelf', ['-d', BIN], { encoding: 'utf8' }).stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g)]
    .map((m) => m[1]).filter((l) => !/^lib(a|ub|l|t)san\.so/.test(l)); // the sanitizers' runtimes of a test build
  assert.ok(needed.includes('libc.so.6') && needed.includes('libsqlite3.so.0'), `readelf -d: ${needed}`);
  const ldd = spawnSync('ldd', [BIN], { encoding: 'utf8' }).stdout;
  const packages = new Set(needed.map((lib) => {
    const line = ldd.split('\n').find((l) => l.trim().startsWith(lib) || l.includes(`/${lib} `));
    const file = line && /(\/\S+)/.exec(line.split('=>').pop())[1];
    assert.ok(file, `ldd finds ${lib}:\n${ldd}`);
    // /lib and /usr/lib are one folder on Debian 12; dpkg knows each file under one of them
    const r = spawnSync('dpkg', ['-S', `*${file.replace(/^\/usr\//, '/')}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `dpkg -S ${file}: ${r.stderr}`);
    return r.stdout.split('\n')[0].split(':')[0];
  }));
  const docs = fs.readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8').replace(/\s+/g, ' ');
  const listed = /\(`\$\{shlibs:Depends\}`: ([^)]*)\)/.exec(docs);
  assert.ok(listed, 'docs/operations.md lists ${shlibs:Depends}');
  assert.deepEqual(listed[1].split(/,\s*/).sort(), [...packages].sort());
});
