import { buildProgram } from './program.js';

await (await buildProgram(process.argv)).parseAsync(process.argv);
