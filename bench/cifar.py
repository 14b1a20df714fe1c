"""CIFAR-10 on a CPU budget: teacher, student from scratch, distilled students (soft labels; cached, top-k and
PCA-compressed soft labels) and "fusion" students that see PCA-compressed images, over several seeds.

    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cifar.py           # the recorded run -> bench/results/cifar.md
    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/cifar.py --quick   # smoke run (about a minute), writes nothing

The teacher is the book's shipped CIFAR-10 teacher (`kdbook.models.cifar10_teacher()`, a WhitenedCNN); each seed
re-draws the students' initialisation, batch order and augmentation. The CNN students train with pad-4 crop + flip
drawn by `KeyedCropFlip(seed)`, and the teacher's outputs on exactly those views are stored in a replay `ViewCache`
(one per seed and storage format): the float32 cache gives what a live teacher would. The fusion students see PCA
codes of the un-augmented images, so their cache is a plain `TeacherCache`. Accuracies are on the CIFAR-10 test set
of the JPEG copy (quality 75) of CIFAR-10 (Krizhevsky 2009), so they are close to, not identical with, figures on the
official files.
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
from kdbook.data import find_cifar10, load_cifar10_arrays, ArrayDataset, dls_from_datasets, Normalize
from kdbook.models import SmallCNN, MLP, n_params, cifar10_teacher, AutocastBF16, bf16_is_fast
from kdbook.losses import SoftTargetLoss, LabelledCrossEntropy
from kdbook.callbacks import DistillCallback
from kdbook.cache import TeacherCache
from kdbook.views import KeyedCropFlip, KeyedViews, ViewCache
from kdbook.teacher import fingerprint
from kdbook.compress import PCACompressor


class SkipValidation(Callback):
    "Skip fastai's per-epoch validation: the test set is scored once, after training."
    def before_validate(self): raise CancelValidException()


def fit(model, dls, epochs, lr, cbs=()):
    "Train `model` on `dls` with one-cycle Adam; returns (model, seconds)."
    learn = Learner(dls, model, loss_func=LabelledCrossEntropy(), metrics=[], cbs=[KeyedViews(), *cbs])
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
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='torch CPU threads (default: every core)')
    ap.add_argument('--bf16', type=int, default=None, help='1: bfloat16 autocast, 0: float32 (default: 1 where the CPU or GPU is fast at it)')
    ap.add_argument('--per-class', type=int, default=500, help='training images per class (default 500)')
    ap.add_argument('--test-per-class', type=int, default=None, help='test images per class (default: all 1,000)')
    ap.add_argument('--epochs', type=int, default=10, help='CNN student epochs (default 10)')
    ap.add_argument('--fusion-epochs', type=int, default=30, help='fusion (MLP) student epochs (default 30)')
    ap.add_argument('--seeds', type=int, default=3, help='student seeds 0..N-1 (default 3)')
    ap.add_argument('--components', type=int, default=256, help='PCA components of the fusion students input (default 256)')
    ap.add_argument('--temperature', type=float, default=4.)
    ap.add_argument('--out', default=None, help='markdown file to write (default bench/results/cifar.md; --quick: none)')
    a = ap.parse_args(argv)
    if a.quick: a.per_class,a.test_per_class,a.epochs,a.fusion_epochs,a.seeds = 50,100,2,5,2
    for nm in ('per_class','epochs','fusion_epochs','seeds','threads','components'):
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
    mk = lambda x, y: ArrayDataset(x, y, classes)
    dls_aug = lambda seed: dls_from_datasets(mk(xt, yt), mk(xv, yv), bs=64, tfms=[Normalize()], device=dev,
                                             train_tfms=[KeyedCropFlip(seed=seed)])   # crops and flips keyed on (seed, epoch, sample)
    dls_img = dls_from_datasets(mk(xt, yt), mk(xv, yv), bs=64, tfms=[Normalize()], device=dev)
    prep_img = lambda x: norm_images(x.to(dev))

    # ---- the PCA codes of the fusion students: 3,072 pixels -> `components` numbers, stored as float16 ----
    flat = lambda x: norm_images(x).flatten(1)
    t0 = time.perf_counter()
    pca = PCACompressor(n_components=a.components).fit(flat(xt))
    ct,cv = (torch.as_tensor(pca.transform(flat(x))).half() for x in (xt, xv))
    pca_fit_s = time.perf_counter()-t0
    explained = float(pca.explained_variance_ratio_.sum()) if hasattr(pca, 'explained_variance_ratio_') else float('nan')
    log(f"PCA: {a.components} components fitted in {pca_fit_s:.1f} s, explaining {explained:.1%} of the pixel variance")
    dls_code = dls_from_datasets(mk(ct, yt), mk(cv, yv), bs=64, tfms=[lambda b: (b[0].float(), *b[1:])], device=dev)
    prep_code = lambda c: c.to(dev).float()

    bf16 = bf16_is_fast(a.device) if a.bf16 is None else bool(a.bf16)
    speed = AutocastBF16 if bf16 else (lambda m: m)
    make_student = lambda: speed(SmallCNN(widths=(16,32,64)))
    make_fusion = lambda: MLP(a.components, (256,), 10, batchnorm=True)
    kd = lambda teacher, loss=None: [DistillCallback(teacher, loss or SoftTargetLoss(a.temperature))]
    lr_cnn,lr_mlp = 5e-3,2e-3

    # ---- the teacher: the shipped one; its outputs on each seed's augmented views, and on the un-augmented images ----
    teacher = cifar10_teacher().to(dev)
    fmts = {'float32': {}, 'float16': dict(fmt='float16'), 'topk': dict(fmt='topk', k=3), 'pca': dict(fmt='pca', k=4)}
    def view_caches(seed):
        "One replay cache per storage format, of the teacher's outputs on the views seed `seed` draws."
        full = ViewCache.from_teacher(speed(teacher), dls_aug(seed), epochs=a.epochs)
        logits = full.data['logits'].view(full.n_views, len(xt), -1)                    # float32: the raw logits
        return {f: ViewCache(logits, full.key, 'replay', fingerprint=full.fingerprint, **kw) for f,kw in fmts.items()}
    code_cache = TeacherCache.from_teacher(teacher, dls_img, fmt='float16')      # the fusion students: no augmentation;
    code_cache.fingerprint = fingerprint(dls_code.train.dataset)    # the teacher saw the images, the students see their codes, in the same order
    teacher_acc = float((predict(teacher, xv, prep_img).cpu()==yv).float().mean())
    meta = teacher.meta
    log(f"teacher: test accuracy {teacher_acc:.4f} (trained {meta['epochs']} epochs in {meta['train_wall_s']:.0f} s)")

    # key: (label, maker, data of a seed, callbacks from that seed's caches, epochs, lr, input bytes, teacher bytes per image and view)
    c0 = view_caches(0)
    bpv = lambda f: c0[f].bytes_per_view
    img = lambda seed: dls_aug(seed)
    rows = {
        'scratch':  ('student from scratch (crop + flip)', make_student, img, lambda c: [], a.epochs, lr_cnn, 3072, 0),
        'kd_f32':   ('student + soft labels T={T:g}, float32 cache (= live teacher)', make_student, img, lambda c: kd(c['float32']),
                     a.epochs, lr_cnn, 3072, bpv('float32')),
        'kd_f16':   ('student + soft labels, float16 cache', make_student, img, lambda c: kd(c['float16']), a.epochs, lr_cnn, 3072, bpv('float16')),
        'kd_topk':  ('student + soft labels, top-3 cache', make_student, img, lambda c: kd(c['topk']), a.epochs, lr_cnn, 3072, bpv('topk')),
        'kd_pca':   ('student + soft labels, PCA-4 cache', make_student, img, lambda c: kd(c['pca']), a.epochs, lr_cnn, 3072, bpv('pca')),
        'fus_scratch': (f'fusion MLP on PCA-{a.components} codes, from scratch', make_fusion, lambda seed: dls_code, lambda c: [],
                        a.fusion_epochs, lr_mlp, 2*a.components, 0),
        'fus_kd':   (f'fusion MLP on PCA-{a.components} codes + soft labels (float16 cache)', make_fusion, lambda seed: dls_code,
                     lambda c: kd(code_cache), a.fusion_epochs, lr_mlp, 2*a.components, code_cache.bytes_per_sample),
    }
    res = {'teacher': {'name': f"teacher (shipped WhitenedCNN, {meta['epochs']} epochs on 50,000 images)", 'acc': [teacher_acc],
                       'time': [meta['train_wall_s']], 'params': n_params(teacher), 'in_bytes': 3072, 't_bytes': 0, 'epochs': meta['epochs'],
                       'us': time_per_image(teacher, prep_img(xv[:256]))*1e6}}
    for k,(name,make,dls,cbs,ep,lr,in_b,t_b) in rows.items():
        res[k] = {'name': name.format(T=a.temperature), 'acc': [], 'time': [], 'in_bytes': in_b, 't_bytes': t_b, 'epochs': ep}
    for seed in range(a.seeds):
        caches = c0 if seed == 0 else view_caches(seed)
        for k,(name,make,dls,cbs,ep,lr,in_b,t_b) in rows.items():
            set_seed(1000+seed, reproducible=True)
            d = dls(seed)
            model,secs = fit(make(), d, ep, lr, cbs(caches))
            is_code = d is dls_code
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
              f"\n\nMachine: {os.cpu_count()} CPU cores ({cpu}) (1-minute load average {load:.1f} at the end "
              f"of the run), device {a.device}, {a.threads} torch thread(s), bfloat16 {bf16}; torch {torch.__version__}, fastai {fastai.__version__}, "
              f"scikit-learn {sklearn.__version__}, Python {platform.python_version()}; {datetime.date.today()}. "
              f"Command: `KDBOOK_CIFAR10=/path/to/cifar10.tgz {cmd.strip()}`. Compare times within this table only.\n")
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
              "", f"{n_train:,} training images ({a.per_class} per class), {n_test:,} test images; CNN students trained with pad-4 crop "
              f"and flip drawn by KeyedCropFlip(seed), one-cycle Adam, batch 64; soft-label rows use T={a.temperature:g}, ce_weight 0.1, "
              f"kd_weight 0.9, from replay ViewCaches of the teacher's outputs on each seed's views. The teacher is the shipped one "
              f"(its train time is that of its one training run, on all 50,000 images). Input bytes: 3,072 for a uint8 32×32×3 image; "
              f"{2*a.components} for {a.components} PCA codes stored as float16 (the PCA components, {a.components}×3,072 floats, are "
              f"stored once; they explain {explained:.1%} of the pixel variance of the training images). Teacher bytes: per-image "
              f"storage of the cached soft labels, per epoch for the augmented rows (top-3: three float16 log-probabilities and three uint8 class indices; PCA-4: four "
              f"float16 codes plus a shared 4×10 basis). Inference time: {a.threads} CPU thread(s), batch of 256, best of 5; the fusion rows "
              f"exclude projecting raw pixels onto the components, which costs {enc_us:.0f} µs / image more. "
              f"Total wall time {wall/60:.1f} min."]
    return "\n".join(lines)


if __name__ == '__main__': main()
