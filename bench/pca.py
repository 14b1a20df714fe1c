"""PCACompressor (solver='auto') against scikit-learn's fast PCA solvers on a grid of sizes: wall time and error.

    KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/pca.py [--ns 5000 10000 50000] [--ks 10 100 300] [--repeats 3]
    python bench/pca.py --quick        # a small grid on synthetic data: checks the script, writes nothing

Data: the first n rows of CIFAR-10 train from `$KDBOOK_CIFAR10` (the JPEG copy), float32 in [0, 1], n × 3,072.
Without it: seeded random low-rank-plus-noise data of CIFAR's width (the output says so). In each cell of the grid
every method fits the same array to k components, in one process, interleaved (method 1, 2, 3, then again), best
of --repeats. The error is the reconstruction MSE per entry on the fitted data, computed the same way for every
method; "exact" is scikit-learn's `covariance_eigh`, an exact eigendecomposition. A cell PASSes when kdbook is at
most as slow as scikit-learn's faster solver and its MSE is at most 0.1% above the exact one.
Writes bench/results/pca.md (not with --quick).
"""
import argparse, json, os, sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, load_note, stamp, write_result, md_table

import numpy as np, torch
from sklearn.decomposition import PCA
from kdbook.compress import PCACompressor

MSE_SLACK = 1e-3            # kdbook's error may exceed the exact one by 0.1% at most


def load(n_max, quick):
    "(X float32 n_max × 3,072 numpy array, description)"
    if os.environ.get('KDBOOK_CIFAR10') and not quick:
        from kdbook.data import load_cifar10_arrays
        x,_,_ = load_cifar10_arrays(split='train')
        X = np.ascontiguousarray(np.asarray(x[:n_max]).reshape(min(n_max, len(x)), -1), dtype=np.float32)/255
        return X, "CIFAR-10 train (the JPEG copy), first n rows, float32 in [0, 1], d = 3,072"
    g = np.random.default_rng(0)
    X = (g.standard_normal((n_max, 200), dtype=np.float32) @ g.standard_normal((200, 3072), dtype=np.float32)*0.05
         + 0.1*g.standard_normal((n_max, 3072), dtype=np.float32) + 0.5).astype(np.float32)
    return X, "KDBOOK_CIFAR10 not set (or --quick): seeded random rank-200-plus-noise data, d = 3,072, float32"


def mse_of(X, comps, mean, chunk=8192):
    "Reconstruction MSE per entry, `(‖Xc‖² - ‖Xc Cᵀ‖²)/(n·d)` for orthonormal rows C: float32 products, float64 sums."
    C,m = torch.as_tensor(np.asarray(comps, np.float32)),torch.as_tensor(np.asarray(mean, np.float32))
    tot = 0.
    for i in range(0, len(X), chunk):
        Xc = torch.from_numpy(X[i:i+chunk]) - m
        tot += float(Xc.double().pow(2).sum()) - float((Xc @ C.T).double().pow(2).sum())
    return tot/X.size


def methods(k):
    def kd(X):
        p = PCACompressor(n_components=k).fit(X)
        return p.components_, p.mean_, f"kdbook auto ({p.solver_})"
    def sk(solver):
        def f(X):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                p = PCA(n_components=k, svd_solver=solver, random_state=0).fit(X)
            return p.components_, p.mean_, f"sklearn {solver}"
        return f
    return {'kdbook': kd, 'covariance_eigh': sk('covariance_eigh'), 'randomized': sk('randomized')}


def run_cell(X, k, repeats):
    "Best wall time and MSE of each method on X, interleaved."
    ms = methods(k); times = {m: [] for m in ms}; res = {}
    for _ in range(repeats):
        for name,f in ms.items():
            t0 = time.perf_counter(); res[name] = f(X); times[name].append(time.perf_counter() - t0)
    return {name: (min(times[name]), mse_of(X, *res[name][:2]), res[name][2]) for name in ms}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--quick', action='store_true', help='a small grid on synthetic data (checks the script; writes nothing)')
    p.add_argument('--ns', type=int, nargs='+', default=[5_000, 10_000, 50_000], help='numbers of rows')
    p.add_argument('--ks', type=int, nargs='+', default=[10, 100, 300], help='numbers of components')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--raw', default=None, help='also keep the measured cells in this JSON file (to merge runs with --report)')
    p.add_argument('--report', nargs='+', default=None, metavar='RAW',
                   help='measure nothing: write bench/results/pca.md from the --raw files of runs made in parallel')
    p.add_argument('--note', default='', help='with --report: a paragraph on the cells that miss, and why')
    p.add_argument('--threads', type=int, default=None,
                   help="threads for torch and for numpy's BLAS (both libraries alike); default: leave them as they are")
    args = p.parse_args()
    if args.threads:
        import threadpoolctl
        torch.set_num_threads(args.threads); threadpoolctl.threadpool_limits(args.threads)
    if args.quick: args.ns,args.ks,args.repeats = [2_000],[10, 50],1
    if args.report: return merge(args.report, args.note)
    load0 = os.getloadavg()[0]
    X_all,desc = load(max(args.ns), args.quick)
    print(desc, flush=True)
    rows,n_fail,misses = [],0,[]
    for n in args.ns:
        X = np.ascontiguousarray(X_all[:n])
        for k in args.ks:
            r = run_cell(X, k, args.repeats)
            t_kd,m_kd,route = r['kdbook']
            exact = r['covariance_eigh'][1]
            fastest = min(('covariance_eigh', 'randomized'), key=lambda s: r[s][0])
            t_fast = r[fastest][0]
            ok_t,ok_m = t_kd <= t_fast,m_kd <= exact*(1 + MSE_SLACK)
            verdict = 'PASS' if ok_t and ok_m else 'FAIL'
            if verdict == 'FAIL':
                n_fail += 1
                misses.append(f"n = {n:,}, k = {k}: " + ', '.join(
                    ([f"kdbook {t_kd/t_fast:.2f}× the time of sklearn {fastest}"] if not ok_t else []) +
                    ([f"kdbook's MSE {(m_kd/exact - 1)*100:+.3f}% above the exact one"] if not ok_m else [])))
            rows.append([f"{n:,}", k, args.repeats, route.split('(')[1].rstrip(')'),
                         f"{t_kd:.2f}", f"{r['covariance_eigh'][0]:.2f}", f"{r['randomized'][0]:.2f}",
                         f"{t_kd/t_fast:.2f}×", f"{(m_kd/exact - 1)*100:+.3f}%", f"{(r['randomized'][1]/exact - 1)*100:+.3f}%",
                         verdict])
            print(' | '.join(map(str, rows[-1])), flush=True)
            md = report(args, desc, rows, n_fail, misses, load0, len(args.ns)*len(args.ks))
            if args.raw: Path(args.raw).write_text(json.dumps(dict(rows=rows, misses=misses, desc=desc, load0=load0,
                load1=os.getloadavg()[0], cmd=command(args), repeats=args.repeats, threads=args.threads, stamp=stamp())))
            elif not args.quick: write_result('pca', md)        # after every cell: a long run cut short keeps what it measured
    print(md)
    if not args.quick: print('wrote bench/results/pca.md')


def command(args):
    "The command line, with the data path written as a placeholder (no path of this machine)."
    argv = [a for a in sys.argv[1:]]
    if '--raw' in argv: i = argv.index('--raw'); del argv[i:i+2]
    return (('KDBOOK_CIFAR10=/path/to/cifar10.tgz ' if os.environ.get('KDBOOK_CIFAR10') and not args.quick else '') +
            'python bench/pca.py' + (' ' + ' '.join(argv) if argv else ''))


def merge(raws, note=''):
    "Write bench/results/pca.md from runs made side by side (each one interleaved within itself)."
    runs = [json.loads(Path(f).read_text()) for f in raws]
    rows = sorted([r for run in runs for r in run['rows']], key=lambda r: (int(r[0].replace(',', '')), int(r[1])))
    misses = [m for run in runs for m in run['misses']]
    a = argparse.Namespace(threads=runs[0]['threads'], repeats=runs[0]['repeats'], quick=False)
    if a.threads: torch.set_num_threads(a.threads)          # so that the machine line reports what the runs used
    md = report(a, runs[0]['desc'], rows, len(misses), misses, max(r['load0'] for r in runs), len(rows),
                cmd=' and, at the same time, '.join(f"`{r['cmd']}`" for r in runs), load1=max(r['load1'] for r in runs), note=note)
    print(md); print('wrote', write_result('pca', md))


def within(r):
    "kdbook's time over the faster scikit-learn solver whose MSE is within 0.1% of the exact one (covariance_eigh always is)."
    t_kd,t_cov,t_rand = (float(x) for x in r[4:7])
    ok_rand = float(r[9].rstrip('%'))/100 <= MSE_SLACK
    return r[7] if ok_rand or t_cov <= t_rand else f"{t_kd/t_cov:.2f}×"


def report(args, desc, rows, n_fail, misses, load0, n_cells, cmd=None, load1=None, note=''):
    "The markdown of bench/results/pca.md for the cells measured so far."
    load1 = os.getloadavg()[0] if load1 is None else load1
    rows = [r[:8] + [within(r)] + r[8:] for r in rows]
    table = md_table(['n', 'k', 'best of', 'kdbook route', 'kdbook s', 'sklearn covariance_eigh s', 'sklearn randomized s',
                      'kdbook / sklearn fastest', 'kdbook / sklearn fastest within 0.1%', 'kdbook MSE vs exact', 'sklearn randomized MSE vs exact', 'verdict'], rows)
    cmd = cmd or f"`{command(args)}`"
    partial = '' if len(rows) == n_cells else f" **Partial run: {len(rows)} of {n_cells} cells measured.**"
    summary = (f"**All {len(rows)} cells pass**: kdbook's `auto` is at most as slow as scikit-learn's faster solver, "
               f"within 0.1% of the exact error." if not n_fail else
               f"**{n_fail} of {len(rows)} cells miss**: " + '; '.join(misses) + '.')
    md = (f"# PCA: kdbook PCACompressor vs scikit-learn, a grid of sizes\n\n{stamp()}. {machine_info('cpu', ('sklearn',))}"
          f"{f'; {args.threads} thread(s) for torch and numpy BLAS alike (--threads: on a shared machine, two threads per process on busy cores wait on each other and times swing by several times, for both libraries)' if args.threads else ''}.\n\n"
          f"Command: {cmd}\n\nData: {desc}. Each cell: every method fits the same n × 3,072 array to k components, "
          f"in one process, interleaved, best of the number of runs given in the table; wall seconds. MSE: reconstruction error per entry on "
          f"the fitted data, the same computation for every method, against the exact one (scikit-learn's "
          f"`covariance_eigh`, an exact eigendecomposition). PASS: kdbook's time ≤ 1.00× the faster of scikit-learn's "
          f"two solvers, and its MSE at most 0.1% above the exact one. The route kdbook's `auto` took follows the cost "
          f"model of `pca_solver_costs`.\n\n{table}\n\n{summary}{partial}{' ' + note if note else ''}\n\n{load_note(load0, load1)}.\n")
    return md


if __name__ == '__main__': main()
