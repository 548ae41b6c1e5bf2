import { Command } from 'commander';
import { registerAttackCommand } from '../src/commands/attack.js';
const p = new Command('certify');
registerAttackCommand(p);
await p.parseAsync(process.argv.slice(2), { from: 'user' });
