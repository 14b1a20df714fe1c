#!/usr/bin/env python
"""Code a reader reads fits the page: no line over 100 characters in the code cells a reader sees.

Checked: the front page (`nbs/index.ipynb`) and the chapters (notebooks numbered below 90, e.g. `nbs/04a_cache.ipynb`),
every code cell that a reader sees, on the site or on Colab, i.e. not marked `#| export` (or `exports`, `exporti`) or
`#| hide`. A `#| echo: false` cell is hidden on the site but read on Colab, so it is checked.
Exported library code may keep its own width; the library reference (90-) and the appendices are not checked.

    python tools/check_code_width.py                       # every chapter: one line per long line, exit 1 if any
    python tools/check_code_width.py --only nbs/01_background.ipynb nbs/02_soft_hard_labels.ipynb
                                                            # fail only on these; the others get a count per notebook
    python tools/check_code_width.py --max 100 nbs/03_losses.ipynb   # only this notebook
"""
import argparse, json, re, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_outputs import directives   # nbdev's `#| key: value` lines at the top of a cell  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = {'export', 'exports', 'exporti', 'hide'}


def reader_sees(src) -> bool:
    "Whether the website shows this code cell's source."
    d = directives(src)
    return not (HIDDEN & set(d))

def chapters(root=ROOT) -> list:
    "The front page and every notebook numbered below 90."
    nbs = sorted((root/'nbs').glob('*.ipynb'))
    return [f for f in nbs if f.name == 'index.ipynb' or (re.match(r'(\d+)', f.name) and int(re.match(r'(\d+)', f.name)[1]) < 90)]

def long_lines(nb_path, width=100) -> list:
    "(cell number, cell id, line number, length, line) for each line longer than `width` in the cells a reader sees."
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for i, cell in enumerate(nb['cells']):
        if cell['cell_type'] != 'code': continue
        src = ''.join(cell['source'])
        if not reader_sees(src): continue
        for j, line in enumerate(src.splitlines(), 1):
            if len(line) > width: out.append((i, cell.get('id', '?'), j, len(line), line))
    return out

def _rel(f):
    try: return Path(f).resolve().relative_to(ROOT).as_posix()
    except ValueError: return str(f)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='*', help="default: the front page and every chapter (numbered below 90)")
    p.add_argument('--only', nargs='+', default=None, metavar='NB',
                   help="fail only on these notebooks; the others are checked and reported, one count each")
    p.add_argument('--max', type=int, default=100, help="the longest line allowed (default 100)")
    a = p.parse_args(argv)
    nbs = [Path(f) for f in a.notebooks] or chapters()
    strict = {_rel(f) for f in (a.only if a.only is not None else nbs)}
    missing = [f for f in strict if not (ROOT/f).exists()]
    if missing: p.error(f"--only: no such notebook: {', '.join(missing)}")
    failed, noted = 0, 0
    for f in nbs:
        found = long_lines(f, a.max)
        if not found: continue
        if _rel(f) in strict:
            failed += len(found)
            for i, cid, j, n, line in found:
                print(f"{_rel(f)}: cell {i} (id {cid}), line {j}: {n} characters > {a.max}: {line.strip()[:60]}...")
        else:
            noted += len(found)
            print(f"note: {_rel(f)}: {len(found)} line(s) over {a.max} characters (not failing: not in --only)")
    checked = sum(_rel(f) in strict for f in nbs)
    if failed: print(f"{failed} line(s) over {a.max} characters in code a reader sees; wrap them (exported code may stay wide)")
    else: print(f"code width: every line a reader sees is at most {a.max} characters in the {checked} notebook(s) checked"
                + (f" ({noted} line(s) noted elsewhere)" if noted else ""))
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
