"""Writes golden fixtures for a reader of PyTorch `torch.save` files (the zip format of PyTorch >= 1.6).
For each case NAME: pytorch-pt/NAME.pt (torch.save of a state_dict) and pytorch-pt/NAME.expected.safetensors
with 'input' (float32), 'output', 'h_n', 'c_n' (and 'head_output' when the case has a Linear head on every
step), float64, computed by PyTorch in float64 from the very values stored in the .pt file, with zero initial
state; __metadata__.config is JSON (prefix, head_prefix, batch_first, num_layers, bidirectional, proj_size,
hidden_size, input_size, dtype, ...). Also writes refusal fixtures whole_module.pt and legacy_format.pt.
Deterministic (seeded); a rerun writes the same bytes.
usage: /usr/bin/python3 tests/LstmSimd.Tests/Golden/make_pt_golden.py [OUT_DIR]   (default: pytorch-pt next to this script)"""
import collections, copy, io, json, os, pickle, struct, sys, zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_safetensors  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch-pt")
T, B = 5, 2
DTYPE_NAMES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
summary = []


class LstmWithHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(4, 6, batch_first=True)
        self.fc = torch.nn.Linear(6, 2)

    def forward(self, x):
        out, (hn, cn) = self.lstm(x)
        return out, hn, cn, self.fc(out)


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)


def storage_ptr(t):
    return t.storage().data_ptr()


def zip_names(path):
    with zipfile.ZipFile(path) as z:
        return z.namelist()


def write_case(name, seed, make, dtype=torch.float32, head=False, mutate=None, note=""):
    """make() builds the float32 module; dtype converts it before saving; mutate(sd) may rewrite the saved dict."""
    torch.manual_seed(seed)
    m = make()
    m.eval()
    if dtype == torch.float16:
        m = m.half()
    elif dtype == torch.bfloat16:
        m = m.bfloat16()
    lstm = m.lstm if head else m
    x = torch.randn((B, T, lstm.input_size) if lstm.batch_first else (T, B, lstm.input_size))  # float32

    sd = m.state_dict()
    if mutate is not None:
        sd = mutate(sd)
    path = os.path.join(OUT, name + ".pt")
    torch.save(sd, path)

    # float64 expectation from the stored values (float16/bfloat16 widened exactly).
    md = copy.deepcopy(m).double()
    with torch.no_grad():
        if head:
            out, hn, cn, ho = md(x.double())
        else:
            out, (hn, cn) = md(x.double())
    arrays = collections.OrderedDict(input=x.numpy().astype(np.float32), output=out.numpy(), h_n=hn.numpy(), c_n=cn.numpy())
    if head:
        arrays["head_output"] = ho.numpy()
    cfg = dict(
        case=name, file=name + ".pt", module="LstmWithHead" if head else "LSTM",
        prefix="lstm." if head else "", head_prefix="fc." if head else None,
        head_in_features=m.fc.in_features if head else None, head_out_features=m.fc.out_features if head else None,
        batch_first=lstm.batch_first, num_layers=lstm.num_layers, bidirectional=lstm.bidirectional,
        proj_size=lstm.proj_size, hidden_size=lstm.hidden_size, input_size=lstm.input_size, bias=lstm.bias,
        dtype=DTYPE_NAMES[dtype], batch=B, seq_len=T, initial_state="zeros", seed=seed,
        keys=list(sd.keys()), torch=torch.__version__, note=note)
    golden_safetensors.save(os.path.join(OUT, name + ".expected.safetensors"), arrays, cfg)

    # Sanity: torch.load round-trips exactly, and the loaded weights (run in float32) give the expectation.
    loaded = torch.load(path)
    check(list(loaded.keys()) == list(sd.keys()), name + ": keys")
    for k, v in sd.items():
        check(loaded[k].dtype == v.dtype and loaded[k].shape == v.shape and torch.equal(loaded[k], v), name + ": value of " + k)
        check(loaded[k].stride() == v.stride() and loaded[k].storage_offset() == v.storage_offset(), name + ": layout of " + k)
    torch.manual_seed(seed)
    m32 = make()
    m32.load_state_dict({k: v.float() for k, v in loaded.items()})
    with torch.no_grad():
        r = m32(x) if head else m32(x)
    got = (r[0], r[1], r[2], r[3]) if head else (r[0], r[1][0], r[1][1])
    worst = 0.0
    for key, g in zip(("output", "h_n", "c_n", "head_output"), got):
        check(tuple(g.shape) == arrays[key].shape, name + ": shape of " + key)
        worst = max(worst, float(np.abs(g.double().numpy() - arrays[key]).max()))
    check(worst < 1e-5, "%s: float32 run differs from float64 expectation by %g" % (name, worst))
    summary.append((name, cfg["dtype"], len(sd), worst, loaded))
    return path, loaded


def non_contiguous(sd):
    sd = collections.OrderedDict(sd)
    w = sd["weight_hh_l0"]
    v = w.t().contiguous().t()  # same values, strides (1, rows)
    check(not v.is_contiguous() and torch.equal(v, w), "non_contiguous view")
    sd["weight_hh_l0"] = v
    w = sd["weight_ih_l0"]
    big = torch.full((100 + w.numel(),), float("nan"), dtype=w.dtype)  # NaN prefix: ignoring the offset shows
    big[100:] = w.flatten()
    view = big[100:].view_as(w)
    check(view.storage_offset() == 100 and torch.equal(view, w), "offset view")
    sd["weight_ih_l0"] = view
    return sd


def shared_storage(sd):
    sd = collections.OrderedDict(sd)
    n = sd["bias_ih_l0"].numel()
    both = torch.cat([sd["bias_ih_l0"], sd["bias_hh_l0"]])
    sd["bias_ih_l0"] = both[:n]
    sd["bias_hh_l0"] = both[n:]
    return sd


def stable_legacy_keys(path):
    """The legacy format names each storage by its memory address (str(storage._cdata)) and writes the storages
    sorted by that name, so two runs differ. Rename the keys to fixed decimal strings of the same form (in order of
    first use) and write the key list and the storages in that order, so that a rerun writes the same bytes. The
    layout stays what torch writes: magic, protocol, sys_info, object pickle, key-list pickle, then per storage an
    int64 element count and the raw float32 bytes. torch.load must still read it (checked by the caller)."""
    data = open(path, "rb").read()
    f = io.BytesIO(data)
    keys = []

    class U(pickle.Unpickler):
        def persistent_load(self, pid):
            if pid[2] not in keys:
                keys.append(pid[2])
            return None

        def find_class(self, module, name):  # walk the pickle without building tensors
            return collections.OrderedDict if name == "OrderedDict" else (lambda *a: None)
    for _ in range(3):  # magic number, protocol version, sys info
        pickle.load(f)
    U(f).load()
    obj_end = f.tell()
    listed = pickle.load(f)
    check(sorted(keys) == sorted(listed), "legacy keys")
    blocks = {}
    for k in listed:
        (n,) = struct.unpack("<q", f.read(8))
        blocks[k] = struct.pack("<q", n) + f.read(4 * n)  # float32 storages only
    check(f.read() == b"", "legacy tail fully parsed")
    obj = data[:obj_end]
    names = [str(140000000000000 + 64 * i) for i in range(len(keys))]
    for k, new in zip(keys, names):
        old_op = b"X" + struct.pack("<I", len(k)) + k.encode()
        check(obj.count(old_op) == 1, "legacy key occurs once")
        obj = obj.replace(old_op, b"X" + struct.pack("<I", len(new)) + new.encode())
    out = obj + pickle.dumps(names, protocol=2) + b"".join(blocks[k] for k in keys)
    open(path, "wb").write(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    write_case("single_layer", 101, lambda: torch.nn.LSTM(4, 6))
    write_case("two_layer_bidirectional", 102, lambda: torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True))
    write_case("projection", 103, lambda: torch.nn.LSTM(4, 8, proj_size=3))
    write_case("module_with_head", 104, LstmWithHead, head=True, note="head_output = fc(output) on every step")
    write_case("float16", 105, lambda: torch.nn.LSTM(4, 6), dtype=torch.float16, note="expectation from the float16 values widened")
    write_case("bfloat16", 106, lambda: torch.nn.LSTM(4, 6), dtype=torch.bfloat16, note="expectation from the bfloat16 values widened")

    p, ld = write_case("non_contiguous", 107, lambda: torch.nn.LSTM(4, 6), mutate=non_contiguous,
                       note="weight_hh_l0 strides (1,24); weight_ih_l0 storage_offset 100 into a storage of 196 floats (first 100 NaN)")
    check(not ld["weight_hh_l0"].is_contiguous() and ld["weight_hh_l0"].stride() == (1, 24), "loaded non-contiguous")
    check(ld["weight_ih_l0"].storage_offset() == 100 and ld["weight_ih_l0"].storage().size() == 196, "loaded offset")

    p, ld = write_case("shared_storage", 108, lambda: torch.nn.LSTM(4, 6), mutate=shared_storage,
                       note="bias_ih_l0 and bias_hh_l0 are views (offsets 0 and 24) into one storage of 48 floats")
    check(storage_ptr(ld["bias_ih_l0"]) == storage_ptr(ld["bias_hh_l0"]), "loaded biases share storage")
    check(ld["bias_hh_l0"].storage_offset() == 24 and ld["bias_hh_l0"].storage().size() == 48, "shared offsets")
    check(len([n for n in zip_names(p) if "/data/" in n]) == 3, "shared_storage: 3 storage records")

    # Refusal fixtures.
    torch.manual_seed(109)
    m = torch.nn.LSTM(4, 6)
    p = os.path.join(OUT, "whole_module.pt")
    torch.save(m, p)
    lm = torch.load(p)
    check(isinstance(lm, torch.nn.LSTM) and all(torch.equal(lm.state_dict()[k], v) for k, v in m.state_dict().items()), "whole_module")
    summary.append(("whole_module", "float32", len(m.state_dict()), 0.0, None))

    torch.manual_seed(110)
    m = torch.nn.LSTM(4, 6)
    p = os.path.join(OUT, "legacy_format.pt")
    torch.save(m.state_dict(), p, _use_new_zipfile_serialization=False)
    stable_legacy_keys(p)
    check(not zipfile.is_zipfile(p), "legacy is not a zip")
    ls = torch.load(p)
    check(all(torch.equal(ls[k], v) for k, v in m.state_dict().items()), "legacy_format")
    summary.append(("legacy_format", "float32", len(ls), 0.0, None))

    print("torch", torch.__version__, "->", OUT)
    for name, dt, n, worst, _ in summary:
        f = os.path.join(OUT, name + ".pt")
        e = os.path.join(OUT, name + ".expected.safetensors")
        print("%-24s %-8s %2d tensors  pt %6d B  expected %6s B  max|f32-f64| %.2e" % (
            name, dt, n, os.path.getsize(f), os.path.getsize(e) if os.path.exists(e) else "-", worst))


main()
