#!/usr/bin/env python3
"""Convert a darknet YOLO model (cfg + weights) into an ONNX graph.

Written for camtwin's person detector (yolov4-tiny). Supported sections:
[net], [convolutional], [maxpool], [route], [upsample] and [yolo]; anything
else is rejected with an error rather than silently mistranslated.

The graph takes one input (`images`, 1x3xHxW float32, RGB in [0,1], H/W from
the cfg) and returns, for every [yolo] section in cfg order, the RAW output of
the layer that feeds it (1 x A*(5+classes) x gh x gw).  No sigmoid/exp/anchor
decoding happens in the graph: the consumer decodes with the parameters
recorded in the JSON sidecar.

Usage:
  darknet2onnx.py --cfg X.cfg --weights X.weights --onnx out.onnx --json out.json
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
# darknet's CPU inference normalises with (x - mean) / sqrt(var + .000001f)
# (its cuDNN path uses 1e-5). OpenCV's darknet importer also uses 1e-6; with
# 1e-5 the raw head outputs drift from it by up to ~5e-3, with 1e-6 by ~4e-5.
BN_EPS = 1e-6
LEAKY_ALPHA = 0.1


class ConvertError(Exception):
    pass


# --------------------------------------------------------------------------
# cfg parsing
# --------------------------------------------------------------------------

def parse_cfg(path):
    """Return a list of (section_type, {key: value_str}, line_no)."""
    sections = []
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for line_no, raw in enumerate(fh, 1):
            line = raw.strip()
            for marker in ("#", ";"):
                idx = line.find(marker)
                if idx >= 0:
                    line = line[:idx].strip()
            if not line:
                continue
            if line.startswith("["):
                if not line.endswith("]"):
                    raise ConvertError(f"{path}:{line_no}: bad section header {line!r}")
                sections.append((line[1:-1].strip().lower(), {}, line_no))
                continue
            if "=" not in line:
                raise ConvertError(f"{path}:{line_no}: expected key=value, got {line!r}")
            if not sections:
                raise ConvertError(f"{path}:{line_no}: option before first section")
            key, value = line.split("=", 1)
            sections[-1][1][key.strip()] = value.strip()
    if not sections or sections[0][0] not in ("net", "network"):
        raise ConvertError(f"{path}: first section must be [net]")
    return sections


class Opts:
    """Typed access to one section's options; tracks which keys were read."""

    def __init__(self, kind, values, line_no):
        self.kind = kind
        self.values = values
        self.line_no = line_no

    def has(self, key):
        return key in self.values

    def int(self, key, default=None):
        if key not in self.values:
            if default is None:
                raise ConvertError(f"[{self.kind}] at line {self.line_no}: missing {key}=")
            return default
        return int(self.values[key])

    def float(self, key, default):
        return float(self.values[key]) if key in self.values else default

    def str(self, key, default):
        return self.values.get(key, default)

    def ints(self, key, default=None):
        if key not in self.values:
            if default is None:
                raise ConvertError(f"[{self.kind}] at line {self.line_no}: missing {key}=")
            return list(default)
        return [int(v) for v in self.values[key].split(",") if v.strip()]

    def reject(self, key, allowed_default):
        """Fail if an option that would change semantics has a non-default value."""
        if key in self.values and self.values[key] != str(allowed_default):
            raise ConvertError(
                f"[{self.kind}] at line {self.line_no}: {key}={self.values[key]} is not supported")


# --------------------------------------------------------------------------
# weights reading
# --------------------------------------------------------------------------

class WeightReader:
    def __init__(self, path):
        with open(path, "rb") as fh:
            data = fh.read()
        if len(data) < 16:
            raise ConvertError(f"{path}: too short for a darknet weights header")
        major, minor, revision = np.frombuffer(data, dtype="<i4", count=3)
        offset = 12
        if major * 10 + minor >= 2:
            seen = int(np.frombuffer(data, dtype="<i8", count=1, offset=offset)[0])
            offset += 8
        else:
            seen = int(np.frombuffer(data, dtype="<i4", count=1, offset=offset)[0])
            offset += 4
        if (len(data) - offset) % 4:
            raise ConvertError(f"{path}: payload is not a whole number of float32 values")
        self.header = {"major": int(major), "minor": int(minor),
                       "revision": int(revision), "seen": seen}
        self.floats = np.frombuffer(data, dtype="<f4", offset=offset)
        self.pos = 0
        self.path = path

    def take(self, count, what):
        if self.pos + count > self.floats.size:
            raise ConvertError(
                f"{self.path}: ran out of weights reading {what} "
                f"(need {count}, {self.floats.size - self.pos} left)")
        out = self.floats[self.pos:self.pos + count].astype(np.float64)
        self.pos += count
        return out

    def remaining(self):
        return self.floats.size - self.pos


# --------------------------------------------------------------------------
# graph building
# --------------------------------------------------------------------------

class Graph:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.counter = 0

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, name, **attrs):
        out = name
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out


class Layer:
    """Output description of one darknet layer (index = position after [net])."""

    def __init__(self, tensor, c, h, w, kind):
        self.tensor, self.c, self.h, self.w, self.kind = tensor, c, h, w, kind


def activation(g, x, act, prefix):
    if act == "linear":
        return x
    if act == "leaky":
        return g.node("LeakyRelu", [x], f"{prefix}_leaky", alpha=LEAKY_ALPHA)
    if act == "relu":
        return g.node("Relu", [x], f"{prefix}_relu")
    if act == "logistic":
        return g.node("Sigmoid", [x], f"{prefix}_sigmoid")
    if act == "mish":
        sp = g.node("Softplus", [x], f"{prefix}_softplus")
        th = g.node("Tanh", [sp], f"{prefix}_tanh")
        return g.node("Mul", [x, th], f"{prefix}_mish")
    raise ConvertError(f"{prefix}: activation={act} is not supported")


def build_conv(g, opts, idx, prev, reader):
    for key, default in (("dilation", 1), ("binary", 0), ("xnor", 0),
                         ("antialiasing", 0), ("deform", 0)):
        opts.reject(key, default)
    if opts.has("share_index"):
        raise ConvertError(f"layer {idx}: share_index is not supported")
    filters = opts.int("filters", 1)
    size = opts.int("size", 1)
    stride = opts.int("stride", 1)
    stride_x = opts.int("stride_x", stride)
    stride_y = opts.int("stride_y", stride)
    groups = opts.int("groups", 1)
    if opts.int("pad", 0):
        pad = size // 2
    else:
        pad = opts.int("padding", 0)
    bn = opts.int("batch_normalize", 0)
    act = opts.str("activation", "logistic")
    c = prev.c
    if c % groups or filters % groups:
        raise ConvertError(f"layer {idx}: channels {c}/filters {filters} not divisible by groups {groups}")

    n_w = filters * (c // groups) * size * size
    prefix = f"conv_{idx}"
    bias = reader.take(filters, f"{prefix} biases")
    if bn:
        gamma = reader.take(filters, f"{prefix} bn scales")
        mean = reader.take(filters, f"{prefix} bn rolling_mean")
        var = reader.take(filters, f"{prefix} bn rolling_variance")
    weights = reader.take(n_w, f"{prefix} weights").reshape(filters, c // groups, size, size)
    if bn:
        k = gamma / np.sqrt(var + BN_EPS)
        weights = weights * k[:, None, None, None]
        bias = bias - mean * k

    w_name = g.const(f"{prefix}.weight", weights.astype(np.float32))
    b_name = g.const(f"{prefix}.bias", bias.astype(np.float32))
    out = g.node("Conv", [prev.tensor, w_name, b_name], prefix,
                 kernel_shape=[size, size], strides=[stride_y, stride_x],
                 pads=[pad, pad, pad, pad], dilations=[1, 1], group=groups)
    out = activation(g, out, act, prefix)
    out_h = (prev.h + 2 * pad - size) // stride_y + 1
    out_w = (prev.w + 2 * pad - size) // stride_x + 1
    return Layer(out, filters, out_h, out_w, "convolutional")


def maxpool_pads(in_len, size, stride, padding):
    """ONNX (begin, end) pads reproducing darknet's maxpool window placement.

    darknet: out = (in + padding - size) / stride + 1, window i starts at
    i*stride - padding/2; out-of-range cells are ignored (as ONNX does).
    """
    out = (in_len + padding - size) // stride + 1
    begin = padding // 2
    end = (out - 1) * stride + size - in_len - begin
    end = max(end, 0)
    onnx_out = (in_len + begin + end - size) // stride + 1
    if onnx_out != out:
        raise ConvertError(f"maxpool: cannot express darknet padding for in={in_len} "
                           f"size={size} stride={stride} padding={padding}")
    return out, begin, end


def build_maxpool(g, opts, idx, prev):
    for key in ("maxpool_depth", "antialiasing"):
        opts.reject(key, 0)
    size = opts.int("size", 1)
    stride = opts.int("stride", 1)
    stride_x = opts.int("stride_x", stride)
    stride_y = opts.int("stride_y", stride)
    padding = opts.int("padding", size - 1)
    out_h, top, bottom = maxpool_pads(prev.h, size, stride_y, padding)
    out_w, left, right = maxpool_pads(prev.w, size, stride_x, padding)
    out = g.node("MaxPool", [prev.tensor], f"maxpool_{idx}",
                 kernel_shape=[size, size], strides=[stride_y, stride_x],
                 pads=[top, left, bottom, right])
    return Layer(out, prev.c, out_h, out_w, "maxpool")


def build_route(g, opts, idx, layers):
    refs = opts.ints("layers")
    groups = opts.int("groups", 1)
    group_id = opts.int("group_id", 0)
    if not 0 <= group_id < groups:
        raise ConvertError(f"layer {idx}: group_id {group_id} out of range for groups={groups}")
    parts = []
    h = w = None
    for r in refs:
        src = r + idx if r < 0 else r
        if not 0 <= src < idx:
            raise ConvertError(f"layer {idx}: route to invalid layer {r}")
        layer = layers[src]
        if layer.kind == "yolo":
            raise ConvertError(f"layer {idx}: route from a [yolo] layer is not supported")
        if h is None:
            h, w = layer.h, layer.w
        elif (layer.h, layer.w) != (h, w):
            raise ConvertError(f"layer {idx}: route inputs differ in spatial size")
        if layer.c % groups:
            raise ConvertError(f"layer {idx}: {layer.c} channels not divisible by groups={groups}")
        part = layer.c // groups
        tensor = layer.tensor
        if groups > 1:
            name = f"route_{idx}_slice{len(parts)}"
            starts = g.const(f"{name}.starts", np.array([group_id * part], dtype=np.int64))
            ends = g.const(f"{name}.ends", np.array([(group_id + 1) * part], dtype=np.int64))
            axes = g.const(f"{name}.axes", np.array([1], dtype=np.int64))
            tensor = g.node("Slice", [tensor, starts, ends, axes], name)
        parts.append((tensor, part))
    channels = sum(p for _, p in parts)
    if len(parts) == 1:
        out = parts[0][0]
    else:
        out = g.node("Concat", [t for t, _ in parts], f"route_{idx}", axis=1)
    return Layer(out, channels, h, w, "route")


def build_upsample(g, opts, idx, prev):
    stride = opts.int("stride", 2)
    scale = opts.float("scale", 1.0)
    if stride <= 0:
        raise ConvertError(f"layer {idx}: downsampling [upsample] (stride<0) is not supported")
    if scale != 1.0:
        raise ConvertError(f"layer {idx}: [upsample] scale != 1 is not supported")
    scales = g.const(f"upsample_{idx}.scales",
                     np.array([1.0, 1.0, float(stride), float(stride)], dtype=np.float32))
    # Nearest neighbour, out[y][x] = in[y // stride][x // stride], as darknet does.
    out = g.node("Resize", [prev.tensor, "", scales], f"upsample_{idx}",
                 mode="nearest", coordinate_transformation_mode="asymmetric",
                 nearest_mode="floor")
    return Layer(out, prev.c, prev.h * stride, prev.w * stride, "upsample")


def build_yolo(opts, idx, prev, net_w, net_h):
    classes = opts.int("classes", 20)
    num = opts.int("num", 1)
    mask = opts.ints("mask", list(range(num)))
    anchors_flat = [float(v) for v in opts.str("anchors", "").split(",") if v.strip()]
    if len(anchors_flat) != 2 * num:
        raise ConvertError(f"layer {idx}: expected {2 * num} anchor values, got {len(anchors_flat)}")
    if any(m < 0 or m >= num for m in mask):
        raise ConvertError(f"layer {idx}: mask {mask} out of range for num={num}")
    opts.reject("new_coords", 0)
    expect_c = len(mask) * (5 + classes)
    if prev.c != expect_c:
        raise ConvertError(f"layer {idx}: [yolo] input has {prev.c} channels, expected {expect_c}")
    if net_w % prev.w or net_h % prev.h or net_w // prev.w != net_h // prev.h:
        raise ConvertError(f"layer {idx}: grid {prev.w}x{prev.h} does not divide input evenly")
    anchors = []
    for m in mask:
        aw, ah = anchors_flat[2 * m], anchors_flat[2 * m + 1]
        anchors.append([int(aw) if aw.is_integer() else aw, int(ah) if ah.is_integer() else ah])
    return {
        "layer_index": idx,
        "source_tensor": prev.tensor,
        "grid_w": prev.w,
        "grid_h": prev.h,
        "stride": net_w // prev.w,
        "mask": mask,
        "anchors": anchors,
        "num_anchors": len(mask),
        "scale_x_y": opts.float("scale_x_y", 1.0),
        "classes": classes,
        "channels": prev.c,
    }


def convert(cfg_path, weights_path, input_name="images"):
    sections = parse_cfg(cfg_path)
    net = Opts(*sections[0])
    net_w = net.int("width")
    net_h = net.int("height")
    net_c = net.int("channels", 3)
    reader = WeightReader(weights_path)

    g = Graph()
    layers = []
    heads = []
    prev = Layer(input_name, net_c, net_h, net_w, "input")
    for idx, (kind, values, line_no) in enumerate(sections[1:]):
        opts = Opts(kind, values, line_no)
        if kind in ("convolutional", "conv"):
            layer = build_conv(g, opts, idx, prev, reader)
        elif kind in ("maxpool", "max"):
            layer = build_maxpool(g, opts, idx, prev)
        elif kind == "route":
            layer = build_route(g, opts, idx, layers)
        elif kind == "upsample":
            layer = build_upsample(g, opts, idx, prev)
        elif kind in ("yolo", "region_yolo"):
            heads.append(build_yolo(opts, idx, prev, net_w, net_h))
            layer = Layer(prev.tensor, prev.c, prev.h, prev.w, "yolo")
        else:
            raise ConvertError(f"[{kind}] (cfg line {line_no}) is not supported")
        layers.append(layer)
        prev = layer

    if reader.remaining():
        raise ConvertError(f"{weights_path}: {reader.remaining()} float values left unread; "
                           "cfg and weights do not match")
    if not heads:
        raise ConvertError("cfg has no [yolo] layer")

    # Give each head's tensor a stable public name.
    rename = {}
    for k, head in enumerate(heads):
        src = head["source_tensor"]
        if src in rename:
            raise ConvertError("two [yolo] layers read the same tensor")
        if src == input_name:
            raise ConvertError("a [yolo] layer reads the graph input directly")
        rename[src] = head["name"] = f"yolo{k}"
    for node in g.nodes:
        node.input[:] = [rename.get(t, t) for t in node.input]
        node.output[:] = [rename.get(t, t) for t in node.output]

    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, net_c, net_h, net_w])]
    outputs = [helper.make_tensor_value_info(h["name"], TensorProto.FLOAT,
                                             [1, h["channels"], h["grid_h"], h["grid_w"]])
               for h in heads]
    graph = helper.make_graph(g.nodes, "darknet_yolo", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="camtwin-darknet2onnx", producer_version="1")
    model.ir_version = 7  # the IR version that introduced opset 13; widest runtime support
    onnx.checker.check_model(model)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    for out in inferred.graph.output:
        dims = [d.dim_value for d in out.type.tensor_type.shape.dim]
        want = next([1, h["channels"], h["grid_h"], h["grid_w"]] for h in heads if h["name"] == out.name)
        if dims != want:
            raise ConvertError(f"shape inference gives {dims} for {out.name}, expected {want}")
    return model, heads, (net_w, net_h, net_c), reader.header


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cfg", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--onnx", required=True, help="output .onnx path")
    ap.add_argument("--json", required=True, help="output sidecar .json path")
    ap.add_argument("--input-name", default="images")
    ap.add_argument("--source", default="", help="free-text provenance recorded in the JSON")
    args = ap.parse_args(argv)

    try:
        model, heads, (net_w, net_h, net_c), header = convert(args.cfg, args.weights, args.input_name)
    except ConvertError as exc:
        print(f"darknet2onnx: error: {exc}", file=sys.stderr)
        return 1

    with open(args.onnx, "wb") as fh:
        fh.write(model.SerializeToString())

    sidecar = {
        "format": "darknet-yolo-raw-heads",
        "format_version": 1,
        "input": {"name": args.input_name, "width": net_w, "height": net_h, "channels": net_c,
                  "layout": "NCHW", "color": "RGB", "range": [0.0, 1.0]},
        "outputs": [{
            "name": h["name"],
            "shape": [1, h["channels"], h["grid_h"], h["grid_w"]],
            "grid_w": h["grid_w"],
            "grid_h": h["grid_h"],
            "stride": h["stride"],
            "anchors": h["anchors"],
            "mask": h["mask"],
            "scale_x_y": h["scale_x_y"],
            "classes": h["classes"],
            "darknet_layer": h["layer_index"],
        } for h in heads],
        "decode": ("channel a*(5+classes)+k at (gy,gx): k=0..3 tx,ty,tw,th; k=4 objectness; "
                   "k>=5 class logits. x=(gx+sigmoid(tx)*s-(s-1)/2)*stride, "
                   "y likewise, w=anchor_w*exp(tw), h=anchor_h*exp(th) in input pixels; "
                   "score=sigmoid(obj)*sigmoid(cls); s=scale_x_y"),
        "source": {
            "description": args.source,
            "cfg": {"file": os.path.basename(args.cfg), "sha256": sha256_of(args.cfg)},
            "weights": {"file": os.path.basename(args.weights), "sha256": sha256_of(args.weights),
                        "header": header},
        },
        "converter": {"script": os.path.basename(__file__), "script_sha256": sha256_of(__file__),
                      "onnx_package": onnx.__version__, "numpy_package": np.__version__,
                      "opset": OPSET, "bn_epsilon": BN_EPS, "leaky_alpha": LEAKY_ALPHA},
    }
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump(sidecar, fh, indent=2)
        fh.write("\n")

    shapes = ", ".join(f"{h['name']} 1x{h['channels']}x{h['grid_h']}x{h['grid_w']}" for h in heads)
    print(f"darknet2onnx: {args.input_name} 1x{net_c}x{net_h}x{net_w} -> {shapes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
