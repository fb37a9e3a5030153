import type { Command } from 'commander';
import { getRuntime, closeRuntime } from '@supervm/gpu-executor';
import { machineInfo } from '../machine.js';

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('show the CPU, the worker pool and the GPU adapter (or why there is none)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      try {
        const info = await getRuntime().info();
        const machine = machineInfo();
        if (options.json) {
          console.log(JSON.stringify({ ...machine, ...info }, null, 2));
          return;
        }
        console.log(`node        ${machine.node} on ${machine.platform}`);
        console.log(`cpu         ${info.cpu.model}, ${machine.cores} cores, pool of ${info.cpu.threads} worker threads`);
        if (info.gpu.available) {
          const a = info.gpu.adapter;
          console.log(`gpu         ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter'}`);
          console.log(`backend     webgpu:${a.backend} (${a.featureLevel}${a.software ? ', software rasterizer: exact but slow' : ''})`);
          console.log(`timestamps  ${a.timestampQuery ? 'yes' : 'no (host timing)'}`);
        } else {
          console.log(`gpu         none: ${info.gpu.reason}`);
        }
      } finally {
        await closeRuntime();
      }
    });
}
