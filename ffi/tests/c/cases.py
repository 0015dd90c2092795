"""The shared expected extractions (tests/cases.json) through the C ABI, as
installed: each case's options set with edgemine_options_set_json, the
extraction read back with edgemine_result_json, a failure's status named by
edgemine_status_name. Run by run.sh: python3 ffi/tests/c/cases.py LIBRARY."""

from __future__ import annotations

import ctypes
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[3] / "tests"))
from cases import CASES, check  # noqa: E402  (the shared rules, beside the cases)


class Str(ctypes.Structure):
    _fields_ = [("data", ctypes.c_char_p), ("len", ctypes.c_size_t)]


def main(library: str) -> None:
    lib = ctypes.CDLL(library)
    lib.edgemine_engine_new.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)]
    lib.edgemine_options_new.restype = ctypes.c_void_p
    lib.edgemine_options_set_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.edgemine_options_free.argtypes = [ctypes.c_void_p]
    lib.edgemine_extract.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    ]
    lib.edgemine_result_json.argtypes = [ctypes.c_void_p, ctypes.POINTER(Str)]
    lib.edgemine_result_free.argtypes = [ctypes.c_void_p]
    lib.edgemine_engine_free.argtypes = [ctypes.c_void_p]
    lib.edgemine_status_name.restype = ctypes.c_char_p
    lib.edgemine_last_error.restype = ctypes.c_char_p

    def ok(status: int) -> None:
        assert status == 0, f"{lib.edgemine_status_name(status).decode()}: {lib.edgemine_last_error().decode()}"

    engine = ctypes.c_void_p()
    ok(lib.edgemine_engine_new(None, 0, ctypes.byref(engine)))
    for case in CASES:
        options = lib.edgemine_options_new()
        ok(lib.edgemine_options_set_json(options, json.dumps(case["options"]).encode()))
        text = case["text"].encode("utf-8")
        result = ctypes.c_void_p()
        status = lib.edgemine_extract(engine, text, len(text), options, ctypes.byref(result))
        lib.edgemine_options_free(options)
        if "error" in case:
            assert lib.edgemine_status_name(status).decode() == f"EDGEMINE_STATUS_{case['error']}", case["name"]
            print(f"ok  {case['name']}")
            continue
        ok(status)
        json_out = Str()
        ok(lib.edgemine_result_json(result, ctypes.byref(json_out)))
        check(case, json.loads(ctypes.string_at(json_out.data, json_out.len).decode("utf-8")))
        lib.edgemine_result_free(result)
        print(f"ok  {case['name']}")
    lib.edgemine_engine_free(engine)


if __name__ == "__main__":
    main(sys.argv[1])
