"""Makes tests/data/gguf_quants/, the goldens of tests/toolkit/test_gguf_quants.cpp, from the pinned
`gguf` package (gguf-py, requirements.txt): ggml block dequantization by `gguf.quants.dequantize`,
Q8_0 quantization by `gguf.quants.quantize`, float32 -> F16 by numpy's astype(float16) (what
gguf-py's F16 quantize is) and float32 -> BF16 by gguf-py's BF16 quantize.

Run: .venv/bin/python tests/reference/make_gguf_quant_goldens.py   (deterministic; rewrites the folder)

Inputs, all seeded:
- every dequantized type gets blocks of random bytes (any bytes are a valid block; the fp16 scales
  then range over the whole half line: subnormals, inf, NaN), the same with the fp16 scale fields
  set to realistic values (|d| in 1e-6..1, so also half subnormals), and, where gguf-py can
  quantize the type (Q4_0..Q8_0), blocks quantized from random floats. F16/BF16 get random bit
  patterns plus the edge patterns; F32 random floats and edge values.
- quantize_q8_0: random blocks at many scales, plus zero, signed-zero, subnormal-only, huge,
  round-half ties, inf and NaN blocks. (Non-finite input gives x86 numpy's float -> int8 cast: 0.)
- F16/BF16 encoding: random bit patterns (every exponent, NaN payloads included), exact ties
  between neighbouring half/bf16 values, and edge values.
Files are little-endian raw arrays: <TYPE>.raw (blocks) with <TYPE>.f32 (expected float32), and the
encoder inputs/outputs; manifest.json names them, and lists gguf-py's ggml type names by value.
"""
import json
import os
from importlib.metadata import version

import numpy as np

import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "gguf_quants")

# Byte offsets of the fp16 scale fields in each block type (gguf-py's dequantize_blocks layouts).
F16_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
QUANTIZABLE = {T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0}

F16_EDGES = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
             0x7C01, 0x7DFF, 0x7E00, 0xFE00, 0x7FFF, 0xFFFF]
BF16_EDGES = [0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x3F80, 0x7F7F, 0xFF7F, 0x7F80, 0xFF80, 0x7F81,
              0x7FC0, 0xFFC0, 0x7FFF, 0xFFFF]
# float32 bit patterns at the edges of the half and bfloat16 ranges.
F32_EDGES = [
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000,  # f32 subnormals
    0x33000000, 0x33000001, 0x32FFFFFF, 0x33800000, 0x33C00000, 0x38800000,  # half subnormal edges
    0x387FE000, 0x387FF000, 0x387FF001,  # just below the smallest normal half, ties
    0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000, 0xC77FF000,  # 65504, 65520, 65536
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F7F8000, 0x7F7F7FFF,  # largest float, bf16 overflow ties
    0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FA00000, 0xFFFFFFFF, 0x7FBFFFFF,
    0x3F808000, 0x3F818000, 0x3F802000, 0x3F803000, 0x3F801000,  # bf16 / half ties near 1
]


def bits_f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def random_blocks(rng, qtype, count):
    _, type_size = GGML_QUANT_SIZES[qtype]
    return rng.integers(0, 256, size=(count, type_size), dtype=np.uint8)


def with_sane_scales(rng, qtype, blocks):
    blocks = blocks.copy()
    for off in F16_FIELDS[qtype]:
        mag = 10.0 ** rng.uniform(-6, 0, size=len(blocks))
        d = (mag * rng.choice([-1.0, 1.0], size=len(blocks))).astype(np.float16)
        blocks[:, off:off + 2] = d.view(np.uint8).reshape(-1, 2)
    return blocks


def quantized_blocks(rng, qtype, count):
    block_size, _ = GGML_QUANT_SIZES[qtype]
    scale = (10.0 ** rng.uniform(-3, 2, size=(count, 1))).astype(np.float32)
    x = (rng.standard_normal((count, block_size)).astype(np.float32) * scale).astype(np.float32)
    return gguf.quants.quantize(x.reshape(-1), qtype).reshape(count, -1)


def dequant_input(rng, qtype):
    """Raw bytes (uint8) for one dequantized type."""
    if qtype == T.F32:
        x = rng.standard_normal(1024).astype(np.float32) * np.float32(100)
        return np.concatenate([x.view(np.uint32), np.array(F32_EDGES, np.uint32)]).view(np.uint8)
    if qtype in (T.F16, T.BF16):
        edges = F16_EDGES if qtype == T.F16 else BF16_EDGES
        bits = np.concatenate([rng.integers(0, 1 << 16, size=1024 + 15).astype(np.uint16),
                               np.array(edges, np.uint16)])
        return bits.view(np.uint8)
    k_quant = GGML_QUANT_SIZES[qtype][0] == 256
    per_kind = 6 if k_quant else 24
    parts = [random_blocks(rng, qtype, per_kind), with_sane_scales(rng, qtype, random_blocks(rng, qtype, per_kind))]
    if qtype in QUANTIZABLE:
        parts.append(quantized_blocks(rng, qtype, 16))
    return np.concatenate(parts).reshape(-1)


def q8_0_input(rng):
    blocks = [rng.standard_normal(32) * 10.0 ** rng.uniform(-4, 4) for _ in range(48)]
    blocks += [
        np.zeros(32),
        np.where(np.arange(32) % 2 == 0, 0.0, -0.0),
        bits_f32([0x00000001 + 7919 * i for i in range(32)]),  # f32 subnormals only: 1/d is inf
        np.concatenate([bits_f32([0x00000010 + i for i in range(16)]), rng.standard_normal(16)]),
        rng.standard_normal(32) * 1e37,  # d beyond half: inf scale
        np.concatenate([[127.0], np.arange(31) - 15.5]),  # d == 1: every x.5 is a tie
        np.concatenate([[-127.0], (np.arange(31) - 15) * 0.5]),
        np.concatenate([[np.inf], rng.standard_normal(31)]),
        np.concatenate([[np.nan], rng.standard_normal(31)]),
    ]
    return np.concatenate(blocks).astype(np.float32)


def encoder_input(rng, ulp_shift):
    """float32 values for the F16 (ulp_shift 13) / BF16 (ulp_shift 16) encoders."""
    random_bits = rng.integers(0, 1 << 32, size=1024, dtype=np.uint64).astype(np.uint32)
    # Half-range values, and exact midpoints between neighbouring encodable values.
    in_range = (rng.standard_normal(512) * 10.0 ** rng.uniform(-8, 4.8, size=512)).astype(np.float32)
    ties = (rng.integers(0, 1 << 32, size=256, dtype=np.uint64).astype(np.uint32) >> ulp_shift << ulp_shift)
    ties = ties | np.uint32(1 << (ulp_shift - 1))
    if ulp_shift == 13:  # f16: ties between normal halves, and between subnormal halves (unit 2^-24)
        exponent = rng.integers(113, 143, size=ties.size).astype(np.uint32) << np.uint32(23)
        ties = (ties & np.uint32(0x807FFFFF)) | exponent
        sub = (rng.integers(0, 1024, size=64) + 0.5) * 2.0**-24 * rng.choice([-1.0, 1.0], size=64)
        ties = np.concatenate([ties, sub.astype(np.float32).view(np.uint32)])
    return np.concatenate([random_bits, in_range.view(np.uint32), ties,
                           np.array(F32_EDGES, np.uint32)]).view(np.float32)


def write(name, array):
    array.tofile(os.path.join(OUT, name))
    return name


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    rng = np.random.default_rng(20250601)
    manifest = {"generator": f"gguf {version('gguf')}, numpy {np.__version__}",
                "type_names": {str(int(t)): t.name for t in T}, "dequantize": []}
    types = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
             T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]
    with np.errstate(all="ignore"):
        for qtype in types:
            raw = dequant_input(rng, qtype)
            expected = gguf.quants.dequantize(raw, qtype).astype(np.float32, copy=False).reshape(-1)
            assert expected.dtype == np.float32
            manifest["dequantize"].append({
                "type": qtype.name, "value": int(qtype), "n": int(expected.size),
                "raw": write(f"{qtype.name}.raw", raw), "expected": write(f"{qtype.name}.f32", expected)})

        x = q8_0_input(rng)
        q = gguf.quants.quantize(x, T.Q8_0).reshape(-1)
        manifest["quantize_q8_0"] = {"n": int(x.size), "input": write("q8_0_in.f32", x),
                                     "expected": write("q8_0_out.raw", q)}

        x = encoder_input(rng, 13)
        h = x.astype(np.float16).view(np.uint16)
        manifest["float_to_f16"] = {"n": int(x.size), "input": write("f16_in.f32", x),
                                    "expected": write("f16_out.u16", h)}

        x = encoder_input(rng, 16)
        b = gguf.quants.quantize(x, T.BF16).view(np.uint16).reshape(-1)
        manifest["float_to_bf16"] = {"n": int(x.size), "input": write("bf16_in.f32", x),
                                     "expected": write("bf16_out.u16", b)}

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
