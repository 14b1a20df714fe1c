#!/usr/bin/env python
"""The Colab install cell: every notebook in nbs/ opens with a hidden code cell that installs kdbook on Colab only.

    python tools/colab_cell.py --write      # insert the cell, or bring it up to date, as each notebook's first code cell
    python tools/colab_cell.py --check      # exit 1, naming the notebooks whose first code cell is not the current one
    python tools/colab_cell.py --print      # show the cell
    python tools/colab_cell.py --run-as-colab NB.ipynb   # run NB as on Colab (CI: copied alone, kdbook uninstalled)

The cell installs the release from PyPI (`pip install kdbook`) and, if that fails (before the first release), the
repository on GitHub. Off Colab it does nothing: `nbdev-test` and `nbdev-proc-nbs` run it in a blink, it prints
nothing and `nbdev-export` ignores it (no `#| export`). `KDBOOK_PIP_SPEC` replaces what is installed first (a wheel
file, a version, a git URL): CI sets it to the wheel it has just built and runs a chapter with a fake `google.colab`
module, so the install path is tested without Colab.
"""
import argparse, hashlib, json, os, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO_SPEC = 'git+https://github.com/kdbook/kdbook'
MARK = "if 'google.colab' in sys.modules:"

CELL = f'''#| hide
# Colab only (elsewhere this cell does nothing): install kdbook, the release on PyPI (`pip install kdbook`);
# until the first release is out, the repository on GitHub. KDBOOK_PIP_SPEC, if set, is installed first instead.
import sys
{MARK}
    import os, subprocess
    def _pip_install(spec):
        return subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', spec], capture_output=True, text=True)
    _pip = _pip_install(os.environ.get('KDBOOK_PIP_SPEC', 'kdbook'))
    if _pip.returncode: _pip = _pip_install('{REPO_SPEC}')
    if _pip.returncode: raise RuntimeError(f"pip could not install kdbook:\\n{{_pip.stderr[-3000:]}}")'''

def _src(cell): return ''.join(cell.get('source', ''))
def _is_colab_cell(cell): return cell['cell_type'] == 'code' and MARK in _src(cell)

def _new_cell(nb_path):
    return {'cell_type': 'code', 'execution_count': None, 'id': hashlib.sha1(f'colab {nb_path.name}'.encode()).hexdigest()[:8],
            'metadata': {}, 'outputs': [], 'source': CELL.splitlines(keepends=True)}

def status(nb):
    "'ok', 'missing', 'stale' (an older text) or 'misplaced' (not the first code cell)."
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    found = [c for c in code if _is_colab_cell(c)]
    if not found: return 'missing'
    if code[0] is not found[0] or len(found) > 1: return 'misplaced'
    return 'ok' if _src(found[0]) == CELL and not found[0].get('outputs') else 'stale'

def write(nb, nb_path):
    "Put the current cell first among the code cells: old copies are removed, one is inserted before the first code cell."
    old = [c for c in nb['cells'] if _is_colab_cell(c)]
    cell = old[0] if old else _new_cell(nb_path)
    cell.update(source=CELL.splitlines(keepends=True), outputs=[], execution_count=None)
    nb['cells'] = [c for c in nb['cells'] if not _is_colab_cell(c)]
    first = next((i for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code'), len(nb['cells']))
    nb['cells'].insert(first, cell)
    return nb

def _rel(f):
    try: return Path(f).resolve().relative_to(ROOT).as_posix()
    except ValueError: return str(f)

def dump(nb): return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n'   # as nbdev writes notebooks

def run_as_colab(nb_path):
    """Run `nb_path` top to bottom in quick mode (nbdev's test runner, `slow` cells skipped) with a stand-in
    `google.colab` module imported, as Colab's kernel has it: the notebook's Colab cell then runs its pip install
    (of `KDBOOK_PIP_SPEC` if set). Needs nbdev. Returns 0 when the notebook ran and kdbook ended up installed."""
    import importlib, importlib.util
    fake = Path(tempfile.mkdtemp())/'fake_colab'
    (fake/'google'/'colab').mkdir(parents=True)
    (fake/'google'/'colab'/'__init__.py').write_text('"A stand-in for Colab\'s google.colab (tools/colab_cell.py)."\n')
    sys.path.insert(0, str(fake))
    import google.colab   # noqa: F401  (Colab's kernel has imported it; the cell looks in sys.modules)
    before = importlib.util.find_spec('kdbook')
    print(f"as on Colab: {nb_path}, kdbook {'already installed' if before else 'not installed'} before the run, "
          f"KDBOOK_PIP_SPEC={os.environ.get('KDBOOK_PIP_SPEC', '(unset: PyPI)')}")
    from nbdev.test import test_nb
    ok, secs = test_nb(nb_path, skip_flags=['slow'], profile=False)
    if not ok: print(f"{nb_path}: failed as on Colab (see the traceback above)"); return 1
    importlib.invalidate_caches()
    try: import kdbook
    except ImportError: print("the Colab cell did not install kdbook"); return 1
    where = Path(kdbook.__file__).resolve()
    if not where.is_relative_to(Path(sys.prefix).resolve()):
        print(f"kdbook came from {where}, not from the install into {sys.prefix}"); return 1
    print(f"{nb_path}: ran as on Colab in {secs:.0f} s; kdbook {kdbook.__version__} installed by its Colab cell")
    return 0

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='*', help="default: nbs/*.ipynb")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--write', action='store_true', help="insert or update the cell")
    g.add_argument('--check', action='store_true', help="fail if a notebook lacks the current cell as its first code cell")
    g.add_argument('--print', action='store_true', help="print the cell's source")
    g.add_argument('--run-as-colab', action='store_true', help="run the one notebook given as on Colab (needs nbdev)")
    p.add_argument('--if-any', action='store_true',
                   help="with --check: pass (with a note) while no notebook has the cell yet, i.e. before the first --write")
    a = p.parse_args(argv)
    if a.print: print(CELL); return 0
    if a.run_as_colab:
        if len(a.notebooks) != 1: p.error("--run-as-colab takes one notebook")
        return run_as_colab(a.notebooks[0])
    nbs = [Path(f) for f in a.notebooks] or sorted((ROOT/'nbs').glob('*.ipynb'))
    if a.write:
        for f in nbs:
            text = f.read_text()
            nb = json.loads(text)
            if status(nb) == 'ok': continue
            new = dump(write(nb, f))
            if new != text: f.write_text(new); print(f"{_rel(f)}: Colab cell written")
        return 0
    states = {f: status(json.loads(f.read_text())) for f in nbs}
    bad = {f: s for f, s in states.items() if s != 'ok'}
    if a.if_any and all(s == 'missing' for s in states.values()):
        print(f"Colab cell: in none of the {len(nbs)} notebooks yet; run `python tools/colab_cell.py --write` (not failing)")
        return 0
    for f, s in bad.items():
        print(f"{_rel(f)}: Colab install cell {s}: run `python tools/colab_cell.py --write`")
    if not bad: print(f"Colab cell: current in all {len(nbs)} notebooks")
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
