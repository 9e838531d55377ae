// Email templates an operator overrides (mail_templates; docs/server.md#email-templates):
// the built-in ones exported with the CLI, edited to carry a company's name and words,
// used by the server for the invitation it sends (the link still works), the others
// left as they were; a faulty folder refuses the server's start with a line naming the
// file and the fault. Mail goes to the outbox folder; every wait is bounded.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { run, tempDir } from './lib.mjs';
import {
  acceptAndSignIn, linkOf, outboxMail, startMailServer, tokenOf,
} from './mail-server-lib.mjs';
import { cli } from './server-lib.mjs';

function templatesDir(t) {
  const dir = path.join(tempDir(), 'templates');
  t.after(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));
  const r = run(['mail', 'export-templates', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote the built-in templates into /);
  return dir;
}

const edit = (dir, name, fn) => fs.writeFileSync(path.join(dir, name), fn(fs.readFileSync(path.join(dir, name), 'utf8')));

describe('email templates', { concurrency: true }, () => {
  test('an edited invitation carries the company\'s words; German and other mail stay built-in', async (t) => {
    const dir = templatesDir(t);
    // exported: every template in both languages, plus layouts and footers; all usable as they are
    const names = fs.readdirSync(dir);
    // (7 templates: invitation, password_reset, expiry_user, expiry_admin, admin_added,
    // admin_removed, email_changed)
    assert.equal(names.length, 2 * (7 * 3 + 2), names.join(' '));
    const again = run(['mail', 'export-templates', dir]);
    assert.notEqual(again.status, 0, 'existing files are never overwritten');
    // keep only what the company changes: the English invitation and layout
    for (const n of names) if (!/^(invitation\.en\.|layout\.en\.html)/.test(n)) fs.rmSync(path.join(dir, n));
    fs.writeFileSync(path.join(dir, 'invitation.en.subject'), 'Your Acme Robotics API access\n');
    for (const n of ['invitation.en.txt', 'invitation.en.html'])
      edit(dir, n, (s) => s.replaceAll('invited to latchkey.', 'invited to the Acme Robotics API portal.'));
    edit(dir, 'layout.en.html', (s) => s.replace('letter-spacing:0.02em;color:#111827;">latchkey<', 'letter-spacing:0.02em;color:#111827;">Acme Robotics<'));
    const check = run(['mail', 'check-templates', dir]);
    assert.equal(check.status, 0, check.stderr);

    const it = await startMailServer(t, { args: ['--mail-templates', dir] });
    assert.match(it.srv.stderr(), /msg="mail templates from .*templates"/);
    cli(it.db, 'role', 'create', '--name', 'Viewer', '--permission', 'Access Users');
    cli(it.db, 'user', 'invite', '--email', 'grace@example.com', '--first', 'Grace', '--last', 'Hopper', '--role', 'Viewer');
    cli(it.db, 'user', 'invite', '--email', 'hans@example.com', '--first', 'Hans', '--last', 'Meier', '--role', 'Viewer', '--lang', 'de');
    const mail = await outboxMail(it.srv, 'grace@example.com');
    assert.equal(mail.subject, 'Your Acme Robotics API access');
    assert.match(mail.text, /^Hello Grace Hopper,/);
    assert.match(mail.text, /You have been invited to the Acme Robotics API portal\./);
    assert.match(mail.html, /You have been invited to the Acme Robotics API portal\./);
    assert.match(mail.html, />Acme Robotics<\/td>/, 'the layout is the company\'s');
    assert.match(mail.text, /automated message from latchkey/, 'the built-in footer, not overridden');
    // the link in the company's invitation works
    const link = linkOf(mail);
    const s = await acceptAndSignIn(it.srv, tokenOf(link));
    assert.equal(s.user.email, 'grace@example.com');
    // German is not overridden: the built-in German invitation
    const de = await outboxMail(it.srv, 'hans@example.com');
    assert.equal(de.subject, 'Willkommen bei latchkey');
    assert.ok(!/Acme/.test(de.text + de.html));
  });

  test('a faulty folder: the server refuses to start and `mail check-templates` says why', async (t) => {
    const dir = templatesDir(t);
    for (const n of fs.readdirSync(dir)) if (!n.startsWith('invitation.en.')) fs.rmSync(path.join(dir, n));
    const db = path.join(path.dirname(dir), 'latchkey.db');
    const refusal = (want) => {
      const srv = run(['serve', '--db', db, '--listen', '127.0.0.1:0', '--mail-templates', dir]);
      assert.equal(srv.status, 1, srv.stderr);
      const lines = srv.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, srv.stderr);
      assert.match(lines[0], want);
      assert.ok(!srv.stderr.includes('listening on'));
      const chk = run(['mail', 'check-templates', dir]);
      assert.notEqual(chk.status, 0);
      assert.match(chk.stderr.trim(), want);
    };
    edit(dir, 'invitation.en.txt', (s) => `Greetings from {company}\n${s}`);
    refusal(/^latchkey: mail_templates: invitation\.en\.txt: line 1: unknown variable \{company\}/);
    edit(dir, 'invitation.en.txt', (s) => s.replace('Greetings from {company}\n', '').replaceAll('{link}', '(ask us)'));
    refusal(/^latchkey: mail_templates: invitation\.en\.txt does not insert \{link\}/);
    fs.rmSync(path.join(dir, 'invitation.en.txt'));
    refusal(/^latchkey: mail_templates: invitation\.en\.txt is missing \(a template is replaced whole/);
    fs.writeFileSync(path.join(dir, 'invitation.en.txt'), 'Hello {name}: {link}\n');
    fs.writeFileSync(path.join(dir, 'welcome.en.txt'), 'Hello\n');
    refusal(/^latchkey: mail_templates: unknown file welcome\.en\.txt in /);
    fs.rmSync(path.join(dir, 'welcome.en.txt'));
    fs.writeFileSync(path.join(dir, 'layout.en.html'), '<html>{?name}{body}</html>\n');
    refusal(/^latchkey: mail_templates: layout\.en\.html: 1 section\(s\) \{\?name\}\/\{!name\} not closed/);
    fs.rmSync(path.join(dir, 'layout.en.html'));
    // fixed: usable
    assert.equal(run(['mail', 'check-templates', dir]).status, 0);
    fs.rmSync(dir, { recursive: true });
    refusal(/^latchkey: mail_templates: cannot open the folder .*templates: No such file or directory$/);
    assert.ok(!fs.existsSync(db), 'a refused start creates no database');
  });
});
