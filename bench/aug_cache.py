"""Cached soft labels under augmentation, on real CIFAR-10: is a replay cache as good as the live teacher, and cheaper?

Every student trains with pad-4 crop + flip drawn by `KeyedCropFlip(seed=0)`: the views depend only on
(augmentation seed, epoch, sample index), so every row and every student seed sees the same views; the student seed
changes the initialisation and the batch order. The teacher is the book's shipped CIFAR-10 teacher
(`kdbook.models.cifar10_teacher()`, trained with pad-4 crop + flip), or, if its weights are missing, a small teacher
trained here once with the same augmentation. Rows:

- scratch: the plain augmented student, no teacher (the reference for time per epoch);
- live: `learn.distill(teacher)`, the teacher run on every batch's views;
- un-augmented cache: `TeacherCache` of the teacher's outputs on the un-augmented images (the inconsistent teacher);
- replay float32 / float16: `ViewCache.from_teacher(teacher, dls, epochs=E)`;
- all views float16 (`--all-views`): every one of the 162 views, exact for any number of epochs.

Time per epoch is the training phase only, measured side by side (rows interleaved within each seed), as wall time and
as the process's CPU time; the ratio to the scratch epoch uses the same seed's scratch run.

    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/aug_cache.py            # the committed configuration
    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/aug_cache.py --quick    # a few minutes
"""
import argparse, os, statistics, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
import torch
from fastai.callback.core import Callback
from fastai.learner import Learner
from fastai.torch_core import set_seed
from kdbook.data import load_cifar10_arrays, ArrayDataset, dls_from_datasets, Normalize
from kdbook.models import SmallCNN, WhitenedCNN, accuracy_on, cifar10_teacher, train_cifar_classifier
from kdbook.losses import LabelledCrossEntropy
from kdbook.cache import TeacherCache
from kdbook.views import KeyedCropFlip, KeyedViews, ViewCache
import kdbook.callbacks  # noqa: F401 (Learner.distill)
from common import machine_info, command_line, load_note, stamp, write_result, md_table

class EpochTimer(Callback):
    "Wall and CPU seconds of each training phase (validation excluded)."
    order = -20
    def before_fit(self): self.wall,self.cpu_s = [],[]
    def before_train(self): self.t0,self.c0 = time.perf_counter(),time.process_time()
    def after_train(self):
        self.wall.append(time.perf_counter()-self.t0); self.cpu_s.append(time.process_time()-self.c0)

def timed(f):
    t0,c0 = time.perf_counter(),time.process_time(); out = f()
    return out, time.perf_counter()-t0, time.process_time()-c0

def ms(v, d=2): return f"{statistics.mean(v):.{d}f} ± {statistics.stdev(v) if len(v) > 1 else 0:.{d}f}"

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--per-class', type=int, default=200, help='training images per class (default 200)')
    ap.add_argument('--test-per-class', type=int, default=100, help='test images per class (default 100)')
    ap.add_argument('--epochs', type=int, default=5, help='student epochs (default 5)')
    ap.add_argument('--seeds', type=int, default=3, help='student seeds (default 3)')
    ap.add_argument('--bs', type=int, default=128)
    ap.add_argument('--lr', type=float, default=5e-3)
    ap.add_argument('--all-views', action='store_true', help='also fill and train from an all-views (162) float16 cache')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--quick', action='store_true', help='100 training / 100 test images per class, 3 epochs; writes no results file')
    ap.add_argument('--out', default=None, help='results file (default bench/results/aug_cache.md; none with --quick)')
    a = ap.parse_args(argv)
    if a.quick: a.per_class,a.test_per_class,a.epochs = 100,100,3
    torch.set_num_threads(a.threads)
    load0,t_start = os.getloadavg()[0],time.perf_counter()
    log = lambda s: print(f"[{time.perf_counter()-t_start:7.1f} s] {s}", flush=True)
    try:
        xt,yt,classes = load_cifar10_arrays(None, 'train', a.per_class)
        xv,yv,_ = load_cifar10_arrays(None, 'test', a.test_per_class)
    except FileNotFoundError as e:
        sys.exit(f"bench/aug_cache.py needs real CIFAR-10: {e}\nExample: KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/aug_cache.py --quick")
    log(f"data: {len(xt):,} training, {len(xv):,} test images")
    trn,val = ArrayDataset(xt, yt, classes),ArrayDataset(xv, yv, classes)
    def make_dls():
        tfm = KeyedCropFlip(seed=0, pad=4, flip=True)
        return dls_from_datasets(trn, val, bs=a.bs, tfms=[Normalize()], train_tfms=[tfm])

    # ---- the teacher ----
    try: teacher,t_name = cifar10_teacher(pretrained=True),'shipped WhitenedCNN (kdbook.models.cifar10_teacher)'
    except FileNotFoundError:
        set_seed(0); teacher = WhitenedCNN()
        train_cifar_classifier(teacher, xt, yt, epochs=10, augment=True); teacher.eval()
        t_name = 'WhitenedCNN trained here once on the subset, 10 epochs, crop+flip'
    t_acc = accuracy_on(teacher, xv, yv)
    log(f"teacher: {t_name}, test accuracy {t_acc:.4f}")

    # ---- the caches, each filled once (one-off cost) ----
    set_seed(0); dls = make_dls()
    fills = {}
    (c_plain, *fills['plain']) = timed(lambda: TeacherCache.from_teacher(teacher, dls, fmt='float16'))
    (c32, *fills['replay32']) = timed(lambda: ViewCache.from_teacher(teacher, dls, epochs=a.epochs))
    (c16, *fills['replay16']) = timed(lambda: ViewCache.from_teacher(teacher, dls, epochs=a.epochs, fmt='float16'))
    if a.all_views: (call, *fills['all16']) = timed(lambda: ViewCache.from_teacher(teacher, dls, fmt='float16'))
    for k,(w,c) in fills.items(): log(f"fill {k}: {w:.1f} s wall, {c:.1f} s CPU")

    rows = {'scratch':  ('student from scratch (crop+flip)', None, 0, None),
            'live':     ('live teacher', teacher, 0, None),
            'plain':    ('un-augmented cache, float16 (inconsistent teacher)', c_plain, c_plain.bytes_per_sample, 'plain'),
            'replay32': (f'replay cache, float32, {a.epochs} epochs', c32, c32.bytes_per_sample, 'replay32'),
            'replay16': (f'replay cache, float16, {a.epochs} epochs', c16, c16.bytes_per_sample, 'replay16')}
    if a.all_views: rows['all16'] = ('all-views cache, float16, 162 views', call, call.bytes_per_sample, 'all16')
    res = {k: dict(acc=[], wall=[], cpu=[], rwall=[], rcpu=[]) for k in rows}
    for seed in range(a.seeds):
        base = None
        for k,(name,teach,_,_) in rows.items():
            set_seed(1000+seed); d = make_dls(); timer = EpochTimer()
            learn = Learner(d, SmallCNN(widths=(16,32,64)), loss_func=LabelledCrossEntropy(), cbs=[KeyedViews(), timer])
            if teach is not None: learn.distill(teach)
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(a.epochs, a.lr)
            acc = accuracy_on(learn.model, xv, yv)
            w,c = statistics.mean(timer.wall),statistics.mean(timer.cpu_s)
            if k == 'scratch': base = (w, c)
            r = res[k]; r['acc'].append(acc); r['wall'].append(w); r['cpu'].append(c); r['rwall'].append(w/base[0]); r['rcpu'].append(c/base[1])
            log(f"seed {seed}: {name:<52} accuracy {acc:.4f}, {w:.2f} s/epoch wall ({w/base[0]:.2f}x), {c:.2f} s CPU ({c/base[1]:.2f}x)")
    load1,total = os.getloadavg()[0],time.perf_counter()-t_start

    # ---- table ----
    tab = []
    for k,(name,teach,nb,fk) in rows.items():
        r = res[k]
        fill = f"{fills[fk][0]:.1f} s ({fills[fk][1]:.1f} s CPU)" if fk else '-'
        bps = f"{nb:g}" if nb else '-'
        per_view = f"{rows[k][1].bytes_per_view:g}" if isinstance(rows[k][1], ViewCache) else (f"{c_plain.bytes_per_sample:g}" if k == 'plain' else '-')
        tab.append([name, ms([100*x for x in r['acc']]), f"{statistics.mean(r['wall']):.2f}", ms(r['rwall']), ms(r['rcpu']),
                    bps, per_view, fill])
    table = md_table(['row', 'test accuracy % (mean ± std)', 's/epoch (wall)', 'epoch ÷ scratch epoch (wall)',
                      'epoch ÷ scratch epoch (CPU)', 'bytes/sample', 'bytes/sample/view', 'one-off fill'], tab)
    # N students: live pays the teacher every epoch; replay pays one fill, then its own epochs
    E,ep = a.epochs,{k: statistics.mean(res[k]['cpu']) for k in res}
    ntab = []
    for N in (1, 5, 20):
        live,rep = N*E*ep['live'],fills['replay16'][1] + N*E*ep['replay16']
        ntab.append([N, f"{live:.0f}", f"{rep:.0f}", f"{live/rep:.2f}"])
    ntable = md_table(['students N', f'live teacher: N × {E} epochs (CPU s)', f'replay float16: fill + N × {E} epochs (CPU s)', 'live ÷ replay'], ntab)

    acc = {k: [100*x for x in res[k]['acc']] for k in res}
    sd = lambda k: statistics.stdev(acc[k]) if len(acc[k]) > 1 else 0.
    mean = lambda k: statistics.mean(acc[k])
    spread = lambda k1, k2: max(sd(k1), sd(k2))
    goals = []
    rt = statistics.mean(res['replay16']['rcpu']); rt32 = statistics.mean(res['replay32']['rcpu'])
    goals.append(('PASS' if max(rt, rt32) <= 1.1 else 'FAIL') +
                 f": replay-cache epoch <= 1.1x the plain augmented student's epoch (CPU time, side by side): float32 {rt32:.2f}x, float16 {rt:.2f}x "
                 f"(wall: float32 {statistics.mean(res['replay32']['rwall']):.2f}x, float16 {statistics.mean(res['replay16']['rwall']):.2f}x)")
    for k in ('replay32', 'replay16'):
        dlt = mean(k)-mean('live')
        goals.append(('PASS' if abs(dlt) <= spread(k, 'live') else 'FAIL') +
                     f": {rows[k][0]} accuracy equals the live teacher's within the seed spread: difference {dlt:+.2f} points, spread (larger std) {spread(k, 'live'):.2f}")
    gap = mean('plain')-mean('live')
    goals.append(f"PASS: the un-augmented cache's accuracy cost is measured: {gap:+.2f} points vs the live teacher "
                 f"({mean('plain'):.2f} vs {mean('live'):.2f}; seed spread {spread('plain','live'):.2f})")
    goals.append(('PASS' if c16.bytes_per_view == 20 else 'FAIL') + f": storage per sample per view at the format's size: float16, 10 classes: {c16.bytes_per_view:g} bytes")
    if a.all_views:
        dlt = mean('all16')-mean('live')
        goals.append(('PASS' if abs(dlt) <= spread('all16','live') else 'FAIL') + f": all-views cache accuracy equals the live teacher's within the seed spread: {dlt:+.2f} points")

    md = "\n".join([
        "# Cached soft labels under augmentation (CIFAR-10)", "",
        f"{len(xt):,} training images ({a.per_class} per class), {len(xv):,} test images; student SmallCNN(16-32-64), "
        f"{a.epochs} epochs of one-cycle Adam (lr {a.lr:g}, bs {a.bs}), soft-target KD T=4 (ce 0.1, kd 0.9); every student trains on pad-4 crop + flip "
        f"drawn by `KeyedCropFlip(seed=0)`, so all rows and seeds see the same views; {a.seeds} student seeds (initialisation and batch order). "
        f"Teacher: {t_name}, test accuracy {100*t_acc:.2f}% on these test images. Last-epoch accuracy, mean ± std over seeds.", "",
        table, "",
        "Epoch times are the training phase only; the ratio divides each run's epoch by the same seed's scratch epoch, run just before it. "
        "On this shared machine CPU time (one torch thread) is the steadier measure; wall time is shown too.", "",
        "CPU time to train N students on the same views, live teacher vs replay cache (computed from the measured per-epoch and fill costs above):", "",
        ntable, "",
        "## Goals", "", *[f"- {g}" for g in goals], "",
        f"Command: `{command_line().replace(os.environ.get('KDBOOK_CIFAR10', '@@none@@'), '/path/to/cifar10.tgz')}`. "
        f"Machine: {machine_info()}. {load_note(load0, load1)}. Whole run {total/60:.1f} min; {stamp()}.", ""])
    print("\n" + md)
    out = a.out or (None if a.quick else str(Path(__file__).parent/'results'/'aug_cache.md'))
    if out: print(f"wrote {write_result(Path(out).stem, md) if a.out is None else Path(out).write_text(md) and out}")
    return res

if __name__ == '__main__': main()
