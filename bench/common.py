"""Helpers shared by the benchmark scripts: machine description, the exact command, load average, writing results."""
import datetime, os, platform, shlex, sys
from pathlib import Path

RESULTS = Path(__file__).parent/'results'

def cpu_model() -> str:
    "The CPU's model name from /proc/cpuinfo (Linux), else `platform.processor()`."
    try:
        for l in open('/proc/cpuinfo'):
            if l.startswith('model name'): return l.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'unknown CPU'

def status_kb(field:str) -> int:
    "A field of /proc/self/status in kB (Linux), e.g. 'VmRSS' (current resident memory) or 'VmHWM' (its peak)."
    for l in open('/proc/self/status'):
        if l.startswith(field + ':'): return int(l.split()[1])

def reset_peak_rss():
    "Reset VmHWM to the current RSS (Linux); `ru_maxrss` cannot be reset, so it would keep the import-time peak."
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')

def versions(*mods) -> str:
    "`name version` for torch, fastai and any extra module names given."
    import importlib
    out = []
    for m in ('torch', 'fastai') + tuple(mods):
        try: out.append(f"{m} {importlib.import_module(m).__version__}")
        except Exception: out.append(f"{m} (not installed)")
    return ', '.join(out)

def machine_info(device='cpu', mods=()) -> str:
    "One line: cores, CPU model, threads, GPU if used, library versions, Python."
    import torch
    dev = str(device)
    gpu = f"; device {dev} ({torch.cuda.get_device_name(torch.device(dev))})" if dev.startswith('cuda') else "; device cpu, no GPU used"
    return (f"{os.cpu_count()} CPU cores ({cpu_model()}), torch threads {torch.get_num_threads()}{gpu}; "
            f"{versions(*mods)}; Python {platform.python_version()}")

def command_line(env=('KDBOOK_CIFAR10',)) -> str:
    "The command that was run, as one shell line (with the environment variables that change the result)."
    # the variable's name, not its value: a committed command must not name this machine's paths
    pre = ' '.join(f"{k}=/path/to/{Path(os.environ[k]).name}" for k in env if os.environ.get(k))
    script = os.path.relpath(sys.argv[0], Path(__file__).parent.parent)
    cmd = ' '.join(['python', shlex.quote(script)] + [shlex.quote(a) for a in sys.argv[1:]])
    return f"{pre} {cmd}".strip()

def load_note(start, end) -> str:
    "Describe the 1-minute load average before and after the run, and flag a shared machine."
    n = os.cpu_count() or 1
    s = f"1-minute load average {start:.2f} before the run, {end:.2f} after it ({n} cores)"
    # before the run starts this process adds nothing to the load, so anything >= 1 is somebody else
    if start >= 1: s += ". **Machine shared with other jobs**: absolute times are inflated and noisy; ratios were measured side by side, interleaved"
    return s

def stamp() -> str: return datetime.datetime.now().strftime('%Y-%m-%d %H:%M')

def write_result(name:str, md:str) -> Path:
    "Write `md` to bench/results/<name>.md and return the path."
    RESULTS.mkdir(exist_ok=True)
    p = RESULTS/f'{name}.md'
    p.write_text(md if md.endswith('\n') else md + '\n')
    return p

def md_table(header, rows) -> str:
    "A markdown table from a header list and rows of strings."
    out = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
    out += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out)
