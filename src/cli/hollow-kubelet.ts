import type { Command } from './command.js';

// Placeholder until the command lands (see the open issues).
export const command: Command = {
  name: 'hollow-kubelet',
  summary: 'not built yet',
  flags: {},
  async run(_args, io) {
    io.stderr.write('kube-mesos hollow-kubelet: not built yet\n');
    return 1;
  },
};
