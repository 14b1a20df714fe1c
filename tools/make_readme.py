#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which is not available everywhere).

Markdown cells are copied; code cells are shown as Python unless `#| hide` or `#| echo: false`; their stored
markdown/plain-text outputs are copied (`#| hide` cells show nothing). `--check` exits 1 if README.md is stale."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _directives(src):
    return {m.group(1).strip() for m in re.finditer(r'^#\|\s*(.+)$', src, re.M)}

def _strip_directives(src): return re.sub(r'^#\|.*\n?', '', src, flags=re.M).strip('\n')

def _link(md):
    "Chapter links point at notebooks in nbs/ from the repo root."
    return re.sub(r'\]\((\d\d[a-z]?_[\w]+)\.ipynb\)', r'](nbs/\1.ipynb)', md)

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            if not parts: src = re.sub(r'^>.*$', '', src, flags=re.M)   # the subtitle: the commands come right after the title
            parts.append(_link(src.strip('\n')))
            continue
        if cell['cell_type'] != 'code': continue
        d = _directives(src)
        if 'hide' in d: continue
        code = _strip_directives(src)
        if 'echo: false' not in d and code: parts.append(f"```python\n{code}\n```")
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if 'text/markdown' in data: parts.append(''.join(data['text/markdown']).strip('\n'))
            elif 'text/plain' in data and out.get('output_type') == 'execute_result':
                parts.append("    " + ''.join(data['text/plain']).strip('\n').replace('\n', '\n    '))
            elif out.get('output_type') == 'stream' and out.get('name') == 'stdout':
                parts.append("    " + ''.join(out['text']).strip('\n').replace('\n', '\n    '))
    body = "\n\n".join(p for p in parts if p.strip())
    return body + "\n\n<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n"

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv[1:]:
        if not readme.exists() or readme.read_text() != text:
            print("README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py`", file=sys.stderr)
            sys.exit(1)
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(text); print(f"wrote {readme}")
