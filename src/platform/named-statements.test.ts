import { describe, expect, it } from 'vitest';
import { ConnectionStatements, statementName, type PgStatementRecord } from './named-statements.js';

// Decision 0770: which named statements one connection parses, keeps and closes.

const pgRecord = (): PgStatementRecord => ({ parsedStatements: {}, submittedNamedStatements: {} });

describe('a connection’s named statements', () => {
  it('a text’s name is a hash of it: the same text the same name, another text another name', () => {
    expect(statementName('select 1')).toBe(statementName('select 1'));
    expect(statementName('select 1')).not.toBe(statementName('select 2'));
    expect(statementName('select 1')).toMatch(/^kluis_[0-9a-f]{32}$/);
  });

  it('is parsed once it answered, and closed and parsed again after a round trip with it failed', () => {
    const statements = new ConnectionStatements();
    const pg = pgRecord();
    const first = statements.take('select $1', pg);
    expect(first).toMatchObject({ parse: true, close: [] });
    statements.answered(first, true);
    const second = statements.take('select $1', pg);
    expect(second).toMatchObject({ name: first.name, parse: false, close: [] });
    // node-postgres skips the Parse exactly when its own record has the name.
    expect(pg.parsedStatements[first.name]).toBe('select $1');
    statements.answered(second, false);
    const third = statements.take('select $1', pg);
    expect(third).toMatchObject({ parse: true, close: [first.name] });
    expect(pg.parsedStatements[first.name]).toBeUndefined();
  });

  it('keeps its limit: the least recently used is closed with the next round trip and forgotten by pg', () => {
    const statements = new ConnectionStatements(2);
    const pg = pgRecord();
    const a = statements.take('a', pg);
    statements.answered(a, true);
    const b = statements.take('b', pg);
    statements.answered(b, true);
    statements.answered(statements.take('a', pg), true);
    const c = statements.take('c', pg);
    expect(c.close).toEqual([b.name]);
    statements.answered(c, true);
    expect(statements.size).toBe(2);
    expect(pg.parsedStatements[b.name]).toBeUndefined();
    expect(pg.parsedStatements[a.name]).toBe('a');
    expect(statements.take('b', pg)).toMatchObject({ parse: true, close: [a.name] });
  });
});
