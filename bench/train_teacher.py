"""Train the book's CIFAR-10 teacher (`kdbook.models.WhitenedCNN`) and write its shipped weights.

Usage: KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/train_teacher.py [--epochs 16] [--out kdbook/weights/cifar10_teacher.pt]
       KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/train_teacher.py --quick   # smoke run: 1,000 images, 1 epoch, writes nothing
Checkpoints after every epoch (`--checkpoint`), and resumes from the checkpoint when it exists. Writes the run's
epochs, time and accuracy to bench/results/train_teacher.md (`--results`; `--results ''` writes nothing).

`--from-log LOG` rebuilds that results file from the JSON lines a finished run printed (no training)."""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch
from kdbook.data import load_cifar10_arrays
from kdbook.models import WhitenedCNN, train_cifar_classifier, accuracy_on, save_weights, load_weights, n_params

p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=16)
p.add_argument('--bs', type=int, default=512)
p.add_argument('--lr', type=float, default=0.2)
p.add_argument('--threads', type=int, default=os.cpu_count())
p.add_argument('--bf16', type=int, default=1)
p.add_argument('--n_train', type=int, default=None, help='train on a random n training images (a smoke test)')
p.add_argument('--checkpoint', default=os.path.expanduser('~/.cache/kdbook/cifar10_teacher_ckpt.pt'), help='written every epoch; resumed from')
p.add_argument('--init', default=None, help='fine-tune weights saved by save_weights (e.g. the shipped ones) instead of starting afresh')
p.add_argument('--out', default='kdbook/weights/cifar10_teacher.pt')
p.add_argument('--results', default='train_teacher', help="name of the results file in bench/results ('' for none)")
p.add_argument('--from-log', default=None, help='rebuild the results file from the printed output of a finished run')
p.add_argument('--quick', action='store_true', help='smoke run: 1,000 training images, 1 epoch; no weights, checkpoint or results written')
a = p.parse_args()
if a.quick:                                          # everything it writes goes to a temporary folder
    tmp = tempfile.mkdtemp(prefix='train_teacher_quick_')
    a.n_train,a.epochs,a.results = 1000,1,''
    a.out,a.checkpoint = os.path.join(tmp, 'teacher.pt'),os.path.join(tmp, 'ckpt.pt')

def results_md(hist, meta, command):
    "The run as markdown: one line per epoch, then the totals and the test accuracy."
    from common import md_table, machine_info, stamp
    rows = [[h['epoch'], f"{h['loss']:.3f}", f"{h['wall_s']:.1f}", f"{h['cpu_s']:.1f}", f"{h['images_per_s']:.0f}", f"{h['load_avg']:.2f}"] for h in hist]
    return '\n'.join([
        '# The book\'s CIFAR-10 teacher: one training run', '',
        f"{meta['arch']}, {meta['params']:,} parameters; {meta['epochs']} epochs on {meta['n_train']:,} training images, batch {meta['bs']}, "
        f"peak learning rate {meta['lr']}, label smoothing {meta['label_smoothing']}, {meta['augment']}, bfloat16 autocast: {meta['bf16']}, "
        f"{meta['threads']} torch threads.", '',
        md_table(['epoch', 'training loss', 'wall s', 'CPU s', 'images / s', 'load average'], rows), '',
        f"**Total: {meta['train_wall_s']:.0f} s wall ({meta['train_wall_s']/60:.1f} min), {meta['train_cpu_s']:.0f} s of CPU time; "
        f"test accuracy {meta['test_acc']:.2%}, {meta['test_acc_tta']:.2%} with flip test-time augmentation** "
        f"(10,000 test images, the float16 weights as shipped; file size {meta.get('file_bytes', 0):,} bytes).", '',
        f"Machine: {machine_info()}. Command: `{command}`. {stamp()}."])

if a.from_log:
    lines = Path(a.from_log).read_text().splitlines()
    hist = [json.loads(l) for l in lines if l.startswith('{"epoch"')]
    start = lines.index('{'); end = next(i for i in range(start, len(lines)) if lines[i].startswith('}'))
    meta = json.loads('\n'.join(lines[start:end] + ['}']))
    meta['file_bytes'] = int(next(l for l in lines if l.startswith('file size')).split()[2])
    cmd = f"KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/train_teacher.py --epochs {meta['epochs']} --threads {meta['threads']}"
    from common import write_result
    print(write_result(a.results, results_md(hist, meta, cmd) + '\n\nRebuilt from the run\'s printed log with `--from-log`.'))
    sys.exit()
os.makedirs(os.path.dirname(os.path.abspath(a.checkpoint)), exist_ok=True)
torch.set_num_threads(a.threads)
try: x,y,_ = load_cifar10_arrays(split='train'); xt,yt,_ = load_cifar10_arrays(split='test')
except FileNotFoundError as e: sys.exit(f"bench/train_teacher.py needs real CIFAR-10: {e}")
if a.n_train:                                        # the arrays are sorted by class: pick at random
    i = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:a.n_train]; x,y = x[i],y[i]
m = WhitenedCNN()
base = load_weights(m, a.init) if a.init else None
t0,c0 = time.time(),time.process_time()
log = lambda h: print(json.dumps({k: round(v,3) if isinstance(v,float) else v for k,v in h.items()}), flush=True)
hist = train_cifar_classifier(m, x, y, epochs=a.epochs, bs=a.bs, lr=a.lr, bf16=bool(a.bf16), checkpoint=a.checkpoint, on_epoch=log,
                              whiten=base is None)
wall = sum(h['wall_s'] for h in hist); cpu = sum(h['cpu_s'] for h in hist)
meta = dict(arch='WhitenedCNN(widths=(32,64,128))', epochs=a.epochs, bs=a.bs, lr=a.lr, label_smoothing=0.1, augment='pad-4 crop + flip',
            bf16=bool(a.bf16), threads=a.threads, n_train=len(x), params=n_params(m), train_wall_s=wall, train_cpu_s=cpu,
            uncontended_est_s=cpu/2 if a.threads==1 else cpu/a.threads, images_per_s=len(x)*len(hist)/wall,
            mean_load_avg=sum(h['load_avg'] for h in hist)/len(hist))
if base is not None:                                 # a fine-tuning run: add the base run's cost and keep its recipe
    meta = dict(meta, base_epochs=base['epochs'], base_lr=base['lr'], finetune_epochs=a.epochs, finetune_lr=a.lr,
                epochs=base['epochs']+a.epochs, lr=base['lr'], train_wall_s=base['train_wall_s']+wall,
                train_cpu_s=base['train_cpu_s']+cpu, uncontended_est_s=(base['train_cpu_s']+cpu)/2,
                images_per_s=len(x)*(base['epochs']+a.epochs)/(base['train_wall_s']+wall),
                base_test_acc=base['test_acc'], base_test_acc_tta=base['test_acc_tta'], base_mean_load_avg=base['mean_load_avg'],
                finetune_mean_load_avg=meta['mean_load_avg'],
                mean_load_avg=(base['mean_load_avg']*base['epochs']+meta['mean_load_avg']*a.epochs)/(base['epochs']+a.epochs))
save_weights(m, a.out, meta)
m2 = WhitenedCNN(); load_weights(m2, a.out)          # state the accuracy of the float16 weights that ship
meta.update(test_acc=accuracy_on(m2, xt, yt), test_acc_tta=accuracy_on(m2, xt, yt, tta=True))
save_weights(m, a.out, meta)
print(json.dumps(meta, indent=1), f"\nfile size {os.path.getsize(a.out)} bytes")
if a.results:
    from common import write_result, command_line
    print(write_result(a.results, results_md(hist, dict(meta, file_bytes=os.path.getsize(a.out)), command_line())))
