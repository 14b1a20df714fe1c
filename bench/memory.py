"""Peak memory of distillation: a live teacher vs cached soft labels (`TeacherCache`), after 1 and after N epochs.

    python bench/memory.py [--quick] [--teacher resnet56] [--n-train 1024] [--n-valid 256] [--epochs 3] [--threads 1]

Each mode runs in its own fresh Python process (so no mode inherits another's memory), on CPU:

- `plain`: the student alone, no teacher (the floor);
- `cached`: the student with a float32 `TeacherCache` loaded from a file; the teacher is never built in this process;
- `live`: the student with the live teacher (`DistillCallback(teacher)`), teacher under `no_grad`.

Inside each process the current RSS is read after the set-up (imports, data, models or cache); then the peak-RSS mark
(VmHWM) is reset to it and read, with the current RSS, after every epoch. `resource.getrusage().ru_maxrss` cannot be
reset and keeps the import-time peak of torch and fastai, so it is reported only as the process's lifetime peak.
The claim checked: cached soft labels do not grow with the number of epochs. Writes bench/results/memory.md.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, command_line, load_note, stamp, write_result, md_table, status_kb, reset_peak_rss

MODES = [('plain',  'student alone, no teacher (floor)'),
         ('cached', 'student + `TeacherCache` (float32 soft labels, loaded from a file; teacher never built)'),
         ('live',   'student + live teacher (`DistillCallback(teacher)`, `no_grad`)')]
BS = 128

def _mem():
    "(peak RSS MB since the last reset, current RSS MB) of this process."
    return status_kb('VmHWM')/1024, status_kb('VmRSS')/1024

def make_data(n_train, n_valid):
    "Random uint8 images of CIFAR-10's shape, seeded, in kdbook's loaders (normalise; crop + flip on training batches)."
    import torch
    from kdbook.data import ArrayDataset, dls_from_datasets, Normalize, RandomCropFlip
    g = torch.Generator().manual_seed(0)
    xt = torch.randint(0, 256, (n_train,3,32,32), generator=g, dtype=torch.uint8)
    xv = torch.randint(0, 256, (n_valid,3,32,32), generator=g, dtype=torch.uint8)
    yt,yv = torch.randint(0, 10, (n_train,), generator=g),torch.randint(0, 10, (n_valid,), generator=g)
    cls = [str(i) for i in range(10)]
    return dls_from_datasets(ArrayDataset(xt, yt, cls), ArrayDataset(xv, yv, cls), bs=BS,
                             tfms=[Normalize()], train_tfms=[RandomCropFlip()])

def make_teacher(name):
    import torch
    from kdbook import models
    torch.manual_seed(0)
    return getattr(models, name)().eval()

def child(a):
    "One mode in this (fresh) process; prints one JSON line."
    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(a.threads)
    from fastai.callback.core import Callback
    from kdbook.models import SmallCNN
    from kdbook.callbacks import distill_learner
    from kdbook.cache import TeacherCache
    from kdbook.losses import LabelledCrossEntropy
    from fastai.learner import Learner
    after_import = _mem()
    dls = make_data(a.n_train, a.n_valid)
    torch.manual_seed(1); student = SmallCNN()
    if a._child == 'plain': learn = Learner(dls, student, loss_func=LabelledCrossEntropy())
    elif a._child == 'cached': learn = distill_learner(dls, TeacherCache(torch.load(a._cache)), student)
    else: learn = distill_learner(dls, make_teacher(a.teacher), student)
    setup = _mem()
    import gc; gc.collect(); reset_peak_rss()
    per_epoch = []
    class Mem(Callback):
        order = 99
        def after_epoch(self): per_epoch.append(_mem())
    t0 = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(a.epochs, 1e-3, cbs=Mem())
    print(json.dumps({'mode': a._child, 'after_import': after_import, 'setup': setup, 'epochs': per_epoch,
                      'maxrss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024,
                      'fit_s': time.perf_counter() - t0}))

def run_child(a, mode, cache_file):
    args = [sys.executable, __file__, '--_child', mode, '--_cache', str(cache_file), '--teacher', a.teacher,
            '--n-train', str(a.n_train), '--n-valid', str(a.n_valid), '--epochs', str(a.epochs), '--threads', str(a.threads)]
    # a fixed mmap threshold: large tensors are mmap'd and given back on free, so RSS follows live memory
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536', PYTHONWARNINGS='ignore')
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode: raise SystemExit(f"mode {mode} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='smoke run: resnet20 teacher, 256 training / 128 validation images; writes nothing')
    ap.add_argument('--teacher', default='resnet56', choices=['resnet20', 'resnet56', 'resnet110'])
    ap.add_argument('--n-train', type=int, default=1024, help='training images (batches of 128)')
    ap.add_argument('--n-valid', type=int, default=256, help='validation images')
    ap.add_argument('--epochs', type=int, default=3, help='epochs (memory is read after each)')
    ap.add_argument('--threads', type=int, default=1, help='torch threads per process (1: no OpenMP contention on a shared machine)')
    ap.add_argument('--_child', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--_cache', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._child: return child(a)
    if a.quick: a.teacher,a.n_train,a.n_valid = 'resnet20',256,128
    if a.epochs < 2: raise SystemExit(f"--epochs must be >= 2 to compare epoch 1 with later epochs, got {a.epochs}")
    load0 = os.getloadavg()[0]; t_start = time.time()

    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(a.threads)
    from kdbook.cache import TeacherCache
    teacher = make_teacher(a.teacher)
    n_teacher = sum(p.numel() for p in teacher.parameters())
    t0 = time.perf_counter()
    cache = TeacherCache.from_teacher(teacher, make_data(a.n_train, a.n_valid))
    cache_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        f = Path(d)/'cache.pt'
        torch.save(cache[torch.arange(len(cache))], f)
        res = {}
        for m,_ in MODES:
            res[m] = run_child(a, m, f); print(m, json.dumps(res[m]), flush=True)
    load1 = os.getloadavg()[0]; wall = time.time() - t_start

    n = a.epochs
    rows = []
    for m,label in MODES:
        r = res[m]
        p1,pn = r['epochs'][0][0],r['epochs'][-1][0]
        rows.append([label, f"{r['setup'][1]:.0f}", f"{p1:.0f}", f"{pn:.0f}", f"{pn-p1:+.1f}", f"{pn-r['setup'][1]:.0f}",
                     f"{r['epochs'][-1][1]:.0f}", f"{r['maxrss']:.0f}", f"{r['fit_s']/n:.2f}"])
    table = md_table(['mode', 'RSS after set-up, MB', 'peak RSS in epoch 1, MB', f'peak RSS in epochs 1–{n}, MB',
                      f'peak growth epoch 1 → {n}, MB', 'training peak above set-up, MB', f'RSS after epoch {n}, MB',
                      'lifetime `ru_maxrss`, MB', 's / epoch'], rows)
    c,l,p = res['cached'],res['live'],res['plain']
    grow_c = c['epochs'][-1][0] - c['epochs'][0][0]
    tol = max(4., 0.02*c['epochs'][0][0])   # allocator noise: 2% or 4 MB
    goals = [
        (f'cached soft labels do not grow from epoch 1 to epoch {n}', grow_c <= tol,
         f"peak RSS {c['epochs'][0][0]:.0f} → {c['epochs'][-1][0]:.0f} MB ({grow_c:+.1f} MB; tolerance {tol:.0f} MB)"),
        ('cached peak below live-teacher peak', c['epochs'][-1][0] < l['epochs'][-1][0],
         f"{c['epochs'][-1][0]:.0f} MB vs {l['epochs'][-1][0]:.0f} MB ({l['epochs'][-1][0]-c['epochs'][-1][0]:.0f} MB saved)"),
    ]
    goal_lines = '\n'.join(f"- **{'PASS' if ok else 'FAIL'}** {name}: {detail}" for name,ok,detail in goals)
    quick = "\n> `--quick` smoke run: a small teacher and a tiny slice, not numbers to cite.\n" if a.quick else ""
    md = f"""# Peak memory: live teacher vs cached soft labels
{quick}
{table}

{goal_lines}

The cache itself: {len(cache):,} samples × {cache.n_classes} classes, float32 = {cache.nbytes/2**20:.2f} MB
({cache.bytes_per_sample:g} bytes/sample), built once in {cache_s:.1f} s by one teacher pass. It is a fixed-size tensor
indexed by sample, so nothing accumulates over epochs; the live teacher costs its weights
({n_teacher/1e6:.2f} M parameters, {n_teacher*4/2**20:.1f} MB in float32) plus the activations of one forward pass
(freed after each batch: `no_grad` keeps no graph) on top of the student's run.

How it was measured:

- Each mode in a fresh Python process (`subprocess`), on CPU; peak RSS is `VmHWM` from /proc/self/status, reset to the
  current RSS after set-up (via /proc/self/clear_refs) and read after each epoch (training + validation); the last
  column but one is `resource.getrusage(RUSAGE_SELF).ru_maxrss`, the whole process's peak, import included;
  `MALLOC_MMAP_THRESHOLD_=65536` so that freed tensors are returned to the system and RSS follows live memory.
  Peaks include the Python interpreter, torch and fastai (about {p['after_import'][1]:.0f} MB after imports).
- Data: random uint8 images of CIFAR-10's shape (3×32×32, 10 classes, seeded): {a.n_train} training, {a.n_valid}
  validation, batch size {BS}, normalised, random crop + flip on training batches (kdbook `TensorDL` loaders).
- Teacher: `kdbook.models.{a.teacher}` ({n_teacher/1e6:.2f} M parameters), untrained (memory does not depend on the
  weights). Student: `kdbook.models.SmallCNN`. {n} epochs of `Learner.fit`, Adam, lr 1e-3, objective 0.1·CE + 0.9·T²·KL, T=4.
- Machine: {machine_info('cpu')} (each measured process: {a.threads} torch thread(s), `--threads`).
- {load_note(load0, load1)}. Whole run {wall:.0f} s; {stamp()}.
- Command: `{command_line(())}`.
"""
    print(md)
    if a.quick: print("(--quick smoke run: nothing written)"); return
    print(f"wrote {write_result('memory', md)}")

if __name__ == '__main__': main()
