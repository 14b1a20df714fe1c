"""CIFAR-10 on a CPU budget: teacher, student from scratch, distilled students (soft labels; cached, top-k and
PCA-compressed soft labels) and "fusion" students that see PCA-compressed images, over several seeds.

    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cifar.py           # the recorded run -> bench/results/cifar.md
    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cifar.py --quick   # smoke run (about a minute), writes nothing

The teacher is trained once (seed 0) and reused by every student and seed; each seed re-draws the students'
initialisation and batch order. All students are trained without augmentation, so the teacher's soft labels for a
training image are the same at every epoch and a cache of them is exact (up to its storage format): a live teacher
would give the float32 row. Accuracies are on the CIFAR-10 test set of the JPEG copy (quality 75) of CIFAR-10
(Krizhevsky 2009), so they are close to, not identical with, figures on the official files.
"""
import argparse, datetime, os, platform, sys, time, warnings
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import cpu_model
import numpy as np
import torch
import fastai, sklearn
from fastai.learner import Learner
from fastai.callback.core import Callback, CancelValidException
from fastai.torch_core import set_seed
import fastai.callback.schedule  # noqa: F401 (adds Learner.fit_one_cycle)
from kdbook.data import find_cifar10, load_cifar10_arrays, ArrayDataset, dls_from_datasets, Normalize, RandomCropFlip
from kdbook.models import SmallCNN, MLP, n_params
from kdbook.losses import SoftTargetLoss, LabelledCrossEntropy
from kdbook.callbacks import DistillCallback, TeacherCache
from kdbook.compress import PCACompressor


class SkipValidation(Callback):
    "Skip fastai's per-epoch validation: the test set is scored once, after training."
    def before_validate(self): raise CancelValidException()


class DropIndex(Callback):
    "Remove the sample index from batches of a `with_index=True` dataset when no `DistillCallback` does it."
    order = 19
    def before_batch(self):
        if getattr(self.dl.dataset, 'with_index', False): self.learn.yb = tuple(self.learn.yb[:-1])


def fit(model, dls, epochs, lr, cbs=()):
    "Train `model` on `dls` with one-cycle Adam; returns (model, seconds)."
    learn = Learner(dls, model, loss_func=LabelledCrossEntropy(), metrics=[], cbs=list(cbs) or [DropIndex()])
    t0 = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, lr, cbs=SkipValidation())
    return learn.model, time.perf_counter()-t0


@torch.inference_mode()
def predict(model, x, prep, bs=1000):
    "Class predictions of `model` for inputs `x`, each batch passed through `prep` first."
    model.eval()
    return torch.cat([model(prep(x[i:i+bs])).argmax(1) for i in range(0, len(x), bs)])


@torch.inference_mode()
def time_per_image(model, x, reps=5):
    "Seconds per image for `model` on the prepared batch `x` (best of `reps` timed passes, after a warm-up)."
    model.eval(); model(x)
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); model(x); best = min(best, time.perf_counter()-t0)
    return best/len(x)


def norm_images(x): return Normalize()((x,))[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument('--quick', action='store_true', help='smoke run: 50 images per class, 2 seeds, 2 epochs; writes nothing')
    ap.add_argument('--data-path', default=None, help='cifar10 folder or cifar10.tgz (default: $KDBOOK_CIFAR10)')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (default cpu)")
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1: on a shared 2-core machine '
                    'two threads that wait for each other are slower than one)')
    ap.add_argument('--per-class', type=int, default=500, help='training images per class (default 500)')
    ap.add_argument('--test-per-class', type=int, default=None, help='test images per class (default: all 1,000)')
    ap.add_argument('--epochs', type=int, default=10, help='CNN student epochs (default 10)')
    ap.add_argument('--teacher-epochs', type=int, default=15, help='teacher epochs (default 15)')
    ap.add_argument('--fusion-epochs', type=int, default=30, help='fusion (MLP) student epochs (default 30)')
    ap.add_argument('--seeds', type=int, default=3, help='student seeds 0..N-1 (default 3)')
    ap.add_argument('--components', type=int, default=256, help='PCA components of the fusion students input (default 256)')
    ap.add_argument('--temperature', type=float, default=4.)
    ap.add_argument('--out', default=None, help='markdown file to write (default bench/results/cifar.md; --quick: none)')
    a = ap.parse_args(argv)
    if a.quick: a.per_class,a.test_per_class,a.epochs,a.teacher_epochs,a.fusion_epochs,a.seeds = 50,100,2,3,5,2
    for nm in ('per_class','epochs','teacher_epochs','fusion_epochs','seeds','threads','components'):
        if getattr(a, nm) < 1: ap.error(f"--{nm.replace('_','-')} must be >= 1, got {getattr(a, nm)}")
    if a.seeds < 2: print("note: one seed gives no spread; use --seeds 2 or more for mean ± std", file=sys.stderr)
    try: src = find_cifar10(a.data_path)
    except FileNotFoundError as e:
        sys.exit(f"bench/cifar.py needs real CIFAR-10: {e}\nExample: KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cifar.py --quick")
    torch.set_num_threads(a.threads)
    from threadpoolctl import threadpool_limits
    threadpool_limits(a.threads)   # numpy / scikit-learn BLAS too
    dev = torch.device(a.device)
    t_start = time.perf_counter()
    log = lambda s: print(f"[{time.perf_counter()-t_start:7.1f} s] {s}", flush=True)

    # ---- data: uint8 images, decoded once and cached by kdbook.data ----
    xt,yt,classes = load_cifar10_arrays(src, 'train', a.per_class)
    xv,yv,_ = load_cifar10_arrays(src, 'test', a.test_per_class)
    log(f"data: {len(xt):,} training and {len(xv):,} test images from {src}")
    mk = lambda x, y, idx: ArrayDataset(x, y, classes, with_index=idx)
    dls_img = dls_from_datasets(mk(xt, yt, True), mk(xv, yv, False), bs=64, tfms=[Normalize()], device=dev)
    dls_aug = dls_from_datasets(mk(xt, yt, True), mk(xv, yv, False), bs=64, tfms=[Normalize()], train_tfms=[RandomCropFlip()],
                                device=dev)   # the teacher's: random crops and flips
    prep_img = lambda x: norm_images(x.to(dev))

    # ---- the PCA codes of the fusion students: 3,072 pixels -> `components` numbers, stored as float16 ----
    flat = lambda x: norm_images(x).flatten(1)
    t0 = time.perf_counter()
    pca = PCACompressor(n_components=a.components).fit(flat(xt))
    ct,cv = (torch.as_tensor(pca.transform(flat(x))).half() for x in (xt, xv))
    pca_fit_s = time.perf_counter()-t0
    explained = float(pca.explained_variance_ratio_.sum()) if hasattr(pca, 'explained_variance_ratio_') else float('nan')
    log(f"PCA: {a.components} components fitted in {pca_fit_s:.1f} s, explaining {explained:.1%} of the pixel variance")
    dls_code = dls_from_datasets(mk(ct, yt, True), mk(cv, yv, False), bs=64, tfms=[lambda b: (b[0].float(), *b[1:])], device=dev)
    prep_code = lambda c: c.to(dev).float()

    make_teacher = lambda: SmallCNN(widths=(32,64,128))
    make_student = lambda: SmallCNN(widths=(16,32,64))
    make_fusion = lambda: MLP(a.components, (256,), 10, batchnorm=True)
    kd = lambda teacher, loss=None: [DistillCallback(teacher, loss or SoftTargetLoss(a.temperature))]
    lr_cnn,lr_mlp = 5e-3,2e-3

    # ---- the teacher: trained once, then its outputs on the (un-augmented) training images are cached ----
    set_seed(0, reproducible=True)
    teacher,teacher_s = fit(make_teacher(), dls_aug, a.teacher_epochs, lr_cnn)
    caches = {'float32': TeacherCache.from_teacher(teacher, dls_img),
              'float16': TeacherCache.from_teacher(teacher, dls_img, fmt='float16'),
              'topk':    TeacherCache.from_teacher(teacher, dls_img, fmt='topk', k=3),
              'pca':     TeacherCache.from_teacher(teacher, dls_img, fmt='pca', k=4)}
    teacher_acc = float((predict(teacher, xv, prep_img).cpu()==yv).float().mean())
    log(f"teacher: test accuracy {teacher_acc:.4f} ({teacher_s:.0f} s)")

    # key: (label, maker, data, callbacks maker, epochs, lr, input bytes, teacher bytes per image)
    C16 = caches['float16']
    rows = {
        'scratch':  ('student from scratch', make_student, dls_img, lambda: [], a.epochs, lr_cnn, 3072, 0),
        'kd_f32':   ('student + soft labels T={T:g} (float32 = live teacher)', make_student, dls_img, lambda: kd(caches['float32']),
                     a.epochs, lr_cnn, 3072, caches['float32'].bytes_per_sample),
        'kd_f16':   ('student + soft labels, float16 cache', make_student, dls_img, lambda: kd(C16), a.epochs, lr_cnn, 3072, C16.bytes_per_sample),
        'kd_topk':  ('student + soft labels, top-3 cache', make_student, dls_img, lambda: kd(caches['topk']), a.epochs, lr_cnn, 3072,
                     caches['topk'].bytes_per_sample),
        'kd_pca':   ('student + soft labels, PCA-4 cache', make_student, dls_img, lambda: kd(caches['pca']), a.epochs, lr_cnn, 3072,
                     caches['pca'].bytes_per_sample),
        'fus_scratch': (f'fusion MLP on PCA-{a.components} codes, from scratch', make_fusion, dls_code, lambda: [], a.fusion_epochs, lr_mlp,
                        2*a.components, 0),
        'fus_kd':   (f'fusion MLP on PCA-{a.components} codes + soft labels (float16 cache)', make_fusion, dls_code, lambda: kd(C16),
                     a.fusion_epochs, lr_mlp, 2*a.components, C16.bytes_per_sample),
    }
    res = {'teacher': {'name': 'teacher (SmallCNN 32-64-128, trained once, seed 0)', 'acc': [teacher_acc], 'time': [teacher_s],
                       'params': n_params(teacher), 'in_bytes': 3072, 't_bytes': 0, 'epochs': a.teacher_epochs,
                       'us': time_per_image(teacher, prep_img(xv[:256]))*1e6}}
    for k,(name,make,dls,cbs,ep,lr,in_b,t_b) in rows.items():
        res[k] = {'name': name.format(T=a.temperature), 'acc': [], 'time': [], 'in_bytes': in_b, 't_bytes': t_b, 'epochs': ep}
    for seed in range(a.seeds):
        for k,(name,make,dls,cbs,ep,lr,in_b,t_b) in rows.items():
            set_seed(1000+seed, reproducible=True)
            model,secs = fit(make(), dls, ep, lr, cbs())
            is_code = dls is dls_code
            acc = float((predict(model, cv if is_code else xv, prep_code if is_code else prep_img).cpu()==yv).float().mean())
            r = res[k]; r['acc'].append(acc); r['time'].append(secs); r['params'] = n_params(model)
            if seed == 0: r['us'] = time_per_image(model, (prep_code(cv[:256]) if is_code else prep_img(xv[:256])))*1e6
            log(f"seed {seed}: {r['name']:<62} accuracy {acc:.4f} ({secs:.0f} s)")
    enc_us = _encode_time(pca, flat(xv[:256]))*1e6
    wall = time.perf_counter()-t_start

    md = table(res, a, wall, enc_us, explained, len(xt), len(xv))
    print("\n"+md)
    out = a.out or (None if a.quick else str(Path(__file__).parent/'results'/'cifar.md'))
    if out:
        cmd = 'python bench/cifar.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
        cpu = cpu_model()
        load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
        md = ("# CIFAR-10 on a CPU budget: distillation, compressed soft labels and fusion\n\n" + md +
              f"\n\nMachine: {os.cpu_count()} CPU cores ({cpu}), shared with other jobs (1-minute load average {load:.1f} at the end "
              f"of the run), device {a.device}, {a.threads} torch thread(s); torch {torch.__version__}, fastai {fastai.__version__}, "
              f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}; {datetime.date.today()}. "
              f"Command: `KDBOOK_CIFAR10=/path/to/cifar10.tgz {cmd.strip()}`. Times depend on how busy the shared machine was; "
              f"compare them within this table only.\n")
        Path(out).parent.mkdir(parents=True, exist_ok=True); Path(out).write_text(md)
        print(f"\nwrote {out}")
    return res


@torch.inference_mode()
def _encode_time(pca, x, reps=5):
    "Seconds per image to project flattened images onto the PCA components (a matrix product)."
    W = torch.as_tensor(pca.components_).float(); m = torch.as_tensor(pca.mean_).float()
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); (x-m)@W.T; best = min(best, time.perf_counter()-t0)
    return best/len(x)


def _ms(v): return f"{np.mean(v)*100:.2f} ± {np.std(v, ddof=1)*100:.2f}" if len(v) > 1 else f"{v[0]*100:.2f}"

def table(res, a, wall, enc_us, explained, n_train, n_test):
    lines = [f"| model | test accuracy % (mean ± std, {a.seeds} seeds) | parameters | inference µs / image | input bytes / image "
             "| teacher bytes / image | epochs | train time / run (s) |", "|---|---|---|---|---|---|---|---|"]
    for k,r in res.items():
        lines.append(f"| {r['name']} | {_ms(r['acc'])} | {r['params']:,} | {r['us']:.0f} | {r['in_bytes']:,} | "
                     f"{r['t_bytes']:g} | {r['epochs']} | {np.mean(r['time']):.0f} |")
    gain = lambda k, base: np.array(res[k]['acc']) - np.array(res[base]['acc'])
    def g(k, base):
        d = gain(k, base)*100
        return f"{d.mean():+.2f} points (per seed: {', '.join(f'{v:+.2f}' for v in d)}; std {d.std(ddof=1) if len(d)>1 else 0:.2f})"
    lines += ["", f"KD gain over the student from scratch, same seed: soft labels {g('kd_f32','scratch')}; "
              f"float16 cache {g('kd_f16','scratch')}; top-3 cache {g('kd_topk','scratch')}; PCA-4 cache {g('kd_pca','scratch')}. "
              f"Fusion MLP, soft labels vs scratch: {g('fus_kd','fus_scratch')}.",
              "", f"{n_train:,} training images ({a.per_class} per class), {n_test:,} test images; students trained without "
              f"augmentation, one-cycle Adam, batch 64; soft-label rows use T={a.temperature:g}, ce_weight 0.1, kd_weight 0.9. "
              f"The teacher is trained once (seed 0) and shared by all seeds. Input bytes: 3,072 for a uint8 32×32×3 image; "
              f"{2*a.components} for {a.components} PCA codes stored as float16 (the PCA components, {a.components}×3,072 floats, are "
              f"stored once; they explain {explained:.1%} of the pixel variance of the training images). Teacher bytes: per-image "
              f"storage of the cached soft labels (top-3: three float16 log-probabilities and three uint8 class indices; PCA-4: four "
              f"float16 codes plus a shared 4×10 basis). Inference time: one CPU thread, batch of 256, best of 5; the fusion rows "
              f"exclude projecting raw pixels onto the components, which costs {enc_us:.0f} µs / image more. "
              f"Total wall time {wall/60:.1f} min."]
    return "\n".join(lines)


if __name__ == '__main__': main()
