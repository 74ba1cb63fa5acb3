/**
 * Summarises a V8 `.cpuprofile` (from `npm run bench -- --profile`): the functions with the most self
 * time, and the heaviest call paths by total time, so a profile can be read without a browser.
 *
 *   npx ts-node bench/profile-summary.ts bench/results/gateway-CPU.*.cpuprofile [top=25] [bundle.js]
 *
 * With the unminified bundle the profile was taken of, self time is also grouped by source module.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Maps a line of an unminified esbuild bundle to the source module it came from, using the
 * `// path/to/module.ts` comments esbuild writes at the start of each module.
 */
export function moduleMapOf(bundleText: string): (line: number) => string {
  const starts: Array<{ line: number; module: string }> = [];
  bundleText.split('\n').forEach((text, i) => {
    const m = /^\/\/ ((?:node_modules\/)?[\w@./-]+\.(?:[cm]?js|ts|json))$/.exec(text);
    if (m) starts.push({ line: i + 1, module: m[1] });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Groups a module path: a package name for node_modules, the file for project code. */
function groupOf(module: string): string {
  const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module);
  return pkg ? pkg[1] : module;
}

export function summarise(profile: Profile, top: number, moduleOf?: (line: number) => string): string {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)),
  );
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => {
    const file = n.callFrame.url.split('/').slice(-2).join('/') || '(native)';
    return `${n.callFrame.functionName || '(anonymous)'} ${file}:${n.callFrame.lineNumber + 1}:${n.callFrame.columnNumber + 1}`;
  };
  let totalUs = 0;
  for (const us of selfUs.values()) totalUs += us;
  const idleNames = new Set(['(idle)', '(program)']);
  const busyUs = [...selfUs.entries()]
    .filter(([id]) => !idleNames.has(byId.get(id)!.callFrame.functionName))
    .reduce((s, [, us]) => s + us, 0);

  const selfByLabel = new Map<string, number>();
  const totalByLabel = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      totalByLabel.set(l, (totalByLabel.get(l) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1).padStart(5)}%`;
  const byGroup = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (idleNames.has(frame.functionName)) continue;
    let group: string;
    if (frame.url.startsWith('node:') || frame.url.startsWith('internal') || /^[a-z_/]+$/.test(frame.url))
      group = 'node core (JS)';
    else if (frame.url === '') group = `native: ${frame.functionName || '(anonymous)'}`;
    else if (moduleOf && frame.url.endsWith('.js')) group = groupOf(moduleOf(frame.lineNumber + 1));
    else group = frame.url.split('/').slice(-1)[0];
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const lines = [
    `profile: ${(totalUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s busy (percentages of busy time)`,
    '',
    'self time:',
    ...[...selfByLabel.entries()]
      .filter(([l]) => !idleNames.has(l.split(' ')[0]))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([l, us]) => `  ${pct(us)}  ${l}`),
    '',
    'self time by module (native = in C++/the kernel: socket writes, GC):',
    ...[...byGroup.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([g, us]) => `  ${pct(us)}  ${g}`),
    '',
    'total time (self + callees):',
    ...[...totalByLabel.entries()]
      .filter(([l]) => !idleNames.has(l.split(' ')[0]) && !l.startsWith('(root)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([l, us]) => `  ${pct(us)}  ${l}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top, bundle] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top] [unminified-bundle.js]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const moduleOf = bundle ? moduleMapOf(readFileSync(bundle, 'utf8')) : undefined;
  console.log(summarise(profile, Number(top ?? 25), moduleOf));
}
