import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('has working defaults: embedded database in ./.kluis, HTTP on port 3000', () => {
    const config = loadConfig({}, '/srv/kluis');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe('/srv/kluis/.kluis');
    expect(config.http.port).toBe(3000);
    expect(config.http.publicUrl).toBe('http://localhost:3000');
  });

  it('reads typed values from the environment', () => {
    const config = loadConfig(
      { KLUIS_PORT: '8080', DATABASE_URL: 'postgres://u:p@db:5432/k', KLUIS_DEMO: 'false' },
      '/x',
    );
    expect(config.http.port).toBe(8080);
    expect(config.databaseUrl).toBe('postgres://u:p@db:5432/k');
    expect(config.createDemoData).toBe(false);
  });

  it('KLUIS_TRUST_PROXY: unset trusts no proxy; true, a hop count or proxy addresses are passed on; nonsense stops startup', () => {
    expect(loadConfig({}, '/x').trustProxy).toBe(false);
    expect(loadConfig({ KLUIS_TRUST_PROXY: 'true' }, '/x').trustProxy).toBe(true);
    expect(loadConfig({ KLUIS_TRUST_PROXY: '1' }, '/x').trustProxy).toBe(1);
    expect(loadConfig({ KLUIS_TRUST_PROXY: '10.0.0.0/8,::1,loopback' }, '/x').trustProxy).toBe(
      '10.0.0.0/8,::1,loopback',
    );
    expect(() => loadConfig({ KLUIS_TRUST_PROXY: 'everyone please' }, '/x')).toThrow(
      /KLUIS_TRUST_PROXY: expected/,
    );
  });

  it('KLUIS_PREPARED_STATEMENTS: on unless set to false (a pooler in transaction mode, decision 0770)', () => {
    expect(loadConfig({}, '/x').preparedStatements).toBe(true);
    expect(loadConfig({ KLUIS_PREPARED_STATEMENTS: 'false' }, '/x').preparedStatements).toBe(false);
    expect(() => loadConfig({ KLUIS_PREPARED_STATEMENTS: 'off' }, '/x')).toThrow(/KLUIS_PREPARED_STATEMENTS/);
  });

  it('stops on an unknown KLUIS_ setting, naming it', () => {
    expect(() => loadConfig({ KLUIS_PROT: '3000' })).toThrow(/KLUIS_PROT: unknown setting/);
    // No setting exempts a host from the transfer's private-address refusal (decision 0878).
    expect(() => loadConfig({ KLUIS_TRANSFER_ALLOW_HOSTS: '127.0.0.1' })).toThrow(
      /KLUIS_TRANSFER_ALLOW_HOSTS: no longer accepted.*0878/,
    );
  });

  it('names a malformed variable but never prints its value', () => {
    const secret = 'mysql://root:hunter2@db/x';
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: secret, KLUIS_PORT: 'eighty' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\//);
    expect(message).toMatch(/KLUIS_PORT/);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('eighty');
  });

  it('reads an optional JSON file, with the environment taking precedence', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kluis-config-'));
    await writeFile(
      path.join(dir, 'kluis.json'),
      JSON.stringify({ KLUIS_PORT: 4000, KLUIS_LOG_LEVEL: 'warn' }),
    );
    const config = loadConfig({ KLUIS_CONFIG: 'kluis.json', KLUIS_LOG_LEVEL: 'debug' }, dir);
    expect(config.http.port).toBe(4000);
    expect(config.logLevel).toBe('debug');
    await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ KLUIS_NOPE: 1 }));
    expect(() => loadConfig({ KLUIS_CONFIG: 'bad.json' }, dir)).toThrow(
      /KLUIS_NOPE: unknown setting in KLUIS_CONFIG file/,
    );
  });

  it('KLUIS_MAIL_FROM: any relay, a Postfix on 127.0.0.1 included, with the .localhost sender stops startup naming the setting; only a relay declared a development sink keeps the default (decisions 0837, 0843)', () => {
    for (const relay of [
      'smtp://relay.example:587',
      'smtp://127.0.0.1:25',
      'smtps://user:pass@localhost:465',
    ]) {
      expect(() => loadConfig({ KLUIS_SMTP_URL: relay }, '/srv')).toThrow(/KLUIS_MAIL_FROM/);
    }
    expect(
      loadConfig({ KLUIS_SMTP_URL: 'smtp://127.0.0.1:25', KLUIS_MAIL_FROM: 'privacy@provider.be' }, '/srv')
        .mail,
    ).toEqual({ smtpUrl: 'smtp://127.0.0.1:25', from: 'privacy@provider.be', delivers: true });
    // Nor from any other name that reaches no one (attack S18-13).
    for (const from of [
      'ops@kluis.test',
      'ops@provider.example',
      'ops@kluis.invalid',
      'ops@nas.local',
      'ops@x.home.arpa',
      // Nor from the private names routers and directories use (decision 0861, amended s19).
      'ops@home.arpa',
      'ops@nas.lan',
      'ops@mail.corp',
      'ops@router.home',
      'ops@kluis.internal',
      'ops@box.localdomain',
      'ops@kluis.lan.',
    ])
      expect(() =>
        loadConfig({ KLUIS_SMTP_URL: 'smtp://127.0.0.1:25', KLUIS_MAIL_FROM: from }, '/srv'),
      ).toThrow(/KLUIS_MAIL_FROM/);
    expect(
      loadConfig({ KLUIS_SMTP_URL: 'smtp://127.0.0.1:1025', KLUIS_SMTP_DELIVERS: 'false' }, '/srv').mail,
    ).toEqual({ smtpUrl: 'smtp://127.0.0.1:1025', from: 'no-reply@kluis.localhost', delivers: false });
    expect(loadConfig({}, '/srv').mail).toEqual({
      smtpUrl: undefined,
      from: 'no-reply@kluis.localhost',
      delivers: false,
    });
  });
});
