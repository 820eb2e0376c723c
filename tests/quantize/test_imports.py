"""tryon.quantize stays torch-free, also while it runs (onnxruntime.tools imports torch when it is installed)."""

from __future__ import annotations

import subprocess
import sys


def test_quantize_never_imports_torch(tiny_student, calib_dir, tmp_path):
    code = (
        "import sys\n"
        "from tryon.quantize import quantize_model\n"
        "import tryon.bench.latency, tryon.bench.table\n"
        f"quantize_model({str(tiny_student)!r}, {str(tmp_path)!r}, ['fp16', 'int8', 'dynamic'], "
        f"calibration={str(calib_dir)!r}, samples=2, eval_samples=1, runs=1, warmup=0)\n"
        "bad = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
