import type { Command } from './command.js';

// Placeholder until the command lands (see the open issues).
export const command: Command = {
  name: 'control-plane',
  summary: 'not built yet',
  flags: {},
  async run(_args, io) {
    io.stderr.write('kube-mesos control-plane: not built yet\n');
    return 1;
  },
};
