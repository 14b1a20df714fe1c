#!/usr/bin/env python
"""Check what a reader of the website sees: stored outputs, and nothing that names the build machine.

The site never re-runs a cell, so a code cell that prints, displays or plots must carry its stored output. And no
stored output, markdown cell, README.md or bench/results/*.md may hold an absolute path of the machine that ran it
(`/work/...`, `/root/...`, `/home/<user>/...`, `/tmp/<file>`, `C:\\Users\\...`), an internal reference such as
"issue #5", or a stored traceback.

    python tools/check_outputs.py            # one line per problem: file, cell, reason; exit 1 if any
    python tools/check_outputs.py --list     # counts per notebook (code cells, cells without stored output...)
    python tools/check_outputs.py nbs/03_losses.ipynb README.md    # only these files

A code cell "shows something" when, outside any `def`/`class` body, it calls `print`, `display`, `show_doc`, a
`plt.*` function or a `.plot`/`.imshow`/`.show*`/`plot_*`/`show_*` function, trains with `.fit*`/`.fine_tune`/
`.lr_find` outside a `with ...no_bar()/no_logging()` block, uses the `%time`/`%timeit`/`%%time` magics or a
`!` shell line, or ends with an expression that IPython displays (not an assignment, not ended by `;`, not a
call known to return nothing such as fastcore's `test_eq`/`test_fail`, `set_seed` or `plt.close`). Cells marked
`#| export` (and `exports`, `exporti`), `#| hide`, `#| eval: false` or `#| output: false` are not checked for
missing output; `#| slow` cells are (store them with `nbdev-test nbs/X.ipynb --flags slow --save`).
"""
import argparse, ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# --- absolute paths and internal references -------------------------------------------------------------------------
_NOT_IN_URL = r'(?<![\w.:/~-])'         # not the middle of a URL or of a relative path
BAD_TEXT = [
    (re.compile(_NOT_IN_URL + r'/(?:work|root)/'), 'absolute path of the build machine'),
    (re.compile(_NOT_IN_URL + r'/home/[\w.-]+/'), 'absolute path of the build machine (a home folder)'),
    (re.compile(_NOT_IN_URL + r'/Users/[\w.-]+/'), 'absolute path of the build machine (a home folder)'),
    (re.compile(_NOT_IN_URL + r'/tmp/[\w.-]'), 'absolute path of the build machine (a temporary file)'),
    (re.compile(_NOT_IN_URL + r'/(?:private/)?var/folders/'), 'absolute path of the build machine (a temporary file)'),
    (re.compile(r'\b[A-Za-z]:\\+(?:Users|Documents and Settings)\\', re.I), 'absolute path of the build machine (Windows)'),
    (re.compile(r'\b(?:issue|pull request|PR)\s*#\d+', re.I), 'internal reference'),
]

def text_problems(text):
    "Reasons why `text` may not be shown to readers, with the offending snippet."
    res = []
    for pat, why in BAD_TEXT:
        for m in pat.finditer(text):
            s = text[max(0, m.start()-20):m.end()+30].replace('\n', ' ')
            res.append(f"{why}: ...{s.strip()}...")
            break
    return res

# --- does a code cell show something? ------------------------------------------------------------------------------
SKIP_DIRECTIVES = {'export', 'exports', 'exporti', 'hide'}
# calls that return None (or whose value IPython would not show) and print nothing
SILENT_CALLS = {'set_seed', 'seed', 'close', 'filterwarnings', 'simplefilter', 'resetwarnings', 'set_num_threads',
                'use_deterministic_algorithms', 'append', 'extend', 'update', 'sort', 'shuffle', 'backward', 'step',
                'zero_grad', 'rmtree', 'unlink', 'mkdir', 'makedirs', 'remove', 'clear', 'insert', 'register_buffer',
                'nbdev_export', 'save', 'setattr', 'delattr', 'exec', 'chdir', 'putenv', 'set_printoptions', 'ion', 'ioff',
                'rc', 'use', 'seed_everything', 'collect', 'empty_cache', 'sleep'}
SHOW_CALLS = {'print', 'display', 'show_doc', 'pprint', 'imshow', 'plot', 'show', 'show_batch', 'show_results'}
# plotting methods whose names other libraries reuse (`tensor.scatter`, `np.histogram`...): only on plt, fig or ax*
AXES_CALLS = {'hist', 'scatter', 'bar', 'barh', 'matshow', 'pcolormesh', 'contour', 'contourf', 'errorbar', 'boxplot',
              'fill_between', 'axhline', 'axvline', 'semilogy', 'loglog', 'heatmap', 'violinplot', 'stem', 'step_plot'}
# fastai training prints a table and a progress bar; scikit-learn's `.fit` prints nothing, so a bare `.fit` counts
# only on a variable whose name says it is a learner (`learn.fit`, `student_learner.fit`; not `DictionaryLearning().fit`)
FIT_CALLS = {'fit_one_cycle', 'fit_flat_cos', 'fit_sgdr', 'fine_tune', 'lr_find'}
QUIET_CMS = {'no_bar', 'no_logging', 'redirect_stdout', 'capture_output', 'catch_warnings_quiet'}
SHOW_MAGICS = {'time', 'timeit', 'prun', 'pip', 'conda', 'system', 'sx', 'who', 'whos', 'lsmagic', 'env'}

def directives(src):
    "nbdev's `#| key: value` lines at the top of a cell, as a dict."
    d = {}
    for line in src.splitlines():
        if not line.strip(): continue
        m = re.match(r'\s*#\|\s*([\w-]+)\s*:?\s*(.*)$', line)
        if not m: break
        d[m.group(1).lower()] = m.group(2).strip().lower()
    return d

def _to_python(src):
    "Cell source as plain Python: IPython magics and `!` lines become `get_ipython()` calls."
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(src)
    except Exception:
        return re.sub(r'^(\s*)([%!].*)$', r"\1get_ipython().run_line_magic('x', '')", src, flags=re.M)

def _name(call):
    "Last name of the called thing: `plt.plot(...)` -> 'plot', `print(...)` -> 'print'."
    f = call.func
    while isinstance(f, ast.Call): f = f.func
    if isinstance(f, ast.Attribute): return f.attr
    if isinstance(f, ast.Name): return f.id
    return ''

def _base(call):
    "First name of a dotted call: `plt.subplots(...)` -> 'plt'."
    f = call.func
    while isinstance(f, (ast.Attribute, ast.Call, ast.Subscript)): f = f.func if isinstance(f, ast.Call) else f.value
    return f.id if isinstance(f, ast.Name) else ''

def _magic(call):
    "The magic's name for `get_ipython().run_line_magic('time', ...)` and friends, '!' for a shell line."
    if _name(call) in ('run_line_magic', 'run_cell_magic') and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    if _name(call) in ('system', 'getoutput') and _base(call) == 'get_ipython': return 'system'
    return None

def _is_quiet_with(node):
    for item in node.items:
        for sub in ast.walk(item.context_expr):
            if isinstance(sub, ast.Call) and _name(sub) in QUIET_CMS: return True
    return False

def _shows(node, quiet=False):
    "Why the statements under `node` show something when run (outside function and class bodies), or None."
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)): return None
    if isinstance(node, (ast.With, ast.AsyncWith)) and _is_quiet_with(node): quiet = True
    if isinstance(node, ast.Call):
        n, b = _name(node), _base(node)
        m = _magic(node)
        if m is not None:
            if m in SHOW_MAGICS: return f"the %{m} magic" if m != 'system' else "a shell line"
        elif n in SHOW_CALLS: return f"calls {n}()"
        elif n in AXES_CALLS and b.startswith(('plt', 'ax', 'fig')): return f"calls {b}.{n}()"
        elif b == 'plt' and n not in ('close', 'rc', 'rcParams', 'ioff', 'ion', 'style', 'use', 'switch_backend'):
            return f"calls plt.{n}()"
        elif n.startswith(('plot_', 'show_')) or n in ('plot', 'show'): return f"calls {n}()"
        elif isinstance(node.func, ast.Attribute) and not quiet and (
                n in FIT_CALLS or (n == 'fit' and 'learn' in b and b[:1].islower())):
            return f"trains with .{n}() outside a no_bar()/no_logging() block"
    for child in ast.iter_child_nodes(node):
        r = _shows(child, quiet)
        if r: return r
    return None

def _last_expr_shows(tree, src):
    "Why IPython displays the value of the cell's last statement, or None."
    if not tree.body: return None
    last = tree.body[-1]
    if not isinstance(last, ast.Expr): return None
    if src.rstrip().endswith(';'): return None
    v = last.value
    if isinstance(v, ast.Constant) and (v.value is None or v.value is Ellipsis): return None
    if isinstance(v, ast.Await): v = v.value
    if isinstance(v, ast.Call):
        n = _name(v)
        if n.startswith(('test_', 'assert_', 'assert')) or n in SILENT_CALLS or n in FIT_CALLS: return None
        if _magic(v) is not None: return None          # handled by _shows
        if _base(v) == 'plt': return None              # handled by _shows
        if n == 'print' or n in SHOW_CALLS: return None
    return "its last line is an expression IPython displays"

def needs_output(src):
    "Why a code cell's source shows something when run, or None (also None when it cannot be parsed)."
    try: tree = ast.parse(_to_python(src))
    except SyntaxError: return None
    return _shows(tree) or _last_expr_shows(tree, src)

# --- notebooks and text files ----------------------------------------------------------------------------------------
def _out_text(out):
    if out.get('output_type') == 'stream': return ''.join(out.get('text', ''))
    if out.get('output_type') == 'error': return '\n'.join(out.get('traceback', []))
    data = out.get('data', {})
    return '\n'.join(''.join(v) if isinstance(v, list) else str(v) for k, v in data.items()
                     if k.startswith('text/') or k.endswith(('json', 'javascript')))

def check_notebook(path):
    "(problems, counts) for one notebook: problems are (cell number and id, reason); all cells counted from 1."
    nb = json.loads(Path(path).read_text())
    probs, n = [], dict(code=0, checked=0, shows=0, missing=0, stored=0, text=0)
    for n_cell, cell in enumerate(nb['cells'], 1):
        i = f"{n_cell} (id {cell['id']})" if cell.get('id') else n_cell
        src = ''.join(cell.get('source', ''))
        if cell['cell_type'] == 'markdown':
            for why in text_problems(src): probs.append((i, f"markdown: {why}")); n['text'] += 1
            continue
        if cell['cell_type'] != 'code' or not src.strip(): continue
        n['code'] += 1
        outs = cell.get('outputs', [])
        if outs: n['stored'] += 1
        for out in outs:
            if out.get('output_type') == 'error':
                probs.append((i, f"stored error output ({out.get('ename', '?')}): re-run the cell")); n['text'] += 1
            for why in text_problems(_out_text(out)): probs.append((i, f"stored output: {why}")); n['text'] += 1
        d = directives(src)
        if d.keys() & SKIP_DIRECTIVES or d.get('eval') == 'false' or d.get('output') == 'false': continue
        n['checked'] += 1
        why = needs_output(src)
        if not why: continue
        n['shows'] += 1
        if not outs:
            n['missing'] += 1
            slow = ' (a slow cell: nbdev-test --flags slow --save)' if 'slow' in d else ''
            probs.append((i, f"no stored output, but {why}{slow}"))
    return probs, n

def check_text(path):
    probs = []
    for ln, line in enumerate(Path(path).read_text(errors='replace').splitlines(), 1):
        for why in text_problems(line): probs.append((ln, why))
    return probs

def default_files(root):
    return (sorted((root/'nbs').glob('*.ipynb')) + [root/'README.md'] + sorted((root/'bench'/'results').glob('*.md')))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('files', nargs='*', help="notebooks or text files (default: nbs/*.ipynb, README.md, bench/results/*.md)")
    p.add_argument('--list', action='store_true', help="print counts per notebook instead of one line per problem")
    p.add_argument('--root', default=str(ROOT), help="repository root for the default files and for relative names")
    a = p.parse_args(argv)
    root = Path(a.root).resolve()
    files = [Path(f) for f in a.files] or [f for f in default_files(root) if f.exists()]
    def rel(f):
        try: return f.resolve().relative_to(root).as_posix()
        except ValueError: return str(f)
    total, rows = 0, []
    for f in files:
        if f.suffix == '.ipynb':
            probs, n = check_notebook(f)
            rows.append((rel(f), n))
            for cell, why in probs: print(f"{rel(f)}: cell {cell}: {why}") if not a.list else None
        else:
            probs = [(f"line {ln}", why) for ln, why in check_text(f)]
            for where, why in probs: print(f"{rel(f)}: {where}: {why}") if not a.list else None
            if a.list and probs: rows.append((rel(f), dict(text=len(probs))))
        total += len(probs)
    if a.list:
        print(f"{'file':34} {'code':>5} {'shows':>6} {'no output':>9} {'paths/refs':>10}")
        for name, n in rows:
            print(f"{name:34} {n.get('code', ''):>5} {n.get('shows', ''):>6} {n.get('missing', ''):>9} {n.get('text', 0):>10}")
        nbs = [n for _, n in rows if 'code' in n]
        print(f"{'total':34} {sum(n['code'] for n in nbs):>5} {sum(n['shows'] for n in nbs):>6} "
              f"{sum(n['missing'] for n in nbs):>9} {sum(n.get('text', 0) for _, n in rows):>10}")
        print("code: code cells; shows: checked cells that print, display or plot; no output: those without stored "
              "output; paths/refs: absolute paths, internal references, stored errors")
    if total: print(f"{total} problem(s) in {len(files)} file(s)" if not a.list else f"{total} problem(s)")
    return 1 if total else 0

if __name__ == '__main__': sys.exit(main())
