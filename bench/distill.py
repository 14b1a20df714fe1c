"""The main job at its defaults (`kdbook distill`), written to bench/results/distill.md for the front page.

    python bench/distill.py [--seeds 5] [--epochs 20] [--threads 1]
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
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    res = run_distill(seeds=a.seeds, epochs=a.epochs)
    md = format_table(res)
    cpu = cpu_model()
    md += (f"\n\nMachine: {os.cpu_count()} CPU cores ({cpu}), no GPU; torch {torch.__version__}, fastai {fastai.__version__}, "
           f"scikit-learn {sklearn.__version__}; torch threads {a.threads}; 1-minute load average {os.getloadavg()[0]:.2f} at the end; "
           f"{datetime.date.today()}. Command: `python bench/distill.py"
           f"{'' if a.seeds==5 else f' --seeds {a.seeds}'}{'' if a.epochs==20 else f' --epochs {a.epochs}'}` "
           f"(the same numbers as `kdbook distill`).\n")
    write_result('distill', md); print(md)

if __name__ == '__main__': main()
