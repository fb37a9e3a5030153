#!/usr/bin/env node
import { Command } from 'commander';
import { registerBenchCommand } from './commands/bench.js';
import { registerInfoCommand } from './commands/info.js';
import { registerRunCommand } from './commands/run.js';
import { registerServeCommand } from './commands/serve.js';
import { registerCalibrateCommand } from './commands/calibrate.js';

const program = new Command('supervm')
  .description('SuperVM: CPU/GPU hybrid batch executor and blockchain runtime')
  .version('0.1.0')
  .showHelpAfterError();

registerInfoCommand(program);
registerBenchCommand(program);
registerRunCommand(program);
registerServeCommand(program);
registerCalibrateCommand(program);

await program.parseAsync(process.argv);
