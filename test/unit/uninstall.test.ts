import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ourMounts } from '../../src/commands/uninstall.js';

const line = (id: number, point: string, fsType: string, source: string) => `${id} 1 0:${id} / ${point} rw,relatime - ${fsType} ${source} rw`;

test('uninstall unmounts only what sandboxed-node mounted: the cgroup tree on a tmpfs named cgroup, deepest first, and /dev/null over /dev/kmsg', () => {
  const ours = [line(1, '/', 'overlay', 'none'), line(2, '/sys/fs/cgroup', 'tmpfs', 'cgroup'), line(3, '/sys/fs/cgroup/cpu', 'cgroup', 'cgroup'), line(4, '/sys/fs/cgroup/cpu/x', 'tmpfs', 'none'), line(5, '/dev/kmsg', 'devtmpfs', 'udev')].join('\n');
  assert.deepEqual(ourMounts(ours, true), ['/sys/fs/cgroup/cpu/x', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup', '/dev/kmsg']);
});

const NOT_OURS: { name: string; mountinfo: string; kmsgIsDevNull: boolean }[] = [
  { name: 'the system cgroup2 mount', mountinfo: line(2, '/sys/fs/cgroup', 'cgroup2', 'cgroup2'), kmsgIsDevNull: false },
  { name: "a container runtime's cgroup v1 tmpfs (source tmpfs)", mountinfo: [line(2, '/sys/fs/cgroup', 'tmpfs', 'tmpfs'), line(3, '/sys/fs/cgroup/cpu', 'cgroup', 'cgroup')].join('\n'), kmsgIsDevNull: false },
  { name: 'a real /dev/kmsg mount', mountinfo: line(5, '/dev/kmsg', 'devtmpfs', 'udev'), kmsgIsDevNull: false },
];

for (const other of NOT_OURS) {
  test(`uninstall leaves ${other.name} alone`, () => {
    assert.deepEqual(ourMounts(other.mountinfo, other.kmsgIsDevNull), []);
  });
}
