import type { Command } from './command.js';

// Placeholder until the command lands (see the open issues).
export const command: Command = {
  name: 'executor',
  summary: 'not built yet',
  flags: {},
  async run(_args, io) {
    io.stderr.write('kube-mesos executor: not built yet\n');
    return 1;
  },
};
