"""Teacher caches on disk at scale (`kdbook.store`): memory flat in the dataset's size, a cached epoch as fast as a
plain one, builds on several processes, and ImageNet-1k on paper.

    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cache_scale.py            # the committed configuration
    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cache_scale.py --quick    # under two minutes, writes nothing

Four measurements, each in fresh processes where memory or time is measured (one torch thread each):

- memory: a student trained for one epoch from an on-disk float16 cache of 50,000, 200,000 and 1,000,000 samples ×
  1,000 classes (synthetic inputs computed from the sample index, so the dataset itself holds nothing, and the logits
  of a random linear teacher). Peak RSS (`VmHWM`, reset after set-up, as in bench/memory.py) of the training epoch, in
  a fresh process per size, with the cache and, beside it, without (the plain student on the same loader: what
  fastai's loader itself grows by). Goal: the cached peaks within 10% of each other.
- speed (CIFAR-10): epochs of the same student on the same keyed crop + flip loader, interleaved: plain (no teacher),
  from an in-memory `ViewCache` and from the same cache opened from disk. Goal: disk epoch <= 1.1 × plain epoch.
- build scaling (CIFAR-10): a replay `ViewCache` built by one process and by two (`torchrun`, one thread each), the
  time ratio, the bytes compared; then the two-process build killed (SIGKILL) on one rank and resumed: bytes compared.
- ImageNet-1k on paper: bytes per view of each format at 1,000 classes (from the formats' own `spec`), storage for E
  replayed epochs, build time at measured teacher throughputs, beside FKD's and ReLabel's published figures.
"""
import argparse, filecmp, json, os, signal, socket, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, command_line, load_note, stamp, write_result, md_table, status_kb, reset_peak_rss

N_CLASSES,FEATURES,MEM_BS = 1000,16,1024
IMAGENET = 1_281_167

# ---------------------------------------------------------------- shared pieces (parent and children)
class IndexFeatures:
    "A dataset of `n` samples whose inputs are computed from the index (nothing stored): `sin(i·w + b)`, label `i % C`."
    n_inp = 1
    def __init__(self, n, classes=N_CLASSES, seed=0):
        import torch
        g = torch.Generator().manual_seed(seed)
        self.n,self.w,self.b = n,torch.rand(FEATURES, generator=g)*0.01,torch.rand(FEATURES, generator=g)*6.28
        self.classes = [str(i) for i in range(classes)]
    def __len__(self): return self.n
    @property
    def c(self): return len(self.classes)
    def __getitem__(self, i):
        import torch
        i = torch.as_tensor(i, dtype=torch.long)
        return torch.sin(i.float()[..., None]*self.w + self.b), i % len(self.classes)

def synthetic_dls(n):
    from kdbook.data import dls_from_datasets
    return dls_from_datasets(IndexFeatures(n), IndexFeatures(MEM_BS, seed=1), bs=MEM_BS, device='cpu')

def synthetic_teacher():
    import torch
    torch.manual_seed(0)
    return torch.nn.Linear(FEATURES, N_CLASSES)

def cifar_arrays(per_class, test_per_class):
    from kdbook.data import load_cifar10_arrays, ArrayDataset
    xt,yt,classes = load_cifar10_arrays(None, 'train', per_class)
    xv,yv,_ = load_cifar10_arrays(None, 'test', test_per_class, classes=classes)
    return ArrayDataset(xt, yt, classes),ArrayDataset(xv, yv, classes)

def cifar_dls(trn, val, bs=128):
    from kdbook.data import dls_from_datasets, Normalize
    from kdbook.views import KeyedCropFlip
    return dls_from_datasets(trn, val, bs=bs, tfms=[Normalize()], train_tfms=[KeyedCropFlip(seed=0, pad=4)], device='cpu')

def cifar_teacher():
    from kdbook.models import cifar10_teacher, WhitenedCNN
    import torch
    try: return cifar10_teacher(pretrained=True),'shipped WhitenedCNN (kdbook.models.cifar10_teacher)'
    except FileNotFoundError:
        torch.manual_seed(0); return WhitenedCNN().eval(),'WhitenedCNN, untrained (shipped weights missing)'

def _mem(): return status_kb('VmHWM')/1024, status_kb('VmRSS')/1024

# ---------------------------------------------------------------- children
def child_memory(a):
    "One epoch of a student on the synthetic loader, from the cache at `a._cache` or without one; prints one JSON line."
    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(1)
    from fastai.learner import Learner
    from kdbook.losses import LabelledCrossEntropy
    from kdbook.store import open_cache
    import kdbook.callbacks  # noqa: F401 (Learner.distill)
    t0 = time.perf_counter()
    dls = synthetic_dls(a._n)
    torch.manual_seed(1)
    learn = Learner(dls, torch.nn.Linear(FEATURES, N_CLASSES), loss_func=LabelledCrossEntropy())
    read = [0.]
    if a._cache != '-':
        cache = open_cache(a._cache)
        lookup = cache.lookup
        def timed_lookup(idx, epoch=0):
            t = time.perf_counter(); out = lookup(idx, epoch); read[0] += time.perf_counter()-t; return out
        cache.lookup = timed_lookup                   # this run's time in reading and decoding rows
        learn.distill(cache)
    setup_s,setup = time.perf_counter()-t0,_mem()
    import gc; gc.collect(); reset_peak_rss()
    t0 = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
    print(json.dumps({'n': a._n, 'cached': a._cache != '-', 'setup': setup, 'setup_s': setup_s, 'epoch': _mem(),
                      'fit_s': time.perf_counter()-t0, 'lookup_s': read[0]}))

def build_cifar(a, out, kill_after=0):
    "Build the CIFAR-10 replay cache into `out` (this process's share); returns the seconds `build_cache` took."
    import torch
    from fastai.torch_core import rank_distrib
    from kdbook.views import ViewCache
    from kdbook.store import build_cache
    trn,val = cifar_arrays(a.build_per_class, 10)
    dls,(teacher,_) = cifar_dls(trn, val),cifar_teacher()
    if kill_after and rank_distrib() == 1:
        def kill(m, args):
            m.calls = getattr(m, 'calls', 0) + 1
            if m.calls == kill_after: os.kill(os.getpid(), signal.SIGKILL)
        teacher.register_forward_pre_hook(kill)
    t0 = time.perf_counter()
    build_cache(out, teacher, dls, ViewCache, epochs=a.build_epochs, fmt='float16', shard_size=a.shard_size)
    return time.perf_counter()-t0

def child_build(a):
    "`build_cifar` on this rank of a `torchrun` launch; each rank writes its time beside the cache."
    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(1)
    from fastai.torch_core import rank_distrib
    s = build_cifar(a, a._out, a._kill_after)
    Path(a._out).parent.joinpath(f"{Path(a._out).name}.time{rank_distrib()}.json").write_text(json.dumps({'build_s': s}))

# ---------------------------------------------------------------- parent helpers
ENV = {**os.environ, 'MALLOC_MMAP_THRESHOLD_': '65536', 'PYTHONWARNINGS': 'ignore', 'OMP_NUM_THREADS': '1',
       'ACCELERATE_USE_CPU': '1'}

def run_child(args, n_proc=1, check=True):
    "Run this script with `args` on `n_proc` processes (torchrun for more than one); returns (exit status, stdout)."
    launch = [] if n_proc == 1 else ['-m', 'torch.distributed.run', '--nproc_per_node', str(n_proc),
                                     '--master_addr', '127.0.0.1', '--master_port', str(free_port())]
    r = subprocess.run([sys.executable, *launch, __file__, *args], capture_output=True, text=True, env=ENV)
    if check and r.returncode: raise SystemExit(f"child {args} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r.returncode, r.stdout

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def same_files(a, b) -> bool:
    names = sorted(p.name for p in Path(a).iterdir())
    return names == sorted(p.name for p in Path(b).iterdir()) and all(filecmp.cmp(Path(a)/f, Path(b)/f, shallow=False) for f in names)

def ms(v, d=2): return f"{statistics.mean(v):.{d}f} ± {statistics.stdev(v) if len(v) > 1 else 0:.{d}f}"

# ---------------------------------------------------------------- the four measurements
def measure_memory(a, work, log):
    import torch
    from kdbook.store import build_cache
    rows,res = [],{}
    for n in a.sizes:
        t0 = time.perf_counter()
        path = build_cache(work/f'mem{n}', synthetic_teacher(), synthetic_dls(n), fmt='float16', shard_size=8*MEM_BS)
        build_s,mb = time.perf_counter()-t0,(path/'logits.bin').stat().st_size/2**20
        log(f"memory: built {n:,} × {N_CLASSES} float16 ({mb:,.0f} MiB) in {build_s:.0f} s")
        for cache in ([str(path)] + ([] if a.quick else ['-'])):
            _,out = run_child(['--_child', 'memory', '--_n', str(n), '--_cache', cache])
            r = json.loads(out.strip().splitlines()[-1]); res[(n, r['cached'])] = r
            log(f"memory: n={n:,} {'cached' if r['cached'] else 'plain '}: peak {r['epoch'][0]:.0f} MB, epoch {r['fit_s']:.1f} s")
        res[(n, 'file_mb')] = mb
        import shutil; shutil.rmtree(path)
    peaks = [res[(n, True)]['epoch'][0] for n in a.sizes]
    spread = (max(peaks)-min(peaks))/min(peaks)
    for n in a.sizes:
        c,p = res[(n, True)],res.get((n, False))
        rows.append([f"{n:,}", f"{res[(n, 'file_mb')]:,.0f}", f"{c['setup'][1]:.0f}", f"{c['epoch'][0]:.0f}",
                     f"{p['epoch'][0]:.0f}" if p else '-', f"{c['epoch'][0]-p['epoch'][0]:+.0f}" if p else '-',
                     f"{c['fit_s']:.1f}", f"{c['lookup_s']:.1f}", f"{p['fit_s']:.1f}" if p else '-'])
    table = md_table(['samples', 'cache file, MiB', 'RSS after set-up (cache opened), MB', 'peak RSS in the epoch, cached, MB',
                      'peak RSS, plain student, MB', 'cached − plain, MB', 'epoch, cached, s', 'of which `lookup`, s',
                      'epoch, plain, s'], rows)
    goal = (spread <= 0.10, f"memory flat in n: the cached epoch's peak RSS is within 10% across {', '.join(f'{n:,}' for n in a.sizes)} "
            f"samples × {N_CLASSES:,} classes: {' / '.join(f'{p:.0f}' for p in peaks)} MB, spread {spread:.1%} of the smallest")
    return table,[goal],res

def measure_speed(a, trn, val, teacher, work, log):
    import torch
    from fastai.callback.core import Callback
    from fastai.learner import Learner
    from fastai.torch_core import set_seed
    from kdbook.models import SmallCNN
    from kdbook.losses import LabelledCrossEntropy
    from kdbook.views import ViewCache, KeyedViews
    from kdbook.store import build_cache, open_cache
    import kdbook.callbacks  # noqa: F401
    class EpochTimer(Callback):
        order = -20
        def before_fit(self): self.wall,self.cpu = [],[]
        def before_train(self): self.t0,self.c0 = time.perf_counter(),time.process_time()
        def after_train(self): self.wall.append(time.perf_counter()-self.t0); self.cpu.append(time.process_time()-self.c0)
    t0 = time.perf_counter()
    disk_path = build_cache(work/'speed', teacher, cifar_dls(trn, val), ViewCache, epochs=1, fmt='float16', shard_size=1024)
    log(f"speed: disk cache of {len(trn):,} images built in {time.perf_counter()-t0:.0f} s")
    mem = ViewCache.from_teacher(teacher, cifar_dls(trn, val), epochs=1, fmt='float16')
    disk = open_cache(disk_path)
    learners = {}
    for mode,src in (('plain', None), ('memory', mem), ('disk', disk)):
        set_seed(0); timer = EpochTimer()
        learn = Learner(cifar_dls(trn, val), SmallCNN(), loss_func=LabelledCrossEntropy(), cbs=[timer] + ([KeyedViews()] if src is None else []))
        if src is not None: learn.distill(src)
        learners[mode] = (learn, timer)
    wall,cpu = {m: [] for m in learners},{m: [] for m in learners}
    for r in range(a.rounds):
        for m,(learn,timer) in (learners.items() if r % 2 == 0 else reversed(list(learners.items()))):
            with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
            wall[m].append(timer.wall[-1]); cpu[m].append(timer.cpu[-1])
        log(f"speed: round {r+1}: " + ', '.join(f"{m} {wall[m][-1]:.1f} s ({cpu[m][-1]:.1f} s CPU)" for m in wall))
    rcpu = {m: [t/p for t,p in zip(cpu[m], cpu['plain'])] for m in cpu}
    rwall = {m: [t/p for t,p in zip(wall[m], wall['plain'])] for m in wall}
    rows = [[m, ms(cpu[m]), ms(rcpu[m]), ms(wall[m]), ms(rwall[m])] for m in wall]
    table = md_table(['epoch', 'CPU s (mean ± std over rounds)', '÷ plain epoch of the same round (CPU)', 'wall s',
                      '÷ plain epoch (wall)'], rows)
    r = statistics.mean(rcpu['disk'])
    goal = (r <= 1.1, f"a cached epoch from disk <= 1.1 × a plain epoch of the same student on the same loader: {r:.3f}× in "
                      f"CPU time, {statistics.mean(rwall['disk']):.3f}× in wall time (from memory: {statistics.mean(rcpu['memory']):.3f}× "
                      f"CPU; {a.rounds} rounds, interleaved)")
    return table,[goal],disk

def measure_build(a, work, log):
    n_img = 10*a.build_per_class
    base = ['--build-per-class', str(a.build_per_class), '--build-epochs', str(a.build_epochs), '--shard-size', str(a.shard_size)]
    def build(n_proc, out):
        run_child(['--_child', 'build', '--_out', str(out)] + base, n_proc=n_proc)
        return max(json.loads((work/f'{out.name}.time{r}.json').read_text())['build_s'] for r in range(n_proc))
    t1s,t2s,outs = [],[],[]
    for r in range(a.build_rounds):
        for n_proc in ((1, 2) if r % 2 == 0 else (2, 1)):
            out = work/f'build{r}_{n_proc}'; outs.append(out)
            (t1s if n_proc == 1 else t2s).append(build(n_proc, out))
        log(f"build: round {r+1}: one process {t1s[-1]:.1f} s, two processes {t2s[-1]:.1f} s")
    t1,t2,out1 = statistics.mean(t1s),statistics.mean(t2s),outs[0]
    same12 = all(same_files(out1, o) for o in outs[1:])
    outk = work/'killed'
    n_shards = a.build_epochs*-(-n_img//a.shard_size)
    kill_after = 1 + (-(-n_shards//2)*(a.shard_size//128))//2      # one batch reads the classes; then half its shards
    status,_ = run_child(['--_child', 'build', '--_out', str(outk), '--_kill-after', str(kill_after)] + base, n_proc=2, check=False)
    left = len(list((outk/'shards').glob('*.shard')))
    log(f"build: killed run exit status {status}, {left} of {n_shards} shards on disk; resuming in this process")
    build_cifar(a, outk)
    same_k = same_files(out1, outk)
    views,sp = n_img*a.build_epochs,[x/y for x,y in zip(t1s, t2s)]
    rows = [['one process', ms(t1s, 1), f"{views/t1:.0f}", '1.00'],
            ['two processes (torchrun)', ms(t2s, 1), f"{views/t2:.0f}", ms(sp)]]
    table = md_table(['build', 's inside the processes (mean ± std over rounds)', 'views / s', 'speed-up over one process'], rows)
    goals = [(t1/t2 > 1, f"two processes build faster than one: {t2:.1f} s against {t1:.1f} s, a speed-up of {t1/t2:.2f}× "
                    f"({n_img:,} images × {a.build_epochs} replayed epochs, {n_shards} shards, one torch thread per process; "
                    f"{a.build_rounds} rounds, interleaved)"),
             (same12, f"one process and two processes build identical caches, byte for byte ({len(outs)} builds): "
                      f"{'yes' if same12 else 'NO'}"),
             (same_k and 0 < left < n_shards, f"a build killed on one rank (SIGKILL, {left} of {n_shards} shards written) and "
                                              f"resumed equals the uninterrupted build byte for byte: {'yes' if same_k else 'NO'}")]
    return table,goals,dict(t1=t1, t2=t2, views=views, n_img=n_img)

def gb(b) -> str: return f"{b/1e9:.2f}" if b < 1e10 else f"{b/1e9:,.0f}"

def teacher_throughput(model, shape, batches, bs):
    import torch
    x = torch.randn(bs, *shape)
    with torch.no_grad():
        model(x)
        t0 = time.perf_counter()
        for _ in range(batches): model(x)
    return batches*bs/(time.perf_counter()-t0)

def paper_table(a, build, log):
    import torch
    from kdbook.cache import CACHE_FORMATS
    from kdbook.store import nbytes
    formats = [('float32', None), ('float16', None), ('topk', 5), ('topk', 10), ('sampled', 10)]
    Es = (1, 100, 300)
    rows = []
    for f,k in formats:
        per_view = sum(nbytes(CACHE_FORMATS[f].spec(1, N_CLASSES, k)).values())
        rows.append([f"`{f}`" + (f", k={k}" if k else ''), f"{per_view:,}"] + [gb(IMAGENET*E*per_view) for E in Es])
    fkd_view = 39
    rows.append(["FKD (Shen & Xing 2022): top-5 float16 + crop coordinates", f"≈ {fkd_view}"] + [gb(IMAGENET*E*fkd_view) for E in Es])
    rows.append(["ReLabel (Yun et al. 2021): one dense label map per image, any number of crops", "—"] + ["12"]*len(Es))
    storage = md_table(['format (1,000 classes)', 'bytes per view'] + [f"{E} epoch{'s' if E > 1 else ''} replayed, GB" for E in Es], rows)
    # build time at measured teacher throughputs
    import torchvision
    torch.manual_seed(0)
    rn50 = torchvision.models.resnet50(weights=None).eval()
    thr_rn50 = teacher_throughput(rn50, (3, 224, 224), 1 if a.quick else 4, 4 if a.quick else 8)
    thr_cifar = build['views']/build['t1']
    log(f"paper: ResNet-50 224² forward {thr_rn50:.1f} images/s; CIFAR teacher build {thr_cifar:.0f} views/s")
    speedup = build['t1']/build['t2']
    trows = []
    for name,thr in (("ResNet-50 at 224×224 (torchvision, forward pass only)", thr_rn50),
                     ("the CIFAR-10 teacher at 32×32 (whole build, measured above)", thr_cifar)):
        for E in (1, 100):
            h = IMAGENET*E/thr/3600
            trows.append([name, E, f"{thr:,.1f}", f"{h:,.1f}", f"{h/speedup:,.1f}"])
    build_t = md_table(['teacher (one process, one thread, this CPU)', 'epochs replayed', 'views / s', 'hours, one process',
                        f'hours, two processes (measured {speedup:.2f}×)'], trows)
    return storage,build_t

# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='small sizes, one speed round; prints, writes nothing')
    ap.add_argument('--sizes', type=int, nargs='+', default=[50_000, 200_000, 1_000_000], help='memory: cache sizes')
    ap.add_argument('--per-class', type=int, default=1000, help='speed: CIFAR-10 training images per class')
    ap.add_argument('--rounds', type=int, default=5, help='speed: interleaved rounds of (plain, memory, disk) epochs')
    ap.add_argument('--build-rounds', type=int, default=3, help='build: interleaved rounds of (one process, two processes)')
    ap.add_argument('--build-per-class', type=int, default=500, help='build: CIFAR-10 images per class')
    ap.add_argument('--build-epochs', type=int, default=2, help='build: replayed epochs')
    ap.add_argument('--shard-size', type=int, default=512, help='build: samples per shard (a multiple of 128)')
    ap.add_argument('--workdir', default=None, help='where caches are built (default: a temporary folder)')
    for o in ('--_child', '--_cache', '--_out'): ap.add_argument(o, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--_n', type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument('--_kill-after', type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._child == 'memory': return child_memory(a)
    if a._child == 'build': return child_build(a)
    if a.quick: a.sizes,a.per_class,a.rounds,a.build_rounds,a.build_per_class,a.build_epochs,a.shard_size = [10_000, 40_000],50,1,1,50,2,128
    load0,t_start = os.getloadavg()[0],time.perf_counter()
    log = lambda s: print(f"[{time.perf_counter()-t_start:6.0f} s] {s}", flush=True)
    warnings.filterwarnings('ignore')
    import torch
    torch.set_num_threads(1)
    try: trn,val = cifar_arrays(a.per_class, 20)
    except FileNotFoundError as e:
        sys.exit(f"bench/cache_scale.py needs real CIFAR-10 for its speed and build rows: {e}\n"
                 "Example: KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cache_scale.py --quick")
    teacher,t_name = cifar_teacher()
    with tempfile.TemporaryDirectory(dir=a.workdir) as d:
        work = Path(d)
        mem_t,mem_g,_ = measure_memory(a, work, log)
        speed_t,speed_g,disk = measure_speed(a, trn, val, teacher, work, log)
        build_t,build_g,build = measure_build(a, work, log)
    storage_t,time_t = paper_table(a, build, log)
    load1,total = os.getloadavg()[0],time.perf_counter()-t_start
    goals = mem_g + speed_g + build_g
    goal_lines = '\n'.join(f"- **{'PASS' if ok else 'FAIL'}** {text}" for ok,text in goals)
    quick = "\n> `--quick` smoke run: small sizes, not numbers to cite.\n" if a.quick else ""
    md = f"""# Teacher caches on disk at scale
{quick}
{goal_lines}

## Memory flat in the number of samples

One epoch of a student (a linear layer, {FEATURES} inputs → {N_CLASSES:,} classes, batch {MEM_BS:,}) distilled from an
on-disk float16 cache (`open_cache`, rows read with positioned reads), each size in a fresh process. The inputs are
computed from the sample index, so the dataset holds no memory of its own; the plain student on the same loader
shows what fastai's loader itself grows by (its list of {max(a.sizes):,} shuffled indices). The cached epoch is longer
than the plain one here because this student is a single linear layer: the distillation loss over 1,000 classes costs
more than its whole step; reading and decoding the rows (`lookup`, timed separately) is the column beside it.

{mem_t}

## Speed: a cached epoch from disk against a plain epoch (CIFAR-10)

`SmallCNN` on {len(trn):,} CIFAR-10 training images with keyed pad-4 crop + flip, batch 128, one torch thread; the
three epochs of a round run back to back (order reversed every other round); training phase only, as the process's CPU
time (steadier on a shared machine) and as wall time. The
cache is a one-epoch replay `ViewCache` in float16 of the {t_name}: in memory, and the same built into a folder and
opened with `open_cache`.

{speed_t}

## Building on one process and on two (CIFAR-10)

A replay `ViewCache` (float16, {a.build_epochs} epochs of keyed crop + flip views) of {build['n_img']:,} CIFAR-10
images by the {t_name}, in shards of {a.shard_size}, built by one process and by two (`torchrun`, gloo), one torch
thread each, in fresh processes, {a.build_rounds} rounds with the order alternating; time from `build_cache`'s call to its
return, the slowest rank. Two processes can only be faster where two cores are free: see the load average below.

{build_t}

## ImageNet-1k on paper

Storage of a replay cache of {IMAGENET:,} images × 1,000 classes, per format (bytes per view from each format's own
`spec`; GB = 10⁹ bytes). FKD's figure is the one quoted for its released soft labels (top-5 in float16 plus crop
coordinates: about 19 KiB per image for 500 stored crops, about {39} bytes per view); it was not re-checked here against
the paper. ReLabel's is the size of its released label maps, `relabel_imagenet.tar`, 12 GB, as its repository's README
(naver-ai/relabel_imagenet) states; the paper's own figure was not checked. A ReLabel map serves any crop, but a
crop's label is pooled from the map of the whole image, not the teacher's output on that crop.

{storage_t}

Build time of one pass over ImageNet at teacher throughputs measured on this machine (one process, one thread), and on
two processes at the speed-up measured above:

{time_t}

## How it was measured

- Machine: {machine_info('cpu', mods=('torchvision',))}.
- {load_note(load0, load1)}. Whole run {total/60:.1f} min; {stamp()}.
- Peak RSS is `VmHWM` from /proc/self/status, reset to the current RSS after set-up (imports, data, model, cache
  opened and verified) via /proc/self/clear_refs; `MALLOC_MMAP_THRESHOLD_=65536` so that freed tensors go back to the
  system and RSS follows live memory.
- Command: `{command_line()}`.
"""
    print(md)
    if a.quick: print("(--quick smoke run: nothing written)"); return
    print(f"wrote {write_result('cache_scale', md)}")

if __name__ == '__main__': main()
