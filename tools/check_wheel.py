#!/usr/bin/env python
"""Checks on a built kdbook wheel (used by .ci/run after `python -m build`).

    python tools/check_wheel.py files dist/kdbook-*.whl     # its file list: what must and must not be in it
    python tools/check_wheel.py imports dist/kdbook-*.whl   # import every module it carries (run with the python
                                                            # of a venv where the wheel is installed, outside the clone)

`files` fails when a module of kdbook/ or the LICENSE is missing, when package data under kdbook/ in the tree (e.g.
teacher weights, kdbook/weights/*.pt) did not make it into the wheel, or when the wheel holds anything outside the
package and its metadata (notebooks, nbs/, bench/, tools/, tests, caches)."""
import argparse, importlib, sys, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_SUFFIXES = ('.pt', '.pth', '.safetensors', '.json', '.npz', '.npy')   # package data the wheel must carry

def wheel_files(whl): return sorted(zipfile.ZipFile(whl).namelist())

def check_files(whl, root=ROOT):
    "Problems with the wheel's file list, as strings."
    names, probs = wheel_files(whl), []
    dist_info = [n for n in names if n.split('/')[0].endswith('.dist-info')]
    pkg = [n for n in names if n not in dist_info]
    for n in pkg:
        top = n.split('/')[0]
        if top != 'kdbook': probs.append(f"{n}: outside the kdbook package")
        elif n.endswith('.ipynb') or '__pycache__' in n or n.endswith('.pyc'): probs.append(f"{n}: should not ship")
    for banned in ('nbs/', 'bench/', 'tools/', '_proc/', '_docs/', 'kdbook_out/'):
        probs += [f"{n}: should not ship ({banned} is not part of the package)" for n in names if f'/{banned}' in f'/{n}']
    if not any(n.endswith(('/licenses/LICENSE', '/LICENSE')) for n in dist_info): probs.append("no LICENSE in the wheel's metadata")
    expected = {p.relative_to(root).as_posix() for p in (root/'kdbook').rglob('*')
                if p.is_file() and '__pycache__' not in p.parts and (p.suffix == '.py' or p.suffix in DATA_SUFFIXES)}
    probs += [f"{n}: in the tree but not in the wheel" for n in sorted(expected - set(pkg))]
    return probs

def check_imports(whl):
    "Import every module the wheel carries; they must come from the installed wheel, not from a clone."
    mods = [n[:-3].replace('/', '.').removesuffix('.__init__') for n in wheel_files(whl)
            if n.startswith('kdbook/') and n.endswith('.py')]
    import warnings; warnings.simplefilter('ignore', FutureWarning)   # torch's own deprecation notices
    probs = []
    for m in sorted(mods):
        try: mod = importlib.import_module(m)
        except Exception as e: probs.append(f"import {m}: {type(e).__name__}: {e}"); continue
        if not Path(mod.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()):
            probs.append(f"{m} imported from {mod.__file__}, not from this environment ({sys.prefix})")
    if not probs: print(f"imported {len(mods)} modules from the installed wheel: {', '.join(sorted(mods))}")
    return probs

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('what', choices=['files', 'imports'])
    p.add_argument('wheel')
    a = p.parse_args(argv)
    if a.what == 'files':
        probs = check_files(a.wheel)
        if not probs:
            names = wheel_files(a.wheel)
            print(f"{Path(a.wheel).name}: {Path(a.wheel).stat().st_size/1024:.0f} KiB, {len(names)} files")
            for n in names: print(f"  {n}")
    else: probs = check_imports(a.wheel)
    for x in probs: print(x)
    return 1 if probs else 0

if __name__ == '__main__': sys.exit(main())
