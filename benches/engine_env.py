"""What the benchmark scripts put in edgemine's environment, defined once."""

from __future__ import annotations

from pathlib import Path

# Alder Lake-like minus AVX-VNNI: the AVX2+FMA kernels of a Skylake-era i3/i5
# (tract reads it as TRACT_CPU_ISA).
AVX2_ONLY = "-avx512f,-avx512vnni,-avx512fp16,-amx-int8,-amx-bf16,-avxvnni"


def onnxruntime_library() -> str:
    """The libonnxruntime that the onnxruntime wheel of this Python ships
    (for ORT_DYLIB_PATH)."""
    import onnxruntime

    return str(min((Path(onnxruntime.__file__).parent / "capi").glob("libonnxruntime.so.*")))
