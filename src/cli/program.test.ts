import { describe, expect, it } from 'vitest';
import { buildFullProgram, COMMANDS } from './program.js';

describe('the CLI program (issue 12: a CLI that answers at once)', () => {
  it('the list `kluis --help` shows without loading any command matches the commands the modules define', async () => {
    const full = await buildFullProgram();
    expect(full.commands.map((command) => [command.name(), command.description()]).sort()).toEqual(
      COMMANDS.map((command) => [command.name, command.description]).sort(),
    );
  });
});
