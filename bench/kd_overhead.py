"""Cost of distillation per training epoch: kdbook (live teacher, cached soft labels) vs fasterai vs a torchdistill-style loop.

    python bench/kd_overhead.py [--quick] [--device cpu] [--n-train 2560] [--n-valid 512] [--epochs 2] [--repeats 3]
                                [--teacher resnet56] [--no-mem]

Every method trains the same student (kdbook.models.SmallCNN) with the same teacher, data, batch size (128),
optimiser (torch.optim.Adam, lr 1e-3, no weight decay; fastai runs use it through `OptimWrapper`) and objective
(0.1 · CE + 0.9 · T² · KL, T = 4), in one process, interleaved round-robin; the table gives the median seconds per
epoch (training + validation, as fastai runs an epoch). Writes bench/results/kd_overhead.md (not with --quick).
"""
import argparse, json, os, statistics, subprocess, sys, time, warnings
from functools import partial
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, command_line, load_note, stamp, write_result, md_table, status_kb, reset_peak_rss

warnings.filterwarnings('ignore', category=FutureWarning)   # torch.jit deprecation noise from torchdistill's imports
import torch
from torch import nn
import torch.nn.functional as F
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.optimizer import OptimWrapper
from fastai.metrics import accuracy
import fastai.callback.progress  # noqa: F401 (Learner.no_bar)
from kdbook.data import ArrayDataset, dls_from_datasets, Normalize, RandomCropFlip, load_cifar10_arrays
from kdbook.models import resnet20, resnet56, resnet110, SmallCNN
from kdbook.losses import LabelledCrossEntropy
from kdbook.callbacks import distill_learner
from kdbook.cache import TeacherCache
from fasterai.distill.distillation_callback import KnowledgeDistillationCallback
from fasterai.distill.losses import SoftTarget
from torchdistill.losses.mid_level import KDLoss

BS, T, CE_W, KD_W, LR = 128, 4., 0.1, 0.9, 1e-3
OPT = partial(OptimWrapper, opt=torch.optim.Adam)    # the same torch Adam in every fastai run and in the plain loop
TEACHERS = {'resnet20': resnet20, 'resnet56': resnet56, 'resnet110': resnet110}

# (key, label) of the rows that train a student for whole epochs, in table order
METHODS = [
    ('plain',           'plain student, fastai `Learner`, no teacher (the floor)'),
    ('kdbook_cached',   'kdbook `DistillCallback` + `TeacherCache` (float32 soft labels)'),
    ('kdbook_live',     'kdbook `DistillCallback`, live teacher'),
    ('torchdistill',    'plain PyTorch loop + torchdistill `KDLoss`, teacher under `no_grad`'),
    ('fasterai',        'fasterai `KnowledgeDistillationCallback` + `SoftTarget`, as shipped'),
    ('fasterai_frozen', 'fasterai, user first calls `teacher.requires_grad_(False)`'),
]
# rows that are one pass, not an epoch
PASSES = [
    ('teacher_pass', 'one teacher inference pass over the training slice (`no_grad`, forward only, batches pre-made)'),
    ('cache_build',  'one-off: `TeacherCache.from_teacher` over the training slice'),
]

# ---------------------------------------------------------------- data, models

def make_data(n_train, n_valid):
    "`(xt, yt, xv, yv, description)`: a CIFAR-10 slice when $KDBOOK_CIFAR10 is set, else random tensors of its shape."
    g = torch.Generator().manual_seed(0)
    src = os.environ.get('KDBOOK_CIFAR10')
    if src:
        def take(split, n):
            x,y,_ = load_cifar10_arrays(src, split, per_class=-(-n//10), seed=0)
            keep = torch.randperm(len(x), generator=g)[:n]
            return x[keep], y[keep]
        (xt,yt),(xv,yv) = take('train', n_train),take('test', n_valid)
        what = (f"real CIFAR-10 (the JPEG copy, via $KDBOOK_CIFAR10 and `load_cifar10_arrays`): "
                f"{n_train} training images, {n_valid} test images as the validation set")
    else:
        xt = torch.randint(0, 256, (n_train,3,32,32), generator=g, dtype=torch.uint8)
        xv = torch.randint(0, 256, (n_valid,3,32,32), generator=g, dtype=torch.uint8)
        yt,yv = torch.randint(0, 10, (n_train,), generator=g),torch.randint(0, 10, (n_valid,), generator=g)
        what = (f"random uint8 images of CIFAR-10's shape (3×32×32, 10 classes), because $KDBOOK_CIFAR10 is not set: "
                f"{n_train} training, {n_valid} validation")
    return xt, yt, xv, yv, what

def make_dls(xt, yt, xv, yv, device):
    "The same pipeline as `cifar10_dls`: normalise, random crop + flip on training batches; batch 128 (validation 256)."
    cls = [str(i) for i in range(10)]
    return dls_from_datasets(ArrayDataset(xt, yt, cls), ArrayDataset(xv, yv, cls), bs=BS,
                             tfms=[Normalize()], train_tfms=[RandomCropFlip()], device=device)

def make_teacher(name, dls, device):
    "An untrained teacher (speed does not depend on the weights) whose BatchNorm statistics come from 4 training batches."
    torch.manual_seed(0)
    t = TEACHERS[name]().to(device)
    for m in t.modules():
        if isinstance(m, nn.BatchNorm2d): m.momentum = None   # cumulative average: sane eval-mode outputs
    t.train()
    with torch.no_grad():
        for i,b in enumerate(dls.train):
            t(b[0])
            if i == 3: break
    return t.eval()

def make_student(device):
    torch.manual_seed(1)
    return SmallCNN().to(device)

class Ctx:
    "Everything the methods share: data loaders, teacher, a cache, pre-made training batches."
    def __init__(self, a, device, warm=True):
        xt,yt,xv,yv,self.data_desc = make_data(a.n_train, a.n_valid)
        self.device = device
        self.dls = make_dls(xt, yt, xv, yv, device)
        self.dls_idx = self.dls   # the cache takes sample indices from the loader itself
        self.teacher = make_teacher(a.teacher, self.dls, device)
        self.batches = [b[0] for b in self.dls.train]     # for the teacher-pass row (no loading cost counted)
        self.cache = TeacherCache.from_teacher(self.teacher, self.dls_idx)
        self.n_train_batches,self.n_valid_batches = len(self.dls.train),len(self.dls.valid)
        if warm:   # first-call costs (allocator, oneDNN kernels) paid once, before any timing
            s = make_student(device); x = self.batches[0]
            with torch.no_grad(): self.teacher(x)
            s(x).sum().backward()
            self.teacher(x).sum().backward()
        self.reset_teacher()
    def reset_teacher(self):
        "The state a user's teacher is in before training: eval mode, parameters requiring grad, no `.grad`."
        self.teacher.eval()
        for p in self.teacher.parameters(): p.requires_grad_(True); p.grad = None

# ---------------------------------------------------------------- timing

def sync(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()

class EpochTimer(Callback):
    "Wall-clock seconds of each epoch (training and validation); runs last, so it includes every other callback."
    order = 1000
    def __init__(self, device): self.device,self.times = device,[]
    def before_epoch(self): sync(self.device); self.t0 = time.perf_counter()
    def after_epoch(self): sync(self.device); self.times.append(time.perf_counter() - self.t0)

def fit_timed(learn, epochs, device):
    timer = EpochTimer(device)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, LR, cbs=timer)
    return timer.times

def run_plain(ctx, epochs):
    learn = Learner(ctx.dls, make_student(ctx.device), loss_func=LabelledCrossEntropy(), metrics=accuracy, opt_func=OPT)
    return fit_timed(learn, epochs, ctx.device)

def run_kdbook_live(ctx, epochs):
    learn = distill_learner(ctx.dls, ctx.teacher, make_student(ctx.device), T=T, ce_weight=CE_W, kd_weight=KD_W,
                            metrics=accuracy, opt_func=OPT)
    return fit_timed(learn, epochs, ctx.device)

def run_kdbook_cached(ctx, epochs):
    learn = distill_learner(ctx.dls_idx, ctx.cache, make_student(ctx.device), T=T, ce_weight=CE_W, kd_weight=KD_W,
                            metrics=accuracy, opt_func=OPT)
    return fit_timed(learn, epochs, ctx.device)

def run_fasterai(ctx, epochs, frozen=False):
    if frozen: ctx.teacher.requires_grad_(False)
    # fasterai: loss = lerp(CE, SoftTarget, weight) = (1-weight)·CE + weight·T²·KL
    cb = KnowledgeDistillationCallback(ctx.teacher, partial(SoftTarget, T=T), weight=KD_W)
    learn = Learner(ctx.dls, make_student(ctx.device), loss_func=LabelledCrossEntropy(), metrics=accuracy, opt_func=OPT, cbs=cb)
    return fit_timed(learn, epochs, ctx.device)

def run_torchdistill(ctx, epochs):
    "The step written out in plain PyTorch, with torchdistill's KDLoss (alpha = CE weight, beta = KD weight)."
    dev,teacher = ctx.device,ctx.teacher.eval()
    s = make_student(dev)
    opt = torch.optim.Adam(s.parameters(), lr=LR)
    kd = KDLoss('fc', 'output', 'fc', 'output', temperature=T, alpha=CE_W, beta=KD_W)
    times = []
    for _ in range(epochs):
        sync(dev); t0 = time.perf_counter()
        s.train()
        for xb,yb in ctx.dls.train:
            with torch.no_grad(): tl = teacher(xb)
            sl = s(xb)
            loss = kd({'fc': {'output': sl}}, {'fc': {'output': tl}}, yb)
            opt.zero_grad(); loss.backward(); opt.step()
        s.eval(); tot,correct,n = 0.,0,0
        with torch.no_grad():
            for xb,yb in ctx.dls.valid:
                out = s(xb)
                tot += F.cross_entropy(out, yb, reduction='sum').item(); correct += (out.argmax(1)==yb).sum().item(); n += len(yb)
        sync(dev); times.append(time.perf_counter() - t0)
    return times

def run_teacher_pass(ctx, epochs=None):
    sync(ctx.device); t0 = time.perf_counter()
    with torch.no_grad():
        for x in ctx.batches: ctx.teacher(x)
    sync(ctx.device)
    return [time.perf_counter() - t0]

def run_cache_build(ctx, epochs=None):
    sync(ctx.device); t0 = time.perf_counter()
    ctx.cache = TeacherCache.from_teacher(ctx.teacher, ctx.dls_idx)
    sync(ctx.device)
    return [time.perf_counter() - t0]

RUN = {'plain': run_plain, 'kdbook_cached': run_kdbook_cached, 'kdbook_live': run_kdbook_live, 'torchdistill': run_torchdistill,
       'fasterai': run_fasterai, 'fasterai_frozen': partial(run_fasterai, frozen=True),
       'teacher_pass': run_teacher_pass, 'cache_build': run_cache_build}

# ---------------------------------------------------------------- memory

def mem_child(a):
    "In a fresh process: set up, reset the peak-RSS mark, run one epoch (or pass) of `a._mem`, print the RSS growth."
    ctx = Ctx(a, a.device, warm=False)
    reset_peak_rss()
    base = status_kb('VmRSS')
    RUN[a._mem](ctx, 1)
    print(json.dumps({'method': a._mem, 'growth_mb': (status_kb('VmHWM') - base)/1024, 'base_mb': base/1024}))

def mem_cpu(a, key):
    "Peak RSS growth (MB) of one epoch of `key`, measured in its own subprocess; None if it could not be measured."
    args = [sys.executable, __file__, '--_mem', key, '--n-train', str(a.n_train), '--n-valid', str(a.n_valid),
            '--teacher', a.teacher, '--device', 'cpu']
    # a fixed mmap threshold: large tensors are mmap'd and given back on free, so RSS follows live memory
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='65536', PYTHONWARNINGS='ignore')
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    try: return json.loads(r.stdout.strip().splitlines()[-1])['growth_mb']
    except Exception:
        print(f"memory measurement of {key} failed:\n{r.stderr[-2000:]}", file=sys.stderr)
        return None

# ---------------------------------------------------------------- main

def fmt_s(v): return f"{v:.3f}" if v < 10 else f"{v:.2f}"

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='smoke run: 512 training / 256 validation images, 1 epoch, 1 repeat; writes nothing')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (peak memory then from torch.cuda.max_memory_allocated)")
    ap.add_argument('--n-train', type=int, default=2560, help='training images (20 batches of 128)')
    ap.add_argument('--n-valid', type=int, default=512, help='validation images')
    ap.add_argument('--epochs', type=int, default=2, help='epochs per timed run (each epoch is one sample)')
    ap.add_argument('--repeats', type=int, default=3, help='round-robin rounds over all methods')
    ap.add_argument('--teacher', default='resnet56', choices=sorted(TEACHERS))
    ap.add_argument('--no-mem', action='store_true', help='skip the per-method memory subprocesses (CPU)')
    ap.add_argument('--_mem', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick: a.n_train,a.n_valid,a.epochs,a.repeats = 512,256,1,1
    if a._mem: return mem_child(a)
    cuda = torch.device(a.device).type == 'cuda'
    if cuda and not torch.cuda.is_available(): raise SystemExit(f"--device {a.device}: no CUDA device is available; use --device cpu")
    load0 = os.getloadavg()[0]; t_start = time.time()

    ctx = Ctx(a, a.device)
    keys = [k for k,_ in METHODS] + [k for k,_ in PASSES]
    times = {k: [] for k in keys}; gpu_peak = {k: 0. for k in keys}
    for r in range(a.repeats):
        order = keys[r % len(keys):] + keys[:r % len(keys)]    # rotate the start so no method always runs first
        for k in order:
            ctx.reset_teacher()
            if cuda: torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
            ts = RUN[k](ctx, a.epochs)
            if cuda: gpu_peak[k] = max(gpu_peak[k], (torch.cuda.max_memory_allocated() - base)/2**20)
            times[k] += ts
            print(f"round {r+1}/{a.repeats} {k:16s} " + ' '.join(f"{t:.3f}" for t in ts), flush=True)
    ctx.reset_teacher()

    if cuda: mem = gpu_peak
    elif a.no_mem: mem = {k: None for k in keys}
    else:
        mem = {}
        for k in keys:
            mem[k] = mem_cpu(a, k); print(f"memory {k:16s} {mem[k]}", flush=True)
    load1 = os.getloadavg()[0]; wall = time.time() - t_start

    med = {k: statistics.median(v) for k,v in times.items()}
    plain = med['plain']
    def mem_s(k): return '–' if mem[k] is None else f"{mem[k]:.0f}"
    rows = []
    for k,label in METHODS + PASSES:
        v = times[k]
        rows.append([label, fmt_s(med[k]), f"{fmt_s(min(v))}–{fmt_s(max(v))}", f"{med[k]/plain:.2f}×", mem_s(k)])
    table = md_table(['method', 's / epoch (median)', 'range', '× plain', 'peak memory growth, MB'], rows)

    goals = [
        ('kdbook cached ≤ 1.05 × plain', med['kdbook_cached'] <= 1.05*plain,
         f"{med['kdbook_cached']:.3f} s vs 1.05 × {plain:.3f} = {1.05*plain:.3f} s ({med['kdbook_cached']/plain:.3f}×)"),
        ('kdbook live ≤ plain + one teacher pass', med['kdbook_live'] <= plain + med['teacher_pass'],
         f"{med['kdbook_live']:.3f} s vs {plain:.3f} + {med['teacher_pass']:.3f} = {plain + med['teacher_pass']:.3f} s"),
        ('kdbook live ≥ 1.3 × faster than fasterai', med['fasterai'] >= 1.3*med['kdbook_live'],
         f"fasterai {med['fasterai']:.3f} s / kdbook live {med['kdbook_live']:.3f} s = {med['fasterai']/med['kdbook_live']:.2f}×"),
    ]
    goal_lines = '\n'.join(f"- **{'PASS' if ok else 'FAIL'}** {name}: {detail}" for name,ok,detail in goals)

    n_ep = a.epochs*a.repeats
    mem_how = ("`torch.cuda.max_memory_allocated()` minus the memory allocated before the run, max over repeats (GPU memory only)"
               if cuda else
               "peak resident memory (VmHWM, reset through /proc/self/clear_refs) minus RSS just before the run, one epoch "
               "(or one pass) of each method in its own fresh process after the same set-up, with MALLOC_MMAP_THRESHOLD_=65536 "
               "so that freed tensors leave RSS; it counts activations, gradients, optimiser state and allocator slack, not "
               "the teacher's or the data's resident memory, which every method shares"
               if not a.no_mem else "not measured (--no-mem)")
    quick = "\n> `--quick` smoke run: a tiny slice and one sample per method, not numbers to cite.\n" if a.quick else ""
    md = f"""# Cost of distillation per training epoch
{quick}
{table}

Goals:

{goal_lines}

How it was measured:

- Data: {ctx.data_desc}. Batch size {BS} ({ctx.n_train_batches} training batches, {ctx.n_valid_batches} validation batches of 256 per epoch), normalised, random crop + flip on training batches, the same kdbook `TensorDL` loaders for every method.
- Teacher: `kdbook.models.{a.teacher}` ({sum(p.numel() for p in ctx.teacher.parameters())/1e6:.2f} M parameters), untrained weights (the time does not depend on them; BatchNorm statistics set from 4 batches). Student: `kdbook.models.SmallCNN` ({sum(p.numel() for p in make_student('cpu').parameters())/1e3:.1f} k parameters).
- Objective everywhere: 0.1 · CE(true labels) + 0.9 · T² · KL(teacher ‖ student), T = {T:g}. kdbook: `ce_weight=0.1, kd_weight=0.9`; fasterai: `weight=0.9` (it takes `lerp(CE, KD, weight)`); torchdistill: `KDLoss(alpha=0.1, beta=0.9)`.
- Optimiser everywhere: `torch.optim.Adam`, lr {LR:g}, no weight decay (fastai runs through `OptimWrapper`), constant lr (`Learner.fit`). fastai runs use `learn.no_bar()` and `learn.no_logging()`, metric `accuracy`, loss `LabelledCrossEntropy`; `torch.set_num_threads` left as it is ({torch.get_num_threads()}).
- An epoch is training plus validation, as fastai runs it: the plain PyTorch loop also computes validation loss and accuracy. kdbook does not run the teacher on validation batches; **fasterai runs its teacher on every validation batch too** (under `no_grad`, fastai validates without grad), and, as shipped, it runs the teacher on training batches *with* autograd, so the backward pass also computes gradients for all teacher parameters (never used). The `fasterai_frozen` row shows what freezing the teacher first recovers.
- The torchdistill row is the training step written out in plain PyTorch (teacher under `no_grad`, torchdistill's `KDLoss` from `torchdistill.losses.mid_level`), not torchdistill's config-driven `DistillationBox`.
- Timing: all methods in one process, interleaved round-robin (start rotated each round), {a.repeats} round(s) × {a.epochs} epoch(s) each = {n_ep} epoch times per method; median and range over them. The teacher-pass and cache-build rows time one pass each round, so their column is seconds per pass; their ratio is to one plain epoch. One untimed forward/backward of both models before timing.
- Peak memory growth: {mem_how}.
- Machine: {machine_info(a.device, ('fasterai', 'torchdistill'))}.
- {load_note(load0, load1)}. Whole run {wall/60:.1f} min; {stamp()}.
- Command: `{command_line()}`
"""
    print('\n' + md)
    if a.quick: print("(--quick smoke run: nothing written)"); return
    print(f"written to {write_result('kd_overhead', md)}")

if __name__ == '__main__': main()
