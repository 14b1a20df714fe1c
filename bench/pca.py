"""PCACompressor against scikit-learn's PCA (svd_solver 'full', 'randomized', 'covariance_eigh'): wall time and MSE.

    python bench/pca.py [--quick] [--n 50000] [--k 100] [--device cpu] [--repeats 1] [--skip-full]

Data: CIFAR-10 train from `$KDBOOK_CIFAR10` (the JPEG copy), as float32 in [0, 1], flattened to n × 3,072.
Without it: sklearn's digits (1,797 × 64) with --quick, else seeded random low-rank-plus-noise data of CIFAR's shape;
the output says which. Every method fits the same array to `--k` components in one process, interleaved; the table
gives wall time (best of --repeats), reconstruction MSE per entry on the fitted data, and both as ratios against
kdbook. Writes bench/results/pca.md.
"""
import argparse, os, sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, command_line, load_note, stamp, write_result, md_table

import numpy as np, torch
from sklearn.decomposition import PCA
from kdbook.compress import PCACompressor


def load(args):
    "(X float32 n × d numpy array, description)"
    if os.environ.get('KDBOOK_CIFAR10'):
        from kdbook.data import load_cifar10_arrays
        x,_,_ = load_cifar10_arrays(split='train', per_class=None if not args.quick else 100)
        X = np.asarray(x).reshape(len(x), -1).astype(np.float32)/255
        if args.n: X = X[:args.n]
        return np.ascontiguousarray(X), f"CIFAR-10 train (the JPEG copy), {len(X):,} × {X.shape[1]:,}, float32 in [0, 1]"
    if args.quick:
        from sklearn.datasets import load_digits
        X = load_digits().data.astype(np.float32)/16
        return X, f"KDBOOK_CIFAR10 not set: sklearn digits, {len(X):,} × {X.shape[1]}, float32 in [0, 1]"
    g = np.random.default_rng(0)
    n = args.n or 50_000
    X = (g.standard_normal((n, 200), dtype=np.float32) @ g.standard_normal((200, 3072), dtype=np.float32)*0.05
         + 0.1*g.standard_normal((n, 3072), dtype=np.float32) + 0.5).astype(np.float32)
    return X, f"KDBOOK_CIFAR10 not set: seeded random rank-200-plus-noise data, {n:,} × 3,072 float32"


def mse_of(X, comps, mean):
    "Reconstruction MSE per entry, computed the same way (float64 accumulation, in chunks) for every method."
    C,m = np.asarray(comps, np.float64),np.asarray(mean, np.float64)
    tot = 0.
    for i in range(0, len(X), 8192):
        Xc = X[i:i+8192].astype(np.float64) - m
        tot += ((Xc - (Xc @ C.T) @ C)**2).sum()
    return tot/X.size


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--quick', action='store_true', help='a small slice (2,000 rows; digits without CIFAR)')
    p.add_argument('--n', type=int, default=None, help='use the first N rows')
    p.add_argument('--k', type=int, default=100, help='components')
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--skip-full', action='store_true', help="leave out sklearn's full SVD (slow, needs float64 copies)")
    args = p.parse_args()
    if args.quick and not args.n: args.n = 2000
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter(); X,desc = load(args); t_load = time.perf_counter() - t0
    k = args.k if args.k < min(X.shape) else max(1, min(X.shape)//3)   # all components would make every MSE ~0
    print(desc, f"(loaded in {t_load:.1f} s); k = {k}", flush=True)

    def kd():
        Xt = torch.from_numpy(X).to(args.device)
        p = PCACompressor(n_components=k).fit(Xt)
        if args.device.startswith('cuda'): torch.cuda.synchronize()
        return p.components_.cpu().numpy(), p.mean_.cpu().numpy(), p.solver_
    def sk(solver):
        def f():
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                p = PCA(n_components=k, svd_solver=solver, random_state=0).fit(X)
            return p.components_, p.mean_, solver
        return f
    methods = [('kdbook PCACompressor', kd), ('sklearn covariance_eigh', sk('covariance_eigh')),
               ('sklearn randomized', sk('randomized'))]
    if not args.skip_full: methods.append(('sklearn full', sk('full')))
    times = {m: [] for m,_ in methods}; res = {}
    for r in range(args.repeats):
        for name,f in methods:
            t0 = time.perf_counter(); out = f(); times[name].append(time.perf_counter() - t0)
            res[name] = out
            print(f"  {name}: {times[name][-1]:.2f} s", flush=True)
    rows = []
    t_kd = min(times['kdbook PCACompressor']); m_kd = mse_of(X, *res['kdbook PCACompressor'][:2])
    ref = 'sklearn full' if 'sklearn full' in res else 'sklearn covariance_eigh'
    m_ref = mse_of(X, *res[ref][:2])
    for name,_ in methods:
        t = min(times[name]); m = mse_of(X, *res[name][:2])
        note = f" (solver {res[name][2]})" if name.startswith('kdbook') else ''
        rows.append([name + note, f"{t:.2f}", f"{t/t_kd:.2f}×", f"{m:.6e}", f"{(m/m_ref - 1)*100:+.3f}%"])
    load1 = os.getloadavg()[0]
    table = md_table(['method', 'wall s', 'time / kdbook', 'reconstruction MSE', f'MSE vs {ref}'], rows)
    md = (f"# PCA: kdbook PCACompressor vs scikit-learn\n\n{stamp()}. {machine_info(args.device, ('sklearn',))}.\n\n"
          f"Command: `{command_line()}`\n\nData: {desc}; {k} components; best of {args.repeats} run(s), methods "
          f"interleaved in one process; MSE per entry on the fitted data, all computed the same way (float64).\n\n"
          f"{table}\n\n{load_note(load0, load1)}.\n")
    print(md)
    if not args.quick: print('wrote', write_result('pca', md))


if __name__ == '__main__': main()
