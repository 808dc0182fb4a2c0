#!/usr/bin/python3
"""Writes the seed inputs of fuzz_hdf5 and fuzz_segy into fuzz/corpus/ (small, valid files).

Run with Debian's /usr/bin/python3 (python3-h5py). SEG-Y is written byte by byte with struct:
3200-byte text header, 400-byte big-endian binary header, then 240-byte trace headers and samples.
"""
import os
import struct

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def hdf5_seeds(folder):
    rng = np.random.default_rng(0)
    with h5py.File(os.path.join(folder, "stead_attributes.h5"), "w", libver="earliest") as f:
        group = f.create_group("data")
        for i, name in enumerate(["A.ST1_EV", "B.ST2_NO"]):
            d = group.create_dataset(name, data=rng.standard_normal((16, 3)).astype("f4"))
            d.attrs["p_arrival_sample"] = 4.0 + i if i == 0 else ""
            d.attrs["s_arrival_sample"] = 9.5 if i == 0 else ""
            d.attrs["trace_category"] = "earthquake_local" if i == 0 else "noise"
    with h5py.File(os.path.join(folder, "array_chunked.h5"), "w", libver="earliest") as f:
        f.create_dataset("waveforms", data=rng.standard_normal((4, 3, 16)).astype("f4"), chunks=(2, 3, 8),
                         compression="gzip")
        f.create_dataset("labels", data=np.arange(4, dtype="i8") % 3)
    with h5py.File(os.path.join(folder, "root_traces_f64.h5"), "w", libver="earliest") as f:
        f.create_dataset("trace0", data=rng.standard_normal((8, 3)))
        f["trace0"].attrs["trace_category"] = np.string_("noise")


def segy_file(path, inlines, crosslines, samples, fmt, value):
    with open(path, "wb") as out:
        out.write(b" " * 3200)
        binary = bytearray(400)
        struct.pack_into(">hhh", binary, 3216 - 3200, 4000, 0, samples)  # interval, orig, samples
        struct.pack_into(">h", binary, 3224 - 3200, fmt)
        out.write(binary)
        for il in inlines:
            for xl in crosslines:
                header = bytearray(240)
                struct.pack_into(">i", header, 36, 1)         # offset (byte 37)
                struct.pack_into(">h", header, 114, samples)  # samples (byte 115)
                struct.pack_into(">ii", header, 188, il, xl)  # inline, crossline (bytes 189, 193)
                out.write(header)
                values = [value(il, xl, k) for k in range(samples)]
                out.write(struct.pack(">%d%s" % (samples, "f" if fmt == 5 else "h"), *values))


def segy_seeds(folder):
    segy_file(os.path.join(folder, "volume_ieee.sgy"), [1, 2, 3], [10, 11], 8, 5, lambda il, xl, k: float(il + xl + k))
    segy_file(os.path.join(folder, "line_int16.sgy"), [1], [1, 2, 3, 4], 6, 3, lambda il, xl, k: (xl * k) % 3)


for target, make in [("fuzz_hdf5", hdf5_seeds), ("fuzz_segy", segy_seeds)]:
    folder = os.path.join(here, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    make(folder)
