"""The main job at its defaults (`kdbook distill`), written to bench/results/distill.md for the front page.

    python bench/distill.py [--seeds 5] [--epochs 20] [--threads 1]
    python bench/distill.py --check     # re-run, compare the accuracies with the committed table, write nothing
    python bench/distill.py --quick     # smoke run: 2 seeds, 2 epochs; writes nothing
"""
import argparse, datetime, os, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import cpu_model, write_result
import torch, fastai, sklearn
from kdbook.cli import run_distill, format_table

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=5); ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (the command uses 1 on digits)')
    ap.add_argument('--check', action='store_true', help='compare the accuracy column with bench/results/distill.md; write nothing')
    ap.add_argument('--quick', action='store_true', help='smoke run: 2 seeds, 2 epochs; prints the table, writes nothing')
    a = ap.parse_args()
    if a.quick: a.seeds,a.epochs = 2,2
    torch.set_num_threads(a.threads)
    res = run_distill(seeds=a.seeds, epochs=a.epochs)
    md = format_table(res)
    if a.check: sys.exit(check(md))
    if a.quick: print(md + "\n\n(--quick smoke run: nothing written)"); return
    cpu = cpu_model()
    md += (f"\n\nMachine: {os.cpu_count()} CPU cores ({cpu}), no GPU; torch {torch.__version__}, fastai {fastai.__version__}, "
           f"scikit-learn {sklearn.__version__}; torch threads {a.threads}; 1-minute load average {os.getloadavg()[0]:.2f} at the end; "
           f"{datetime.date.today()}. Command: `python bench/distill.py"
           f"{'' if a.seeds==5 else f' --seeds {a.seeds}'}{'' if a.epochs==20 else f' --epochs {a.epochs}'}` "
           f"(the same numbers as `kdbook distill`).\n")
    write_result('distill', md); print(md)

def _accuracies(md:str) -> dict:
    "Row name -> 'mean ± std' cell of a `format_table` table."
    rows = ([c.strip() for c in l.strip().strip('|').split('|')] for l in md.splitlines() if l.startswith('| ') and '±' in l)
    return {c[0]: c[1] for c in rows}

def check(md:str) -> int:
    "0 if the accuracies in `md` equal the committed table's, else 1 (with the differing rows printed)."
    committed = _accuracies((Path(__file__).parent/'results'/'distill.md').read_text())
    new = _accuracies(md)
    bad = [f"{k}: committed {committed.get(k)}, now {v}" for k,v in new.items() if committed.get(k) != v]
    print(md); print("\n".join(bad) if bad else "accuracies equal to the committed table (bench/results/distill.md)")
    return int(bool(bad) or len(new) != len(committed))

if __name__ == '__main__': main()
