"""Train the book's CIFAR-10 teacher (`kdbook.models.WhitenedCNN`) and write its shipped weights.

Usage: KDBOOK_CIFAR10=/path/to/cifar10.tgz python bench/train_teacher.py [--epochs 9] [--out kdbook/weights/cifar10_teacher.pt]
Checkpoints after every epoch (`--checkpoint`), and resumes from the checkpoint when it exists."""
import argparse, json, os, time
import torch
from kdbook.data import load_cifar10_arrays
from kdbook.models import WhitenedCNN, train_cifar_classifier, accuracy_on, save_weights, load_weights, n_params

p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=9)
p.add_argument('--bs', type=int, default=512)
p.add_argument('--lr', type=float, default=0.2)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--bf16', type=int, default=1)
p.add_argument('--n_train', type=int, default=None, help='train on a random n training images (a smoke test)')
p.add_argument('--checkpoint', default=os.path.expanduser('~/.cache/kdbook/cifar10_teacher_ckpt.pt'), help='written every epoch; resumed from')
p.add_argument('--init', default=None, help='fine-tune weights saved by save_weights (e.g. the shipped ones) instead of starting afresh')
p.add_argument('--out', default='kdbook/weights/cifar10_teacher.pt')
a = p.parse_args()
os.makedirs(os.path.dirname(os.path.abspath(a.checkpoint)), exist_ok=True)
torch.set_num_threads(a.threads)
x,y,_ = load_cifar10_arrays(split='train')
xt,yt,_ = load_cifar10_arrays(split='test')
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
