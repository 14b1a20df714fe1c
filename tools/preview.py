#!/usr/bin/env python
"""An offline look at the website: nbdev-proc-nbs, then nbconvert to static HTML in _preview/ (no cell is run).

    python tools/preview.py              # then open _preview/index.html in a browser
    python tools/preview.py --no-proc    # reuse _proc/ from an earlier nbdev-proc-nbs

Quarto, which builds the real site, is not needed: a stand-in `quarto` command on PATH lets nbdev-proc-nbs run (as
in .ci/run). Pages follow nbs/sidebar.yml, with the sidebar on every page. Like the site, pages show the stored
outputs, hide `#| hide` cells (nbdev-proc-nbs drops them) and the code of `#| echo: false` cells, and render
`show_doc` output as markdown. Maths: MathJax comes from a CDN; offline, formulas stay as their TeX source
(`$\\frac{z_i}{T}$`), which is readable. Links to the site's own pages point at the local pages."""
import argparse, json, os, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = 'https://kdbook.github.io/kdbook/'

def proc_nbs():
    "Run nbdev-proc-nbs with a stand-in quarto command on PATH."
    with tempfile.TemporaryDirectory() as shim:
        q = Path(shim)/'quarto'
        q.write_text('#!/bin/sh\necho "quarto stand-in (tools/preview.py)"\n'); q.chmod(0o755)
        env = dict(os.environ, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
        r = subprocess.run(['nbdev-proc-nbs'], cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode or not list((ROOT/'_proc').glob('*.ipynb')):
        sys.exit(f"nbdev-proc-nbs failed:\n{(r.stdout + r.stderr)[-3000:]}")

def sidebar(path=ROOT/'nbs'/'sidebar.yml'):
    "[(section or None, notebook name)] in the sidebar's order."
    import yaml
    res = []
    def walk(items, section):
        for it in items:
            if isinstance(it, str): res.append((section, it))
            elif isinstance(it, dict) and 'contents' in it: walk(it['contents'], it.get('section', section))
            elif isinstance(it, dict) and 'href' in it: res.append((section, it['href']))
    walk(yaml.safe_load(path.read_text())['website']['sidebar']['contents'], None)
    return res

def _frontmatter(nb):
    "The YAML front matter nbdev-proc-nbs put in the first raw cell (and that cell's index), or ({}, None)."
    import yaml
    for i, c in enumerate(nb['cells']):
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.lstrip().startswith('---'):
            return yaml.safe_load(src.strip().strip('-')) or {}, i
    return {}, None

_ATTRS = re.compile(r'\{(?:target|style|\.)[^{}\n]*\}')          # pandoc attributes: {target="_blank" ...}, {.callout-note}

def _fix_md(text, pages):
    text = re.sub(r'^:::.*\n?', '', text, flags=re.M)               # Quarto fenced divs: keep what is inside
    text = _ATTRS.sub('', text)
    for page in pages.values(): text = text.replace(SITE + page, page)
    # links between chapters are written to the notebooks (`[Losses](03_losses.ipynb)`); Quarto maps them to pages
    return re.sub(r'(?<=[("\'])([\w.-]+\.ipynb)(?=[#)"\'])', lambda m: pages.get(m.group(1), m.group(1)), text)

def prepare(nb, pages):
    "Make a processed notebook look as the site shows it: title from the front matter, no echo:false code."
    fm, i = _frontmatter(nb)
    if i is not None:
        head = f"# {fm.get('title', '')}\n\n" + (f"> {fm['description']}\n" if fm.get('description') else '')
        nb['cells'][i] = dict(cell_type='markdown', id='kd-title', metadata={}, source=head)
    for c in nb['cells']:
        src = ''.join(c['source'])
        c['metadata'] = {}                                          # execution timings etc.: not shown, not valid here
        if c['cell_type'] == 'markdown': c['source'] = _fix_md(src, pages); continue
        if c['cell_type'] != 'code': continue
        dirs = dict(re.findall(r'^#\|\s*([\w-]+)\s*:?\s*(.*)$', src, re.M))
        c['source'] = re.sub(r'^#\|.*\n?', '', src, flags=re.M)
        if dirs.get('echo', '').strip() == 'false': c['metadata'].setdefault('transient', {})['remove_source'] = True
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = _fix_md(''.join(md), pages)
    return nb, fm

CSS = """<style>
 body { margin: 0; }
 #kd-side { position: fixed; top: 0; left: 0; bottom: 0; width: 14rem; overflow-y: auto; padding: 1rem;
            background: #f6f7f9; border-right: 1px solid #ddd; font: 14px/1.5 system-ui, sans-serif; }
 #kd-side a { display: block; color: #2a5db0; text-decoration: none; padding: 1px 0; }
 #kd-side a.current { font-weight: bold; color: #000; }
 #kd-side .sec { margin-top: .8rem; color: #666; font-size: 12px; text-transform: uppercase; }
 #kd-main { margin-left: 16rem; max-width: 60rem; padding: 0 1rem; }
 .jp-RenderedHTMLCommon pre, .jp-OutputArea-output pre { overflow-x: auto; }
 .jp-RenderedHTMLCommon table { display: block; overflow-x: auto; }
</style>"""

def side_html(entries, current):
    out, sec = ['<nav id="kd-side"><b>kdbook</b> <small>(offline preview)</small>'], None
    for section, name, page, title in entries:
        if section != sec and section: out.append(f'<div class="sec">{section}</div>')
        sec = section
        cls = ' class="current"' if page == current else ''
        out.append(f'<a href="{page}"{cls}>{title}</a>')
    return '\n'.join(out + ['</nav>'])

def render(out_dir, run_proc=True):
    from nbconvert import HTMLExporter
    import nbformat
    if run_proc: proc_nbs()
    proc = ROOT/'_proc'
    order = [(s, n) for s, n in sidebar() if (proc/n).exists()]
    order += [(None, p.name) for p in sorted(proc.glob('*.ipynb')) if p.name not in {n for _, n in order}]
    nbs, entries = {}, []
    for section, name in order:
        nb = json.loads((proc/name).read_text())
        fm, _ = _frontmatter(nb)
        page = fm.get('output-file') or Path(name).with_suffix('.html').name
        nbs[name] = nb
        entries.append((section, name, page, fm.get('title') or Path(name).stem))
    pages = {e[1]: e[2] for e in entries}
    if out_dir.exists(): shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    exp = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True)
    for section, name, page, title in entries:
        nb, fm = prepare(nbs[name], pages)
        body, _ = exp.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))   # reads joins line lists
        body = body.replace('</head>', CSS + '\n</head>', 1)
        body = re.sub(r'<title>.*?</title>', f'<title>{title} – kdbook preview</title>', body, count=1, flags=re.S)
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + side_html(entries, page) + '<div id="kd-main">', body, count=1)
        body = body.replace('</body>', '</div></body>', 1)
        (out_dir/page).write_text(body)
    if 'index.html' not in pages.values():
        first = entries[0][2]
        (out_dir/'index.html').write_text(f'<meta http-equiv="refresh" content="0; url={first}">')
    return entries

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--no-proc', action='store_true', help="reuse _proc/ instead of running nbdev-proc-nbs")
    p.add_argument('--out', default=str(ROOT/'_preview'), help="output folder (default: _preview)")
    a = p.parse_args(argv)
    out = Path(a.out)
    entries = render(out, run_proc=not a.no_proc)
    try: shown = out.resolve().relative_to(ROOT)
    except ValueError: shown = out
    print(f"preview: {len(entries)} pages in {shown}/ (open {shown}/index.html)")

if __name__ == '__main__': main()
