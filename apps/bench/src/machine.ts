// The machine absolute times belong to: CPU model, cores, memory and Node version.
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import type { MachineInfo } from './schema.js';

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const cpu = cpus()[0]?.model?.trim() || 'unknown CPU';
  const cores = availableParallelism();
  const info = {
    cpu,
    cores,
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    arch: arch(),
    totalMemBytes: totalmem(),
  };
  const gib = (info.totalMemBytes / 2 ** 30).toFixed(0);
  return {
    ...info,
    label: `${cpu}, ${cores} cores, ${gib} GiB, Node ${info.node} (${info.platform}-${info.arch})`,
  };
}
