#!/usr/bin/env python3
"""`runner bench ... --dump-scenario` of two binaries over the same examples: every argument list of
tests/bench_guide.rs and tests/bench_roundtrip.rs, plus the README example. Usage:
  scripts/compare-dumps.py OLD_RUNNER NEW_RUNNER REPO_DIR
Prints SAME/DIFF per example and a count; differing outputs are left in /tmp/i9dump/NN.{old,new}."""
import re, subprocess, sys, os, json
old, new, repo = (os.path.abspath(a) for a in sys.argv[1:4])
work = '/tmp/i9dump/fx'
os.makedirs(work, exist_ok=True)
# fixtures (paths are only named by the dump)
open(f'{work}/sharegpt.json','w').write(json.dumps([{"id":"c0","conversations":[{"from":"human","value":"the of and"},{"from":"gpt","value":"to in is"}]}]))
open(f'{work}/trace.jsonl','w').write('{"timestamp": 1000, "input_length": 600, "output_length": 8, "hash_ids": [0, 100]}\n')
VARS = {
  '&port': '30000', 'port': '30000', '&sim.url()': 'http://127.0.0.1:30000', '&url': 'http://127.0.0.1:30000',
  'url': 'http://127.0.0.1:30000', 'base': 'http://127.0.0.1:9', 'MODEL': 'meta-llama/Llama-3.1-8B-Instruct',
  'data.to_str().unwrap()': f'{work}/sharegpt.json', 'sharegpt.to_str().unwrap()': f'{work}/sharegpt.json',
  'trace.to_str().unwrap()': f'{work}/trace.jsonl', '&trace': f'{work}/trace.jsonl',
}
tok = re.compile(r'r#"(.*?)"#|"((?:[^"\\]|\\.)*)"|([&A-Za-z_][\w.()&]*)', re.S)
def lists(text):
    out = []
    for m in re.finditer(r'(?:&\[|vec!\[)', text):
        depth, i = 1, m.end()
        while depth:
            c = text[i]
            if c == '[': depth += 1
            elif c == ']': depth -= 1
            elif c == '"':
                j = i + 1
                while text[j] != '"':
                    j += 2 if text[j] == '\\' else 1
                i = j
            i += 1
        body = text[m.end():i-1]
        if '"--' not in body or 'vec![' in body: continue
        args, unknown = [], []
        for t in tok.finditer(body):
            if t.group(1) is not None: args.append(t.group(1))
            elif t.group(2) is not None: args.append(bytes(t.group(2),'utf8').decode('unicode_escape'))
            else:
                name = t.group(3)
                if name in VARS: args.append(VARS[name])
                else: unknown.append(name)
        out.append((args, unknown))
    return out
cases = [('README.md', ['--backend', 'sglang', '--host', '127.0.0.1', '--port', '30000', '--dataset-name', 'random',
           '--num-prompts', '3000', '--random-input', '1024', '--random-output', '1024', '--random-range-ratio', '0.5'], [])]
for f in ['tests/bench_guide.rs', 'tests/bench_roundtrip.rs']:
    for args, unknown in lists(open(os.path.join(repo, f)).read()):
        if args and args[0].startswith('--'):
            cases.append((f, args, unknown))
same = diff = 0
env = dict(os.environ, RUNNER_HEADER_X_TEAM='bench')
for n, (f, args, unknown) in enumerate(cases):
    r = []
    for b in (old, new):
        p = subprocess.run([b, 'bench', *args, '--dump-scenario'], capture_output=True, cwd=work, env=env)
        r.append((p.returncode, p.stdout, p.stderr))
    tag = f'{n:02d} {os.path.basename(f)} {" ".join(args)[:100]}'
    if unknown: tag += f'  [unresolved: {unknown}]'
    if r[0] == r[1]:
        same += 1; print('SAME', tag, f'(exit {r[0][0]}, {len(r[0][1])} bytes)')
    else:
        diff += 1; print('DIFF', tag)
        open(f'/tmp/i9dump/{n:02d}.old','wb').write(b'exit %d\n' % r[0][0] + r[0][1] + b'---stderr\n' + r[0][2])
        open(f'/tmp/i9dump/{n:02d}.new','wb').write(b'exit %d\n' % r[1][0] + r[1][1] + b'---stderr\n' + r[1][2])
print(f'{same} identical, {diff} different, of {len(cases)}')
