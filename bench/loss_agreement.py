"""kdbook's soft-target loss against fasterai's `SoftTarget` and torchdistill's `KDLoss`, on the same random logits.

    python bench/loss_agreement.py [--quick] [--batch 256] [--classes 10 100] [--temps 1 2 4 8 20] [--scales 1 5 20]

For each (classes, temperature, logit scale) the same float32 student/teacher logits go through every library. Compared:
loss values and the gradients with respect to the student logits, each against a float64 reference computed here
from the formula `T² · Σ_i p_i (log p_i − log q_i) / batch`, p = softmax(t/T), q = softmax(s/T).
Writes bench/results/loss_agreement.md.
"""
import argparse, sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import machine_info, command_line, stamp, write_result, md_table

warnings.filterwarnings('ignore', category=FutureWarning)   # torch.jit deprecation noise from torchdistill's imports
import torch
import torch.nn.functional as F
from kdbook.losses import soft_target_loss, distillation_loss, SoftTargetLoss
from fasterai.distill.losses import SoftTarget
from torchdistill.losses.mid_level import KDLoss

def reference(s, t, T):
    "float64 soft-target loss written from the formula."
    s,t = s.double(),t.double()
    log_q,log_p = F.log_softmax(s/T, -1),F.log_softmax(t/T, -1)
    return T*T*(log_p.exp()*(log_p - log_q)).sum(-1).mean()

def td(T, alpha=None, beta=None):
    return KDLoss('s', 'o', 't', 'o', temperature=T, alpha=alpha, beta=beta)
def td_call(loss, s, t, y=None): return loss({'s': {'o': s}}, {'t': {'o': t}}, y)

# Soft-target term only. torchdistill returns plain KL (no T²) when alpha is None/0 or no targets are given, so
# the comparable quantity is its value times T²: the rows say so.
LIBS = {
    'kdbook `soft_target_loss`':                      lambda s,t,T: soft_target_loss(s, t, T),
    'fasterai `SoftTarget`':                          lambda s,t,T: SoftTarget(s, t, T=T),
    'torchdistill `KDLoss(alpha=0)` × T²':            lambda s,t,T: td_call(td(T, alpha=0.), s, t) * T*T,
    'torchdistill `KDLoss(alpha=0)` as returned':     lambda s,t,T: td_call(td(T, alpha=0.), s, t),
}

def rel(a, b): a,b = float(torch.as_tensor(a).detach()),float(torch.as_tensor(b).detach()); return abs(a - b)/max(abs(b), 1e-30)
def grad_rel(g, gref): return float((g.double() - gref).abs().max() / gref.abs().max().clamp(min=1e-30))

def value_and_grad(f, s, t, *args):
    s = s.clone().requires_grad_(True)
    v = f(s, t, *args); v.backward()
    return v.detach(), s.grad

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='one batch size, two temperatures, one scale; writes nothing')
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--classes', type=int, nargs='+', default=[10, 100])
    ap.add_argument('--temps', type=float, nargs='+', default=[1., 2., 4., 8., 20.])
    ap.add_argument('--scales', type=float, nargs='+', default=[1., 5., 20.], help='std of the random logits')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    if a.quick: a.classes,a.temps,a.scales = [10],[1., 4.],[5.]
    t0 = time.time()
    g = torch.Generator().manual_seed(a.seed)
    worst = {k: [0., 0.] for k in LIBS}        # largest relative difference to the float64 reference: value, gradient
    cases = 0
    for C in a.classes:
        for scale in a.scales:
            s = torch.randn(a.batch, C, generator=g)*scale
            t = torch.randn(a.batch, C, generator=g)*scale
            for T in a.temps:
                ref_s = s.double().requires_grad_(True)
                ref = reference(ref_s, t, T); ref.backward(); gref = ref_s.grad
                cases += 1
                for k,f in LIBS.items():
                    v,gr = value_and_grad(f, s, t, T)
                    worst[k][0] = max(worst[k][0], rel(v, ref)); worst[k][1] = max(worst[k][1], grad_rel(gr, gref))

    def fmt(x): return f"{x:.1e}"
    rows = [[k, fmt(v), fmt(gv)] for k,(v,gv) in worst.items()]
    table = md_table(['implementation', 'largest relative difference, loss', 'largest relative difference, gradient'], rows)

    # The combined objective: kdbook's (ce_weight, kd_weight), fasterai's lerp weight, torchdistill's (alpha, beta).
    C,T = 10,4.
    s,t = torch.randn(a.batch, C, generator=g)*5,torch.randn(a.batch, C, generator=g)*5
    y = torch.randint(0, C, (a.batch,), generator=g)
    ce,kd = F.cross_entropy(s.double(), y),reference(s, t, T)
    ref = 0.1*ce + 0.9*kd
    ours = distillation_loss(s, t, y, SoftTargetLoss(T), ce_weight=0.1, kd_weight=0.9)
    fa = torch.lerp(F.cross_entropy(s, y), SoftTarget(s, t, T=T), 0.9)          # what KnowledgeDistillationCallback(weight=0.9) computes
    tdl = td_call(td(T, alpha=0.1, beta=0.9), s, t, y)
    tdl_noy = td_call(td(T, alpha=0.1, beta=0.9), s, t, None)
    crow = [
        ['kdbook `distillation_loss(s, t, y, SoftTargetLoss(4), ce_weight=0.1, kd_weight=0.9)`', fmt(rel(ours, ref))],
        ['fasterai `KnowledgeDistillationCallback(weight=0.9)`: `lerp(CE, SoftTarget, 0.9)`', fmt(rel(fa, ref))],
        ['torchdistill `KDLoss(alpha=0.1, beta=0.9)` with targets', fmt(rel(tdl, ref))],
        ['torchdistill `KDLoss(alpha=0.1, beta=0.9)` without targets (returns KL, no T², no weights)', fmt(rel(tdl_noy, 0.9*kd))],
    ]
    ctable = md_table(['combined objective 0.1 · CE + 0.9 · T² · KL (T = 4, 10 classes)', 'relative difference to float64'], crow)
    quick = "\n> `--quick` smoke run.\n" if a.quick else ""
    md = f"""# Soft-target loss: kdbook vs fasterai vs torchdistill
{quick}
Same float32 logits into each library; {cases} cases: {a.classes} classes × logit std {a.scales} × T {[f'{x:g}' for x in a.temps]},
batch {a.batch}, seed {a.seed}. Reference: float64, from the formula. Gradients are with respect to the student logits
(largest absolute difference over the largest reference entry).

{table}

{ctable}

Conventions (read before comparing numbers across libraries):

- **kdbook** `soft_target_loss(s, t, T)` = T² · KL(softmax(t/T) ‖ softmax(s/T)), summed over classes, mean over the
  batch, always with T², computed in float32 even for half-precision inputs. Weights are named: `ce_weight` (true
  labels) and `kd_weight` (teacher), defaults 0.1 / 0.9, not tied to sum to 1.
- **fasterai** `SoftTarget(pred, teacher_pred, T)` is the same quantity (default T = 5). Its callback combines it as
  `lerp(CE, KD, weight)` = (1 − weight) · CE + weight · KD: its `weight` is kdbook's `kd_weight` with
  `ce_weight = 1 − weight`. The callback replaces the loss on validation batches too, so fasterai's `valid_loss`
  includes the KD term; kdbook's `valid_loss` is the plain task loss.
- **torchdistill** `KDLoss(alpha, beta)` weights CE by `alpha` and T² · KL by `beta` (default 1 − alpha). When `alpha`
  is None or 0, or no targets are passed, it returns the bare KL **without T²** and without `beta`: the
  "as returned" row is off by exactly the factor T² (relative difference 1 − 1/T², 0 at T = 1), and the last row of the
  second table shows the missing weight. Multiply by T² yourself in that case, or the gradient shrinks by 1/T².
- Differences of order 1e-7 are float32 rounding: the three formulas are the same.

Machine: {machine_info('cpu', ('fasterai', 'torchdistill'))}. {stamp()}, {time.time()-t0:.1f} s.
Command: `{command_line(env=())}`
"""
    print(md)
    if a.quick: print("(--quick smoke run: nothing written)"); return
    print(f"written to {write_result('loss_agreement', md)}")

if __name__ == '__main__': main()
